# SPDX-License-Identifier: GPL-2.0
"""VM tests of steering through the kernel's NAT engine: redirect (with
SO_ORIGINAL_DST / IP6T_SO_ORIGINAL_DST), dnat to a pool, bypass, drop,
failure modes, counters. Local traffic (LOCAL_OUT) over loopback.

Runs after test_steering_config.py (which unloads the module at its end):
the first case loads the module, the last unloads it.
"""
import socket
import struct

from guest import PATIENCE, check, check_eq, run
from test_steering_config import (ACT_BYPASS, ACT_DNAT, ACT_DROP, ACT_REDIRECT, FAIL_OPEN, NL,
                                  R_ACTION, R_DPORT_MAX, R_DPORT_MIN, R_DST_ADDR, R_DST_PLEN,
                                  R_FAMILY, R_POOL, R_PROTO, R_TO_PORT, BE_A_TOTAL, POOL_A_BACKEND,
                                  attr, attrs, backend, get_config, msg, pool, rule, set_config,
                                  u8, u16, u32)

SO_ORIGINAL_DST = 80
IP6T_SO_ORIGINAL_DST = 80
V4, V6 = "192.0.2.1", "2001:db8::1"
TCP = socket.IPPROTO_TCP


def apply(*items):
    nl = NL()
    nl.big()
    gen, _ = get_config(nl)
    err, _, ext = set_config(nl, gen, *items)
    check_eq(err, 0, f"SET_CONFIG: {msg(ext)}")


def match(family, addr, plen, port):
    return [u8(R_FAMILY, family), attr(R_DST_ADDR, socket.inet_pton(family, addr)),
            u8(R_DST_PLEN, plen), u8(R_PROTO, TCP), u16(R_DPORT_MIN, port), u16(R_DPORT_MAX, port)]


def listener(family=socket.AF_INET, addr="0.0.0.0", port=0):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(16)
    s.settimeout(PATIENCE)
    return s


def connect(family, addr, port, timeout=PATIENCE):
    c = socket.socket(family, socket.SOCK_STREAM)
    c.settimeout(timeout)
    c.connect((addr, port))
    return c


def stats(env):
    return env.stats()


def test_nat_load(env):
    if not env.loaded():
        env.load()
    run(["ip", "route", "replace", "192.0.2.0/24", "dev", "lo"], check_rc=0)
    run(["ip", "-6", "route", "replace", "2001:db8::/64", "dev", "lo"], check_rc=0)


def test_nat_redirect_ipv4_original_dst(env):
    lst = listener()
    port = lst.getsockname()[1]
    before = stats(env)
    apply(rule(*match(socket.AF_INET, V4, 32, 7777), u8(R_ACTION, ACT_REDIRECT), u16(R_TO_PORT, port)))
    c = connect(socket.AF_INET, V4, 7777)
    s, _ = lst.accept()
    raw = s.getsockopt(socket.SOL_IP, SO_ORIGINAL_DST, 16)
    dport, = struct.unpack("!H", raw[2:4])
    check_eq((socket.inet_ntop(socket.AF_INET, raw[4:8]), dport), (V4, 7777), "SO_ORIGINAL_DST")
    c.sendall(b"ping")
    check_eq(s.recv(4), b"ping", "data through the redirect")
    s.close(), c.close(), lst.close()
    after = stats(env)
    check(after["flows_steered"] >= before["flows_steered"] + 1, f"flows_steered: {before} -> {after}")


def test_nat_redirect_ipv6_original_dst(env):
    lst = listener(socket.AF_INET6, "::")
    port = lst.getsockname()[1]
    apply(rule(*match(socket.AF_INET6, V6, 128, 7777), u8(R_ACTION, ACT_REDIRECT), u16(R_TO_PORT, port)))
    c = connect(socket.AF_INET6, V6, 7777)
    s, _ = lst.accept()
    raw = s.getsockopt(socket.IPPROTO_IPV6, IP6T_SO_ORIGINAL_DST, 28)
    dport, = struct.unpack("!H", raw[2:4])
    check_eq((socket.inet_ntop(socket.AF_INET6, raw[8:24]), dport), (V6, 7777), "IP6T_SO_ORIGINAL_DST")
    s.close(), c.close(), lst.close()


