# SPDX-License-Identifier: GPL-2.0
"""VM tests of what failover stands on, driven with mutexctl as mutexd drives the module:
one backend's state and weight changed in place (SET_BACKEND, `mutexctl backend`), the
connections of a dead backend ended (END_FLOWS, `mutexctl backend ... end-flows`) so UDP
flows move to a live backend and TCP clients are reset instead of leaking to the original
destination, and the "events" multicast group (`mutexctl events`).

One namespace, lo only: the original destination 192.0.2.1 and two relays 192.0.2.11 and
192.0.2.12 are addresses of lo; a DNAT pool of the two relays (round robin, failure mode
closed) takes TCP and UDP to 192.0.2.1:7500. Runs after test_conntrack.py (which unloads the
module at its end): the first case loads the module, the last unloads it.
"""
import errno
import json
import os
import select
import socket
import subprocess
import time

from guest import PATIENCE, check, check_eq, run, sh
from test_steering_mutexctl import accept_one, apply, dial, exchange, listener, netns, show, silent

NS = "fo"
DST, PORT = "192.0.2.1", 7500
RELAYS = ["192.0.2.11", "192.0.2.12"]
POOL = "relays"

# Packets that leave for the original destination unNATed: the leak a reset prevents.
LEAK_COUNTER = f"""table inet leak {{
	chain post {{ type filter hook postrouting priority 0; ip daddr {DST} tcp dport {PORT} counter; }}
}}
"""


def target(i):
    return f"{RELAYS[i]}:{PORT}"


def configure(env, protocol=None, on=None):
    rule = {"name": "p2p", "destination": DST, "destination_ports": str(PORT),
            "action": "dnat", "pool": POOL}
    if protocol:
        rule["protocol"] = protocol
    return apply(env, NS, on or "fo", pools=[{
        "name": POOL, "scheduler": "rr", "failure_mode": "closed",
        "backend": [{"address": a, "port": PORT} for a in RELAYS]}], rules=[rule])


def backend(env, *words, check_rc=0):
    return env.mutexctl("backend", POOL, *words, netns=NS, check_rc=check_rc)


def states(env):
    return {(b["address"], b["port"]): b["state"] for b in show(env, NS)["backends"]}


def udp(addr, port=0):
    with netns(NS):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    s.settimeout(PATIENCE)
    return s


def arrived(socks, timeout=PATIENCE):
    """(index, payload) of the socket a datagram arrived at, or (None, None)."""
    ready, _, _ = select.select(socks, [], [], timeout)
    if not ready:
        return None, None
    return socks.index(ready[0]), ready[0].recv(256)


def test_fo_load(env):
    check(not env.loaded(), "module already loaded before the test")
    env.load()
    sh(f"ip netns add {NS} && ip -n {NS} link set lo up && "
       f"ip -n {NS} addr add {DST}/32 dev lo && "
       + " && ".join(f"ip -n {NS} addr add {a}/32 dev lo" for a in RELAYS), check_rc=0)


def test_fo_backend_down_and_up(env):
    """A backend set down takes no new connection and the others take them all, at once; set
    up again it takes its share. The configuration is changed in place: same generation."""
    generation = configure(env, protocol="tcp")
    relays = [listener(NS, a, PORT) for a in RELAYS]
    socks = []
    try:
        def where(n):
            got = []
            for _ in range(n):
                socks.append(dial(NS, DST, PORT))
                i, s = accept_one(relays)
                check(i is not None, "connection reached no relay")
                socks.append(s)
                got.append(i)
            return got

        check_eq(sorted(set(where(4))), [0, 1], "round robin over both relays")
        r = backend(env, target(0), "down")
        check(f"{target(0)}: down (generation {generation})" in r.out, f"backend down: {r.out!r}")
        check_eq(where(4), [1, 1, 1, 1], "relay 0 down: every connection to relay 1")
        check_eq(show(env, NS)["generation"], generation, "generation after backend down")
        check_eq(states(env)[(RELAYS[0], PORT)], "down", "state shown by config show")
        backend(env, target(0), "drain")
        check_eq(where(2), [1, 1], "drain takes no new connection either")
        backend(env, target(0), "up")
        check_eq(sorted(set(where(4))), [0, 1], "relay 0 up again: both take connections")
        doc = env.mutexctl("-j", "backend", POOL, target(1), "weight", "3", netns=NS).json()
        check_eq(doc["generation"], generation, "generation after a weight change")
        weights = {(b["address"]): b["weight"] for b in show(env, NS)["config"]["pool"][0]["backend"]}
        check_eq(weights, {RELAYS[0]: 1, RELAYS[1]: 3}, "weights after the change")
        check_eq(show(env, NS)["generation"], generation, "generation at the end")
    finally:
        for s in socks + relays:
            s.close()


