# SPDX-License-Identifier: GPL-2.0
"""VM tests that drive steering the way an operator does: TOML files applied
with `mutexctl config apply FILE`, read back with `mutexctl config show`, and
real TCP traffic through network namespaces joined by veth pairs.

Topology (built by the first case, removed by the last):

    mc-cli  cli0 10.1.0.2/24 (+ 10.1.0.10-21)  -- r-cli 10.1.0.1 --+
    mc-srv  srv0 10.2.0.11, .12, .13/24 (relays) -- r-srv 10.2.0.1 --+-- mc-rtr (forwards;
    mc-dst  dst0 10.3.0.2/24 (the original destination) -- r-dst 10.3.0.1 --+   the module steers
                                                                             at PRE_ROUTING)
    mc-ex   lo only: the shipped example configuration, local traffic (LOCAL_OUT)
    mc-loc  lo only: uid matching, local traffic
    mc-big  lo only: a configuration of 5,000 rules

Clients connect from mc-cli to 10.3.0.2:26656; mc-rtr's configuration sends
them to the relays in mc-srv. Every socket is created in its namespace by this
process (setns), so what reached which listener is seen directly.

Runs after test_steering_config.py (which unloads the module at its end): the
first case loads the module, the last unloads it.
"""
import contextlib
import ctypes
import errno
import json
import os
import select
import socket
import struct
import subprocess
import time
import tomllib

from guest import PATIENCE, Failure, check, check_eq, run, sh
from test_steering_config import NL, backend, get_config, msg, pool, set_config

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = f"{TOP}/daemon/mutexd.toml"
WORK = "/tmp/mutexctl-vm"
CGROUP_ROOT = "/sys/fs/cgroup"
COMETBFT_CGROUP = "/system.slice/cometbft.service"  # the cgroup the shipped example names

CLI, RTR, SRV, DST = "mc-cli", "mc-rtr", "mc-srv", "mc-dst"
EX, LOC, BIG = "mc-ex", "mc-loc", "mc-big"
NAMESPACES = (CLI, RTR, SRV, DST, EX, LOC, BIG)
ORIG, ORIG_PORT = "10.3.0.2", 26656
RELAYS = ["10.2.0.11", "10.2.0.12", "10.2.0.13"]
RELAY_PORT = 9000
SOURCES = [f"10.1.0.{i}" for i in range(10, 22)]
SO_ORIGINAL_DST = 80

# ---- namespaces: sockets are created inside one, then used from anywhere ----

_libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"setns: {os.strerror(e)}")


@contextlib.contextmanager
def netns(name):
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        _setns(target)
        yield
    finally:
        _setns(home)
        os.close(home)
        os.close(target)


def tcp(ns):
    with netns(ns):
        return socket.socket(socket.AF_INET, socket.SOCK_STREAM)


def listener(ns, addr, port):
    s = tcp(ns)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(64)
    s.setblocking(False)
    return s


def dial(ns, addr, port, src=None, timeout=PATIENCE):
    c = tcp(ns)
    c.settimeout(timeout)
    if src:
        c.bind((src, 0))
    c.connect((addr, port))
    return c


def refused_or_silent(ns, addr, port, timeout=1.0, src=None):
    """True if a connection attempt does not complete (dropped or refused)."""
    try:
        dial(ns, addr, port, src=src, timeout=timeout).close()
        return False
    except (socket.timeout, OSError):
        return True


def accept_one(listeners, timeout=PATIENCE):
    """(index, accepted socket) of the listener a connection arrived at, or (None, None)."""
    ready, _, _ = select.select(listeners, [], [], timeout)
    if not ready:
        return None, None
    s, _ = ready[0].accept()
    s.setblocking(True)
    s.settimeout(PATIENCE)
    return listeners.index(ready[0]), s


def silent(*listeners):
    """No connection is waiting at any of the listeners."""
    ready, _, _ = select.select(list(listeners), [], [], 0.2)
    return not ready


def exchange(client, server, tag):
    """Data both ways over an established (steered) connection."""
    client.sendall(b"ping " + tag)
    check_eq(server.recv(64), b"ping " + tag, f"client -> server over {tag!r}")
    server.sendall(b"pong " + tag)
    check_eq(client.recv(64), b"pong " + tag, f"server -> client over {tag!r}")


def close_all(socks):
    for s in socks:
        s.close()
    socks.clear()


def original_dst(s):
    raw = s.getsockopt(socket.SOL_IP, SO_ORIGINAL_DST, 16)
    return socket.inet_ntoa(raw[4:8]), struct.unpack("!H", raw[2:4])[0]


# ---- configuration files, mutexctl ----

def _value(v):
    return str(v) if isinstance(v, int) else json.dumps(v)


