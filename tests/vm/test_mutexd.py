# SPDX-License-Identifier: GPL-2.0
"""VM tests of mutexd, the daemon, run as an operator runs it (`mutexd --config FILE` in the
network namespace it steers), with real listeners: health checks take a dead relay out and
bring it back, UDP flows leave a dead relay under on_backend_down = "reset-udp", a bad file is
refused on reload (SIGHUP, or an editor's rename) and the running configuration stays, a
restart (kill -9) takes the kernel's configuration over without disturbing a long-lived
connection, a rule for a unit that starts after mutexd (boot order) steers the unit once it
runs and after its restarts, a rule's interface name follows a rename and a re-creation,
SIGTERM leaves the kernel steering, and with flush_on_exit empties it.

One namespace, lo only: the original destination 192.0.2.1 and relays 192.0.2.11 and
192.0.2.12 are addresses of lo. Each relay has a data port (TCP 7600, UDP 7700) and a health
port (TCP 7601, UDP 7701) that mutexd checks (check_port, as it checks a local proxy's
upstream): "killing" a relay closes both. Failover times are measured from the kill to the
daemon's log line and printed.
"""
import http.client
import json
import os
import re
import select
import signal
import socket
import subprocess
import threading
import time
import urllib.parse

from guest import PATIENCE, TIME_SCALE, Failure, check, check_eq, run
from test_failover import follow_events, toggle_weight
from test_steering_mutexctl import (accept_one, dial, dial_from_cgroup, exchange, listener, netns,
                                    remove_cgroup, show, silent)

NS = "md"
DST = "192.0.2.1"
RELAYS = ["192.0.2.11", "192.0.2.12"]
TCP_PORT, TCP_HEALTH = 7600, 7601
UDP_PORT, UDP_HEALTH = 7700, 7701
WORK = "/tmp/mutexd-vm"
CONFIG = f"{WORK}/mutexd.toml"
LOG = f"{WORK}/mutexd.log"
INTERVAL_MS, FALL, RISE = 200, 2, 2
UNIT_PORT, UNIT_PROXY = 7800, 7801
UNIT_CGROUP = "/system.slice/md-validator.service"
CGROUP_ROOT = "/sys/fs/cgroup"
UPLINK, FAR = "md-up0", "md-far"  # a veth from NS to the namespace FAR
UPLINK_NET, UPLINK_DST = "198.51.100.1/24", "198.51.100.9"
UPLINK_PORT, UPLINK_PROXY = 7900, 7901

GOOD = f"""[daemon]
log_level = "info"

# tuning holds perf_cache_size at 512 and perf_batch_size at 32: it only acts when something
# moves them out (the dashboard test does)
[tuning]
interval = "1s"
cache_size_min = 512
cache_size_max = 512
batch_size_min = 32
batch_size_max = 32

[[pool]]
name = "tcp-relays"
scheduler = "rr"
failure_mode = "closed"
check = "tcp"
check_interval = "{INTERVAL_MS}ms"
check_timeout = "{INTERVAL_MS // 2}ms"
rise = {RISE}
fall = {FALL}
  [[pool.backend]]
  address = "{RELAYS[0]}"
  port = {TCP_PORT}
  check_port = {TCP_HEALTH}
  [[pool.backend]]
  address = "{RELAYS[1]}"
  port = {TCP_PORT}
  check_port = {TCP_HEALTH}

[[pool]]
name = "udp-relays"
scheduler = "rr"
failure_mode = "closed"
check = "udp"
check_interval = "{INTERVAL_MS}ms"
check_timeout = "{INTERVAL_MS // 2}ms"
rise = {RISE}
fall = {FALL}
on_backend_down = "reset-udp"
  [[pool.backend]]
  address = "{RELAYS[0]}"
  port = {UDP_PORT}
  check_port = {UDP_HEALTH}
  [[pool.backend]]
  address = "{RELAYS[1]}"
  port = {UDP_PORT}
  check_port = {UDP_HEALTH}

[[rule]]
name = "p2p-tcp"
protocol = "tcp"
destination = "{DST}"
destination_ports = "{TCP_PORT}"
action = "dnat"
pool = "tcp-relays"

# the validator's unit, which starts after mutexd (boot order): its dials to 7800 go to a
# local proxy on 7801
[[rule]]
name = "unit-proxy"
protocol = "tcp"
destination = "{DST}"
destination_ports = "{UNIT_PORT}"
cgroup = "{UNIT_CGROUP}"
action = "redirect"
to_port = {UNIT_PROXY}

# traffic out of the uplink md-up0 goes to a local proxy; md-up0 does not exist when mutexd
# starts, and is renamed, removed and created again later
[[rule]]
name = "uplink-proxy"
protocol = "tcp"
destination = "{UPLINK_DST}"
destination_ports = "{UPLINK_PORT}"
out_interface = "{UPLINK}"
action = "redirect"
to_port = {UPLINK_PROXY}

[[rule]]
name = "p2p-udp"
protocol = "udp"
destination = "{DST}"
destination_ports = "{UDP_PORT}"
action = "dnat"
pool = "udp-relays"
"""


