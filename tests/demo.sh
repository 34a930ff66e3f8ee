#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The demonstration: installs what is missing, builds mutexctl and the module, boots the stock
# Debian kernel in a throwaway VM and walks through mutex_proxy at work there with real traffic
# between network namespaces (tests/vm/demo-guest.sh): mutexd started on a configuration file,
# a validator's peer connection steered to a sentry, a local proxy client learning the original
# destination, flows and counters, failover to the standby sentry because the preferred one
# died (mutexd's health checks) and back when it returns, failure mode closed, a bad file
# refused on reload, run-time tuning, per-namespace state, unload.
# Nothing touches the host kernel. Exit status 0 only if every step did what it showed.
# Usage: tests/demo.sh [LANE]   (LANE: 6.1 (default) | 6.12 | debug)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
lane=${1:-6.1}
build=$top/build-demo

# Only what the demonstration needs (no test tools, no debug kernel: the VM boots the lane's
# stock kernel); the debug lane needs everything, its kernel included.
if [ "$lane" = debug ]; then tests/setup.sh; else tests/setup.sh --demo "$lane"; fi
echo "demo: building mutexctl, mutexd and mutex_proxy.ko for the $lane lane" >&2
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target mutexctl mutexd >/dev/null
# shellcheck source=vm/lanes.sh
. tests/vm/lanes.sh
kdir=$(lane_builddir "$lane")
moddir=$build/kmod-$lane-$(lane_release "$lane")
# kmod/build.sh builds from scratch (about a minute): skip it when nothing it reads changed.
stamp=$({
	cat kmod/build.sh Kbuild
	find kmod include tests/kunit -type f ! -name '*.o' -print0 | sort -z | xargs -0 sha256sum
	stat -c '%n %s %Y' "$kdir/Module.symvers" 2>/dev/null || true
} | sha256sum | cut -c1-16)
if [ ! -f "$moddir/mutex_proxy.ko" ] || [ "$(cat "$moddir/.demo-stamp" 2>/dev/null)" != "$stamp" ]; then
	rm -f "$moddir/.demo-stamp"
	kmod/build.sh "$kdir" "$moddir" -j"$(nproc)" >/dev/null
	echo "$stamp" >"$moddir/.demo-stamp"
fi
[ -t 1 ] && export MUTEX_DEMO_COLOR=1 # bold headings on a terminal (vm-run passes MUTEX_*)
echo "demo: booting the VM (TCG: about 20 s)" >&2
exec tests/vm/vm-run.sh --lane "$lane" --timeout 300 -- \
	tests/vm/demo-guest.sh "$moddir" "$build/mutexctl" "$build/mutexd"