def toml(pools=(), rules=()):
    """A configuration file in the format of daemon/mutexd.toml."""
    out = []
    for p in pools:
        out.append("[[pool]]")
        out += [f"{k} = {_value(v)}" for k, v in p.items() if k != "backend"]
        for b in p.get("backend", []):
            out.append("  [[pool.backend]]")
            out += [f"  {k} = {_value(v)}" for k, v in b.items()]
    for r in rules:
        out.append("[[rule]]")
        out += [f"{k} = {_value(v)}" for k, v in r.items()]
    return "\n".join(out) + "\n"


def write(name, text):
    os.makedirs(WORK, exist_ok=True)
    path = f"{WORK}/{name}.toml"
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)
    return path


def apply_file(env, ns, path):
    """`mutexctl -j config apply FILE` in namespace ns; returns the new generation."""
    return env.mutexctl("-j", "config", "apply", path, netns=ns).json()["generation"]


def apply(env, ns, name, pools=(), rules=()):
    return apply_file(env, ns, write(name, toml(pools, rules)))


def show(env, ns, **kw):
    return env.mutexctl("-j", "config", "show", netns=ns, **kw).json()


def validated(env, path):
    """The configuration of a file as `mutexctl -j config validate` reads it."""
    doc = env.mutexctl("-j", "config", "validate", path).json()
    check(doc["ok"], f"{path} does not validate: {doc}")
    return doc["config"]


def counters(env, ns, pool_name):
    """[(address, active_flows, total_flows)] of a pool's backends, in order."""
    return [(b["address"], b["active_flows"], b["total_flows"])
            for b in show(env, ns)["backends"] if b["pool"] == pool_name]


def relay_pool(name, scheduler=None, failure_mode=None, **per_backend):
    """A pool of the three relays; per_backend: key -> list of three values."""
    p = {"name": name}
    if scheduler:
        p["scheduler"] = scheduler
    if failure_mode:
        p["failure_mode"] = failure_mode
    p["backend"] = []
    for i, addr in enumerate(RELAYS):
        b = {"address": addr, "port": RELAY_PORT}
        b.update({k: v[i] for k, v in per_backend.items()})
        p["backend"].append(b)
    return p


def p2p_rule(pool_name):
    """Forwarded connections from mc-cli to the original destination go to pool_name."""
    return {"name": "p2p", "protocol": "tcp", "destination": ORIG,
            "destination_ports": str(ORIG_PORT), "in_interface": "r-cli",
            "action": "dnat", "pool": pool_name}


def steer_through(env, name, p):
    return apply(env, RTR, name, pools=[p], rules=[p2p_rule(p["name"])])


class Relays:
    """Listeners on the three relays and on the original destination."""

    def __init__(self):
        self.relays = [listener(SRV, a, RELAY_PORT) for a in RELAYS]
        self.orig = listener(DST, ORIG, ORIG_PORT)
        self.held = []

    def connect(self, src=None, hold=False):
        """One connection from mc-cli to the original destination: index of the relay it
        reached (after checking data flows both ways)."""
        c = dial(CLI, ORIG, ORIG_PORT, src=src)
        i, s = accept_one(self.relays + [self.orig])
        check(i is not None, "connection reached no relay")
        check(i < len(self.relays), "connection reached the original destination")
        check_eq(c.getpeername(), (ORIG, ORIG_PORT), "the client's view of its peer")
        if src:
            check_eq(s.getpeername()[0], src, "source address seen by the relay")
        exchange(c, s, b"%d" % len(self.held))
        if hold:
            self.held += [c, s]
        else:
            c.close()
            s.close()
        return i

    def spread(self, n, **kw):
        counts = [0] * len(self.relays)
        for _ in range(n):
            counts[self.connect(**kw)] += 1
        return counts



@contextlib.contextmanager
def relays():
    r = Relays()
    try:
        yield r
        check(silent(*r.relays, r.orig), "a connection arrived that the case did not make")
    finally:
        close_all(r.held)
        for s in r.relays + [r.orig]:
            s.close()


def sysctl(name, value=None):
    """Reads or writes /proc/sys/NAME (of the namespace this thread is in)."""
    with open(f"/proc/sys/{name}", "r" if value is None else "w") as f:
        if value is None:
            return f.read().strip()
        f.write(str(value))
        return None


def remove_cgroup(path):
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:  # the exited child leaves it a moment later
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError as e:
            if e.errno != errno.EBUSY:
                raise
            time.sleep(0.1)
    raise Failure(f"cannot remove cgroup {path}")


# ---- cases ----

def _batch(ns, lines):
    where = f"-n {ns} " if ns else ""
    return f"ip {where}-batch - <<'EOF'\n" + "\n".join(lines) + "\nEOF\n"


