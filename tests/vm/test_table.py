# SPDX-License-Identifier: GPL-2.0
"""VM tests of the connection table, the per-CPU cache and the accounting batches, with real
traffic and the operator's tools: `mutexctl config apply`, `mutexctl flows`, `mutexctl origdst`,
`mutexctl flows flush`, `mutexctl stats`, sysfs parameters, conntrack.

Counters are checked against independent counts: UDP datagrams sent by the test (each one
packet of 28 + payload bytes over IPv4, 48 + payload over IPv6) and, for TCP, the kernel's own
conntrack accounting (net.netfilter.nf_conntrack_acct=1).

Runs last of the VM test files: the first case loads the module, the last unloads it while
traffic still runs.
"""
import collections
import os
import re
import socket
import struct
import threading
import time

from guest import PATIENCE, check, check_eq, run
from test_steering_mutexctl import apply_file, original_dst, write

V4, V6 = "192.0.2.1", "2001:db8::1"


def apply_toml(env, text):
    """`mutexctl config apply` of a configuration text in the root namespace."""
    apply_file(env, None, write("table", text))


def redirect_rule(proto, dst, port, to_port, name="r"):
    return f"""
[[rule]]
name = "{name}"
protocol = "{proto}"
destination = "{dst}"
destination_ports = "{port}"
action = "redirect"
to_port = {to_port}
"""


def flows(env):
    return env.mutexctl("-j", "flows").json()


def flow_of(env, proto, sport):
    found = [f for f in flows(env) if f["protocol"] == proto and f["src_port"] == sport]
    check(len(found) <= 1, f"flow listed twice: {found}")
    return found[0] if found else None


def udp_pair(family=socket.AF_INET, local="127.0.0.1"):
    """A receiver bound to the local address redirects go to, and a client socket."""
    srv = socket.socket(family, socket.SOCK_DGRAM)
    srv.bind((local, 0))
    srv.settimeout(PATIENCE)
    cli = socket.socket(family, socket.SOCK_DGRAM)
    cli.bind((local, 0))
    cli.settimeout(PATIENCE)
    return srv, cli


def conntrack_acct(proto, sport):
    """(orig packets, orig bytes, reply packets, reply bytes) conntrack counted for the flow."""
    r = run(["conntrack", "-L", "-p", proto, "--sport", str(sport)], check_rc=0)
    lines = [ln for ln in r.out.splitlines() if f"sport={sport} " in ln]
    check_eq(len(lines), 1, f"conntrack entries for sport {sport}: {r.out!r}")
    nums = [int(x) for x in re.findall(r"(?:packets|bytes)=(\d+)", lines[0])]
    check_eq(len(nums), 4, f"conntrack accounting fields: {lines[0]!r}")
    return tuple(nums)


def test_table_load(env):
    if not env.loaded():
        env.load()
    run(["sysctl", "-qw", "net.netfilter.nf_conntrack_acct=1"], check_rc=0)
    # With an explicit source: an unbound client would otherwise send from 0.0.0.0.
    run(["ip", "route", "replace", "192.0.2.0/24", "dev", "lo", "src", "127.0.0.1"], check_rc=0)
    run(["ip", "-6", "route", "replace", "2001:db8::/64", "dev", "lo", "src", "::1"], check_rc=0)
    for name, value in (("perf_enable_batching", 1), ("perf_batch_size", 32),
                        ("perf_cache_size", 1024), ("perf_enable_accounting", 1)):
        check_eq(env.sysfs_write(name, value), 0, f"set {name}")


def udp_exchange(srv, cli, dst, n, size, replies, rsize):
    """Sends n datagrams of size bytes from cli to dst; srv answers the first `replies` with
    rsize bytes each. Returns the address the server saw the client at."""
    for _ in range(n):
        cli.sendto(b"x" * size, dst)
    peer = None
    for i in range(n):
        data, peer = srv.recvfrom(65536)
        check_eq(len(data), size, "datagram through the redirect")
        if i < replies:
            srv.sendto(b"y" * rsize, peer)
    for _ in range(replies):
        check_eq(len(cli.recv(65536)), rsize, "reply datagram")
    return peer