def test_fo_backend_refusals_change_nothing(env):
    """An unknown pool or backend, a stale generation, a non-root caller: refused with the
    kernel's reason, and the configuration is what it was."""
    before = show(env, NS)
    r = env.mutexctl("backend", "nosuch", target(0), "down", netns=NS, check_rc=1)
    check("no pool of that name" in r.err, f"unknown pool: {r.err!r}")
    r = backend(env, "192.0.2.99:7500", "down", check_rc=1)
    check("no such backend in the pool" in r.err, f"unknown backend: {r.err!r}")
    r = backend(env, target(0), "down", "--generation", str(before["generation"] + 5), check_rc=1)
    check("no longer holds generation" in r.err, f"stale generation: {r.err!r}")
    r = env.mutexctl("backend", POOL, target(0), "down", netns=NS, user=65534, check_rc=1)
    check("CAP_NET_ADMIN" in r.err, f"unprivileged: {r.err!r}")
    r = backend(env, target(0), "end-flows", "icmp", check_rc=2)
    check_eq(show(env, NS), before, "configuration after the refusals")


def test_fo_end_flows_moves_udp(env):
    """conntrack keeps a UDP flow on its backend while datagrams flow, down or not; ended, its
    next datagram is a new flow and goes to a live backend. TCP is left alone by 'end-flows udp'."""
    configure(env)
    relays = [udp(a, PORT) for a in RELAYS]
    cli = udp(DST)
    try:
        cli.sendto(b"one", (DST, PORT))
        first, data = arrived(relays)
        check_eq(data, b"one", "first datagram reaches a relay")
        other = 1 - first
        backend(env, target(first), "down")
        cli.sendto(b"two", (DST, PORT))
        check_eq(arrived(relays), (first, b"two"), "keep: the flow stays on the down relay")
        doc = env.mutexctl("-j", "backend", POOL, target(first), "end-flows", "udp",
                           netns=NS).json()
        check_eq(doc["ended"], 1, "UDP connections ended")
        cli.sendto(b"three", (DST, PORT))
        check_eq(arrived(relays), (other, b"three"), "after end-flows the flow moves")
        cli.sendto(b"four", (DST, PORT))
        check_eq(arrived(relays), (other, b"four"), "and stays on the live relay")
        backend(env, target(first), "up")
    finally:
        for s in relays + [cli]:
            s.close()


def test_fo_end_flows_resets_tcp(env):
    """An ended TCP connection of a pool in failure mode closed is reset at its next segment:
    nothing of it leaves unNATed for the original destination."""
    configure(env, protocol="tcp")
    run(["ip", "netns", "exec", NS, "nft", "-f", "-"], input=LEAK_COUNTER, check_rc=0)
    relays = [listener(NS, a, PORT) for a in RELAYS]
    c = dial(NS, DST, PORT)
    try:
        i, s = accept_one(relays)
        check(i is not None, "connection reached no relay")
        exchange(c, s, b"before")
        doc = env.mutexctl("-j", "backend", POOL, target(i), "end-flows", "tcp", netns=NS).json()
        # this one, and those of the connections before it that conntrack still remembers
        check(doc["ended"] >= 1, f"TCP connections ended: {doc}")
        err = None
        try:
            c.sendall(b"after")
            c.recv(16)
        except OSError as e:
            err = e.errno
        check_eq(err, errno.ECONNRESET, "the client's next segment is answered with a reset")
        r = run(["ip", "netns", "exec", NS, "nft", "list", "table", "inet", "leak"], check_rc=0)
        check("packets 0 bytes 0" in r.out, f"segments left for the original destination: {r.out}")
        check(env.stats(netns=NS)["flows_dropped"] >= 1, "the reset segment counts as dropped")
        s.close()
        # a new connection is steered again
        c2 = dial(NS, DST, PORT)
        j, s2 = accept_one(relays)
        check(j is not None, "a new connection is steered")
        exchange(c2, s2, b"new")
        c2.close(), s2.close()
    finally:
        run(["ip", "netns", "exec", NS, "nft", "delete", "table", "inet", "leak"])
        c.close()
        for s in relays:
            s.close()