# One ip process per namespace: every process start is slow under TCG.
TOPOLOGY = "set -e\n" + _batch(None, [f"netns add {ns}" for ns in NAMESPACES] + [
    f"link add r-cli netns {RTR} type veth peer name cli0 netns {CLI}",
    f"link add r-srv netns {RTR} type veth peer name srv0 netns {SRV}",
    f"link add r-dst netns {RTR} type veth peer name dst0 netns {DST}",
]) + _batch(RTR, [
    "addr add 10.1.0.1/24 dev r-cli", "addr add 10.2.0.1/24 dev r-srv",
    "addr add 10.3.0.1/24 dev r-dst",
    "link set lo up", "link set r-cli up", "link set r-srv up", "link set r-dst up",
]) + _batch(CLI, [
    "addr add 10.1.0.2/24 dev cli0", *[f"addr add {a}/24 dev cli0" for a in SOURCES],
    "link set lo up", "link set cli0 up", "route add default via 10.1.0.1",
]) + _batch(SRV, [
    *[f"addr add {a}/24 dev srv0" for a in RELAYS],
    "link set lo up", "link set srv0 up", "route add default via 10.2.0.1",
]) + _batch(DST, [
    f"addr add {ORIG}/24 dev dst0", "link set lo up", "link set dst0 up",
    "route add default via 10.3.0.1",
]) + _batch(EX, [
    "link set lo up",
    "addr add 10.20.0.11/32 dev lo",    # sentry-a of the example
    "addr add 10.20.0.12/32 dev lo",    # sentry-b
    "addr add 198.51.100.7/32 dev lo",  # some other CometBFT peer
    "route add 10.255.0.1/32 dev lo",   # the validator's service address
    "route add 203.0.113.0/24 dev lo",  # Ethereum peers
]) + _batch(LOC, [
    "link set lo up", "addr add 192.0.2.1/32 dev lo",
]) + _batch(BIG, [
    "link set lo up", "route add 198.18.0.0/16 dev lo",
])


def test_mutexctl_load(env):
    if not env.loaded():
        env.load()
    sh(TOPOLOGY, check_rc=0)
    with netns(RTR):
        sysctl("net/ipv4/ip_forward", 1)
    # the path works before any configuration: mc-cli reaches the original destination
    with relays() as r:
        c = dial(CLI, ORIG, ORIG_PORT)
        i, s = accept_one(r.relays + [r.orig])
        check_eq(i, len(RELAYS), "unsteered connection reaches the original destination")
        exchange(c, s, b"direct")
        c.close(), s.close()


