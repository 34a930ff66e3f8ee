# SPDX-License-Identifier: GPL-2.0
"""VM test of `mutexctl upgrade`: the module is replaced while four steered flows (TCP and UDP,
through a DNAT pool and through a redirect) keep exchanging data, and the new module adopts them.

Traffic is local (LOCAL_OUT over loopback, as test_steering_nat.py's): the clients talk to
192.0.2.1 (DNAT to pools of 127.0.0.1 listeners) and 192.0.2.2 (redirect to local ports); one
thread plays ping-pong on every flow from the first case to the last and records every failure.
The module put in is, on the stock lanes, the one DKMS built and installed on the host (another
build of the same source, signed, xz-compressed on 6.12: what a package upgrade brings); on the
debug lane the lane's own file loaded again. What is tested is the swap (pin, unload, load,
re-apply, adopt, unpin).
Cases run in name order: a_ sets up, z_ tears down (and leaves the module unloaded).
"""
import os
import socket
import threading
import time

from guest import PATIENCE, check, check_eq, run

CONF = "/tmp/upgrade.toml"
PIN = ["nft", "list", "table", "inet", "mutex_proxy_upgrade"]


class Flows:
    """The four flows and the thread that keeps them talking."""

    def __init__(self):
        self.servers = {}  # name -> listening TCP socket or bound UDP socket
        self.pairs = {}  # name -> (client, server side) sockets
        self.rounds = 0
        self.errors = []
        self.stop = threading.Event()
        self.thread = None

    def serve(self):
        for name, kind in (("tcp-dnat", socket.SOCK_STREAM), ("udp-dnat", socket.SOCK_DGRAM),
                           ("tcp-redirect", socket.SOCK_STREAM),
                           ("udp-redirect", socket.SOCK_DGRAM)):
            s = socket.socket(socket.AF_INET, kind)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1" if name.endswith("dnat") else "0.0.0.0", 0))
            if kind == socket.SOCK_STREAM:
                s.listen(8)
            s.settimeout(PATIENCE)
            self.servers[name] = s

    def port(self, name):
        return self.servers[name].getsockname()[1]

    def open(self):
        for name, (addr, port) in (("tcp-dnat", ("192.0.2.1", 26656)),
                                   ("udp-dnat", ("192.0.2.1", 30303)),
                                   ("tcp-redirect", ("192.0.2.2", 7777)),
                                   ("udp-redirect", ("192.0.2.2", 7778))):
            srv = self.servers[name]
            c = socket.socket(socket.AF_INET, srv.type)
            c.settimeout(PATIENCE)
            c.connect((addr, port))
            if srv.type == socket.SOCK_STREAM:
                side, _ = srv.accept()
                side.settimeout(PATIENCE)
            else:
                side = srv
            self.pairs[name] = (c, side)
        self.round()

    def round(self):
        for name, (c, side) in self.pairs.items():
            try:
                self.exchange(name, c, side)
            except OSError as e:
                ct = run(["conntrack", "-L", "-o", "labels"]).out
                raise AssertionError(f"{name}: {e!r}; conntrack:\n{ct}") from e
        self.rounds += 1

    def exchange(self, name, c, side):
        data = f"{name} {self.rounds}".encode()
        c.send(data)
        if side.type == socket.SOCK_STREAM:
            got = side.recv(len(data))
            side.sendall(got)
        else:
            got, peer = side.recvfrom(256)
            side.sendto(got, peer)
        check_eq(got, data, f"{name}: what the server side received")
        back = c.recv(len(data))
        check_eq(back, data, f"{name}: what came back")

    def start(self):
        def loop():
            while not self.stop.is_set():
                try:
                    self.round()
                except Exception as e:  # noqa: BLE001 -- every failure is the test's finding
                    self.errors.append(f"round {self.rounds}: {e!r}")
                    return
                time.sleep(0.02)
        self.thread = threading.Thread(target=loop, daemon=True)
        self.thread.start()

    def wait_rounds(self, n):
        """Waits until n more rounds are done (or the loop failed)."""
        want = self.rounds + n
        end = time.monotonic() + PATIENCE
        while self.rounds < want and not self.errors and time.monotonic() < end:
            time.sleep(0.02)
        check(not self.errors, f"the flows stopped talking: {self.errors}")
        check(self.rounds >= want, f"{n} more rounds within {PATIENCE:.0f} s: at {self.rounds}")

    def close(self):
        self.stop.set()
        if self.thread:
            self.thread.join(PATIENCE)
        for c, side in self.pairs.values():
            c.close()
            if side.type == socket.SOCK_STREAM:
                side.close()
        for s in self.servers.values():
            s.close()