def test_table_udp_counters_and_origdst(env):
    """UDP redirect: per-flow and global counters equal the datagrams sent; mutexctl origdst
    answers the original destination, IPv4 and IPv6. The largest batches hold back all 47
    packets, so the counters are exact only if every reader, origdst the first, folds them."""
    check_eq(env.sysfs_read("perf_enable_batching"), "1", "batching on (the default)")
    batch = env.sysfs_read("perf_batch_size")
    check_eq(env.sysfs_write("perf_batch_size", 256), 0, "perf_batch_size=256")
    try:
        for family, dst, local, hdr in ((socket.AF_INET, V4, "127.0.0.1", 28),
                                        (socket.AF_INET6, V6, "::1", 48)):
            udp_counters_and_origdst(env, family, dst, local, hdr)
    finally:
        env.sysfs_write("perf_batch_size", batch)


def udp_counters_and_origdst(env, family, dst, local, hdr):
    """One address family of test_table_udp_counters_and_origdst."""
    srv, cli = udp_pair(family, local)
    apply_toml(env, redirect_rule("udp", dst, 5353, srv.getsockname()[1]))
    before = env.stats()
    peer = udp_exchange(srv, cli, (dst, 5353), n=40, size=100, replies=7, rsize=300)
    sport = cli.getsockname()[1]
    check_eq(peer[1], sport, "source port kept")
    counters = (40, 40 * (hdr + 100), 7, 7 * (hdr + 300))
    # What the proxy asks: its peer and its own address, after NAT. Asked before any
    # other reader has folded the batches.
    r = env.mutexctl("-j", "origdst", "udp", peer[0], sport, local,
                     srv.getsockname()[1]).json()
    check_eq((r["orig_dst_addr"], r["orig_dst_port"]), (dst, 5353), "origdst -j")
    check_eq((r["pkts_orig"], r["bytes_orig"], r["pkts_reply"], r["bytes_reply"]), counters,
             "origdst -j counters")
    f = flow_of(env, "udp", sport)
    check(f is not None, f"no flow for udp sport {sport}: {flows(env)}")
    check_eq((f["pkts_orig"], f["bytes_orig"], f["pkts_reply"], f["bytes_reply"]), counters,
             "flow counters")
    check_eq((f["orig_dst_addr"], f["orig_dst_port"]), (dst, 5353), "flow original destination")
    check_eq((f["dst_addr"], f["dst_port"]), (local, srv.getsockname()[1]), "flow destination")
    check_eq(f["action"], "redirect", "flow action")
    after = env.stats()
    check_eq(after["pkts_steered"] - before["pkts_steered"], 47, "pkts_steered")
    check_eq(after["bytes_steered"] - before["bytes_steered"],
             40 * (hdr + 100) + 7 * (hdr + 300), "bytes_steered")
    check(after["flow_count"] >= 1, f"flow_count {after}")
    r = env.mutexctl("origdst", "udp", peer[0], sport, local, srv.getsockname()[1])
    check(str(5353) in r.out and (dst in r.out), f"origdst text: {r.out!r}")
    # A 5-tuple that is not a steered flow.
    r = env.mutexctl("origdst", "udp", peer[0], sport + 1 if sport < 65535 else 1, local,
                     srv.getsockname()[1], check_rc=1)
    check("no steered flow" in r.err, f"origdst of an unknown flow: {r!r}")
    srv.close(), cli.close()


def test_table_flow_data_is_private(env):
    """Flows and origdst name the node's peers: CAP_NET_ADMIN, or for origdst the owner of the
    proxy's socket (as SO_ORIGINAL_DST), like a proxy running as its own user. Status and
    statistics stay open."""
    proxy_uid, other_uid = 1001, 1002
    os.seteuid(proxy_uid)  # the proxy's socket belongs to its user
    try:
        srv, _ = udp_pair()
    finally:
        os.seteuid(0)
    _, cli = udp_pair()
    apply_toml(env, redirect_rule("udp", V4, 5358, srv.getsockname()[1]))
    try:
        cli.sendto(b"hi", (V4, 5358))
        _, peer = srv.recvfrom(100)
        ask = ["origdst", "udp", peer[0], peer[1], "127.0.0.1", srv.getsockname()[1]]
        r = env.mutexctl(*ask, user=proxy_uid)
        check_eq(r.out.split(), [V4, "5358"], "origdst as the proxy's user")
        # (before the slow part: an unreplied UDP entry lives 30 s)
        check(flow_of(env, "udp", peer[1]) is not None, "root lists the flow")
        for uid in (other_uid, 65534):
            r = env.mutexctl(*ask, user=uid, check_rc=1)
            check("CAP_NET_ADMIN" in r.err and "own the proxy" in r.err, f"origdst as {uid}: {r!r}")
            # ... and it says nothing about whether the flow exists
            r2 = env.mutexctl("origdst", "udp", peer[0], peer[1] + 1 if peer[1] < 65535 else 1,
                              "127.0.0.1", srv.getsockname()[1], user=uid, check_rc=1)
            check_eq(r2.err, r.err, f"origdst of an unknown flow as {uid}")
            for argv in (("flows",), ("-j", "flows"), ("config", "show")):
                r = env.mutexctl(*argv, user=uid, check_rc=1)
                check("needs CAP_NET_ADMIN" in r.err, f"{' '.join(argv)} as {uid}: {r!r}")
            env.mutexctl("-j", "stats", user=uid)
            env.mutexctl("-j", "status", user=uid)
            with open("/proc/net/mutex_proxy") as f:
                check("flow_count" in f.read(), "/proc/net/mutex_proxy")
    finally:
        srv.close(), cli.close()