class Relay:
    """One relay's sockets: TCP data listener, TCP health listener (drained by a thread, so the
    checks never fill its backlog), UDP data socket, UDP health socket."""

    def __init__(self, addr):
        self.addr = addr
        self.up()

    def up(self):
        with netns(NS):
            self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind((self.addr, TCP_PORT))
        self.tcp.listen(64)
        self.tcp.setblocking(False)
        self.udp.bind((self.addr, UDP_PORT))
        self.health_up()

    def health_up(self):
        """Health listeners for whichever of the two ports has none, drained by one thread."""
        self._stop_drain()
        with netns(NS):
            if self.health is None:
                self.health = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                self.health.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                self.health.bind((self.addr, TCP_HEALTH))
                self.health.listen(64)
                self.health.setblocking(False)
            if self.udp_health is None:
                self.udp_health = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                self.udp_health.bind((self.addr, UDP_HEALTH))
        self._start_drain()

    health = udp_health = drain = None

    def _start_drain(self):
        self.stop = threading.Event()
        socks = [s for s in (self.health, self.udp_health) if s is not None]
        self.drain = threading.Thread(target=self._drain, args=(socks,), daemon=True)
        self.drain.start()

    def _stop_drain(self):
        if self.drain is not None:
            self.stop.set()
            self.drain.join()
            self.drain = None

    def _drain(self, socks):
        while socks and not self.stop.is_set():
            ready, _, _ = select.select(socks, [], [], 0.05)
            for s in ready:
                try:
                    if s is self.health:
                        s.accept()[0].close()
                    else:
                        s.recv(512)
                except OSError:
                    pass

    def health_down(self, tcp=True):
        """The health ports stop answering (only the UDP one unless tcp); the data ports stay:
        a relay whose upstream died."""
        self._stop_drain()
        self.udp_health.close()
        self.udp_health = None
        if tcp:
            self.health.close()
            self.health = None
        self._start_drain()

    def health_is_down(self):
        return self.udp_health is None

    def down(self):
        self.health_down()
        self._stop_drain()
        self.tcp.close(), self.udp.close()


class Daemon:
    def __init__(self, env, *extra):
        self.env = env
        self.log = open(LOG, "ab")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", NS, env.mutexd_path, "--config", CONFIG, *extra],
            stdout=self.log, stderr=subprocess.STDOUT)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout=PATIENCE):
        return self.proc.wait(timeout=timeout)

    def kill9(self):
        self.proc.kill()
        self.proc.wait()


def log_text():
    with open(LOG, errors="replace") as f:
        return f.read()