class _Lines:
    """The lines a process writes to stdout, read as they come (select on the pipe, no
    buffering hidden from select)."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.buf = b""

    def line(self, timeout):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if not ready:
                return None
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()

    def close(self):
        self.proc.kill()
        self.proc.wait()


def follow_events(env, ns, poke, *flags):
    """`mutexctl -j events [flags]` in namespace ns, once it has joined: `poke()` makes a
    change (and undoes it) until an event reaches it; the events of the pokes are read away."""
    events = _Lines(["ip", "netns", "exec", ns, env.mutexctl_path, "-j", "events", *flags,
                     "--timeout", str(int(PATIENCE))])
    deadline = time.monotonic() + PATIENCE
    first = None
    while first is None and time.monotonic() < deadline:
        poke()
        first = events.line(0.5)
    if first is None:
        events.close()
        check(False, "no event reached mutexctl events")
    while events.line(0.5):
        pass
    return events


def toggle_weight(env, ns, pool, backend_target):
    """A change that leaves the configuration as it was: weight 2, then back to 1."""
    def poke():
        for w in ("2", "1"):
            env.mutexctl("backend", pool, backend_target, "weight", w, netns=ns)
    return poke


def test_fo_events(env):
    """`mutexctl -j events` sees every change as one JSON line: a replaced configuration with
    its generation, a backend's new state and weight; events_sent counts them. Joining the group
    needs CAP_NET_ADMIN."""
    r = env.mutexctl("events", "--timeout", "1", netns=NS, user=65534, check_rc=1)
    check("CAP_NET_ADMIN" in r.err, f"unprivileged events: {r.err!r}")
    proc = follow_events(env, NS, toggle_weight(env, NS, POOL, target(1)))
    try:
        sent = env.stats(netns=NS)["events_sent"]
        generation = configure(env, protocol="tcp", on="fo-events")
        backend(env, target(0), "down")
        backend(env, target(0), "down")  # no change, no event
        backend(env, target(0), "up")
        got = [json.loads(proc.line(PATIENCE) or "null") for _ in range(3)]
        check_eq(got[0], {"event": "config", "generation": generation}, "config event")
        for ev, state in ((got[1], "down"), (got[2], "up")):
            check_eq(ev["event"], "backend", "backend event")
            check_eq(ev["pool"], POOL, "its pool")
            check_eq(ev["generation"], generation, "its generation")
            check_eq((ev["backend"]["address"], ev["backend"]["port"], ev["backend"]["state"]),
                     (RELAYS[0], PORT, state), "its backend")
        check(proc.line(1) is None, "an event for a change that changed nothing")
        check_eq(env.stats(netns=NS)["events_sent"] - sent, 3, "events_sent")
    finally:
        proc.close()


def test_fo_flow_events(env):
    """`mutexctl events --flows` also sees each steered flow start (when conntrack confirmed
    it) and end (when it leaves the table: here by `flows flush`), with its addresses and
    counters; without a listener on "flows" nothing is sent."""
    configure(env, protocol="tcp")
    relays = [listener(NS, a, PORT) for a in RELAYS]
    socks = []
    try:
        sent = env.stats(netns=NS)["events_sent"]
        socks.append(dial(NS, DST, PORT))
        i, s = accept_one(relays)
        socks.append(s)
        exchange(socks[0], s, b"quiet")
        env.mutexctl("flows", "flush", netns=NS)
        check_eq(env.stats(netns=NS)["events_sent"], sent, "flow events sent with no listener")
        for x in socks:
            x.close()
        socks.clear()

        proc = follow_events(env, NS, toggle_weight(env, NS, POOL, target(1)), "--flows")
        try:
            c = dial(NS, DST, PORT)
            socks.append(c)
            i, s = accept_one(relays)
            socks.append(s)
            exchange(c, s, b"watched")
            start = json.loads(proc.line(PATIENCE) or "null")
            check(start is not None, "no flow-start event")
            check_eq(start["event"], "flow-start", "event type")
            flow = start["flow"]
            check_eq((flow["protocol"], flow["src_port"], flow["orig_dst_addr"],
                      flow["orig_dst_port"], flow["dst_addr"], flow["dst_port"]),
                     ("tcp", c.getsockname()[1], DST, PORT, RELAYS[i], PORT), "the flow")
            r = env.mutexctl("-j", "flows", "flush", netns=NS).json()
            check_eq(r["removed"], 1, "flows flushed")
            end = json.loads(proc.line(PATIENCE) or "null")
            check(end is not None, "no flow-end event")
            check_eq(end["event"], "flow-end", "event type")
            check_eq(end["flow"]["src_port"], c.getsockname()[1], "the same flow")
            check(end["flow"]["pkts_orig"] >= 3, f"final counters: {end['flow']}")
        finally:
            proc.close()
    finally:
        for x in socks + relays:
            x.close()


def test_fo_unload(env):
    run(["ip", "netns", "del", NS])
    env.unload()
    check(not env.loaded(), "module still loaded after rmmod")
