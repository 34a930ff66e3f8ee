#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""In-guest half of the mutex_proxy benchmark (tests/bench/run.sh boots the VM
and runs this as root inside it; see tests/bench/README.md).

Two network namespaces joined by a veth pair:
    bc (client) 10.99.0.1/24 --vc==vs-- 10.99.0.2/24 (server) bs
with 198.51.100.0/24 (TEST-NET-2, nobody) routed from bc to bs: the
steering rules DNAT connections to 198.51.100.1 to the server 10.99.0.2.
Both namespaces hold an nftables table with empty nat chains on every hook,
so conntrack and NAT are active in every variant, module loaded or not.

Sections (each variant: warm-up run(s) discarded, then REPS runs, variants
interleaved, medians reported; all times are guest time, which under
qemu -icount follows executed instructions):
  A  TCP throughput (iperf3), not steered: module unloaded vs loaded with
     1,000 non-matching rules
  B  new connections per second through a DNAT rule placed last: 10 rules
     vs 10,000 rules; module unloaded (direct) and an nftables DNAT rule
     as references
  C  steered TCP throughput (iperf3 through DNAT) with accounting on/off,
     cache off, batching off
  D  slab bytes per tracked flow with N steered connections open

Prints progress, lines "@@begin NAME" / "@@end NAME GUEST_SECONDS" for the
host to time sections, and the report between "@@report-begin" and
"@@report-end".
"""
import argparse
import json
import os
import re
import socket
import statistics
import struct
import subprocess
import sys
import time

SYSFS = "/sys/module/mutex_proxy/parameters"
CLIENT, SERVER = "bc", "bs"
CLIENT_IP, SERVER_IP, STEERED_IP = "10.99.0.1", "10.99.0.2", "198.51.100.1"
# Section E's pair: no nftables, no conntrack (a host that never had any).
BARE_CLIENT, BARE_SERVER = "ec", "es"
BARE_CLIENT_IP, BARE_SERVER_IP = "10.98.0.1", "10.98.0.2"
# Section F: someone else's DNAT (a Docker-published port) in the client namespace.
FOREIGN_IP = "198.51.100.2"
IPERF_PORT, RATE_PORT, HOLD_PORT = 5201, 7000, 7100

tsc = None  # tests/vm/test_steering_config.py, imported in main()
tsm = None  # tests/vm/test_steering_mutexctl.py (its netns()), imported in main()


def log(*a):
    print(*a, flush=True)


# Generous timeouts: under -icount with sleep=off the guest clock leaps forward whenever the CPU
# waits (for 9p reads of the host's files, say), so a wait of seconds of wall time can be minutes
# of guest time. vm-run.sh's --timeout bounds the wall time.
TIMEOUT = 3600


def run(argv, check=True, timeout=TIMEOUT, input=None):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, input=input)
    if check and p.returncode:
        raise RuntimeError(f"{' '.join(argv)}: exit {p.returncode}: {p.stderr.strip() or p.stdout.strip()}")
    return p


def ns(name, *argv, **kw):
    return run(["ip", "netns", "exec", name, *argv], **kw)


# ---- module, parameters, configuration --------------------------------------------------

class Module:
    def __init__(self, moddir):
        self.ko = os.path.join(moddir, "mutex_proxy.ko")
        deps = run(["modinfo", "-F", "depends", self.ko]).stdout.strip()
        for dep in filter(None, deps.split(",")):
            run(["modprobe", dep])

    @staticmethod
    def loaded():
        return os.path.exists("/sys/module/mutex_proxy")

    def load(self):
        if not self.loaded():
            run(["insmod", self.ko])

    def unload(self):
        if self.loaded():
            run(["rmmod", "mutex_proxy"])


def param_write(name, value):
    """True if written; False if the parameter does not exist or refused it."""
    try:
        with open(f"{SYSFS}/{name}", "w") as f:
            f.write(str(value))
        return True
    except OSError:
        return False


def param_read(name):
    try:
        with open(f"{SYSFS}/{name}") as f:
            return f.read().strip()
    except OSError:
        return None


def set_params(values):
    """Writes every parameter; returns the names that could not be written."""
    return [k for k, v in values.items() if not param_write(k, v)]


def apply_config(netns, items):
    with tsm.netns(netns):
        nl = tsc.NL()
    nl.big()
    gen, _ = tsc.get_config(nl)
    err, _, ext = tsc.set_config(nl, gen, *items)
    if err:
        raise RuntimeError(f"SET_CONFIG in {netns}: {os.strerror(err)}: {tsc.msg(ext)}")


def get_stats(netns):
    """The namespace's counters {attr number: value}, and the flow count (or None)."""
    with tsm.netns(netns):
        nl = tsc.NL()
    err, reply, _ = nl.cmd(2)  # MUTEX_CMD_GET_STATS
    if err:
        raise OSError(err, "GET_STATS")
    top = dict(tsc.attrs(reply))
    st = {t: int.from_bytes(v[:8], "little") for t, v in tsc.attrs(top.get(7, b""))}
    flows = int.from_bytes(top[12][:8], "little") if 12 in top else None  # MUTEX_A_FLOW_COUNT
    return st, flows


def u32be(ip):
    return int.from_bytes(socket.inet_aton(ip), "big")