FLOWS = Flows()


def config_text():
    return f"""
[[pool]]
name = "tcp-relays"
  [[pool.backend]]
  address = "127.0.0.1"
  port = {FLOWS.port("tcp-dnat")}

[[pool]]
name = "udp-relays"
  [[pool.backend]]
  address = "127.0.0.1"
  port = {FLOWS.port("udp-dnat")}

[[rule]]
name = "tcp-dnat"
protocol = "tcp"
destination = "192.0.2.1"
destination_ports = "26656"
action = "dnat"
pool = "tcp-relays"

[[rule]]
name = "udp-dnat"
protocol = "udp"
destination = "192.0.2.1"
destination_ports = "30303"
action = "dnat"
pool = "udp-relays"

[[rule]]
name = "tcp-redirect"
protocol = "tcp"
destination = "192.0.2.2"
destination_ports = "7777"
action = "redirect"
to_port = {FLOWS.port("tcp-redirect")}

[[rule]]
name = "udp-redirect"
protocol = "udp"
destination = "192.0.2.2"
destination_ports = "7778"
action = "redirect"
to_port = {FLOWS.port("udp-redirect")}
"""


def ours(flows):
    """The test's four flows among `mutexctl -j flows`, by original destination. Earlier test
    files leave steered connections to the same destinations (closed ones linger in conntrack,
    and the upgrade adopts those too): the clients' source ports tell the test's own."""
    dests = {"tcp-dnat": ("tcp", "192.0.2.1", 26656), "udp-dnat": ("udp", "192.0.2.1", 30303),
             "tcp-redirect": ("tcp", "192.0.2.2", 7777), "udp-redirect": ("udp", "192.0.2.2", 7778)}
    want = {(*dests[name], c.getsockname()[1]) for name, (c, _) in FLOWS.pairs.items()}
    return {(f["protocol"], f["orig_dst_addr"], f["orig_dst_port"]): f for f in flows
            if (f["protocol"], f["orig_dst_addr"], f["orig_dst_port"], f["src_port"]) in want}


def active(env):
    doc = env.mutexctl("-j", "config", "show").json()
    return {b["pool"]: b["active_flows"] for b in doc["backends"]}


def new_module(env):
    """The module put in: on the stock lanes the one DKMS built (another build of the source, as
    a package upgrade brings; compressed on 6.12), else the lane's own file again."""
    if env.dkms:
        kos = [f for f in os.listdir(env.dkms) if f.startswith("mutex_proxy.ko")]
        if len(kos) == 1:
            return os.path.join(env.dkms, kos[0])
    return f"{env.moddir}/mutex_proxy.ko"


def test_upgrade_a_steered_flows(env):
    if not env.loaded():
        env.load()
    # With a source address: a link-scope route over lo picks none (0.0.0.0) otherwise.
    run(["ip", "route", "replace", "192.0.2.0/24", "dev", "lo", "src", "127.0.0.1"], check_rc=0)
    FLOWS.serve()
    with open(CONF, "w") as f:
        f.write(config_text())
    env.mutexctl("config", "apply", CONF)
    env.mutexctl("params", "set", "perf_cache_size", "2048")  # not the default: must survive
    FLOWS.open()
    check_eq(len(ours(env.mutexctl("-j", "flows").json())), 4, "the four flows in the table")
    FLOWS.start()
    FLOWS.wait_rounds(3)