def wait_log(text, after=0, timeout=PATIENCE):
    """Seconds until `text` appears in the log past offset `after`; fails after timeout."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if text in log_text()[after:]:
            return time.monotonic() - start
        time.sleep(0.02)
    raise AssertionError(f"not in mutexd's log within {timeout} s: {text!r}\n{log_text()[after:]}")


def mark():
    return len(log_text())


def states(env):
    return {(b["pool"], b["address"]): b["state"] for b in show(env, NS)["backends"]}


def write_config(text, rename=False):
    if rename:  # as an editor does: a new file renamed over the old one
        tmp = CONFIG + ".new"
        with open(tmp, "w") as f:
            f.write(text)
        os.rename(tmp, CONFIG)
    else:
        with open(CONFIG, "w") as f:
            f.write(text)


_relays = []
_daemon = []
_measured = {}


def where(n):
    """The relay index each of n new TCP connections to the original destination reached."""
    got, socks = [], []
    listeners = [r.tcp for r in _relays]
    try:
        for _ in range(n):
            socks.append(dial(NS, DST, TCP_PORT))
            i, s = accept_one(listeners)
            check(i is not None, "a connection reached no relay")
            socks.append(s)
            got.append(i)
    finally:
        for s in socks:
            s.close()
    return got


def udp_client():
    with netns(NS):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((DST, 0))
    s.settimeout(PATIENCE)
    return s


def udp_arrived(timeout=PATIENCE):
    """(relay index, payload) of the next datagram at a relay that is up, or (None, None)."""
    socks = {r.udp: i for i, r in enumerate(_relays) if r.udp.fileno() >= 0}
    ready, _, _ = select.select(list(socks), [], [], timeout)
    if not ready:
        return None, None
    return socks[ready[0]], ready[0].recv(256)


def test_md_start(env):
    check(not env.loaded(), "module already loaded before the test")
    env.load()
    os.makedirs(WORK, exist_ok=True)
    if os.path.exists(LOG):
        os.unlink(LOG)
    run(["ip", "netns", "add", NS], check_rc=0)
    run(["ip", "-n", NS, "link", "set", "lo", "up"], check_rc=0)
    for a in [DST] + RELAYS:
        run(["ip", "-n", NS, "addr", "add", f"{a}/32", "dev", "lo"], check_rc=0)
    _relays.extend(Relay(a) for a in RELAYS)
    write_config(GOOD)
    r = run([env.mutexd_path, "--check", "--config", CONFIG], check_rc=0)
    check("ok (2 pools, 4 rules)" in r.out, f"mutexd --check: {r.out!r}")
    os.makedirs(CGROUP_ROOT + "/system.slice", exist_ok=True)
    remove_cgroup(CGROUP_ROOT + UNIT_CGROUP)  # the unit has not started: mutexd comes first
    _daemon.append(Daemon(env))
    wait_log("ready: generation 1")
    check(f"no interface is called {UPLINK}" in log_text(), "no word of the missing uplink")
    check_eq(show(env, NS)["generation"], 1, "generation after start")
    check_eq(sorted(set(where(4))), [0, 1], "both relays take connections")


def test_md_check_refuses_a_bad_file(env):
    bad = f"{WORK}/bad.toml"
    with open(bad, "w") as f:
        f.write(GOOD.replace('scheduler = "rr"', 'scheduler = "fastest"', 1))
    r = run([env.mutexd_path, "--check", "--config", bad], check_rc=1)
    check(f"{bad}:" in r.err and "scheduler" in r.err, f"mutexd --check: {r.err!r}")


def test_md_dead_relay_out_and_back(env):
    """A relay whose health port stops answering is out within interval x fall (plus a check's
    timeout), and new connections all go to the other; back, it is up after rise checks."""
    at = mark()
    _relays[0].down()
    took = wait_log(f"pool tcp-relays backend {RELAYS[0]}:{TCP_PORT}: up -> down", at)
    _measured["tcp down"] = took
    check_eq(states(env)[("tcp-relays", RELAYS[0])], "down", "kernel state after the kill")
    # interval x fall and a check's timeout, with a wide margin for a slow, emulated machine
    bound = (INTERVAL_MS * FALL + INTERVAL_MS // 2) / 1000 * 10 * TIME_SCALE
    check(took <= bound, f"down after {took:.2f} s, more than {bound:.2f} s")
    listeners = [_relays[1].tcp]
    for n in range(4):
        c = dial(NS, DST, TCP_PORT)
        i, s = accept_one(listeners)
        check_eq(i, 0, f"connection {n} reaches the live relay")
        c.close(), s.close()
    at = mark()
    _relays[0].up()
    took = wait_log(f"pool tcp-relays backend {RELAYS[0]}:{TCP_PORT}: down -> up", at)
    _measured["tcp up"] = took
    check_eq(states(env)[("tcp-relays", RELAYS[0])], "up", "kernel state after the return")
    check_eq(sorted(set(where(4))), [0, 1], "both relays again")
    print(f"measured: relay down after {_measured['tcp down']:.2f} s, up after "
          f"{_measured['tcp up']:.2f} s (interval {INTERVAL_MS} ms, fall {FALL}, rise {RISE})")


def test_md_udp_flow_leaves_a_dead_relay(env):
    """A UDP flow on a relay that dies moves to the live one at its next datagram (reset-udp):
    the daemon ended its conntrack entry when it took the relay out."""
    cli = udp_client()
    try:
        cli.sendto(b"one", (DST, UDP_PORT))
        first, data = udp_arrived()
        check_eq(data, b"one", "the first datagram reaches a relay")
        at = mark()
        _relays[first].down()
        took = wait_log(f"pool udp-relays backend {RELAYS[first]}:{UDP_PORT}: up -> down", at)
        wait_log("ended 1 UDP flows", at)
        _measured["udp down"] = took
        cli.sendto(b"two", (DST, UDP_PORT))
        i, data = udp_arrived()
        check_eq((i, data), (1 - first, b"two"), "the next datagram goes to the live relay")
        at = mark()
        _relays[first].up()
        wait_log(f"pool udp-relays backend {RELAYS[first]}:{UDP_PORT}: down -> up", at)
        print(f"measured: UDP relay down after {took:.2f} s")
    finally:
        cli.close()


def test_md_udp_flow_stays_under_keep(env):
    """on_backend_down = "keep": a UDP flow stays on a relay its checks take out (here the relay
    still forwards: only its UDP health port died) while new flows go to the live one."""
    at = mark()
    write_config(GOOD.replace('on_backend_down = "reset-udp"', 'on_backend_down = "keep"'),
                 rename=True)
    wait_log("reloaded: the kernel's configuration is unchanged", at)
    cli = udp_client()
    fresh = first = None
    try:
        cli.sendto(b"one", (DST, UDP_PORT))
        first, data = udp_arrived()
        check_eq(data, b"one", "the first datagram reaches a relay")
        at = mark()
        _relays[first].health_down(tcp=False)
        wait_log(f"pool udp-relays backend {RELAYS[first]}:{UDP_PORT}: its flows stay on it "
                 "(on_backend_down = keep)", at)
        check(f"pool udp-relays backend {RELAYS[first]}:{UDP_PORT}: ended" not in
              log_text()[at:], f"UDP flows ended under keep: {log_text()[at:]}")
        cli.sendto(b"two", (DST, UDP_PORT))
        check_eq(udp_arrived(), (first, b"two"), "the flow stays on the relay marked down")
        fresh = udp_client()
        fresh.sendto(b"new", (DST, UDP_PORT))
        check_eq(udp_arrived(), (1 - first, b"new"), "a new flow goes to the live relay")
    finally:
        cli.close()
        if fresh:
            fresh.close()
        if first is not None and _relays[first].health_is_down():
            at = mark()
            _relays[first].health_up()
            wait_log(f"pool udp-relays backend {RELAYS[first]}:{UDP_PORT}: down -> up", at)
    at = mark()
    write_config(GOOD, rename=True)
    wait_log("reloaded: the kernel's configuration is unchanged", at)


def test_md_all_dead_fails_closed(env):
    """Both TCP relays die: mutexd takes both out (`mutexctl events` shows each change as the
    daemon makes it), new connections fail, and nothing reaches the original destination."""
    # the weight goes back to the file's: a restart must still find the file's configuration
    events = follow_events(env, NS,
                           toggle_weight(env, NS, "udp-relays", f"{RELAYS[1]}:{UDP_PORT}"))
    orig = listener(NS, DST, TCP_PORT)
    revived = False
    try:
        at = mark()
        for r in _relays:
            r.down()
        for a in RELAYS:
            wait_log(f"pool tcp-relays backend {a}:{TCP_PORT}: up -> down", at)
        seen = set()
        deadline = time.monotonic() + PATIENCE
        while len(seen) < 2 and time.monotonic() < deadline:
            line = events.line(deadline - time.monotonic())
            if not line:
                break
            ev = json.loads(line)
            if ev["event"] == "backend" and ev["pool"] == "tcp-relays" and \
                    ev["backend"]["state"] == "down":
                seen.add(ev["backend"]["address"])
        check_eq(seen, set(RELAYS), "backend events for both relays going down")
        dropped = env.stats(netns=NS)["flows_dropped"]
        try:
            dial(NS, DST, TCP_PORT, timeout=1.0).close()
            check(False, "a connection got through with every relay down")
        except OSError:
            pass
        check(silent(orig), "the original destination saw a connection")
        check(env.stats(netns=NS)["flows_dropped"] > dropped, "the SYN was dropped by the module")
        at = mark()
        revived = True
        for r in _relays:
            r.up()
        for a in RELAYS:
            wait_log(f"pool tcp-relays backend {a}:{TCP_PORT}: down -> up", at)
    finally:
        if not revived:
            for r in _relays:
                r.up()
        orig.close()
        events.close()


def test_md_unit_started_after_the_daemon(env):
    """Boot order: mutexd applied a rule for a unit whose cgroup did not exist yet; once the unit
    starts its dials are steered, and again after each restart (its cgroup removed and made
    anew), while the same dial from outside the unit is left alone."""
    unit = CGROUP_ROOT + UNIT_CGROUP
    orig = listener(NS, DST, UNIT_PORT)
    proxy = listener(NS, "127.0.0.1", UNIT_PROXY)
    where = ["proxy", "orig"]
    try:
        def dial_from(cg):
            i = dial_from_cgroup(cg, NS, DST, UNIT_PORT, [proxy, orig])
            check(i is not None, f"from {cg}: no connection arrived")
            return where[i]

        check(not os.path.exists(unit), "the unit's cgroup exists before the unit started")
        check_eq(dial_from(None), "orig", "outside the unit")
        os.makedirs(unit)
        check_eq(dial_from(unit), "proxy", "the unit, started after mutexd")
        for n in range(2):
            remove_cgroup(unit)
            os.makedirs(unit)
            check_eq(dial_from(unit), "proxy", f"the unit after restart {n + 1}")
        check_eq(dial_from(None), "orig", "outside the unit, still")
    finally:
        orig.close(), proxy.close()
        remove_cgroup(unit)


def _uplink_rule(env):
    return next(r for r in show(env, NS)["config"]["rule"] if r["name"] == "uplink-proxy")


def _make_uplink():
    """A veth from NS (UPLINK) to FAR; its index in NS."""
    run(["ip", "-n", NS, "link", "add", UPLINK, "type", "veth", "peer", "name", "far0",
         "netns", FAR], check_rc=0)
    run(["ip", "-n", NS, "addr", "add", UPLINK_NET, "dev", UPLINK], check_rc=0)
    run(["ip", "-n", FAR, "addr", "add", f"{UPLINK_DST}/24", "dev", "far0"], check_rc=0)
    run(["ip", "-n", NS, "link", "set", UPLINK, "up"], check_rc=0)
    run(["ip", "-n", FAR, "link", "set", "far0", "up"], check_rc=0)
    link = json.loads(run(["ip", "-j", "-n", NS, "link", "show", UPLINK], check_rc=0).out)
    return link[0]["ifindex"]


def test_md_interface_follows_its_name(env):
    """A rule's out_interface names md-up0, which did not exist when mutexd started (the rule
    matched nothing). Created, renamed away, removed and created again: each time the kernel's
    rule gets the index the name has now, and a dial out of the uplink reaches the local proxy
    exactly while an interface of that name carries it."""
    check_eq(_uplink_rule(env)["out_interface"], "4294967295", "the rule of a missing interface")
    run(["ip", "netns", "add", FAR], check_rc=0)
    orig = listener(FAR, UPLINK_DST, UPLINK_PORT)
    proxy = listener(NS, "127.0.0.1", UPLINK_PROXY)
    where = ["proxy", "orig"]

    def dial_out():
        c = dial(NS, UPLINK_DST, UPLINK_PORT)
        i, s = accept_one([proxy, orig])
        check(i is not None, "the dial reached neither the proxy nor the far end")
        exchange(c, s, b"uplink")
        c.close(), s.close()
        return where[i]

    try:
        generation = show(env, NS)["generation"]
        at = mark()
        first = _make_uplink()
        wait_log(f"interface {UPLINK}: none -> {first}", at)
        wait_log(f"interfaces changed: applied generation {generation + 1}", at)
        check_eq(_uplink_rule(env)["out_interface"], UPLINK, "the rule names the new interface")
        check_eq(dial_out(), "proxy", "out of the new md-up0")

        at = mark()
        run(["ip", "-n", NS, "link", "set", UPLINK, "down"], check_rc=0)
        run(["ip", "-n", NS, "link", "set", UPLINK, "name", "md-old"], check_rc=0)
        run(["ip", "-n", NS, "link", "set", "md-old", "up"], check_rc=0)
        wait_log(f"interface {UPLINK}: {first} -> none", at)
        wait_log(f"interfaces changed: applied generation {generation + 2}", at)
        check_eq(_uplink_rule(env)["out_interface"], "4294967295", "the rule after the rename")
        check_eq(dial_out(), "orig", "out of the renamed interface: not steered")

        run(["ip", "-n", NS, "link", "del", "md-old"], check_rc=0)
        at = mark()
        second = _make_uplink()
        check(second != first, f"the new md-up0 has the old index {first}")
        wait_log(f"interface {UPLINK}: none -> {second}", at)
        wait_log(f"interfaces changed: applied generation {generation + 3}", at)
        check_eq(show(env, NS)["generation"], generation + 3,
                 "one push per change of index (the removal of md-old changed none)")
        check_eq(dial_out(), "proxy", "out of md-up0 created again")
    finally:
        orig.close(), proxy.close()


def test_md_reload(env):
    """SIGHUP with a bad file: FILE:LINE:COLUMN in the log, the generation stays. An editor's
    rename of a good, different file: reloaded without a signal, one generation more."""
    generation = show(env, NS)["generation"]
    at = mark()
    write_config(GOOD.replace("fall = 2", 'fall = "two"', 1))
    _daemon[0].signal(signal.SIGHUP)
    wait_log("refused: the running configuration", at)
    check(f"{CONFIG}:" in log_text()[at:], f"no FILE:LINE:COLUMN in the log: {log_text()[at:]}")
    check_eq(show(env, NS)["generation"], generation, "generation after a refused reload")
    at = mark()
    write_config(GOOD.replace(f'port = {TCP_PORT}\n  check_port', f'port = {TCP_PORT}\n  weight = 2\n  check_port', 1),
                 rename=True)
    wait_log(f"reloaded: applied generation {generation + 1}", at)
    check_eq(show(env, NS)["generation"], generation + 1, "generation after a good reload")
    at = mark()
    write_config(GOOD, rename=True)
    wait_log(f"reloaded: applied generation {generation + 2}", at)


def test_md_restart_takes_over(env):
    """kill -9, then a new mutexd with the same file: the kernel kept steering meanwhile, the new
    one takes its configuration over (no SET_CONFIG: the generation stays) and a long-lived TCP
    connection and a UDP flow carry on."""
    generation = show(env, NS)["generation"]
    c = dial(NS, DST, TCP_PORT)
    i, s = accept_one([r.tcp for r in _relays])
    check(i is not None, "long-lived connection reached no relay")
    u = udp_client()
    try:
        exchange(c, s, b"before")
        u.sendto(b"u1", (DST, UDP_PORT))
        j, data = udp_arrived()
        check_eq(data, b"u1", "UDP before")
        _daemon[0].kill9()
        exchange(c, s, b"no daemon")
        at = mark()
        _daemon[0] = Daemon(env)
        wait_log("taken over, nothing replaced", at)
        wait_log("ready:", at)
        check_eq(show(env, NS)["generation"], generation, "generation after the takeover")
        exchange(c, s, b"after")
        u.sendto(b"u2", (DST, UDP_PORT))
        check_eq(udp_arrived(), (j, b"u2"), "the UDP flow stays on its relay")
    finally:
        c.close(), s.close(), u.close()


METRICS = ("127.0.0.1", 9477)  # [metrics] of GOOD: the default listen address
_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def scrape_text():
    """GET /metrics from mutexd, in its namespace: (status, content type, body)."""
    with netns(NS):
        conn = http.client.HTTPConnection(*METRICS, timeout=PATIENCE)
        conn.connect()  # the socket is made here, in the namespace
    try:
        conn.request("GET", "/metrics")
        r = conn.getresponse()
        return r.status, r.getheader("Content-Type"), r.read().decode()
    finally:
        conn.close()


def parse_metrics(text):
    """{(name, frozenset of (label, value)): float} of every sample."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        check(m is not None, f"not a sample line: {line!r}")
        labels = frozenset(_LABEL.findall(m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def metric(samples, name, **labels):
    key = (name, frozenset(labels.items()))
    check(key in samples, f"no sample {name}{labels}")
    return samples[key]


def promtool_check(text):
    """`promtool check metrics` on a scrape: its format and Prometheus' naming conventions."""
    path = f"{WORK}/scrape.txt"
    with open(path, "w") as f:
        f.write(text)
    with open(path) as f:
        r = subprocess.run(["promtool", "check", "metrics"], stdin=f, capture_output=True,
                           text=True, timeout=PATIENCE)
    check_eq(r.returncode, 0, f"promtool check metrics: {r.stdout}{r.stderr}")


class Traffic:
    """TCP connections through tcp-relays (a message each way) and UDP datagrams through
    udp-relays, in a loop on a thread until the with block ends; the relays' UDP queues are
    drained afterwards."""

    def __enter__(self):
        self.stop, self.rounds = threading.Event(), 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def _run(self):
        u = udp_client()
        try:
            while not self.stop.is_set():
                socks = [dial(NS, DST, TCP_PORT)]
                i, s = accept_one([r.tcp for r in _relays])
                if s is not None:
                    socks.append(s)
                    exchange(socks[0], s, b"metrics")
                u.sendto(b"m" * 100, (DST, UDP_PORT))
                for x in socks:
                    x.close()
                self.rounds += 1
        finally:
            u.close()

    def wait_rounds(self, n):
        t0 = time.monotonic()
        while self.rounds < n and time.monotonic() - t0 < PATIENCE:
            time.sleep(0.02)
        check(self.rounds >= n, f"traffic made {self.rounds} rounds, not {n}")

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(PATIENCE)
        while udp_arrived(0.2)[0] is not None:
            pass


def test_md_metrics_match_the_kernel(env):
    """/metrics under traffic passes `promtool check metrics`; read between two `mutexctl`
    reads with the traffic stopped, every kernel counter lies between them (equal where they
    agree: steered traffic, backends, rules), and the daemon's own families count what it
    did (a refused reload, the health checks and their histogram)."""
    at = mark()
    write_config(GOOD.replace("fall = 2", 'fall = "two"', 1))
    _daemon[0].signal(signal.SIGHUP)
    wait_log("refused: the running configuration", at)
    write_config(GOOD)
    with Traffic() as traffic:
        traffic.wait_rounds(20)
        status, ctype, text = scrape_text()
        check_eq(status, 200, "scrape status")
        check(ctype.startswith("text/plain; version=0.0.4"), f"content type {ctype!r}")
        promtool_check(text)
    before_stats = env.mutexctl("-j", "stats", netns=NS).json()
    before = show(env, NS)
    t = time.monotonic()
    _, _, text = scrape_text()
    took = time.monotonic() - t
    after_stats = env.mutexctl("-j", "stats", netns=NS).json()
    after = show(env, NS)
    print(f"scrape of {len(text)} bytes in {took * 1000:.1f} ms")
    m = parse_metrics(text)
    check_eq(metric(m, "mutex_proxy_kernel_up"), 1.0, "kernel_up")

    def between(name, b, a, **labels):
        v = metric(m, name, **labels)
        check(b <= v <= a, f"{name}{labels} = {v}, mutexctl read {b} before and {a} after")

    names = {"pkts_seen": "packets_seen", "pkts_steered": "packets_steered",
             "bytes_steered": "steered_bytes", "flows_new": "flows_new",
             "cache_hits": "cache_hits", "cache_misses": "cache_misses",
             "table_inserts": "table_inserts", "table_evictions": "table_evictions",
             "table_full": "table_full", "alloc_fails": "alloc_failures",
             "batch_flushes": "batch_flushes", "events_sent": "events_sent",
             "events_lost": "events_lost", "flows_adopted": "flows_adopted"}
    bs, as_ = before_stats, after_stats
    for key, name in names.items():
        between(f"mutex_proxy_{name}_total", bs[key], as_[key])
    between("mutex_proxy_table_flows", min(bs["flow_count"], as_["flow_count"]),
            max(bs["flow_count"], as_["flow_count"]))
    for outcome in ("steered", "bypassed", "dropped"):
        between("mutex_proxy_flows_total", bs[f"flows_{outcome}"], as_[f"flows_{outcome}"],
                outcome=outcome)
    check(bs["pkts_steered"] > 0 and bs["pkts_steered"] == as_["pkts_steered"],
          f"steered packets moved without traffic: {bs['pkts_steered']} -> {as_['pkts_steered']}")
    check_eq(metric(m, "mutex_proxy_config_generation"), before["generation"], "generation")
    check_eq(after["generation"], before["generation"], "generation during the scrape")
    moved = 0
    for b, a in zip(before["backends"], after["backends"]):
        labels = {"pool": b["pool"], "backend": f"{b['address']}:{b['port']}"}
        # a gauge: flows of the traffic still expire (closed TCP connections leave conntrack)
        between("mutex_proxy_backend_active_flows", min(b["active_flows"], a["active_flows"]),
                max(b["active_flows"], a["active_flows"]), **labels)
        check_eq(metric(m, "mutex_proxy_backend_flows_total", **labels), b["total_flows"],
                 f"flows of {labels}")
        for direction, pkts, byts in (
                ("to_backend", b["pkts"] - b["pkts_reply"], b["bytes"] - b["bytes_reply"]),
                ("from_backend", b["pkts_reply"], b["bytes_reply"])):
            check_eq(metric(m, "mutex_proxy_backend_packets_total", direction=direction,
                            **labels), pkts, f"packets {direction} of {labels}")
            check_eq(metric(m, "mutex_proxy_backend_bytes_total", direction=direction,
                            **labels), byts, f"bytes {direction} of {labels}")
        moved += b["total_flows"]
        check_eq(metric(m, "mutex_proxy_backend_state", state=b["state"], **labels), 1.0,
                 f"state of {labels}")
        check_eq(metric(m, "mutex_proxy_backend_healthy", **labels),
                 1.0 if b["state"] == "up" else 0.0, f"health of {labels}")
        checks = sum(metric(m, "mutex_proxy_backend_checks_total", result=r, **labels)
                     for r in ("ok", "failed"))
        check(checks > 0, f"no health checks counted for {labels}")
        latency = metric(m, "mutex_proxy_backend_check_latency_seconds", **labels)
        check(0 <= latency < 1, f"check latency of {labels}: {latency}")
    check(moved > 0, "no flow steered to any backend")
    for r in before["rules"]:
        check_eq(metric(m, "mutex_proxy_rule_matches_total", rule=r["name"]), r["matches"],
                 f"matches of rule {r['name']}")
    check(metric(m, "mutex_proxy_rule_matches_total", rule="p2p-tcp") >= 20,
          "p2p-tcp counted the traffic's connections")
    for pool in ("tcp-relays", "udp-relays"):
        count = metric(m, "mutex_proxy_health_check_duration_seconds_count", pool=pool)
        inf = metric(m, "mutex_proxy_health_check_duration_seconds_bucket", pool=pool, le="+Inf")
        checks = sum(v for (n, ls), v in m.items() if n == "mutex_proxy_backend_checks_total"
                     and ("pool", pool) in ls)
        check(count > 0 and count == inf, f"{pool}: histogram count {count}, +Inf {inf}")
        # the histogram and the counters are read in one scrape: equal
        check_eq(count, checks, f"{pool}: checks in the histogram and in the counters")
    check_eq(metric(m, "mutex_proxy_config_reloads_total", result="failed"), 1.0,
             "refused reloads since the restart")
    check_eq(metric(m, "mutex_proxy_param_perf_cache_size"),
             float(env.mutexctl("-j", "params", netns=NS).json()["perf_cache_size"]),
             "perf_cache_size")
    with netns(NS):
        conn = http.client.HTTPConnection(*METRICS, timeout=PATIENCE)
        conn.connect()
    try:
        conn.request("GET", "/nope")
        check_eq(conn.getresponse().status, 404, "status of an unknown path")
    finally:
        conn.close()


DASHBOARD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "daemon",
                         "metrics", "grafana-dashboard.json")
PROMETHEUS = ("127.0.0.1", 9090)


def prometheus_query(expr):
    """The result list of an instant query through Prometheus' HTTP API (in NS)."""
    with netns(NS):
        conn = http.client.HTTPConnection(*PROMETHEUS, timeout=PATIENCE)
        conn.connect()
    try:
        conn.request("GET", "/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
        r = conn.getresponse()
        body = r.read()
    finally:
        conn.close()
    # 503 while the server starts: not JSON
    check_eq(r.status, 200, f"query {expr!r}: {body[:200]!r}")
    doc = json.loads(body)
    check_eq(doc.get("status"), "success", f"query {expr!r}: {doc}")
    return doc["data"]["result"]


def test_md_dashboard_queries_answered(env):
    """A real Prometheus server scrapes mutexd every second under traffic, and every query of
    every panel of the shipped Grafana dashboard returns data through its HTTP API."""
    with open(DASHBOARD) as f:
        dashboard = json.load(f)
    queries = [(p["title"], t["expr"]) for p in dashboard["panels"] for t in p["targets"]]
    check(len(queries) >= 10, f"the dashboard has {len(queries)} queries")
    cfg = f"{WORK}/prometheus.yml"
    with open(cfg, "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                "scrape_configs:\n  - job_name: mutexd\n    static_configs:\n"
                f"      - targets: ['{METRICS[0]}:{METRICS[1]}']\n")
    # A parameter moved out of the [tuning] bounds is brought back: a tuning action to chart.
    at = mark()
    env.mutexctl("params", "set", "perf_cache_size", "1024", netns=NS)
    wait_log("tuning: perf_cache_size 1024 -> 512 (outside_bounds)", at)
    plog = open(f"{WORK}/prometheus.log", "wb")
    prom = subprocess.Popen(
        ["ip", "netns", "exec", NS, "prometheus", f"--config.file={cfg}",
         f"--storage.tsdb.path={WORK}/prometheus-data",
         f"--web.listen-address={PROMETHEUS[0]}:{PROMETHEUS[1]}"],
        stdout=plog, stderr=subprocess.STDOUT)
    try:
        with Traffic() as traffic:
            traffic.wait_rounds(5)
            t0 = time.monotonic()
            samples = []
            while time.monotonic() - t0 < 4 * PATIENCE:
                try:
                    samples = prometheus_query('count_over_time(mutex_proxy_kernel_up[1m])')
                except (OSError, Failure):
                    samples = []
                if samples and float(samples[0]["value"][1]) >= 5:
                    break
                time.sleep(0.5)
            check(samples and float(samples[0]["value"][1]) >= 5,
                  f"Prometheus took no 5 scrapes of mutexd in {4 * PATIENCE} s: {samples}")
            check_eq(prometheus_query('up{job="mutexd"}')[0]["value"][1], "1", "target up")
            print(f"Prometheus scraping after {time.monotonic() - t0:.1f} s")
            empty = []
            for title, expr in queries:
                q = expr.replace("$__rate_interval", "30s")
                result = prometheus_query(q)
                if not result:
                    empty.append(f"{title}: {q}")
            check(not empty, "panels without data:\n" + "\n".join(empty))
    finally:
        prom.terminate()
        prom.wait(PATIENCE)
        plog.close()


def tmux(*args, check_rc=0):
    return run(["tmux", "-L", "mutexctl-top", *args], check_rc=check_rc)


def test_md_top_under_tmux(env):
    """`mutexctl top` as a person uses it: in an 80x30 terminal (tmux) under traffic it shows
    the backends with their traffic and the rules, refreshes, and q ends it; `-j top --count 2`
    prints two JSON lines with the traffic's rates."""
    os.environ.setdefault("TERM", "xterm-256color")
    with Traffic() as traffic:
        traffic.wait_rounds(5)
        tmux("new-session", "-d", "-s", "top", "-x", "80", "-y", "30",
             f"ip netns exec {NS} {env.mutexctl_path} top")
        try:
            t0, screen = time.monotonic(), ""
            while time.monotonic() - t0 < 2 * PATIENCE:
                screen = tmux("capture-pane", "-p", "-t", "top").out
                rows = [line.split() for line in screen.splitlines()
                        if line.startswith("tcp-relays")]
                # POOL BACKEND STATE FLOWS PKT/s> PKT/s< B/s> B/s<
                if len(rows) == 2 and any(r[4] != "0" for r in rows) and "p2p-tcp" in screen:
                    break
                time.sleep(0.2)
            else:
                raise AssertionError(f"no screen with the traffic within {2 * PATIENCE} s:\n"
                                     f"{screen}")
            print(screen)
            check("cache hit" in screen and "generation" in screen, "the header")
            check(all(len(line) <= 80 for line in screen.splitlines()), "wider than 80 columns")
            first = screen
            t0 = time.monotonic()
            while tmux("capture-pane", "-p", "-t", "top").out == first:
                check(time.monotonic() - t0 < PATIENCE, "the screen was not refreshed")
                time.sleep(0.1)
            tmux("send-keys", "-t", "top", "q")
            t0 = time.monotonic()
            while tmux("has-session", "-t", "top", check_rc=None).rc == 0:
                check(time.monotonic() - t0 < PATIENCE, "q did not end mutexctl top")
                time.sleep(0.1)
            print(f"q ended it in {time.monotonic() - t0:.1f} s")
        finally:
            tmux("kill-server", check_rc=None)
        lines = env.mutexctl("-j", "top", "--count", "2", netns=NS).out.splitlines()
    check_eq(len(lines), 2, "JSON lines of top --count 2")
    doc = json.loads(lines[-1])
    check(doc["pkts_per_s"] > 0 and any(b["pkts_per_s_to"] > 0 for b in doc["backends"]),
          f"no traffic in top's JSON: {doc}")
    check(0.5 < doc["interval_s"] < 5 * TIME_SCALE, f"interval {doc['interval_s']}")


def test_md_event_overrun_resyncs(env):
    """mutexd follows the module's events. With a tiny event socket buffer and mutexd stopped
    (SIGSTOP), backend changes and a configuration replaced behind its back overrun the socket;
    once it runs again it says so, reads the kernel again, finds the replacement and puts the
    file's configuration back; the metrics count the resync and agree with the kernel."""
    at = mark()
    _daemon[0].signal(signal.SIGTERM)
    check_eq(_daemon[0].wait(), 0, "mutexd's exit status")
    _daemon[0] = Daemon(env, "--event-buffer", "1024")
    wait_log("taken over, nothing replaced", at)
    wait_log("ready:", at)
    generation = show(env, NS)["generation"]
    lost = env.stats(netns=NS)["events_lost"]
    other = f"{WORK}/other.toml"
    with open(other, "w") as f:
        f.write(GOOD.replace(f'port = {TCP_PORT}\n  check_port',
                             f'port = {TCP_PORT}\n  weight = 5\n  check_port', 1))
    _daemon[0].signal(signal.SIGSTOP)
    try:
        # backend changes until the kernel drops one for mutexd's full socket
        changes = 0
        while env.stats(netns=NS)["events_lost"] == lost:
            check(changes < 60, f"no event lost after {changes} backend changes")
            env.mutexctl("backend", "tcp-relays", f"{RELAYS[1]}:{TCP_PORT}", "weight",
                         str(2 + changes % 2), netns=NS)
            changes += 1
        env.mutexctl("backend", "tcp-relays", f"{RELAYS[1]}:{TCP_PORT}", "weight", "1",
                     netns=NS)
        print(f"an event was lost after {changes} backend changes")
        env.mutexctl("config", "apply", other, netns=NS)
        check_eq(show(env, NS)["generation"], generation + 1, "generation after the apply")
    finally:
        _daemon[0].signal(signal.SIGCONT)
    wait_log("events: the socket overran", at)
    wait_log(f"replaced behind mutexd: applied generation {generation + 2}", at)
    snapshot = show(env, NS)
    check_eq(snapshot["generation"], generation + 2, "generation after the resync")
    weights = [b.get("weight", 1) for b in snapshot["config"]["pool"][0]["backend"]]
    check_eq(weights, [1, 1], "the file's weights are back")
    m = parse_metrics(scrape_text()[2])
    check_eq(metric(m, "mutex_proxy_event_resyncs_total"), 1.0, "resyncs counted")
    check_eq(metric(m, "mutex_proxy_daemon_generation"), float(generation + 2),
             "mutexd's generation in the metrics")
    check_eq(metric(m, "mutex_proxy_config_generation"), float(generation + 2),
             "the kernel's generation in the metrics")


def test_md_stop_keeps_steering(env):
    """SIGTERM: mutexd exits 0 and the kernel keeps the configuration and steers."""
    generation = show(env, NS)["generation"]
    at = mark()
    _daemon[0].signal(signal.SIGTERM)
    check_eq(_daemon[0].wait(), 0, "mutexd's exit status")
    check(f"the kernel keeps steering with generation {generation}" in log_text()[at:],
          f"stop message: {log_text()[at:]}")
    check_eq(show(env, NS)["generation"], generation, "generation after the stop")
    check(where(1)[0] in (0, 1), "steered after the daemon stopped")


def test_md_flush_on_exit(env):
    """[daemon] flush_on_exit = true: a clean stop empties the kernel's configuration, and the
    original destination is dialled directly again."""
    write_config(GOOD.replace('log_level = "info"', 'log_level = "info"\nflush_on_exit = true', 1))
    generation = show(env, NS)["generation"]
    at = mark()
    _daemon[0] = Daemon(env)
    wait_log("taken over, nothing replaced", at)  # daemon settings are not the kernel's
    wait_log("ready:", at)
    _daemon[0].signal(signal.SIGTERM)
    check_eq(_daemon[0].wait(), 0, "mutexd's exit status")
    check(f"flush_on_exit: the configuration is emptied (generation {generation + 1})" in
          log_text()[at:], f"stop message: {log_text()[at:]}")
    snapshot = show(env, NS)
    check_eq((snapshot["generation"], snapshot["config"].get("rule", []),
              snapshot["config"].get("pool", [])), (generation + 1, [], []),
             "the kernel's configuration after the stop")
    orig = listener(NS, DST, TCP_PORT)
    try:
        c = dial(NS, DST, TCP_PORT)
        i, s = accept_one([orig] + [r.tcp for r in _relays])
        check_eq(i, 0, "the connection reaches the original destination")
        c.close(), s.close()
    finally:
        orig.close()
    write_config(GOOD)


def test_md_unload(env):
    for d in _daemon:
        if d.proc.poll() is None:
            d.kill9()
    for r in _relays:
        r.down()
    _relays.clear()
    run(["ip", "netns", "del", NS])
    run(["ip", "netns", "del", FAR])
    env.unload()
    check(not env.loaded(), "module still loaded after rmmod")