def test_table_tcp_counters_equal_conntrack(env):
    """TCP redirect: the flow's packets and bytes per direction equal conntrack's own
    accounting of the same connection; SO_ORIGINAL_DST and mutexctl origdst agree."""
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.bind(("127.0.0.1", 0))
    lst.listen(4)
    lst.settimeout(PATIENCE)
    port = lst.getsockname()[1]
    apply_toml(env, redirect_rule("tcp", V4, 7777, port))
    c = socket.create_connection((V4, 7777), timeout=PATIENCE)
    s, peer = lst.accept()
    so = original_dst(s)
    check_eq(so, (V4, 7777), "SO_ORIGINAL_DST")
    r = env.mutexctl("-j", "origdst", "tcp", peer[0], peer[1], "127.0.0.1", port).json()
    check_eq((r["orig_dst_addr"], r["orig_dst_port"]), so, "origdst agrees with SO_ORIGINAL_DST")
    for i in range(50):
        c.sendall(b"a" * (1000 + i))
        s.recv(65536)
        s.sendall(b"b" * 10)
        c.recv(100)
    c.close()
    s.close()
    # The closing handshake runs on in softirq: compare once both sides have settled.
    deadline = time.monotonic() + PATIENCE
    while True:
        want = conntrack_acct("tcp", peer[1])
        f = flow_of(env, "tcp", peer[1])
        check(f is not None, "no flow for the TCP connection")
        got = (f["pkts_orig"], f["bytes_orig"], f["pkts_reply"], f["bytes_reply"])
        if got == want or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    check_eq(got, want, "flow counters vs conntrack accounting")
    lst.close()


def test_table_conntrack_death(env):
    """A flow leaves the table when its conntrack entry dies."""
    srv, cli = udp_pair()
    apply_toml(env, redirect_rule("udp", V4, 5354, srv.getsockname()[1]))
    udp_exchange(srv, cli, (V4, 5354), n=1, size=10, replies=0, rsize=0)
    sport = cli.getsockname()[1]
    check(flow_of(env, "udp", sport) is not None, "flow missing")
    before = env.stats()
    run(["conntrack", "-D", "-p", "udp", "--sport", str(sport)], check_rc=0)
    deadline = time.monotonic() + PATIENCE
    while flow_of(env, "udp", sport) is not None:
        check(time.monotonic() < deadline,
              f"flow still listed {PATIENCE:.0f} s after its conntrack entry died")
        time.sleep(0.2)
    after = env.stats()
    check(after["table_evictions"] >= before["table_evictions"] + 1, "table_evictions")
    srv.close(), cli.close()


