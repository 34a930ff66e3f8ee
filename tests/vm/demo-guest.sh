#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the demonstration VM (see tests/demo.sh): loads the module and
# shows what an operator sees. Usage: demo-guest.sh MODULE_DIR MUTEXCTL
set -euo pipefail
moddir=$1
mutexctl=$2
say() { printf '\n\033[1m## %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

say "kernel $(uname -r) in a throwaway VM; loading mutex_proxy"
run insmod "$moddir/mutex_proxy.ko"
run "$mutexctl" version

say "status: module, features, parameters"
run "$mutexctl" status

say "some traffic: 50 UDP datagrams over IPv4 loopback and 50 over IPv6 (each is seen twice: LOCAL_OUT and PRE_ROUTING)"
python3 - <<'PY'
import socket
for fam, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
    with socket.socket(fam, socket.SOCK_DGRAM) as rx, socket.socket(fam, socket.SOCK_DGRAM) as tx:
        rx.bind((addr, 0))
        for _ in range(50):
            tx.sendto(b"demo", rx.getsockname()[:2])
            rx.recv(16)
PY
run "$mutexctl" stats

say "tuning at run time: through netlink and through sysfs"
run "$mutexctl" params set perf_batch_size 64
echo 4096 | run tee /sys/module/mutex_proxy/parameters/perf_cache_size
run "$mutexctl" params
say "a bad value is refused and nothing changes"
run "$mutexctl" params set perf_cache_size 1000 || true
echo 0 | run tee /sys/module/mutex_proxy/parameters/perf_batch_size || true
run "$mutexctl" -j params

say "a namespace has its own state"
ip netns add demo
run ip netns exec demo "$mutexctl" -j stats
ip netns del demo

say "/proc/net/mutex_proxy"
run cat /proc/net/mutex_proxy
run rmmod mutex_proxy