def test_mutexctl_example_config(env):
    """The shipped daemon/mutexd.toml, applied as it is, in a namespace of its own."""
    expected = validated(env, EXAMPLE)
    check_eq((len(expected["pool"]), len(expected["rule"])), (2, 8), "pools and rules in the example")
    cgroup = CGROUP_ROOT + COMETBFT_CGROUP
    remove_cgroup(cgroup)
    # The file names a systemd unit's cgroup, and the unit has not started yet (as at boot,
    # before the validator): the file is accepted all the same.
    check_eq(apply_file(env, EX, EXAMPLE), 1, "generation after applying the example")
    # The VM has no systemd: make the cgroup systemd would make when the unit starts.
    os.makedirs(cgroup)
    # config show prints TOML that is itself a valid configuration file: the same one.
    text = env.mutexctl("config", "show", netns=EX).out
    check(text.startswith("# generation 1\n"), f"config show header: {text[:40]!r}")
    again = write("example-shown", text)
    check_eq(validated(env, again), expected, "config show's TOML read back")
    check_eq(apply_file(env, EX, again), 2, "generation after applying config show's output")
    shown = show(env, EX)
    check_eq(shown["generation"], 2, "generation in config show -j")
    check_eq(shown["config"], expected, "config show -j after the round trip, against the file")
    check_eq([(b["pool"], b["address"], b["port"], b["state"]) for b in shown["backends"]],
             [("cosmos-sentries", "10.20.0.11", 26656, "up"),
              ("cosmos-sentries", "10.20.0.12", 26656, "up"),
              ("eth-proxies", None, 12345, "up"), ("eth-proxies", None, 12346, "up")],
             "backends in config show -j")

    # And it does what its comments say.
    lst = {name: listener(EX, addr, port) for name, addr, port in [
        ("sentry-a", "10.20.0.11", 26656), ("sentry-b", "10.20.0.12", 26656),
        ("proxy1", "127.0.0.1", 12345), ("proxy2", "127.0.0.1", 12346),
        ("peer", "198.51.100.7", 26656)]}
    names = list(lst)
    socks = []
    try:
        c = dial(EX, "10.255.0.1", 26656)
        i, s = accept_one(list(lst.values()))
        socks += [c, s]
        check_eq(names[i] if i is not None else None, "sentry-a", "cosmos p2p (failover, priority 0)")
        exchange(c, s, b"cosmos")
        got = []
        for _ in range(4):
            c = dial(EX, "203.0.113.5", 30303)
            i, s = accept_one(list(lst.values()))
            socks += [c, s]
            got.append(names[i] if i is not None else None)
            if i is not None:
                check_eq(original_dst(s), ("203.0.113.5", 30303), "SO_ORIGINAL_DST at the proxy client")
        check_eq(sorted(got), ["proxy1"] * 3 + ["proxy2"], "devp2p over the proxy clients (wrr 3:1)")
        # A peer dialled directly by anything but the CometBFT service is left alone...
        c = dial(EX, "198.51.100.7", 26656)
        i, s = accept_one(list(lst.values()))
        socks += [c, s]
        check_eq(names[i] if i is not None else None, "peer", "direct dial outside the CometBFT cgroup")
        # ... the same dial from inside cometbft.service is dropped (the leak guard).
        r = run(["sh", "-c", f"echo $$ >{cgroup}/cgroup.procs && exec ip netns exec {EX} "
                 "socat -u /dev/null TCP:198.51.100.7:26656,connect-timeout=1"])
        check(r.rc != 0, f"dial from cometbft.service: {r!r}")
        check(silent(*lst.values()), "the dropped dial reached a listener")
        # The unit restarts: systemd removes its cgroup and makes a new one at the same path.
        # The guard holds for the new processes.
        remove_cgroup(cgroup)
        os.makedirs(cgroup)
        r = run(["sh", "-c", f"echo $$ >{cgroup}/cgroup.procs && exec ip netns exec {EX} "
                 "socat -u /dev/null TCP:198.51.100.7:26656,connect-timeout=1"])
        check(r.rc != 0, f"dial from the restarted cometbft.service: {r!r}")
        check(silent(*lst.values()), "the restarted unit's dial reached a listener")
        stats = env.stats(netns=EX)  # a new namespace: its counters started at 0
        check_eq(stats["flows_steered"], 5, "flows_steered")
        check(stats["flows_dropped"] >= 2, f"flows_dropped: {stats}")
        totals = [(b["port"], b["total_flows"]) for b in show(env, EX)["backends"]]
        check_eq(totals, [(26656, 1), (26656, 0), (12345, 3), (12346, 1)], "total_flows per backend")
    finally:
        close_all(socks)
        for s in lst.values():
            s.close()
        remove_cgroup(cgroup)


def test_mutexctl_large_config(env):
    """5,000 rules through one SET_CONFIG and one GET_CONFIG reply, and who may read them."""
    rules = [{"name": f"r{i}", "protocol": "tcp", "destination": f"198.18.{i // 250}.{i % 250}",
              "destination_ports": str(1024 + i), "action": "redirect", "to_port": 20000 + i}
             for i in range(5000)]
    rules.append({"name": "relays", "protocol": "tcp", "destination": "0.0.0.0/0",
                  "destination_ports": "26656", "action": "dnat", "pool": "relays"})
    relays_pool = relay_pool("relays", "wrr", weight=[1, 2, 3])
    check_eq(apply(env, BIG, "large", [relays_pool], rules), 1, "generation after the large apply")
    # config show prints the canonical file: defaults written out, prefixes with their length.
    # (Plain TOML here: building -j output of 5,000 rules takes seconds in a sanitized build.)
    text = env.mutexctl("config", "show", netns=BIG).out
    shown = tomllib.loads(text)
    want_rules = [dict(r, destination=r["destination"] + "/32")
                  if "/" not in r.get("destination", "/") else r for r in rules]
    check_eq(len(shown.get("rule", [])), len(want_rules), "rules in config show")
    wrong = [i for i, (got, want) in enumerate(zip(shown["rule"], want_rules)) if got != want]
    check(not wrong, f"{len(wrong)} rules differ, the first: {wrong[:1] and shown['rule'][wrong[0]]}")
    want_pool = {"name": "relays", "scheduler": "wrr", "failure_mode": "closed", "backend": [
        {"address": a, "port": RELAY_PORT, "weight": w, "priority": 0, "state": "up"}
        for a, w in zip(RELAYS, [1, 2, 3])]}
    check_eq(shown.get("pool"), [want_pool], "pools in config show")
    # The configuration names the node's relays: only CAP_NET_ADMIN over the namespace reads
    # it. Its size does not matter: the reply comes as a dump of many messages, so a receive
    # buffer capped at 64 KiB (net.core.rmem_max) reads all of it.
    r = env.mutexctl("config", "show", netns=BIG, user=65534, check_rc=1)
    check("needs CAP_NET_ADMIN" in r.err, f"config show as nobody: {r!r}")
    saved = sysctl("net/core/rmem_max")
    try:
        sysctl("net/core/rmem_max", 65536)
        r = env.mutexctl("config", "show", netns=BIG)
        check(r.out == text, "config show with rmem_max at 64 KiB differs")
    finally:
        sysctl("net/core/rmem_max", saved)
    # ... and it steers: the last rule and one of the first 5,000 still decide
    lst = listener(BIG, "127.0.0.1", 20000 + 4321)
    try:
        c = dial(BIG, "198.18.17.71", 1024 + 4321)
        i, s = accept_one([lst])
        check_eq(i, 0, "rule 4322 of 5,000 redirects")
        check_eq(original_dst(s), ("198.18.17.71", 1024 + 4321), "SO_ORIGINAL_DST")
        c.close(), s.close()
    finally:
        lst.close()