def test_nat_dnat_round_robin(env):
    lsts = [listener(addr="127.0.0.1") for _ in range(3)]
    ports = [s.getsockname()[1] for s in lsts]
    apply(pool("relays", *[backend(p, socket.AF_INET, "127.0.0.1") for p in ports]),
          rule(*match(socket.AF_INET, "192.0.2.0", 24, 26656), u8(R_ACTION, ACT_DNAT), u32(R_POOL, 0)))
    got = [0, 0, 0]
    for _ in range(9):
        c = connect(socket.AF_INET, V4, 26656)
        for i, lst in enumerate(lsts):
            lst.settimeout(0.2)
            try:
                s, _ = lst.accept()
            except socket.timeout:
                continue
            got[i] += 1
            s.close()
        c.close()
    check_eq(got, [3, 3, 3], "connections per backend (rr)")
    _, cfg = get_config(NL())
    p = attrs(cfg[0][1])
    totals = [struct.unpack("Q", dict(attrs(v))[BE_A_TOTAL])[0] for t, v in p if t == POOL_A_BACKEND]
    check_eq(totals, [3, 3, 3], "total flows per backend")
    for s in lsts:
        s.close()


def test_nat_bypass_and_drop(env):
    lst = listener(addr="127.0.0.1")
    port = lst.getsockname()[1]
    before = stats(env)
    apply(rule(*match(socket.AF_INET, "127.0.0.1", 32, port), u8(R_ACTION, ACT_BYPASS)),
          rule(u8(R_PROTO, TCP), u16(R_DPORT_MIN, port), u16(R_DPORT_MAX, port), u8(R_ACTION, ACT_DROP)))
    c = connect(socket.AF_INET, "127.0.0.1", port)
    s, _ = lst.accept()
    s.close(), c.close()
    mid = stats(env)
    check_eq(mid["flows_bypassed"], before["flows_bypassed"] + 1, "flows_bypassed")
    apply(rule(u8(R_PROTO, TCP), u16(R_DPORT_MIN, port), u16(R_DPORT_MAX, port), u8(R_ACTION, ACT_DROP)))
    try:
        connect(socket.AF_INET, "127.0.0.1", port, timeout=1).close()
        check(False, "connection through a drop rule succeeded")
    except (socket.timeout, OSError):
        pass
    after = stats(env)
    check(after["flows_dropped"] >= mid["flows_dropped"] + 1, "flows_dropped")
    lst.close()


def test_nat_failure_modes(env):
    lst = listener(addr="127.0.0.1")
    port = lst.getsockname()[1]
    down = backend(9, socket.AF_INET, "127.0.0.1", state=1)
    # closed (default): no backend up, the flow is dropped.
    apply(pool("dead", down),
          rule(*match(socket.AF_INET, "127.0.0.1", 32, port), u8(R_ACTION, ACT_DNAT), u32(R_POOL, 0)))
    try:
        connect(socket.AF_INET, "127.0.0.1", port, timeout=1).close()
        check(False, "failure mode closed let the connection through")
    except (socket.timeout, OSError) as e:
        check(not isinstance(e, ConnectionRefusedError), "refused instead of dropped")
    # open: the flow goes to its original destination.
    apply(pool("dead", down, fail=FAIL_OPEN),
          rule(*match(socket.AF_INET, "127.0.0.1", 32, port), u8(R_ACTION, ACT_DNAT), u32(R_POOL, 0)))
    c = connect(socket.AF_INET, "127.0.0.1", port)
    s, _ = lst.accept()
    s.close(), c.close(), lst.close()


def test_nat_unload(env):
    apply()
    run(["ip", "route", "del", "192.0.2.0/24", "dev", "lo"])
    run(["ip", "-6", "route", "del", "2001:db8::/64", "dev", "lo"])
    env.unload()
    check(not env.loaded(), "module still loaded after rmmod")