def test_table_max_conns_and_flush(env):
    """Past max_conns new flows are still steered but not tracked (table_full) when every
    tracked flow was answered (nothing to evict); flush empties the table without touching
    the connections."""
    env.mutexctl("flows", "flush")
    srv, _ = udp_pair()
    apply_toml(env, redirect_rule("udp", V4, 5355, srv.getsockname()[1]))
    check_eq(env.sysfs_write("max_conns", 3), 0, "set max_conns")
    before = env.stats()
    clients = []
    for _ in range(5):
        _, cli = udp_pair()
        clients.append(cli)
        cli.sendto(b"z", (V4, 5355))
        data, peer = srv.recvfrom(100)
        check_eq(data, b"z", "steered past max_conns")
        # Answered: a flow that saw a reply is never evicted to make room.
        srv.sendto(b"r", peer)
        check_eq(cli.recv(100), b"r", "reply")
    after = env.stats()
    check_eq(len(flows(env)), 3, "flows tracked with max_conns=3")
    check_eq(after["table_full"] - before["table_full"], 2, "table_full")
    check_eq(after["flows_steered"] - before["flows_steered"], 5, "flows_steered")
    check_eq(env.sysfs_write("max_conns", 262144), 0, "restore max_conns")
    r = env.mutexctl("flows", "flush")
    check("removed 3" in r.out, f"flows flush: {r.out!r}")
    check_eq(flows(env), [], "flows after flush")
    check_eq(env.stats()["flow_count"], 0, "flow_count after flush")
    # Flushed connections keep their NAT.
    clients[0].sendto(b"again", (V4, 5355))
    check_eq(srv.recvfrom(100)[0], b"again", "flushed flow still redirected")
    r = env.mutexctl("flows", "flush", user=65534, check_rc=None)
    check(r.rc != 0 and "not permitted" in (r.err + r.out).lower(), f"flush as nobody: {r!r}")
    for c in clients:
        c.close()
    srv.close()


def dump_flows_slowly(between):
    """GET_FLOWS as a dump on a fresh socket read one page-sized message at a time, calling
    between() after each read: returns ([(src address, src port) of every flow listed],
    messages, whether any message carried NLM_F_DUMP_INTR)."""
    from test_steering_config import NL, attrs, dump
    nl = NL(bufsize=4096)  # the kernel sizes each dump message from the reads
    try:
        err, messages, last = dump(nl, 6, bufsize=4096, between=between)  # MUTEX_CMD_GET_FLOWS
    finally:
        nl.s.close()
    check_eq(err, 0, "GET_FLOWS dump")
    listed = []
    for _, items in messages:
        for t, v in items:
            if t & 0x7fff == 11:  # MUTEX_A_FLOW
                f = dict((k & 0x7fff, x) for k, x in attrs(v))
                listed.append((socket.inet_ntoa(f[4]), struct.unpack("H", f[5][:2])[0]))
    intr = any(fl & 0x10 for fl, _ in messages) or bool(last & 0x10)
    return listed, len(messages), intr


def test_table_dump_while_flows_come(env):
    """A dump of a busy table is not interrupted by flows being added meanwhile: every flow
    present throughout is listed exactly once and no message carries NLM_F_DUMP_INTR."""
    env.mutexctl("flows", "flush")
    # An earlier case's flow to 5358 that conntrack still remembers would be reused by a
    # socket that happens to get its source port (no new flow: flow_count one short, as in
    # a CI run).
    run(["conntrack", "-D", "-p", "udp", "--orig-port-dst", "5358"])
    srv, _ = udp_pair()
    apply_toml(env, redirect_rule("udp", V4, 5358, srv.getsockname()[1]))
    timeout = "/proc/sys/net/netfilter/nf_conntrack_udp_timeout"
    old_timeout = open(timeout).read().strip()
    write_sysctl = lambda v: open(timeout, "w").write(v)
    write_sysctl("600")  # unreplied flows must not end (and leave the table) during the case
    try:
        def new_flow():
            c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            c.bind(("127.0.0.1", 0))
            c.sendto(b"d", (V4, 5358))
            port = c.getsockname()[1]
            c.close()
            return port

        # 1100 flows and the few hundred added stay below 1536, three quarters of the
        # 2048 buckets the table has then: no resize (which does flag the dump).
        present = {new_flow() for _ in range(1100)}
        check_eq(env.stats()["flow_count"], len(present), "flows before the dump")
        added = []
        listed, messages, intr = dump_flows_slowly(lambda: added.extend(new_flow() for _ in range(4)))
        ports = [p for a, p in listed if a == "127.0.0.1"]
        check(messages >= 20, f"the dump took only {messages} messages: not interleaved")
        check(len(added) >= 4 * (messages - 1), f"{len(added)} flows added during {messages} messages")
        check(not intr, f"dump flagged NLM_F_DUMP_INTR with {len(added)} flows added meanwhile")
        missing = present - set(ports)
        check(not missing, f"{len(missing)} flows present throughout not listed, e.g. {sorted(missing)[:5]}")
        twice = {p for p, k in collections.Counter(ports).items() if k > 1}
        check(not twice, f"flows listed twice: {sorted(twice)[:5]}")
    finally:
        write_sysctl(old_timeout)
        env.mutexctl("flows", "flush")
        srv.close()