def test_mutexctl_pool_of_max_backends(env):
    """A pool of MUTEX_MAX_BACKENDS (256) backends round-trips through config show: the dump
    never splits a pool, so its messages must hold one on a fresh socket."""
    backends = [{"address": f"10.3.{i // 250}.{i % 250 + 1}", "port": 26656} for i in range(256)]
    pool = {"name": "many", "backend": backends}
    rules = [{"name": "p2p", "protocol": "tcp", "destination": "0.0.0.0/0",
              "destination_ports": "26656", "action": "dnat", "pool": "many"}]
    apply(env, BIG, "many", [pool], rules)
    shown = show(env, BIG)
    got = [(b["address"], b["port"]) for b in shown["backends"] if b["pool"] == "many"]
    check_eq(got, [(b["address"], b["port"]) for b in backends], "backends in config show -j")
    text = env.mutexctl("config", "show", netns=BIG).out
    check_eq(len(tomllib.loads(text)["pool"][0]["backend"]), 256, "backends in config show")
    apply(env, BIG, "empty")


def test_mutexctl_uid_match(env):
    """A rule for uid 1001 redirects that user's connections and nobody else's."""
    apply(env, LOC, "uid", rules=[
        {"name": "user-1001", "protocol": "tcp", "destination": "192.0.2.1",
         "destination_ports": "7000", "uid": "1001", "action": "redirect", "to_port": 7100}])
    orig = listener(LOC, "192.0.2.1", 7000)
    proxy = listener(LOC, "127.0.0.1", 7100)
    try:
        for uid, want in ((1001, "proxy"), (1002, "orig"), (0, "orig"), (1001, "proxy")):
            prefix = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"] \
                if uid else []

            def check_server_side(i, s, uid=uid, want=want):
                check(i is not None, f"uid {uid}: no connection arrived")
                check_eq(["proxy", "orig"][i], want, f"where uid {uid}'s connection went")
                if want == "proxy":
                    check_eq(original_dst(s), ("192.0.2.1", 7000), "SO_ORIGINAL_DST")

            dial_child(["ip", "netns", "exec", LOC] + prefix, "192.0.2.1", 7000, [proxy, orig],
                       check_server_side)
        stats = env.stats(netns=LOC)  # a new namespace: its counters started at 0
        check_eq(stats["flows_steered"], 2, "flows_steered (uid 1001 only)")
        check(stats["flows_new"] >= 4, f"flows_new: {stats}")
    finally:
        orig.close(), proxy.close()