def test_upgrade_b_keeps_established_flows(env):
    gen_before = env.mutexctl("-j", "config", "show").json()["generation"]
    FLOWS.wait_rounds(2)
    r = env.mutexctl("-j", "upgrade", "--module", new_module(env))
    doc = r.json()
    FLOWS.wait_rounds(5)  # the same sockets, after the swap
    check(env.loaded(), "the module is loaded after the upgrade")
    check_eq(doc["rules"], 4, "rules carried over")
    after = env.stats()
    check(after["flows_adopted"] >= 4, f"the four flows adopted: {after['flows_adopted']}")
    check_eq(doc["flows_adopted"], after["flows_adopted"], "upgrade reports what the module counted")
    flows = ours(env.mutexctl("-j", "flows").json())
    check_eq(sorted(flows), sorted([("tcp", "192.0.2.1", 26656), ("udp", "192.0.2.1", 30303),
                                    ("tcp", "192.0.2.2", 7777), ("udp", "192.0.2.2", 7778)]),
             "the adopted flows in the new module's table")
    check_eq(flows[("tcp", "192.0.2.1", 26656)]["dst_port"], FLOWS.port("tcp-dnat"),
             "the TCP flow is counted to its backend")
    FLOWS.wait_rounds(3)
    flows = ours(env.mutexctl("-j", "flows").json())
    for key, f in flows.items():
        check(f["pkts_orig"] > 0 and f["pkts_reply"] > 0, f"{key}: counted since adopted: {f}")
    check_eq(active(env), {"tcp-relays": 1, "udp-relays": 1}, "backends' active flows")
    check_eq(env.sysfs_read("perf_cache_size"), "2048", "parameters carried over")
    check(run(PIN).rc != 0, "the pin table is gone")
    cfg = env.mutexctl("-j", "config", "show").json()
    check_eq(cfg["generation"], 1, "the configuration is the new module's first")
    check(gen_before >= 1, f"generation before: {gen_before}")


def test_upgrade_c_new_connections_follow_the_configuration(env):
    before = env.stats()["flows_steered"]
    srv = FLOWS.servers["tcp-dnat"]
    c = socket.create_connection(("192.0.2.1", 26656), timeout=PATIENCE)
    side, _ = srv.accept()
    c.sendall(b"new")
    check_eq(side.recv(3), b"new", "a new connection reaches the DNAT pool's backend")
    side.close(), c.close()
    check_eq(env.stats()["flows_steered"], before + 1, "steered by the new module")
    FLOWS.wait_rounds(2)


def test_upgrade_d_failed_load_keeps_the_pin(env):
    """A module that cannot be loaded: the old one is gone, the pin keeps every flow's NAT."""
    r = env.mutexctl("upgrade", "--module", "/nonexistent/mutex_proxy.ko", check_rc=1)
    check("loading the new module" in r.err and "nft delete table inet mutex_proxy_upgrade"
          in r.err, f"says what happened and what is left: {r.err}")
    check(not env.loaded(), "the module stays unloaded")
    check_eq(run(PIN).rc, 0, "the pin table stays")
    FLOWS.wait_rounds(5)  # no module at all: conntrack and NAT alone carry the flows
    # What the error says to do, done: load, configure (adopts the flows), unpin.
    env.load(keep_conntrack=True)
    env.mutexctl("config", "apply", CONF)
    run(["nft", "delete", "table", "inet", "mutex_proxy_upgrade"], check_rc=0)
    check(env.stats()["flows_adopted"] >= 4, "adopted by the configuration of the reload")
    FLOWS.wait_rounds(3)


def test_upgrade_z_teardown(env):
    FLOWS.close()
    check(not FLOWS.errors, f"the flows kept talking to the end: {FLOWS.errors}")
    print(f"upgrade: {FLOWS.rounds} rounds of four flows")
    env.mutexctl("config", "apply", "/dev/null")  # the empty configuration
    run(["ip", "route", "del", "192.0.2.0/24", "dev", "lo"])
    os.unlink(CONF)
    env.unload()
    check(not env.loaded(), "module still loaded after rmmod")
    # Without a module there is nothing to upgrade, and nothing is touched.
    r = env.mutexctl("upgrade", check_rc=1)
    check("not loaded: nothing to upgrade" in r.err, r.err)
    check(run(PIN).rc != 0, "no pin left behind")