def drain(srv, stop):
    srv.settimeout(0.2)
    while not stop.is_set():
        try:
            srv.recv(65536)
        except (socket.timeout, OSError):
            pass


def test_table_full_still_serves(env):
    """A flood of distinct unreplied UDP flows fills the table; the collector evicts them
    (they never saw a reply), and a legitimate flow that arrives meanwhile still gets its
    origdst answer, tracked or not."""
    env.mutexctl("flows", "flush")
    srv, _ = udp_pair()
    port = srv.getsockname()[1]
    apply_toml(env, redirect_rule("udp", V4, 5357, port))
    check_eq(env.sysfs_write("max_conns", 16), 0, "set max_conns")
    udp_timeout = None
    try:
        before = env.stats()
        for _ in range(200):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.sendto(b"f", (V4, 5357))
            s.close()
        mid = env.stats()
        check(mid["table_full"] > before["table_full"], f"table never full: {mid}")
        srv.setblocking(False)
        while True:  # the flood, drained
            try:
                srv.recvfrom(100)
            except BlockingIOError:
                break
        srv.settimeout(PATIENCE)
        _, cli = udp_pair()
        cli.sendto(b"legit", (V4, 5357))
        data, peer = srv.recvfrom(100)
        check_eq(data, b"legit", "legitimate datagram redirected")
        r = env.mutexctl("-j", "origdst", "udp", peer[0], peer[1], "127.0.0.1", port).json()
        check_eq((r["orig_dst_addr"], r["orig_dst_port"]), (V4, 5357), "origdst at a full table")
        # The collector was asked to make room, and evicted unreplied flows.
        deadline = time.monotonic() + PATIENCE
        while env.stats()["table_evictions"] == before["table_evictions"]:
            check(time.monotonic() < deadline, f"no eviction within {PATIENCE:.0f} s")
            time.sleep(0.2)
        cli.close()

        # Nothing evictable: a table of answered flows. A new flow is steered untracked,
        # counted in table_full, and origdst still answers from its conntrack entry. The
        # answered flows must outlive the checks: conntrack's 30 s for a UDP entry that saw
        # one reply is less than those take on a slow day under KASAN.
        udp_timeout = run(["sysctl", "-n", "net.netfilter.nf_conntrack_udp_timeout"],
                          check_rc=0).out.strip()
        run(["sysctl", "-qw", "net.netfilter.nf_conntrack_udp_timeout=3600"], check_rc=0)
        # The flood's conntrack entries go too: a later socket that happened to get one of
        # their source ports would reuse its entry (already steered, no new decision, no
        # table_full), as it did once in a CI run.
        run(["conntrack", "-D", "-p", "udp", "--orig-port-dst", "5357"])
        env.mutexctl("flows", "flush")
        check_eq(env.sysfs_write("max_conns", 4), 0, "set max_conns")
        keep = []
        for _ in range(4):
            _, c = udp_pair()
            c.sendto(b"k", (V4, 5357))
            data, peer = srv.recvfrom(100)
            srv.sendto(b"r", peer)
            check_eq(c.recv(100), b"r", "reply")
            keep.append(c)
        check_eq(len(flows(env)), 4, "answered flows tracked")
        full = env.stats()["table_full"]
        _, cli = udp_pair()
        cli.sendto(b"late", (V4, 5357))
        data, peer = srv.recvfrom(100)
        check_eq(data, b"late", "late datagram redirected")
        r = env.mutexctl("-j", "origdst", "udp", peer[0], peer[1], "127.0.0.1", port).json()
        check_eq((r["orig_dst_addr"], r["orig_dst_port"], r["pkts_orig"]), (V4, 5357, 0),
                 "origdst of an untracked flow")
        check_eq(env.stats()["table_full"], full + 1, "table_full")
        check_eq(len(flows(env)), 4, "answered flows kept")
        for c in keep + [cli]:
            c.close()
    finally:
        if udp_timeout:
            run(["sysctl", "-qw", f"net.netfilter.nf_conntrack_udp_timeout={udp_timeout}"],
                check_rc=0)
        check_eq(env.sysfs_write("max_conns", 262144), 0, "restore max_conns")
        env.mutexctl("flows", "flush")
    srv.close()