def dial_child(prefix, addr, port, listeners, server_side=None):
    """Index of the listener that a connection from a child process (socat, started by the
    command prefix: a namespace, a user, a cgroup) reached, or None. The child says hello and
    waits for the answer, so the connection carries data both ways; server_side(index, socket)
    checks the accepted end before the answer."""
    child = subprocess.Popen(
        prefix + ["socat", "-t", f"{PATIENCE:.0f}", "-",
                  f"TCP:{addr}:{port},connect-timeout={PATIENCE:.0f}"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        child.stdin.write(b"hello")
        child.stdin.close()
        i, s = accept_one(listeners)
        if server_side:
            server_side(i, s)
        if i is None:
            return None
        check_eq(s.recv(16), b"hello", "data over the connection")
        s.sendall(b"bye")
        s.close()
        check_eq((child.wait(timeout=PATIENCE), child.stdout.read()), (0, b"bye"), "client")
        return i
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
        child.stdout.close(), child.stderr.close()


def dial_from_cgroup(cgroup, ns, addr, port, listeners):
    """Index of the listener that a connection from a process in cgroup (a directory under
    /sys/fs/cgroup, or None for the root) reached, or None."""
    enter = f"echo $$ >{cgroup}/cgroup.procs && " if cgroup else ""
    return dial_child(["sh", "-c", f'{enter}exec ip netns exec {ns} "$@"', "sh"], addr, port,
                      listeners)


def test_mutexctl_cgroup_follows_path(env):
    """A cgroup rule matches whatever cgroup lives at its path now: accepted before the unit
    exists, matching once it appears, after a restart (rmdir + mkdir) and in sub-cgroups,
    and never in a sibling whose name merely starts the same."""
    unit = CGROUP_ROOT + "/system.slice/relay-client.service"
    sibling = unit[:-len(".service")] + "2.service"
    os.makedirs(CGROUP_ROOT + "/system.slice", exist_ok=True)
    for cg in (unit + "/worker", unit, sibling):
        remove_cgroup(cg)
    apply(env, LOC, "cgroup", rules=[
        {"name": "unit-redirect", "protocol": "tcp", "destination": "192.0.2.1",
         "destination_ports": "7000", "cgroup": "/system.slice/relay-client.service",
         "action": "redirect", "to_port": 7100}])
    orig = listener(LOC, "192.0.2.1", 7000)
    proxy = listener(LOC, "127.0.0.1", 7100)
    where = ["proxy", "orig"]
    try:
        def dial_from(cg):
            i = dial_from_cgroup(cg, LOC, "192.0.2.1", 7000, [proxy, orig])
            check(i is not None, f"from {cg}: no connection arrived")
            return where[i]

        check_eq(dial_from(None), "orig", "before the unit exists, from the root cgroup")
        os.makedirs(unit)
        check_eq(dial_from(unit), "proxy", "the unit, once started")
        for n in range(2):
            remove_cgroup(unit)
            os.makedirs(unit)
            check_eq(dial_from(unit), "proxy", f"the unit after restart {n + 1}")
        os.makedirs(unit + "/worker")
        check_eq(dial_from(unit + "/worker"), "proxy", "a sub-cgroup of the unit")
        os.makedirs(sibling)
        check_eq(dial_from(sibling), "orig", "a sibling named like the unit")
        check_eq(dial_from(None), "orig", "the root cgroup")
    finally:
        orig.close(), proxy.close()
        for cg in (unit + "/worker", unit, sibling):
            remove_cgroup(cg)


def test_mutexctl_forwarded_dnat(env):
    """mc-cli's connections, forwarded by mc-rtr, go to a relay in mc-srv (PRE_ROUTING)."""
    with relays() as r:
        other = listener(DST, ORIG, ORIG_PORT + 1)
        try:
            check_eq(steer_through(env, "forwarded", relay_pool(
                "relays", "failover", priority=[0, 1, 2])), 1, "generation in mc-rtr")
            for _ in range(3):
                check_eq(r.connect(hold=True), 0, "relay reached")
            for s in r.held[1::2]:
                check_eq(s.getsockname(), (RELAYS[0], RELAY_PORT), "the relay's end")
                check_eq(s.getpeername()[0], "10.1.0.2", "the client's address is kept")
            check(silent(r.orig), "the original destination saw a steered connection")
            # a port the rule does not name still goes to the original destination
            c = dial(CLI, ORIG, ORIG_PORT + 1)
            i, s = accept_one(r.relays + [r.orig, other])
            check_eq(i, len(RELAYS) + 1, "unmatched port reaches the original destination")
            c.close(), s.close()
            # mc-rtr's first steering: its counters started at 0
            check_eq(env.stats(netns=RTR)["flows_steered"], 3, "flows_steered in mc-rtr")
            check_eq([t for _, _, t in counters(env, RTR, "relays")], [3, 0, 0], "total_flows")
            # the other namespaces keep their own (empty) configuration and counters
            check_eq(show(env, CLI)["generation"], 0, "generation in mc-cli")
            check_eq(env.stats(netns=CLI)["flows_steered"], 0, "flows_steered in mc-cli")
            check(silent(*r.relays, r.orig, other), "stray connection")
        finally:
            other.close()


def test_mutexctl_round_robin(env):
    with relays() as r:
        steer_through(env, "rr", relay_pool("rr", "rr"))
        for n in range(3):
            check_eq(r.spread(3), [1, 1, 1], f"round {n + 1} of three connections (rr)")
        check_eq([t for _, _, t in counters(env, RTR, "rr")], [3, 3, 3], "total_flows (rr)")


def test_mutexctl_rule_matches(env):
    """Each rule counts the new flows it decides (MUTEX_RULE_A_MATCHES): not later packets, not
    flows another rule decided; a SET_CONFIG that keeps the rule's name keeps the count, one
    that renames it starts from 0. (The names are new to the namespace: the earlier cases'
    "p2p" keeps its own count.)"""
    def matches():
        return {r["name"]: r["matches"] for r in show(env, RTR)["rules"]}

    p = relay_pool("counted", "rr")
    rule = dict(p2p_rule("counted"), name="counted-p2p")
    other = dict(rule, name="counted-elsewhere", destination_ports="9")
    with relays() as r:
        apply(env, RTR, "matches", pools=[p], rules=[other, rule])
        check_eq(matches(), {"counted-elsewhere": 0, "counted-p2p": 0}, "before any flow")
        for _ in range(3):
            r.connect()  # data both ways: packets after the first are not matches
        check_eq(matches(), {"counted-elsewhere": 0, "counted-p2p": 3},
                 "after three connections")
        # replaced, the rule moved and its pool reweighted: the name keeps the count
        p2 = relay_pool("counted", "wrr", weight=[1, 2, 3])
        apply(env, RTR, "matches", pools=[p2], rules=[rule, other])
        check_eq(matches(), {"counted-p2p": 3, "counted-elsewhere": 0},
                 "after a replacement keeping names")
        r.connect()
        check_eq(matches()["counted-p2p"], 4, "counting on after the replacement")
        apply(env, RTR, "matches", pools=[p2], rules=[dict(rule, name="counted-renamed"), other])
        check_eq(matches(), {"counted-renamed": 0, "counted-elsewhere": 0},
                 "a renamed rule starts at 0")


def test_mutexctl_backend_traffic_by_direction(env):
    """A backend's packets and bytes come per direction: what a connection sent towards the
    relay, and what came back (MUTEX_BACKEND_A_*_REPLY), each its payload plus headers."""
    def traffic():
        b = next(b for b in show(env, RTR)["backends"] if b["pool"] == "directions")
        return (b["pkts"] - b["pkts_reply"], b["pkts_reply"],
                b["bytes"] - b["bytes_reply"], b["bytes_reply"])

    p = relay_pool("directions", "rr")
    p["backend"] = p["backend"][:1]
    with relays() as r:
        apply(env, RTR, "directions", pools=[p], rules=[p2p_rule("directions")])
        before = traffic()
        c = dial(CLI, ORIG, ORIG_PORT)
        i, s = accept_one(r.relays)
        check_eq(i, 0, "the connection reached the pool's relay")
        c.sendall(b"u" * 1000)
        got = b""
        while len(got) < 1000:
            got += s.recv(4096)
        s.sendall(b"d" * 3000)
        got = b""
        while len(got) < 3000:
            got += c.recv(4096)
        c.close(), s.close()
        after = traffic()
    up_pkts, down_pkts, up_bytes, down_bytes = (a - b for a, b in zip(after, before))
    check(up_pkts >= 2 and down_pkts >= 2, f"packets each way: {up_pkts}, {down_pkts}")
    # payload plus at most 100 bytes of headers per packet
    check(1000 <= up_bytes <= 1000 + 100 * up_pkts, f"bytes towards the relay: {up_bytes}")
    check(3000 <= down_bytes <= 3000 + 100 * down_pkts, f"bytes back: {down_bytes}")


def test_mutexctl_weighted_round_robin(env):
    with relays() as r:
        steer_through(env, "wrr", relay_pool("wrr", "wrr", weight=[1, 2, 3]))
        for n in range(2):
            check_eq(r.spread(6), [1, 2, 3], f"round {n + 1} of six connections (wrr 1:2:3)")
        check_eq([t for _, _, t in counters(env, RTR, "wrr")], [2, 4, 6], "total_flows (wrr)")


def test_mutexctl_source_hash(env):
    with relays() as r:
        steer_through(env, "sh", relay_pool("sh", "source-hash"))
        first = {src: r.connect(src=src) for src in SOURCES}
        for src in reversed(SOURCES):
            for _ in range(2):
                check_eq(r.connect(src=src), first[src], f"source {src} sticks to its relay")
        check(len(set(first.values())) >= 2, f"12 sources all on one relay: {first}")
        totals = [t for _, _, t in counters(env, RTR, "sh")]
        check_eq(totals, [3 * list(first.values()).count(i) for i in range(3)], "total_flows (sh)")


def test_mutexctl_least_conn(env):
    """New connections go to the relay with the fewest active ones (held open)."""
    with relays() as r:
        # relay 0 alone takes three long-lived connections
        steer_through(env, "lc1", relay_pool("lc", "least-conn", state=["up", "down", "down"]))
        check_eq(r.spread(3, hold=True), [3, 0, 0], "relays 1 and 2 down")
        check_eq([a for _, a, _ in counters(env, RTR, "lc")], [3, 0, 0], "active_flows")
        # all up: relays 1 and 2 (0 active) take the next six, relay 0 (3 active) none
        steer_through(env, "lc2", relay_pool("lc", "least-conn"))
        got = [r.connect(hold=True) for _ in range(6)]
        check_eq(got, [1, 2, 1, 2, 1, 2], "order of relays (least-conn, ties to the first)")
        check_eq(r.connect(hold=True), 0, "all at three: the first relay")
        check_eq([a for _, a, _ in counters(env, RTR, "lc")], [4, 3, 3], "active_flows")


def test_mutexctl_priority_failover(env):
    with relays() as r:
        steer_through(env, "fo1", relay_pool("fo", "failover", priority=[1, 0, 2]))
        check_eq(r.spread(4), [0, 4, 0], "priority 0 takes all")
        steer_through(env, "fo2", relay_pool("fo", "failover", priority=[1, 0, 2],
                                             state=["up", "down", "up"]))
        check_eq(r.spread(4), [4, 0, 0], "priority 0 down: priority 1 takes over")
        steer_through(env, "fo3", relay_pool("fo", "failover", priority=[1, 0, 2],
                                             state=["drain", "down", "up"]))
        check_eq(r.spread(4), [0, 0, 4], "priority 1 draining: priority 2 takes over")
        check_eq([t for _, _, t in counters(env, RTR, "fo")], [4, 4, 4], "total_flows (fo)")


def test_mutexctl_failure_modes(env):
    with relays() as r:
        down = ["down", "down", "down"]
        before = env.stats(netns=RTR)
        steer_through(env, "closed", relay_pool("dead", state=down))  # closed is the default
        check(refused_or_silent(CLI, ORIG, ORIG_PORT), "closed: the connection went through")
        check(silent(*r.relays, r.orig), "closed: something reached a relay or the destination")
        steer_through(env, "open", relay_pool("dead", failure_mode="open", state=down))
        c = dial(CLI, ORIG, ORIG_PORT)
        i, s = accept_one(r.relays + [r.orig])
        check_eq(i, len(RELAYS), "open: the connection goes to its original destination")
        exchange(c, s, b"open")
        c.close(), s.close()
        after = env.stats(netns=RTR)
        check(after["flows_dropped"] > before["flows_dropped"], f"flows_dropped: {before} -> {after}")
        check_eq(after["flows_steered"], before["flows_steered"], "flows_steered")


def test_mutexctl_stale_generation(env):
    """A writer that read an older generation is refused and nothing changes: over netlink
    (the kernel's own message) and with `mutexctl config apply --generation N`, which then
    applies when N is still current."""
    gen = steer_through(env, "stale", relay_pool("current", "rr"))
    before = show(env, RTR)
    with netns(RTR):
        nl = NL()
    try:
        check_eq(get_config(nl)[0], gen, "generation seen over netlink")
        err, _, ext = set_config(nl, gen - 1, pool("stale", backend(1)))
        check_eq(err, errno.ESTALE, "SET_CONFIG with the generation before")
        check("changed since" in msg(ext), f"stale message: {msg(ext)!r}")
    finally:
        nl.s.close()
    path = write("stale-next", toml([relay_pool("next", "rr")], [p2p_rule("next")]))
    r = env.mutexctl("config", "apply", "--generation", gen - 1, path, netns=RTR, check_rc=1)
    check(f"no longer holds generation {gen - 1}" in r.err and "nothing was changed" in r.err,
          f"mutexctl config apply --generation {gen - 1}: {r!r}")
    after = show(env, RTR)
    check_eq(after["generation"], gen, "generation after the refused writes")
    check_eq(after["config"], before["config"], "configuration after the refused writes")
    r = env.mutexctl("-j", "config", "apply", f"--generation={gen}", path, netns=RTR).json()
    check_eq(r["generation"], gen + 1, "config apply --generation with the current one")
    check_eq([p["name"] for p in show(env, RTR)["config"]["pool"]], ["next"], "pools applied")


def test_mutexctl_replace_under_traffic(env):
    """Connections steered under configuration A keep their relay and carry data both ways
    after configuration B sends the same destination elsewhere; new ones follow B."""
    with relays() as r:
        before = env.stats(netns=RTR)
        steer_through(env, "A", {"name": "a", "backend": [{"address": RELAYS[0], "port": RELAY_PORT}]})
        check_eq(r.spread(4, hold=True), [4, 0, 0], "connections under A")
        steer_through(env, "B", {"name": "b", "backend": [{"address": RELAYS[1], "port": RELAY_PORT}]})
        for rnd in range(3):
            for k in range(0, len(r.held), 2):
                exchange(r.held[k], r.held[k + 1], b"old%d-%d" % (k, rnd))
            check_eq(r.spread(1), [0, 1, 0], f"new connection under B (round {rnd + 1})")
        for k in range(0, len(r.held), 2):
            check_eq(r.held[k + 1].getsockname(), (RELAYS[0], RELAY_PORT), "old connection's relay")
        after = env.stats(netns=RTR)
        check_eq(after["flows_steered"] - before["flows_steered"], 7, "flows_steered")
        check(after["pkts_steered"] > before["pkts_steered"], "pkts_steered")


def test_mutexctl_unload(env):
    for ns in NAMESPACES:
        run(["ip", "netns", "del", ns])
    run(["rm", "-rf", WORK])
    env.unload()
    check(not env.loaded(), "module still loaded after rmmod")