def filler_rules(n):
    """n rules that match none of the benchmark's traffic, of the kinds the
    classifier indexes: TCP destination port + /32 (port index) and TCP
    destination prefixes of 17 lengths (prefix index, one binary search per
    length)."""
    out = []
    base = u32be("100.64.0.0")
    for i in range(n):
        if i % 2 == 0:
            addr = socket.inet_aton(f"10.200.{(i >> 8) & 255}.{i & 255}")
            port = 10000 + i // 2
            out.append(tsc.rule(
                tsc.u8(tsc.R_FAMILY, socket.AF_INET), tsc.attr(tsc.R_DST_ADDR, addr),
                tsc.u8(tsc.R_DST_PLEN, 32), tsc.u8(tsc.R_PROTO, socket.IPPROTO_TCP),
                tsc.u16(tsc.R_DPORT_MIN, port), tsc.u16(tsc.R_DPORT_MAX, port),
                tsc.u8(tsc.R_ACTION, tsc.ACT_REDIRECT), tsc.u16(tsc.R_TO_PORT, 9)))
        else:
            plen = 16 + (i // 2) % 17
            a = (base | ((i * 2654435761) & 0x3fffff)) & ((0xffffffff << (32 - plen)) & 0xffffffff)
            out.append(tsc.rule(
                tsc.u8(tsc.R_FAMILY, socket.AF_INET), tsc.attr(tsc.R_DST_ADDR, a.to_bytes(4, "big")),
                tsc.u8(tsc.R_DST_PLEN, plen), tsc.u8(tsc.R_PROTO, socket.IPPROTO_TCP),
                tsc.u8(tsc.R_ACTION, tsc.ACT_BYPASS)))
    return out


def steer_config(n_rules, port):
    """n_rules rules; the last one DNATs 198.51.100.0/24 TCP port `port` to
    the server (pool 0); the others match nothing."""
    last = tsc.rule(
        tsc.u8(tsc.R_FAMILY, socket.AF_INET), tsc.attr(tsc.R_DST_ADDR, socket.inet_aton("198.51.100.0")),
        tsc.u8(tsc.R_DST_PLEN, 24), tsc.u8(tsc.R_PROTO, socket.IPPROTO_TCP),
        tsc.u16(tsc.R_DPORT_MIN, port), tsc.u16(tsc.R_DPORT_MAX, port),
        tsc.u8(tsc.R_ACTION, tsc.ACT_DNAT), tsc.u32(tsc.R_POOL, 0))
    return [pool(port), *filler_rules(n_rules - 1), last]


def pool(port):
    return tsc.pool("bench", tsc.backend(port, socket.AF_INET, SERVER_IP))


# ---- network ---------------------------------------------------------------------------

# Nat chains alone do not turn conntrack on (nf_tables takes conntrack for the nat and ct
# expressions, not for the chains): each chain gets a NAT rule for an address nobody uses
# (TEST-NET-1), so conntrack and the NAT engine run for every packet in every variant. The nat
# chains see only a connection's first packet, so these rules cost nothing per packet.
NAT_TABLE = """
table ip bench {
    chain pre  { type nat hook prerouting  priority dstnat; policy accept;
                 ip daddr 192.0.2.254 tcp dport 9 dnat to 192.0.2.253:9; }
    chain out  { type nat hook output      priority -100;   policy accept;
                 ip daddr 192.0.2.254 tcp dport 9 dnat to 192.0.2.253:9; }
    chain in   { type nat hook input       priority 100;    policy accept;
                 ip saddr 192.0.2.254 tcp dport 9 snat to 192.0.2.253; }
    chain post { type nat hook postrouting priority srcnat; policy accept;
                 ip daddr 192.0.2.254 tcp dport 9 masquerade; }
}
"""


def conntrack_count(netns):
    return int(ns(netns, "cat", "/proc/sys/net/netfilter/nf_conntrack_count").stdout)


def setup_net():
    run(["modprobe", "nf_conntrack"])
    run(["modprobe", "veth"])
    # Section B opens hundreds of thousands of connections: room for their
    # conntrack entries (the default for 2 GB is about 16k).
    run(["sysctl", "-qw", "net.netfilter.nf_conntrack_max=1048576"])
    try:
        with open("/sys/module/nf_conntrack/parameters/hashsize", "w") as f:
            f.write("262144")
    except OSError:
        pass
    for n in (CLIENT, SERVER):
        run(["ip", "netns", "add", n])
        ns(n, "ip", "link", "set", "lo", "up")
        ns(n, "nft", "-f", "-", input=NAT_TABLE)
    run(["ip", "link", "add", "vc", "netns", CLIENT, "type", "veth", "peer", "vs", "netns", SERVER])
    ns(CLIENT, "ip", "addr", "add", f"{CLIENT_IP}/24", "dev", "vc")
    ns(SERVER, "ip", "addr", "add", f"{SERVER_IP}/24", "dev", "vs")
    ns(CLIENT, "ip", "link", "set", "vc", "up")
    ns(SERVER, "ip", "link", "set", "vs", "up")
    ns(CLIENT, "ip", "route", "add", "198.51.100.0/24", "via", SERVER_IP)
    ns(CLIENT, "sysctl", "-qw", "net.ipv4.ip_local_port_range=1024 65535")
    for n in (BARE_CLIENT, BARE_SERVER):
        run(["ip", "netns", "add", n])
        ns(n, "ip", "link", "set", "lo", "up")
    run(["ip", "link", "add", "vbc", "netns", BARE_CLIENT, "type", "veth", "peer", "vbs", "netns",
         BARE_SERVER])
    ns(BARE_CLIENT, "ip", "addr", "add", f"{BARE_CLIENT_IP}/24", "dev", "vbc")
    ns(BARE_SERVER, "ip", "addr", "add", f"{BARE_SERVER_IP}/24", "dev", "vbs")
    ns(BARE_CLIENT, "ip", "link", "set", "vbc", "up")
    ns(BARE_SERVER, "ip", "link", "set", "vbs", "up")


def start_servers(tool):
    procs = [
        subprocess.Popen(["ip", "netns", "exec", SERVER, "iperf3", "-s", "-p", str(IPERF_PORT)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen(["ip", "netns", "exec", BARE_SERVER, "iperf3", "-s", "-p", str(IPERF_PORT)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen(["ip", "netns", "exec", SERVER, tool, "serve", str(RATE_PORT)]),
        subprocess.Popen(["ip", "netns", "exec", SERVER, tool, "serve", str(HOLD_PORT), "hold"]),
    ]
    time.sleep(1)
    for p in procs:
        if p.poll() is not None:
            raise RuntimeError(f"server {p.args} exited with {p.returncode}")
    # Conntrack must be on in both namespaces before the module is ever loaded (it takes
    # conntrack too): a connection held open must have an entry on each side. (Not a closed
    # one: the guest clock leaps while waiting for 9p, so its entry may time out at once.)
    before = {n: conntrack_count(n) for n in (CLIENT, SERVER)}
    with Held(tool, SERVER_IP, HOLD_PORT, 1):
        after = {n: conntrack_count(n) for n in (CLIENT, SERVER)}
    for n in (CLIENT, SERVER):
        if after[n] <= before[n]:
            raise RuntimeError(f"conntrack is not active in namespace {n} without the module")
    return procs


class Held:
    """n connections from the client namespace, open inside the with block."""

    def __init__(self, tool, dst, port, n):
        self.argv = ["ip", "netns", "exec", CLIENT, tool, "hold", dst, str(port), str(n)]

    def __enter__(self):
        self.p = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.p.stdout.readline()
        if not line.startswith("ready"):
            self.__exit__()
            raise RuntimeError(f"connrate hold: {line!r}")
        return self

    def __exit__(self, *exc):
        self.p.stdin.close()
        self.p.wait()


def iperf(dst, secs, client=CLIENT, port=IPERF_PORT):
    """Gbit/s received, in guest time."""
    for attempt in range(3):
        p = ns(client, "iperf3", "-c", dst, "-p", str(port), "-t", str(secs), "-J",
               check=False)
        try:
            j = json.loads(p.stdout)
            return j["end"]["sum_received"]["bits_per_second"] / 1e9
        except (ValueError, KeyError):
            log(f"  iperf3 to {dst} failed (attempt {attempt + 1}): {p.stdout[-300:]} {p.stderr[-300:]}")
            time.sleep(1)
    raise RuntimeError(f"iperf3 to {dst} failed three times")


def conn_rate(tool, dst, port, secs, prefix=(), cgroup=None):
    """Connections per second from the client namespace; `prefix` runs the tool under
    another command (setpriv), `cgroup` in a cgroup (a path under /sys/fs/cgroup)."""
    argv = ["ip", "netns", "exec", CLIENT, *prefix, tool, "rate", dst, str(port), str(secs)]
    if cgroup:
        argv = ["sh", "-c", f'echo $$ >/sys/fs/cgroup/{cgroup}/cgroup.procs && exec "$@"', "sh", *argv]
    p = run(argv)
    m = re.match(r"conns (\d+) secs ([\d.]+) rate ([\d.]+) errors (\d+)", p.stdout)
    if not m:
        raise RuntimeError(f"connrate: {p.stdout!r} {p.stderr!r}")
    if int(m.group(4)):
        log(f"  note: {m.group(4)} failed connects to {dst}:{port}")
    return float(m.group(3))


# ---- measuring -----------------------------------------------------------------------------

def quiesce():
    """A clean start for a measurement: no conntrack entries left from earlier runs (they
    would time out in bursts, their garbage collection and the module's removal of their
    flows running in the middle of a measurement on the only CPU), then a short sleep for
    deferred work to finish. Sleeping costs almost no wall time: with -icount sleep=off the
    guest clock leaps over idle time."""
    for n in (CLIENT, SERVER, BARE_CLIENT, BARE_SERVER):
        ns(n, "conntrack", "-F", check=False)
    time.sleep(2)


class Variant:
    def __init__(self, key, label, prepare, measure):
        self.key, self.label, self.prepare, self.measure = key, label, prepare, measure
        self.values, self.warm, self.na = [], [], None


def measure_interleaved(variants, reps, warmups):
    """Warm-ups of every variant first (discarded), then `reps` rounds over the
    variants, the order reversed every other round (ABBA), so that a slow
    drift shows in every variant alike."""
    def one(v, store):
        if v.na:
            return
        why = v.prepare()
        if why:
            v.na = why
            log(f"  {v.key}: n/a ({why})")
            return
        quiesce()
        x = v.measure()
        store.append(x)
        return x

    for v in variants:
        for _ in range(warmups):
            x = one(v, v.warm)
            if x is not None:
                log(f"  warm-up {v.key}: {x:.4g} (discarded)")
    for r in range(reps):
        order = variants if r % 2 == 0 else variants[::-1]
        for v in order:
            x = one(v, v.values)
            if x is not None:
                log(f"  rep {r + 1}/{reps} {v.key}: {x:.4g}")


def med(v):
    return statistics.median(v.values) if v.values and not v.na else None


def spread(v):
    """Half the min-max range, in percent of the median."""
    m = med(v)
    if m is None or len(v.values) < 2:
        return None
    return 50.0 * (max(v.values) - min(v.values)) / m


class Report:
    def __init__(self):
        self.rows = []  # (section, label, value text, unit, extra)
        self.ratios = []  # (label, value or None, target text, verdict)

    def value(self, section, v, unit, fmt="{:.4g}"):
        m = med(v)
        if m is None:
            self.rows.append((section, v.label, "n/a", unit, v.na or "no data"))
        else:
            s = spread(v)
            runs = " ".join(fmt.format(x) for x in v.values)
            self.rows.append((section, v.label, fmt.format(m), unit,
                              f"n={len(v.values)} +-{s:.1f}% [{runs}]" if s is not None else f"n={len(v.values)}"))

    def raw(self, section, label, text, unit, extra=""):
        self.rows.append((section, label, text, unit, extra))

    def ratio(self, label, num, den, target=None, higher=True):
        a, b = med(num), med(den)
        if a is None or b is None or not b:
            self.ratios.append((label, None, target, "n/a"))
            return
        r = a / b
        verdict = ""
        if target is not None:
            ok = r >= target if higher else r <= target
            verdict = "ok" if ok else f"MISSED by {abs(r - target) * 100:.1f} points"
        self.ratios.append((label, r, target, verdict))

    def render(self, header):
        out = list(header) + [""]
        if self.rows:
            w = max(len(r[1]) for r in self.rows)
            out.append(f"{'':3}{'measurement':<{w}}  {'median':>10}  {'unit':<10} runs (guest time)")
            sec = None
            for section, label, text, unit, extra in self.rows:
                if section != sec:
                    sec = section
                    out.append(f"{section}")
                out.append(f"   {label:<{w}}  {text:>10}  {unit:<10} {extra}")
            out.append("")
        if self.ratios:
            w = max(len(r[0]) for r in self.ratios)
            out.append(f"   {'ratio':<{w}}  {'value':>7}  {'target':>8}  verdict")
            for label, r, target, verdict in self.ratios:
                t = "" if target is None else (f">= {target:.2f}" if not label[0] in "DH" else target)
                val = "n/a" if r is None else (f"{r:.1f}" if label[0] in "DH" else f"{r:.3f}")
                out.append(f"   {label:<{w}}  {val:>7}  {t:>8}  {verdict}")
        return out

    def save(self, header):
        """The report so far, to $VM_OUTDIR/report.txt: if the VM dies later (a kernel
        report ends it), the host still has every finished section."""
        d = os.environ.get("VM_OUTDIR")
        if d:
            with open(f"{d}/report.tmp", "w") as f:
                f.write("\n".join(self.render(header)) + "\n")
            os.replace(f"{d}/report.tmp", f"{d}/report.txt")

    def print(self, header):
        log("@@report-begin")
        for line in self.render(header):
            log(line)
        log("@@report-end")


class Section:
    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self.t0 = time.monotonic()
        log(f"@@begin {self.name}")

    def __exit__(self, *exc):
        log(f"@@end {self.name} {time.monotonic() - self.t0:.1f}")


# ---- sections ------------------------------------------------------------------------------

def section_a(mod, rep, args):
    cfg = filler_rules(args.a_rules)

    def unloaded():
        mod.unload()

    def loaded():
        if not mod.loaded():
            mod.load()
            for n in (CLIENT, SERVER):
                apply_config(n, cfg)

    def measure():
        return iperf(SERVER_IP, args.iperf_secs)

    va = Variant("A.a", "A  (a) TCP, module unloaded", unloaded, measure)
    vb = Variant("A.b", f"A  (b) TCP, module loaded, {args.a_rules} rules, none match", loaded, measure)
    measure_interleaved([va, vb], args.reps, args.warmups)
    rep.value("A  non-steered throughput (iperf3 bc -> bs over veth, conntrack + nft nat in both)", va, "Gbit/s")
    rep.value("A  non-steered throughput (iperf3 bc -> bs over veth, conntrack + nft nat in both)", vb, "Gbit/s")
    rep.ratio("A  b/a   non-steered, loaded / unloaded", vb, va, 0.98)


def section_b(mod, rep, args, tool):
    small = steer_config(args.b_small, RATE_PORT)
    large = steer_config(args.b_large, RATE_PORT)
    state = {"cfg": None}

    def with_module(cfg, name):
        def prepare():
            mod.load()
            if state["cfg"] != name:
                apply_config(CLIENT, cfg)
                state["cfg"] = name
        return prepare

    def without_module(nft):
        def prepare():
            mod.unload()
            state["cfg"] = None
            ns(CLIENT, "nft", "delete", "table", "ip", "benchdnat", check=False)
            if nft:
                ns(CLIENT, "nft", "-f", "-", input=(
                    "table ip benchdnat {\n chain out {\n  type nat hook output priority -101;\n"
                    f"  ip daddr {STEERED_IP} tcp dport {RATE_PORT} dnat to {SERVER_IP}:{RATE_PORT}\n }}\n}}\n"))
        return prepare

    def measure_to(dst, steered=False):
        def measure():
            before = get_stats(CLIENT)[0].get(5, 0) if steered else 0  # MUTEX_STATS_A_FLOWS_STEERED
            x = conn_rate(tool, dst, RATE_PORT, args.rate_secs)
            if steered and get_stats(CLIENT)[0].get(5, 0) - before < x * args.rate_secs * 0.9:
                raise RuntimeError("the module's DNAT rule did not steer the connections (flows_steered)")
            return x
        return measure

    vd = Variant("B.direct", "B  module unloaded, direct (reference)", without_module(False), measure_to(SERVER_IP))
    vn = Variant("B.nft", "B  module unloaded, nftables DNAT rule (reference)", without_module(True),
                 measure_to(STEERED_IP))
    vs = Variant("B.10", f"B  module DNAT, {args.b_small} rules, match last", with_module(small, "small"),
                 measure_to(STEERED_IP, True))
    vl = Variant("B.10k", f"B  module DNAT, {args.b_large} rules, match last", with_module(large, "large"),
                 measure_to(STEERED_IP, True))
    # The module's variants next to each other: one load and one unload per round.
    measure_interleaved([vd, vn, vs, vl], args.reps, args.warmups)
    ns(CLIENT, "nft", "delete", "table", "ip", "benchdnat", check=False)
    s = "B  new TCP connections per second of guest time (connect + RST, bc -> bs)"
    for v in (vd, vn, vs, vl):
        rep.value(s, v, "conn/s", "{:.0f}")
    rep.ratio(f"B  rate({args.b_large} rules) / rate({args.b_small} rules)", vl, vs, 0.90)
    rep.ratio(f"B  rate({args.b_small} rules) / unloaded direct", vs, vd)
    rep.ratio(f"B  rate({args.b_small} rules) / nftables DNAT", vs, vn)


def section_e(mod, rep, args):
    """Item: nothing switched on where nothing is configured. A namespace pair with neither
    nftables nor conntrack: the module loaded without a configuration there must cost
    nothing; with one (a rule that matches nothing) it turns conntrack on."""
    cfg = filler_rules(10)
    state = {"cfg": False}

    def unloaded():
        mod.unload()
        state["cfg"] = False

    def loaded_bare():
        if state["cfg"]:
            mod.unload()
            state["cfg"] = False
        if not mod.loaded():
            mod.load()

    def loaded_configured():
        if not mod.loaded():
            mod.load()
        if not state["cfg"]:
            apply_config(BARE_CLIENT, cfg)
            apply_config(BARE_SERVER, cfg)
            state["cfg"] = True

    def measure(expect_ct):
        def m():
            x = iperf(BARE_SERVER_IP, args.iperf_secs, client=BARE_CLIENT)
            n = conntrack_count(BARE_CLIENT)
            if (n > 0) != expect_ct:
                raise RuntimeError(f"conntrack entries in {BARE_CLIENT}: {n}, expected "
                                   f"{'some' if expect_ct else 'none'}")
            return x
        return m

    va = Variant("E.a", "E  (a) TCP, no conntrack, module unloaded", unloaded, measure(False))
    vb = Variant("E.b", "E  (b) TCP, no conntrack, module loaded, no configuration", loaded_bare,
                 measure(False))
    vc = Variant("E.c", "E  (c) TCP, module loaded, 10 rules (none match): conntrack on",
                 loaded_configured, measure(True))
    measure_interleaved([va, vb, vc], args.reps, args.warmups)
    s = "E  throughput (iperf3 ec -> es over veth, no nftables, no conntrack before the module)"
    for v in (va, vb, vc):
        rep.value(s, v, "Gbit/s")
    rep.ratio("E  b/a   loaded without configuration / unloaded", vb, va, 0.99)
    rep.ratio("E  c/a   loaded with rules / unloaded (the price of conntrack)", vc, va)


def section_f(mod, rep, args, tool):
    """Item: other people's DNAT untouched. An nftables DNAT (as Docker publishes a port) in
    the client namespace, measured with the module unloaded and with the module loaded and
    steering other flows (connections held open through its own DNAT)."""
    cfg = steer_config(10, HOLD_PORT)
    state = {"held": None}
    nft = ("table ip foreign {\n chain out {\n  type nat hook output priority -100;\n"
           f"  ip daddr {FOREIGN_IP} tcp dport {IPERF_PORT} dnat to {SERVER_IP}:{IPERF_PORT}\n"
           " }\n}\n")
    ns(CLIENT, "nft", "-f", "-", input=nft)

    def unloaded():
        if state["held"]:
            state["held"].__exit__()
            state["held"] = None
        mod.unload()

    def steering():
        if not mod.loaded():
            mod.load()
            apply_config(CLIENT, cfg)
        if not state["held"]:
            state["held"] = Held(tool, STEERED_IP, HOLD_PORT, args.f_held).__enter__()

    def measure():
        return iperf(FOREIGN_IP, args.iperf_secs)

    def measure_steering():
        x = iperf(FOREIGN_IP, args.iperf_secs)
        n = get_stats(CLIENT)[0].get(5, 0)  # MUTEX_STATS_A_FLOWS_STEERED
        if n < args.f_held:
            raise RuntimeError(f"the module steered {n} flows, held {args.f_held}")
        return x

    va = Variant("F.a", "F  (a) TCP through an nftables DNAT, module unloaded", unloaded, measure)
    vb = Variant("F.b", f"F  (b) the same, module loaded and steering {args.f_held} other flows",
                 steering, measure_steering)
    try:
        measure_interleaved([va, vb], args.reps, args.warmups)
    finally:
        if state["held"]:
            state["held"].__exit__()
        ns(CLIENT, "nft", "delete", "table", "ip", "foreign", check=False)
    s = "F  throughput of someone else's DNAT flow (iperf3 bc -> 198.51.100.2 -> bs)"
    for v in (va, vb):
        rep.value(s, v, "Gbit/s")
    rep.ratio("F  b/a   module steering other flows / unloaded", vb, va, 0.99)


ACCT_ON = {"perf_enable_batching": 1, "perf_cache_size": 1024, "perf_enable_accounting": 1}


def section_c(mod, rep, args):
    mod.load()
    apply_config(CLIENT, steer_config(args.b_small, IPERF_PORT))
    apply_config(SERVER, [])

    def with_params(changes):
        def prepare():
            missing = set_params({**ACCT_ON, **changes})
            # Accounting off is the one variant that needs the new parameter; the others
            # still measure something meaningful without it (accounting absent).
            if missing and ("perf_enable_accounting" in changes or
                            set(missing) != {"perf_enable_accounting"}):
                return "parameter " + ", ".join(missing) + " missing or refused"
        return prepare

    def measure():
        return iperf(STEERED_IP, args.iperf_secs)

    von = Variant("C.on", "C  accounting on  (batching=1 cache=1024 accounting=1)", with_params({}), measure)
    voff = Variant("C.off", "C  accounting off (accounting=0)", with_params({"perf_enable_accounting": 0}), measure)
    vc0 = Variant("C.cache0", "C  cache off      (cache=0, accounting=1)", with_params({"perf_cache_size": 0}), measure)
    vb0 = Variant("C.batch0", "C  batching off   (batching=0, accounting=1)", with_params({"perf_enable_batching": 0}),
                  measure)
    measure_interleaved([von, voff, vc0, vb0], args.reps, args.warmups)
    set_params(ACCT_ON)
    st, _ = get_stats(CLIENT)
    has_acct = param_read("perf_enable_accounting") is not None
    if not has_acct:
        log("  note: perf_enable_accounting does not exist in this module: 'on' variants run without accounting")
    s = "C  steered TCP throughput (iperf3 to 198.51.100.1, module DNAT to bs)"
    for v in (von, voff, vc0, vb0):
        rep.value(s, v, "Gbit/s")
    rep.raw(s, "C  pkts_steered counted in the client namespace (all runs)", str(st.get(3, 0)), "packets",
            "0 means the module does not account packets yet" if not st.get(3) else "")
    rep.ratio("C  on/off  accounting on / off", von, voff, 0.97)
    rep.ratio("C  cache off / on", vc0, von)
    rep.ratio("C  batching off / on", vb0, von)


def slabinfo(name):
    """(active_objs, num_objs, objsize, objperslab, pagesperslab, num_slabs) or None."""
    with open("/proc/slabinfo") as f:
        for line in f:
            p = line.split()
            if p and p[0] == name:
                return tuple(int(x) for x in (p[1], p[2], p[3], p[4], p[5], p[14]))
    return None


def section_d(mod, rep, args, tool):
    # A fresh module: its slab cache holds no flow of the sections before (whose removal,
    # interleaved with the new flows, would hide objects).
    mod.unload()
    mod.load()
    set_params(ACCT_ON)
    apply_config(CLIENT, steer_config(args.b_small, HOLD_PORT))
    quiesce()
    name = args.slab
    page = os.sysconf("SC_PAGE_SIZE")
    before = slabinfo(name)
    alias = os.path.realpath(f"/sys/kernel/slab/{name}") if os.path.exists(f"/sys/kernel/slab/{name}") else None
    st0, flows0 = get_stats(CLIENT)
    with Held(tool, STEERED_IP, HOLD_PORT, args.flows):
        after = slabinfo(name)
        st1, flows1 = get_stats(CLIENT)
    steered = st1.get(5, 0) - st0.get(5, 0)
    inserted = st1.get(10, 0) - st0.get(10, 0)
    s = f"D  memory: {args.flows} steered TCP connections held open"
    rep.raw(s, "D  flows steered / inserted in the table", f"{steered}/{inserted}", "flows",
            f"table now {flows1}" if flows1 is not None else "no flow count in GET_STATS")
    if after is None:
        why = f"no '{name}' line in /proc/slabinfo"
        if alias:
            why += f" (merged into {os.path.basename(alias)}: needs SLAB_NO_MERGE or its own line)"
        rep.raw(s, "D  slab objsize", "n/a", "bytes", why)
        rep.raw(s, "D  slab bytes per flow (slab pages * page size / flows)", "n/a", "bytes", why)
        rep.ratios.append(("D  slab bytes per flow <= 128", None, "<= 128", "n/a"))
        return
    b = before or (0, 0, after[2], after[3], after[4], 0)
    d_objs = after[0] - b[0]
    d_bytes = (after[5] - b[5]) * after[4] * page
    flows = args.flows
    per_flow = d_bytes / flows
    rep.raw(s, "D  slab objsize", str(after[2]), "bytes",
            f"{after[3]} objects per slab of {after[4]} page(s); active objects {b[0]} -> {after[0]} (+{d_objs})")
    rep.raw(s, "D  slab bytes per flow (slab pages * page size / flows)", f"{per_flow:.1f}", "bytes",
            f"slabs {b[5]} -> {after[5]}, page {page} B, {flows} flows")
    verdict = "ok" if per_flow <= 128 else f"MISSED by {per_flow - 128:.1f} bytes"
    if d_objs < flows * 0.95:
        verdict += f" (only {d_objs} new objects for {flows} flows: not every flow is in the slab?)"
    rep.ratios.append(("D  slab bytes per flow <= 128", per_flow, "<= 128", verdict))


# ---- section G: rule shapes ---------------------------------------------------------------

CG_ROOT = "/sys/fs/cgroup"
CG_SLICE = "bench.slice"
CG_CONN = f"{CG_SLICE}/conn.service"   # where connrate runs in the cgroup shape
BENCH_UID = 60001                       # connrate's uid in the uid shape
BENCH_MARK = 0x99                       # the mark the mark shape's traffic carries


def g_filler(shape, i):
    """Filler rule i of a shape: a dict of the fields (none matches the traffic; they share
    what the traffic has wherever the shape allows, e.g. the destination port)."""
    if shape == "dst32.port":
        return {"dst": (f"10.{200 + (i >> 16)}.{(i >> 8) & 255}.{i & 255}", 32),
                "dport": (RATE_PORT, RATE_PORT)}
    if shape == "prefix.ranges":
        plen = (24, 26, 28, 30, 32)[i % 5]
        lo = RATE_PORT + (i % 50) * 20
        return {"dst": (f"10.{i >> 8}.{i & 255}.0", plen), "dport": (lo, lo + 9)}
    if shape == "src.prefix":
        return {"src": (f"100.{64 + (i >> 8)}.{i & 255}.0", (32, 28, 24)[i % 3])}
    if shape == "uid.range":
        return {"uid": (20000 + 2 * i, 20001 + 2 * i)}
    if shape == "cgroup":
        return {"cgroup": f"{CG_SLICE}/f{i}.service"}
    if shape == "mark":
        return {"mark": 0x10000 + i}
    if shape == "oif":
        return {"oif": (100000 + i, f"f{i}")}
    raise ValueError(shape)


G_SINGLE = ["dst32.port", "prefix.ranges", "src.prefix", "uid.range", "cgroup", "mark", "oif"]
G_SHAPES = G_SINGLE + ["mix"]


def g_match(shape, oif_index):
    """The last rule: the one the traffic (to STEERED_IP:RATE_PORT) matches."""
    return {
        "dst32.port": {"dst": (STEERED_IP, 32), "dport": (RATE_PORT, RATE_PORT)},
        "prefix.ranges": {"dst": ("198.51.100.0", 24), "dport": (RATE_PORT, RATE_PORT + 9)},
        "src.prefix": {"src": ("10.99.0.0", 24)},
        "uid.range": {"uid": (BENCH_UID - 1, BENCH_UID + 8)},
        "cgroup": {"cgroup": CG_CONN},
        "mark": {"mark": BENCH_MARK},
        "oif": {"oif": (oif_index, "vc")},
        "mix": {"dst": (STEERED_IP, 32), "dport": (RATE_PORT, RATE_PORT)},
    }[shape]


def g_specs(shape, n, oif_index):
    """n rules of a shape, the matching one last; "mix" cycles through every single shape."""
    out = []
    for i in range(n - 1):
        sub = G_SINGLE[i % len(G_SINGLE)] if shape == "mix" else shape
        out.append((sub, g_filler(sub, i)))
    out.append((shape if shape != "mix" else "dst32.port", g_match(shape, oif_index)))
    return out


def g_module_rule(spec, last):
    f = spec[1]
    # IPv4 TCP, as the nftables table (ip family) and iptables rules beside it
    parts = [tsc.u8(tsc.R_PROTO, socket.IPPROTO_TCP), tsc.u8(tsc.R_FAMILY, socket.AF_INET)]
    if "dst" in f:
        parts += [tsc.attr(tsc.R_DST_ADDR, socket.inet_aton(f["dst"][0])), tsc.u8(tsc.R_DST_PLEN, f["dst"][1])]
    if "dport" in f:
        parts += [tsc.u16(tsc.R_DPORT_MIN, f["dport"][0]), tsc.u16(tsc.R_DPORT_MAX, f["dport"][1])]
    if "src" in f:
        parts += [tsc.attr(tsc.R_SRC_ADDR, socket.inet_aton(f["src"][0])), tsc.u8(tsc.R_SRC_PLEN, f["src"][1])]
    if "uid" in f:
        parts += [tsc.u32(tsc.R_UID_MIN, f["uid"][0]), tsc.u32(tsc.R_UID_MAX, f["uid"][1])]
    if "cgroup" in f:
        parts.append(tsc.string(tsc.R_CGROUP, "/" + f["cgroup"]))
    if "mark" in f:
        parts += [tsc.u32(tsc.R_MARK_VALUE, f["mark"]), tsc.u32(tsc.R_MARK_MASK, 0xffffffff)]
    if "oif" in f:
        parts.append(tsc.u32(tsc.R_OIF, f["oif"][0]))
    if last:
        parts += [tsc.u8(tsc.R_ACTION, tsc.ACT_DNAT), tsc.u32(tsc.R_POOL, 0)]
    else:
        parts.append(tsc.u8(tsc.R_ACTION, tsc.ACT_BYPASS))
    return tsc.rule(*parts)


# nftables: per single shape, the map key an nftables user writes for it
G_NFT_KEY = {
    "dst32.port": ("ip daddr . tcp dport", False),
    "prefix.ranges": ("ip daddr . tcp dport", True),
    "src.prefix": ("ip saddr", True),
    "uid.range": ("meta skuid", True),
    "cgroup": ("socket cgroupv2 level 2", False),
    "mark": ("meta mark", False),
    "oif": ("oifname", False),
}


def g_nft_elem(sub, f):
    def pfx(a):
        return a[0] if a[1] == 32 else f"{a[0]}/{a[1]}"

    def rng(r):
        return str(r[0]) if r[0] == r[1] else f"{r[0]}-{r[1]}"
    return {
        "dst32.port": lambda: f"{f['dst'][0]} . {f['dport'][0]}",
        "prefix.ranges": lambda: f"{pfx(f['dst'])} . {rng(f['dport'])}",
        "src.prefix": lambda: pfx(f["src"]),
        "uid.range": lambda: rng(f["uid"]),
        "cgroup": lambda: f'"{f["cgroup"]}"',
        "mark": lambda: hex(f["mark"]),
        "oif": lambda: f'"{f["oif"][1]}"',
    }[sub]()


def g_nft(specs):
    """An nftables table doing the job: one verdict map per shape present, in order of the
    shapes' first rule; the match jumps to a chain that DNATs to the server."""
    maps, order = {}, []
    for i, (sub, f) in enumerate(specs):
        if sub not in maps:
            maps[sub] = []
            order.append(sub)
        verdict = f"jump steer" if i == len(specs) - 1 else "accept"
        maps[sub].append(f"{g_nft_elem(sub, f)} : {verdict}")
    out = ["table ip benchg {"]
    for k, sub in enumerate(order):
        key, interval = G_NFT_KEY[sub]
        out.append(f" map m{k} {{ typeof {key} : verdict;" + (" flags interval;" if interval else ""))
        out.append("  elements = { " + ",\n   ".join(maps[sub]) + " }\n }")
    out.append(f" chain steer {{ meta l4proto tcp dnat to {SERVER_IP}:{RATE_PORT}; }}")
    out.append(" chain out { type nat hook output priority -101; policy accept;")
    for k, sub in enumerate(order):
        out.append(f"  meta l4proto tcp {G_NFT_KEY[sub][0]} vmap @m{k}")
    out.append(" }\n}\n")
    return "\n".join(out)


# iptables: the match of each field, in the order of a rule
G_IPT_MATCH = (
    ("dst", lambda v: f"-d {v[0]}/{v[1]}"),
    ("src", lambda v: f"-s {v[0]}/{v[1]}"),
    ("dport", lambda v: f"--dport {v[0]}:{v[1]}"),
    ("uid", lambda v: f"-m owner --uid-owner {v[0]}-{v[1]}"),
    ("cgroup", lambda v: f"-m cgroup --path {v}"),
    ("mark", lambda v: f"-m mark --mark {hex(v)}"),
    ("oif", lambda v: f"-o {v[1]}"),
)


def g_ipt(specs):
    """The same as iptables rules, one after another (iptables-restore input, nat table)."""
    out = ["*nat", ":OUTPUT ACCEPT [0:0]"]
    for i, (sub, f) in enumerate(specs):
        m = ["-A OUTPUT -p tcp", *(fmt(f[k]) for k, fmt in G_IPT_MATCH if k in f)]
        m.append(f"-j DNAT --to-destination {SERVER_IP}:{RATE_PORT}" if i == len(specs) - 1 else "-j ACCEPT")
        out.append(" ".join(m))
    out.append("COMMIT\n")
    return "\n".join(out)


def g_clear():
    ns(CLIENT, "nft", "delete", "table", "ip", "benchg", check=False)
    ns(CLIENT, "iptables", "-t", "nat", "-F", "OUTPUT", check=False)
    ns(CLIENT, "nft", "delete", "table", "ip", "nat", check=False)  # iptables-nft's table
    ns(CLIENT, "nft", "delete", "table", "ip", "benchmark", check=False)


def section_g(mod, rep, args, tool):
    """Item 1 of the data-plane issue: new connections per second through a DNAT placed last,
    for every rule shape users write, at 10 and 10,000 rules, next to an nftables verdict map
    and iptables rules doing the same job, in the same VM."""
    mod.load()
    oif_index = int(ns(CLIENT, "cat", "/sys/class/net/vc/ifindex").stdout)
    run(["modprobe", "xt_cgroup"], check=False)
    run(["modprobe", "xt_owner"], check=False)
    # The cgroup shape names existing cgroups (nftables and iptables resolve them at load).
    os.makedirs(f"{CG_ROOT}/{CG_CONN}", exist_ok=True)
    for i in range(args.b_large):
        os.makedirs(f"{CG_ROOT}/{CG_SLICE}/f{i}.service", exist_ok=True)
    shapes = args.g_shapes.split(",") if args.g_shapes else G_SHAPES
    state = {"loaded": None}

    def prefix_for(shape):
        if shape == "uid.range":
            return ["setpriv", f"--reuid={BENCH_UID}", f"--regid={BENCH_UID}", "--clear-groups"]
        return []

    def env_for(shape):
        # the mark shape's traffic carries a mark, in every variant alike
        if shape == "mark":
            ns(CLIENT, "nft", "-f", "-", input=(
                "table ip benchmark {\n chain m {\n  type filter hook output priority -150;\n"
                f"  meta mark set {hex(BENCH_MARK)}\n }}\n}}\n"))

    def prepare_for(shape, kind, n):
        specs = g_specs(shape, n, oif_index)

        def prepare():
            key = (shape, kind, n)
            if state["loaded"] == key:
                return None
            mod.load()
            g_clear()
            apply_config(CLIENT, [])
            env_for(shape)
            set_params({"perf_enable_accounting": 0 if kind == "module-noacct" else 1})
            if kind.startswith("module"):
                apply_config(CLIENT, [pool(RATE_PORT)] +
                             [g_module_rule(sp, i == len(specs) - 1) for i, sp in enumerate(specs)])
            # nsenter, not ip netns exec: that mounts a sysfs of the namespace over /sys, which
            # hides the cgroup2 mount where nft and iptables resolve cgroup paths.
            elif kind == "nft":
                run(["nsenter", f"--net=/run/netns/{CLIENT}", "nft", "-f", "-"], input=g_nft(specs))
            else:
                try:
                    run(["nsenter", f"--net=/run/netns/{CLIENT}", "iptables-restore", "--noflush"],
                        input=g_ipt(specs), timeout=300)
                except subprocess.TimeoutExpired:
                    g_clear()
                    return f"iptables-restore of {n} rules did not finish in 300 s of guest time"
            state["loaded"] = key
            return None
        return prepare

    def measure_for(shape, kind):
        def measure():
            steered = kind.startswith("module")
            before = get_stats(CLIENT)[0].get(5, 0) if steered else 0
            x = conn_rate(tool, STEERED_IP, RATE_PORT, args.rate_secs, prefix=prefix_for(shape),
                          cgroup=CG_CONN if shape == "cgroup" else None)
            if steered and get_stats(CLIENT)[0].get(5, 0) - before < x * args.rate_secs * 0.9:
                raise RuntimeError(f"G {shape}: the module's rule did not steer the connections")
            return x
        return measure

    title = "G  new TCP connections per second through a DNAT rule placed last, by rule shape"
    for shape in shapes:
        vs = []
        for kind, label in (("module", "module"), ("nft", "nftables vmap"), ("ipt", "iptables")):
            for n in (args.b_small, args.b_large):
                vs.append(Variant(f"G.{shape}.{kind}.{n}", f"G  {shape:13} {label:13} {n:6} rules",
                                  prepare_for(shape, kind, n), measure_for(shape, kind)))
        noacct = None
        if shape == "dst32.port":
            # Where the module's time goes beyond the lookup: the same rules, per-packet
            # accounting off (flows are still recorded in the table).
            noacct = Variant(f"G.{shape}.module-noacct.{args.b_large}",
                             f"G  {shape:13} {'module, no acct':13} {args.b_large:6} rules",
                             prepare_for(shape, "module-noacct", args.b_large),
                             measure_for(shape, "module-noacct"))
        measure_interleaved(vs + ([noacct] if noacct else []), args.reps, args.warmups)
        for v in vs + ([noacct] if noacct else []):
            rep.value(title, v, "conn/s", "{:.0f}")
        m10, m10k, n10, n10k, i10, i10k = vs
        rep.ratio(f"G  {shape:13} module {args.b_large} / {args.b_small} rules", m10k, m10, 0.90)
        rep.ratio(f"G  {shape:13} module / nftables, {args.b_large} rules", m10k, n10k, 1.0)
        rep.ratio(f"G  {shape:13} module / iptables, {args.b_large} rules", m10k, i10k)
        rep.ratio(f"G  {shape:13} nftables {args.b_large} / {args.b_small} (reference)", n10k, n10)
        if noacct:
            rep.ratio(f"G  {shape:13} module without accounting / nftables, {args.b_large} rules",
                      noacct, n10k)
    if "cgroup" in shapes:
        # What a unit's rule costs each new connection: one cgroup rule (not matching the
        # connecting process) in front of the DNAT rule, against the DNAT rule alone; connrate
        # in the same cgroup for both.
        def prepare_items(key, items):
            def prepare():
                if state["loaded"] == key:
                    return None
                mod.load()
                g_clear()
                set_params({"perf_enable_accounting": 1})
                apply_config(CLIENT, items)
                state["loaded"] = key
                return None
            return prepare
        dnat = g_module_rule(("dst32.port", g_match("dst32.port", oif_index)), True)
        front = g_module_rule(("cgroup", {"cgroup": f"{CG_SLICE}/f0.service"}), False)
        pair = [Variant("G.cgfront.none", "G  one DNAT rule, nothing in front",
                        prepare_items("none", [pool(RATE_PORT), dnat]), measure_for("cgroup", "module")),
                Variant("G.cgfront.cgroup", "G  one DNAT rule, a cgroup rule in front",
                        prepare_items("cgroup", [pool(RATE_PORT), front, dnat]),
                        measure_for("cgroup", "module"))]
        measure_interleaved(pair, args.reps, args.warmups)
        for v in pair:
            rep.value(title, v, "conn/s", "{:.0f}")
        rep.ratio("G  a cgroup rule in front / none (its cost per new connection)", pair[1], pair[0])
    g_clear()
    apply_config(CLIENT, [])
    set_params({"perf_enable_accounting": 1})


# ---- section H: a million flows --------------------------------------------------------------

H_NS = "bh"                 # the namespace that holds the flows (created and destroyed here)
H_DST = "198.51.100.1"      # udpflows sends to H_DST, ports 10000..59999,
H_SRC = "10.97.1.1"         # from H_SRC + i / 50000 (one source has 64k reply ports for NAT)
H_SINK = 7200               # the local port the redirect rule sends them to


def busy_fraction(secs):
    """Fraction of guest CPU time spent not idle over a window of `secs` guest seconds."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v), v[3] + v[4]  # total, idle + iowait
    t0, i0 = sample()
    time.sleep(secs)
    t1, i1 = sample()
    return 1 - (i1 - i0) / max(t1 - t0, 1)


def h_namespace(n):
    """A fresh namespace whose UDP to 198.51.100.0/24 is redirected to a local sink that
    never reads, with conntrack keeping unreplied UDP for an hour."""
    ns_del = ["ip", "netns", "del", H_NS]
    run(ns_del, check=False)
    run(["ip", "netns", "add", H_NS])
    ns(H_NS, "ip", "link", "set", "lo", "up")
    ns(H_NS, "ip", "link", "add", "hd", "type", "dummy")
    ns(H_NS, "ip", "addr", "add", "10.97.0.1/24", "dev", "hd")
    ns(H_NS, "ip", "link", "set", "hd", "up")
    ns(H_NS, "ip", "route", "add", "198.51.100.0/24", "dev", "hd")
    base = struct.unpack("!I", socket.inet_aton(H_SRC))[0]
    for k in range(n // 50000 + 1):
        ns(H_NS, "ip", "addr", "add", socket.inet_ntoa(struct.pack("!I", base + k)) + "/32", "dev", "hd")
    rule = tsc.rule(tsc.u8(tsc.R_PROTO, socket.IPPROTO_UDP), tsc.u8(tsc.R_FAMILY, socket.AF_INET),
                    tsc.attr(tsc.R_DST_ADDR, socket.inet_aton("198.51.100.0")), tsc.u8(tsc.R_DST_PLEN, 24),
                    tsc.u8(tsc.R_ACTION, tsc.ACT_REDIRECT), tsc.u16(tsc.R_TO_PORT, H_SINK))
    apply_config(H_NS, [rule])
    ns(H_NS, "sysctl", "-qw", "net.netfilter.nf_conntrack_udp_timeout=3600")
    with tsm.netns(H_NS):
        sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sink.bind(("127.0.0.1", H_SINK))
    return sink


def h_populate(tool, n):
    """n UDP flows in H_NS: (flows per second of guest time, generator output)."""
    p = ns(H_NS, tool, "udpflows", H_SRC, H_DST, str(n))
    m = re.match(r"flows (\d+) secs ([\d.]+) rate ([\d.]+) errors (\d+)", p.stdout)
    if not m:
        raise RuntimeError(f"connrate udpflows: {p.stdout!r} {p.stderr!r}")
    return float(m.group(3)), p.stdout.strip()


def h_nl():
    with tsm.netns(H_NS):
        nl = tsc.NL()
    return nl


def h_timed(fn, reps=1):
    """Median guest seconds of fn() over reps calls, and its last result."""
    times, out = [], None
    for _ in range(reps):
        t = time.monotonic()
        out = fn()
        times.append(time.monotonic() - t)
    return sorted(times)[len(times) // 2], out


def h_slab_line(rep, s, label, name, before, after, flows):
    if before is None or after is None:
        rep.raw(s, label, "n/a", "bytes", f"no '{name}' line in /proc/slabinfo")
        return None
    page = os.sysconf("SC_PAGE_SIZE")
    per = (after[5] - before[5]) * after[4] * page / flows
    rep.raw(s, label, f"{per:.1f}", "bytes", f"objsize {after[2]}, {after[3]} per slab; active objects "
            f"{before[0]} -> {after[0]}; slabs {before[5]} -> {after[5]}; {flows} flows")
    return per


def section_h(mod, rep, args, tool, mutexctl):
    n = args.h_flows
    s = f"H  a million flows: {n} UDP flows redirected in one namespace, one datagram each"
    mod.unload()
    mod.load()
    set_params(ACCT_ON)
    if not param_write("max_conns", max(2 * n, 262144)):
        raise RuntimeError("max_conns refused")
    run(["sysctl", "-qw", f"net.netfilter.nf_conntrack_max={max(2 * n, 1048576)}"])
    try:
        with open("/sys/module/nf_conntrack/parameters/hashsize", "w") as f:
            f.write(str(max(n, 262144)))
    except OSError:
        pass

    # 1. Insert rate and memory.
    sink = h_namespace(n)
    slab0 = slabinfo(args.slab)
    k64_0 = slabinfo("kmalloc-64")
    rate, out = h_populate(tool, n)
    st, flows = get_stats(H_NS)
    rep.raw(s, "H  insert rate (udpflows: new flows per guest second)", f"{rate:.0f}", "flows/s",
            f"{out}; table {flows}, inserts {st.get(10, 0)}, table_full {st.get(12, 0)}, "
            f"alloc_fails {st.get(13, 0)}")
    if flows is None or flows < 0.99 * n:
        raise RuntimeError(f"only {flows} of {n} flows in the table: {st}")
    h_slab_line(rep, s, "H  slab bytes per flow, just steered (flow)", args.slab, slab0, slabinfo(args.slab), n)
    h_slab_line(rep, s, "H  kmalloc-64 bytes per flow, just steered (origins of pending flows)",
                "kmalloc-64", k64_0, slabinfo("kmalloc-64"), n)

    # 2. Idle: the collector's work while a million flows sit still, beside the same
    # conntrack entries with an empty table (measured after the flush below).
    nl = h_nl()

    def stats_times():
        k, _ = h_timed(lambda: nl.cmd(2), reps=21)
        u = h_timed(lambda: ns(H_NS, mutexctl, "stats"), reps=5)[0] if mutexctl else None
        return k, u
    stats_full = stats_times()
    # 3. The dump, with mutexctl (time and its peak memory); it also makes every pending
    # flow tracked (without it, a pass of the collector does).
    if mutexctl:
        import resource
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        t = time.monotonic()
        p = subprocess.run(["ip", "netns", "exec", H_NS, mutexctl, "-j", "flows"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=TIMEOUT)
        secs = time.monotonic() - t
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        listed = p.stdout.count(b'"src_port"')
        note = f"exit {p.returncode}, {listed} flows listed, {len(p.stdout) / 1e6:.0f} MB of JSON; " \
               f"peak RSS of the children so far {rss / 1024:.0f} MiB (before: {before / 1024:.0f} MiB)"
        if p.returncode:
            note += f"; {p.stderr.decode(errors='replace').strip()[-200:]}"
        rep.raw(s, "H  mutexctl -j flows (guest seconds)", f"{secs:.1f}", "s", note)
        del p

    else:
        time.sleep(args.h_window)
    window = args.h_window
    ev0 = get_stats(H_NS)[0].get(11, 0)
    busy_full = busy_fraction(window)
    st_w, flows_w = get_stats(H_NS)
    window_note = f"; during the window with flows: {st_w.get(11, 0) - ev0} evictions, table {flows_w}"
    # After a whole pass every pending flow was resolved (tracked): the origins are gone.
    slab1 = slabinfo(args.slab)
    per_rest = h_slab_line(rep, s, "H  slab bytes per flow, at rest (tracked flows)", args.slab, slab0, slab1, n)
    if per_rest is not None:
        rep.ratios.append(("H  slab bytes per flow <= 128", per_rest, "<= 128",
                           "ok" if per_rest <= 128 else f"MISSED by {per_rest - 128:.1f} bytes"))
    h_slab_line(rep, s, "H  kmalloc-64 bytes per flow, at rest", "kmalloc-64", k64_0, slabinfo("kmalloc-64"), n)

    # 4. Flush, then the same idle window with the conntrack entries but no flows (after the
    # flushed flows' RCU callbacks ran), and the statistics' times again.
    flush_secs, (err, _, _) = h_timed(lambda: nl.cmd(8))  # MUTEX_CMD_FLUSH_FLOWS
    rep.raw(s, "H  FLUSH_FLOWS of the table", f"{flush_secs:.2f}", "s", f"errno {err}")
    time.sleep(10)
    busy_empty = busy_fraction(window)
    rep.raw(s, f"H  guest CPU busy, {window} s idle window: flows / empty table", f"{busy_full * 100:.2f}",
            "%", f"{busy_empty * 100:.2f}% with the same conntrack entries and an empty table" + window_note)
    maint = busy_full - busy_empty
    rep.ratios.append(("H  table maintenance, 1M idle flows <= 1% CPU", maint * 100, "<= 1%",
                       "ok" if maint <= 0.01 else f"MISSED by {(maint - 0.01) * 100:.2f} points"))
    stats_empty = stats_times()
    rep.raw(s, "H  GET_STATS round trip (netlink, median of 21)", f"{stats_full[0] * 1e3:.2f}", "ms",
            f"{stats_empty[0] * 1e3:.2f} ms with an empty table: the kernel's side of `mutexctl stats`")
    rep.ratios.append(("H  GET_STATS with 1M flows <= 5 ms", stats_full[0] * 1e3, "<= 5 ms",
                       "ok" if stats_full[0] <= 0.005 else f"MISSED by {stats_full[0] * 1e3 - 5:.1f} ms"))
    if mutexctl:
        rep.raw(s, "H  mutexctl stats (the whole process, median of 5)", f"{stats_full[1] * 1e3:.1f}", "ms",
                f"{stats_empty[1] * 1e3:.1f} ms with an empty table: the program's start, its files "
                "read over 9p from the host (guest time leaps while it waits), is the rest")
    nl.s.close()
    sink.close()

    # 5. Namespace exit with a million flows: until the flows' slab is empty again.
    ns(H_NS, "conntrack", "-F", check=False)
    sink = h_namespace(n)
    h_populate(tool, n)
    sink.close()
    t = time.monotonic()
    run(["ip", "netns", "del", H_NS])
    while (slabinfo(args.slab) or (0,))[0] > slab0[0] + n // 100:
        time.sleep(0.2)
    rep.raw(s, "H  namespace exit with the flows (until their slab is empty)", f"{time.monotonic() - t:.1f}",
            "s", "ip netns del; the namespace's cleanup runs in the kernel's netns workqueue")

    # 6. rmmod with a million flows.
    sink = h_namespace(n)
    h_populate(tool, n)
    sink.close()
    t = time.monotonic()
    mod.unload()
    rep.raw(s, "H  rmmod with the flows", f"{time.monotonic() - t:.1f}", "s", "")
    run(["ip", "netns", "del", H_NS], check=False)
    mod.load()
    set_params(ACCT_ON)


# ---- section I: mutexd itself ----------------------------------------------------------------

I_NS = "bi"
I_CHECK_PORT = 7000
I_METRICS = 9479


def i_config(backends, rules):
    """mutexd's file: the example's daemon sections, `backends` backends in pools of at most
    MUTEX_MAX_BACKENDS, each TCP-checked every second at 127.1.P.B:7000 (a listener that accepts
    and closes), and `rules` rules of the common shape (a destination and a port to a pool)."""
    per_pool = 250
    pools = (backends + per_pool - 1) // per_pool
    out = ['[daemon]', 'log_level = "warn"', '[metrics]', f'listen = "127.0.0.1:{I_METRICS}"',
           '[tuning]', 'interval = "10s"', '']
    for p in range(pools):
        out += ['[[pool]]', f'name = "relays-{p}"', 'check = "tcp"', 'check_interval = "1s"',
                'check_timeout = "500ms"', 'rise = 2', 'fall = 3']
        for b in range(min(per_pool, backends - p * per_pool)):
            out += ['  [[pool.backend]]', f'  address = "198.18.{p}.{b + 1}"', '  port = 26656',
                    f'  check_address = "127.1.{p}.{b + 1}"', f'  check_port = {I_CHECK_PORT}']
    for r in range(rules):
        out += ['[[rule]]', f'name = "peer-{r}"', 'protocol = "tcp"',
                f'destination = "10.{(r >> 8) & 255}.{r & 255}.0/24"',
                f'destination_ports = "{26656 + r % 100}"', 'action = "dnat"',
                f'pool = "relays-{r % pools}"']
    return "\n".join(out) + "\n"


def i_listener(tool):
    """In I_NS: connrate accepting and closing connections on 0.0.0.0:I_CHECK_PORT (C, so the
    listener's own cost stays small beside mutexd's)."""
    return subprocess.Popen(["ip", "netns", "exec", I_NS, tool, "serve", str(I_CHECK_PORT)],
                            stdout=subprocess.DEVNULL)


def i_cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def i_rss_kib(pid, key="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def i_scrape():
    """One GET /metrics from inside I_NS: (seconds, bytes)."""
    code = ("import http.client, sys, time\n"
            f"c = http.client.HTTPConnection('127.0.0.1', {I_METRICS}, timeout=60)\n"
            "t = time.monotonic(); c.request('GET', '/metrics'); b = c.getresponse().read()\n"
            "print(time.monotonic() - t, len(b))\n")
    out = subprocess.run(["ip", "netns", "exec", I_NS, sys.executable, "-c", code],
                         capture_output=True, text=True, timeout=300).stdout.split()
    return float(out[0]), int(out[1])


def section_i(mod, rep, args, tool, mutexctl):
    s = "I  mutexd itself: idle CPU and memory with 1,000 checked backends; a scrape with 10,000 rules"
    mutexd = os.path.join(os.path.dirname(mutexctl), "mutexd") if mutexctl else ""
    if not mutexd or not os.path.exists(mutexd):
        rep.raw(s, "I  (skipped)", "n/a", "", "no optimized mutexd (--mutexctl's directory)")
        return
    if not mod.loaded():
        mod.load()
    run(["ip", "netns", "add", I_NS])
    run(["ip", "-n", I_NS, "link", "set", "lo", "up"])
    listener = i_listener(tool)
    work = "/tmp/bench-mutexd"
    os.makedirs(work, exist_ok=True)
    window = args.i_window
    try:
        for backends, rules in ((1000, 1), (1000, args.i_rules)):
            path = f"{work}/mutexd-{rules}.toml"
            with open(path, "w") as f:
                f.write(i_config(backends, rules))
            logf = open(f"{work}/mutexd-{rules}.log", "wb")
            proc = subprocess.Popen(["ip", "netns", "exec", I_NS, mutexd, "--config", path],
                                    stdout=logf, stderr=subprocess.STDOUT)
            try:
                t0 = time.monotonic()
                while time.monotonic() - t0 < 600:
                    try:
                        i_scrape()
                        break
                    except (IndexError, ValueError, subprocess.TimeoutExpired):
                        time.sleep(1)
                started = time.monotonic() - t0
                time.sleep(5)  # every backend checked a few times, the tuning timer armed
                c0, w0 = i_cpu_ticks(proc.pid), time.monotonic()
                time.sleep(window)
                c1, w1 = i_cpu_ticks(proc.pid), time.monotonic()
                cpu = (c1 - c0) / os.sysconf("SC_CLK_TCK") / (w1 - w0) * 100
                rss, hwm = i_rss_kib(proc.pid), i_rss_kib(proc.pid, "VmHWM")
                label = f"{backends} backends checked every 1 s, {rules} rule{'s' if rules > 1 else ''}"
                # -icount shift=3: one guest second is 125 million instructions
                rep.raw(s, f"I  CPU, idle: {label}", f"{cpu:.2f}", "% of a CPU",
                        f"= {cpu * 1.25:.1f} M instructions/s; over {w1 - w0:.0f} s; target < 2% "
                        f"of a real core; ready {started:.1f} s after start")
                rep.raw(s, f"I  RSS: {label}", f"{rss / 1024:.1f}", "MiB",
                        f"peak {hwm / 1024:.1f} MiB; target < 20 MiB")
                times, size = [], 0
                for _ in range(args.i_scrapes):
                    t, size = i_scrape()
                    times.append(t)
                times.sort()
                rep.raw(s, f"I  scrape of /metrics: {label}", f"{statistics.median(times) * 1000:.1f}",
                        "ms", f"{size} bytes; n={len(times)} [{' '.join(f'{t * 1000:.1f}' for t in times)}]"
                        + ("; target < 50 ms" if rules > 1 else ""))
            finally:
                proc.terminate()
                proc.wait(60)
                logf.close()
    finally:
        listener.kill()
        run(["ip", "netns", "del", I_NS])
        mod.unload()


# ---- section J: run-time tuning on a load that misses the cache --------------------------------

J_NS = "bj"
J_DST, J_SINK = "192.0.2.50", 9999
J_TCP_PORT, J_IPERF_PORT = 5202, 5201
J_SPORT = 40000
# Section J's load shapes: (key, label, UDP flows in turn, or 0 for one bulk TCP stream)
J_SHAPES = (("udp.many", "{n} UDP flows in turn (more than the default cache of 1,024)", None),
            ("udp.few", "64 UDP flows in turn (well inside the cache)", 64),
            ("tcp.bulk", "one bulk TCP stream (iperf3)", 0))
# The anchor: the same two redirects as an nftables nat chain, module configuration emptied.
J_NFT = f"""
table ip jbench {{
    chain out {{ type nat hook output priority -100; policy accept;
                ip daddr {J_DST} udp dport 10000-60000 redirect to :{J_SINK}
                ip daddr {J_DST} tcp dport {J_TCP_PORT} redirect to :{J_IPERF_PORT}; }}
}}
"""


def j_config(tuning):
    """mutexd's file for section J: UDP to J_DST ports 10000-60000 redirected to a sink, TCP to
    J_DST port J_TCP_PORT to the local iperf3 server; tuning on (every second, the default
    bounds) or off."""
    return "\n".join([
        "[daemon]", 'log_level = "info"', "[metrics]", "enabled = false", "[tuning]",
        f"enabled = {'true' if tuning else 'false'}", 'interval = "1s"', "",
        "[[rule]]", 'name = "load"', 'protocol = "udp"', f'destination = "{J_DST}"',
        'destination_ports = "10000-60000"', 'action = "redirect"', f"to_port = {J_SINK}", "",
        "[[rule]]", 'name = "bulk"', 'protocol = "tcp"', f'destination = "{J_DST}"',
        f'destination_ports = "{J_TCP_PORT}"', 'action = "redirect"', f"to_port = {J_IPERF_PORT}", ""])


def section_j(mod, rep, args, tool, mutexctl):
    mutexd = os.path.join(os.path.dirname(mutexctl), "mutexd") if mutexctl else ""
    if not mutexd or not os.path.exists(mutexd):
        rep.raw("J  run-time tuning", "J  (skipped)", "n/a", "", "no optimized mutexd (--mutexctl's directory)")
        return
    mod.unload()
    mod.load()
    run(["ip", "netns", "add", J_NS])
    run(["ip", "-n", J_NS, "link", "set", "lo", "up"])
    run(["ip", "-n", J_NS, "addr", "add", f"{J_DST}/32", "dev", "lo"])
    iperf_server = subprocess.Popen(["ip", "netns", "exec", J_NS, "iperf3", "-s", "-p", str(J_IPERF_PORT)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    work = "/tmp/bench-tuning"
    os.makedirs(work, exist_ok=True)
    state = {"proc": None}

    def stop():
        if state["proc"]:
            state["proc"].terminate()
            state["proc"].wait(60)
            state["proc"] = None
        ns(J_NS, "nft", "delete", "table", "ip", "jbench", check=False)

    def load(flows, secs):
        """Datagrams per guest second (UDP shapes) or Gbit/s (the TCP stream)."""
        if not flows:
            return iperf(J_DST, max(1, round(secs)), client=J_NS, port=J_TCP_PORT)
        # One source port for the warm-up and the measurement: the measured datagrams go to the
        # flows the warm-up opened (a new port would make every flow new again in the window).
        out = run(["ip", "netns", "exec", J_NS, tool, "udpload", "127.0.0.1", J_DST, str(flows),
                   str(secs), str(J_SPORT)], timeout=600).stdout
        m = re.search(r"pkts (\d+) secs ([\d.]+) rate (\d+) errors (\d+)", out)
        if not m:
            raise RuntimeError(f"udpload: {out!r}")
        return float(m.group(3))

    def variant(key, flows, how):
        def prepare():
            stop()
            set_params({"perf_enable_batching": 1, "perf_batch_size": 32, "perf_cache_size": 1024,
                        "perf_enable_accounting": 1})
            if how == "nft":
                apply_config(J_NS, [])
                ns(J_NS, "nft", "-f", "-", input=J_NFT)
            else:
                path = f"{work}/mutexd-{how}.toml"
                with open(path, "w") as f:
                    f.write(j_config(how == "on"))
                state["proc"] = subprocess.Popen(
                    ["ip", "netns", "exec", J_NS, mutexd, "--config", path],
                    stdout=open(f"{work}/mutexd.log", "ab"), stderr=subprocess.STDOUT)
                time.sleep(2)
            load(flows, args.j_warm)  # the policy watches this load (it acts within a few windows)
            if how == "on":
                state[key] = (param_read("perf_cache_size"), param_read("perf_batch_size"))
            return None
        return prepare

    try:
        for key, label, flows in J_SHAPES:
            flows = args.j_flows if flows is None else flows
            label = label.format(n=f"{flows:,}")
            unit = "Gbit/s" if not flows else "pkts/s"
            s = f"J  run-time tuning, {key}: {label}, steered by mutexd with tuning on and off, and nftables"
            va = Variant(f"J.{key}.a", f"J  {key} (a) tuning off: perf_cache_size 1024, perf_batch_size 32 (defaults)",
                         variant(key, flows, "off"), lambda f=flows: load(f, args.j_secs))
            vb = Variant(f"J.{key}.b", f"J  {key} (b) tuning on (mutexd, every 1 s, default bounds)",
                         variant(key, flows, "on"), lambda f=flows: load(f, args.j_secs))
            vc = Variant(f"J.{key}.c", f"J  {key} (c) nftables redirect, module configuration empty",
                         variant(key, flows, "nft"), lambda f=flows: load(f, args.j_secs))
            log(f"J {key}: {label}")
            measure_interleaved([va, vb, vc], args.reps, args.warmups)
            for v in (va, vb, vc):
                rep.value(s, v, unit)
            ma, mb = med(va), med(vb)
            if ma and mb and flows:
                rep.raw(s, f"J  {key} per-packet cost, tuning off / on (guest ns per datagram, sender included)",
                        f"{1e9 / ma:.0f} / {1e9 / mb:.0f}", "ns")
            chosen = state.get(key, ("?", "?"))
            rep.raw(s, f"J  {key} parameters the tuning chose (cache, batch) after the warm-up",
                    f"{chosen[0]}, {chosen[1]}", "", "the log: /tmp/bench-tuning/mutexd.log in the VM")
            rep.ratio(f"J  {key} b/a   throughput, tuning on / off", vb, va, 1.0)
            rep.ratio(f"J  {key} b/c   throughput, tuning on / nftables", vb, vc)
    finally:
        stop()
        iperf_server.kill()
        run(["ip", "netns", "del", J_NS])


def main():
    global tsc, tsm
    ap = argparse.ArgumentParser()
    ap.add_argument("--module", required=True, help="directory with mutex_proxy.ko")
    ap.add_argument("--vmtests", required=True, help="tests/vm of the source measured (genl helpers)")
    ap.add_argument("--tool", required=True, help="the connrate binary")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--warmups", type=int, default=1)
    ap.add_argument("--iperf-secs", type=int, default=3)
    ap.add_argument("--rate-secs", type=float, default=2)
    ap.add_argument("--a-rules", type=int, default=1000)
    ap.add_argument("--b-small", type=int, default=10)
    ap.add_argument("--b-large", type=int, default=10000)
    ap.add_argument("--flows", type=int, default=2000)
    ap.add_argument("--slab", default="mutex_proxy_flow")
    ap.add_argument("--f-held", type=int, default=100)
    ap.add_argument("--g-shapes", default="", help="section G: comma-separated shapes (default all)")
    ap.add_argument("--h-flows", type=int, default=1000000, help="section H: flows in the table")
    ap.add_argument("--h-window", type=int, default=64, help="section H: idle window, guest seconds")
    ap.add_argument("--mutexctl", default="", help="a mutexctl binary (section H)")
    ap.add_argument("--i-rules", type=int, default=10000, help="section I: rules for the scrape")
    ap.add_argument("--i-window", type=float, default=30, help="section I: idle window, guest s")
    ap.add_argument("--i-scrapes", type=int, default=9, help="section I: scrapes timed")
    ap.add_argument("--j-flows", type=int, default=8000, help="section J: flows of the load")
    ap.add_argument("--j-warm", type=float, default=8, help="section J: warm-up, guest s")
    ap.add_argument("--j-secs", type=float, default=4, help="section J: measured load, guest s")
    ap.add_argument("--sections", default="ABCDEFGHIJ")
    ap.add_argument("--header", action="append", default=[])
    args = ap.parse_args()
    sys.path.insert(0, os.path.abspath(args.vmtests))
    import test_steering_config
    import test_steering_mutexctl
    tsc, tsm = test_steering_config, test_steering_mutexctl

    t0 = time.monotonic()
    mod = Module(args.module)
    rep = Report()

    def header():
        h = list(args.header)
        h.append(f"guest: {os.uname().release}, {os.cpu_count()} CPU, {time.monotonic() - t0:.0f} s guest time "
                 "(idle leaps included); parameters at the end: "
                 + ", ".join(f"{k}={param_read(k)}" for k in ("perf_enable_batching", "perf_batch_size",
                                                             "perf_cache_size", "perf_enable_accounting",
                                                             "max_conns")))
        h.append(f"runs: {args.warmups} warm-up discarded + {args.reps} measured per variant, interleaved; "
                 f"iperf3 {args.iperf_secs} s, connect loop {args.rate_secs} s; median, +-half the range")
        return h

    with Section("setup"):
        setup_net()
        servers = start_servers(args.tool)
    try:
        for sec in args.sections:
            with Section(sec):
                if sec == "A":
                    section_a(mod, rep, args)
                elif sec == "B":
                    section_b(mod, rep, args, args.tool)
                elif sec == "C":
                    section_c(mod, rep, args)
                elif sec == "D":
                    section_d(mod, rep, args, args.tool)
                elif sec == "E":
                    section_e(mod, rep, args)
                elif sec == "F":
                    section_f(mod, rep, args, args.tool)
                elif sec == "G":
                    section_g(mod, rep, args, args.tool)
                elif sec == "H":
                    section_h(mod, rep, args, args.tool, args.mutexctl)
                elif sec == "I":
                    section_i(mod, rep, args, args.tool, args.mutexctl)
                elif sec == "J":
                    section_j(mod, rep, args, args.tool, args.mutexctl)
            rep.save(header())
    finally:
        for p in servers:
            p.kill()
    rep.print(header())
    mod.unload()


if __name__ == "__main__":
    main()