def test_table_params_during_traffic(env):
    """Cache resized and batching switched through sysfs while packets flow: every datagram is
    counted exactly once."""
    srv, _ = udp_pair()
    port = srv.getsockname()[1]
    srv.close()
    apply_toml(env, redirect_rule("udp", V4, 5356, port))
    stop, sent = threading.Event(), {"n": 0}
    # The sender's receiver must own the redirect port: bind it there.
    rcv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rcv.bind(("127.0.0.1", port))
    threading.Thread(target=drain, args=(rcv, stop), daemon=True).start()
    cli = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    count = [0]

    def send():
        while not stop.is_set():
            cli.sendto(b"p" * 64, (V4, 5356))
            count[0] += 1

    t = threading.Thread(target=send, daemon=True)
    t.start()
    for i in range(40):
        check_eq(env.sysfs_write("perf_cache_size", (0, 1, 16, 1024, 4096)[i % 5]), 0, "cache size")
        check_eq(env.sysfs_write("perf_enable_batching", i % 2), 0, "batching")
        check_eq(env.sysfs_write("perf_batch_size", (1, 7, 32, 256)[i % 4]), 0, "batch size")
        time.sleep(0.02)
    stop.set()
    t.join()
    time.sleep(0.2)
    f = flow_of(env, "udp", cli.getsockname()[1])
    check(f is not None, "no flow for the sender")
    check_eq((f["pkts_orig"], f["bytes_orig"]), (count[0], count[0] * 92), "counted once each")
    check(count[0] > 100, f"too little traffic to mean anything: {count[0]}")
    st = env.stats()
    check(st["cache_hits"] > 0 and st["batch_flushes"] > 0, f"cache and batches used: {st}")
    for name, value in (("perf_enable_batching", 1), ("perf_batch_size", 32),
                        ("perf_cache_size", 1024)):
        check_eq(env.sysfs_write(name, value), 0, f"restore {name}")
    cli.close(), rcv.close()


def test_table_slab_cache(env):
    """The flows' kmem_cache has its own line in /proc/slabinfo."""
    with open("/proc/slabinfo") as f:
        lines = [ln.split() for ln in f if ln.startswith("mutex_proxy_flow ")]
    check_eq(len(lines), 1, "mutex_proxy_flow in /proc/slabinfo")
    objsize = int(lines[0][3])
    check(objsize <= 128 or env.kunit, f"flow object size {objsize} > 128 bytes")


def test_table_unload_during_traffic(env):
    """rmmod while TCP and UDP flows are steered and counted: the module goes, no report."""
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.bind(("127.0.0.1", 0))
    lst.listen(8)
    port = lst.getsockname()[1]
    rcv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rcv.bind(("127.0.0.1", 0))
    apply_toml(env, redirect_rule("tcp", V4, 7778, port, "t") +
               redirect_rule("udp", V4, 5357, rcv.getsockname()[1], "u"))
    stop = threading.Event()
    threading.Thread(target=drain, args=(rcv, stop), daemon=True).start()

    def tcp_server():
        lst.settimeout(0.2)
        while not stop.is_set():
            try:
                s, _ = lst.accept()
            except (socket.timeout, OSError):
                continue
            threading.Thread(target=echo, args=(s, stop), daemon=True).start()

    def echo(s, stop):
        s.settimeout(0.2)
        while not stop.is_set():
            try:
                d = s.recv(4096)
                if not d:
                    break
                s.sendall(d)
            except (socket.timeout, OSError):
                continue
        s.close()

    def tcp_client():
        while not stop.is_set():
            try:
                c = socket.create_connection((V4, 7778), timeout=1)
                c.sendall(b"q" * 500)
                c.recv(500)
                c.close()
            except OSError:
                pass

    def udp_client():
        cli = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        while not stop.is_set():
            cli.sendto(b"u" * 200, (V4, 5357))
        cli.close()

    threads = [threading.Thread(target=f, daemon=True) for f in (tcp_server, tcp_client, udp_client)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + PATIENCE
    while not flows(env):
        check(time.monotonic() < deadline, "no flow while traffic runs")
        time.sleep(0.2)
    env.unload()
    check(not env.loaded(), "module still loaded after rmmod")
    time.sleep(0.5)
    stop.set()
    run(["ip", "route", "del", "192.0.2.0/24", "dev", "lo"])
    run(["ip", "-6", "route", "del", "2001:db8::/64", "dev", "lo"])
    for t in threads:
        t.join(2)
    lst.close(), rcv.close()
