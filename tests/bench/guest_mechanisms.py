#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""In-guest half of the mechanism benchmark (tests/bench/mechanisms.sh boots a
two-CPU VM and runs this as root inside it; see tests/bench/README.md).

Loads the benchmark build of mutex_proxy.ko (MUTEX_PROXY_BENCH=y) and drives
/sys/kernel/debug/mutex_proxy/bench (kmod/bench.c): each mechanism against
what it replaces, on one CPU and on two CPUs at once, variants interleaved
(one calibration run each, then REPS rounds in ABBA order), medians of ns per
operation per CPU. Prints progress and the report between "@@report-begin"
and "@@report-end".
"""
import argparse
import os
import socket
import statistics
import sys
import time

TRIGGER = "/sys/kernel/debug/mutex_proxy/bench"
STEERED_IP, STEERED_PORT = "198.51.100.1", 7000


def log(*a):
    print(*a, flush=True)


def trigger(cmd):
    """Runs one command; returns its result line as {key: value} (ns: a list)."""
    with open(TRIGGER, "w") as f:
        f.write(cmd)
    with open(TRIGGER) as f:
        line = f.read().strip()
    words = line.split()
    out = {"case": " ".join(words[:2])}
    for w in words[2:]:
        k, _, v = w.partition("=")
        out[k] = [int(x) for x in v.split(",")] if k == "ns" else int(v)
    if out["case"] != " ".join(cmd.split()[:2]) or len(out["ns"]) != out["cpus"]:
        raise RuntimeError(f"bench trigger: {cmd!r} gave {line!r}")
    return out


class Variant:
    """One command at one CPU count; ops calibrated so a run takes about target_s."""

    def __init__(self, group, label, case, variant, cpus, args=""):
        self.group, self.label, self.cpus = group, label, cpus
        self.case, self.variant, self.args = case, variant, args
        self.ops = 0
        self.values = []  # ns per operation per CPU, one per measured run
        self.last = None

    def command(self, ops):
        return f"{self.case} {self.variant} {self.cpus} {ops} {self.args}".strip()

    def run(self, ops):
        r = trigger(self.command(ops))
        if r.get("fails"):
            raise RuntimeError(f"{self.command(ops)}: {r['fails']} allocations failed")
        self.last = r
        return statistics.mean(r["ns"]) / ops

    def calibrate(self, target_s):
        ops = 4096
        while True:
            per_op = self.run(ops)
            if per_op * ops >= 0.05e9 or ops >= 50_000_000:
                break
            ops *= 8
        self.ops = max(4096, min(50_000_000, int(target_s * 1e9 / per_op) // 16 * 16))
        log(f"  calibrated {self.label} cpus={self.cpus}: {per_op:.1f} ns/op -> {self.ops} ops per run")


def measure(variants, reps, target_s):
    for v in variants:
        v.calibrate(target_s)
    for r in range(reps):
        for v in (variants if r % 2 == 0 else variants[::-1]):
            x = v.run(v.ops)
            v.values.append(x)
            extra = ""
            if v.last.get("hits") or v.last.get("misses"):
                h, m = v.last["hits"], v.last["misses"]
                extra = f" (cache hit rate {100.0 * h / max(1, h + m):.1f}%)"
            log(f"  rep {r + 1}/{reps} {v.label} cpus={v.cpus}: {x:.1f} ns/op{extra}")


def med(v):
    return statistics.median(v.values)


def spread(v):
    return 50.0 * (max(v.values) - min(v.values)) / med(v) if len(v.values) > 1 else 0.0


def apply_config(tsc, tsm, n_rules):
    """init_net: n_rules rules of the common shape, the last one DNATing
    198.51.100.0/24 port 7000 (the flow classified) to a pool."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import guest_bench
    guest_bench.tsc, guest_bench.tsm = tsc, tsm
    nl = tsc.NL()
    nl.big()
    gen, _ = tsc.get_config(nl)
    err, _, ext = tsc.set_config(nl, gen, *guest_bench.steer_config(n_rules, STEERED_PORT))
    if err:
        raise RuntimeError(f"SET_CONFIG: {os.strerror(err)}: {tsc.msg(ext)}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--module", required=True, help="directory with the benchmark build of mutex_proxy.ko")
    ap.add_argument("--vmtests", required=True, help="tests/vm of the source measured (genl helpers)")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--target", type=float, default=0.25, help="seconds per run (calibrated)")
    ap.add_argument("--fill", type=int, default=100000, help="flows in the table beside the working set")
    ap.add_argument("--rules", type=int, default=10000, help="rules of the configuration classified")
    ap.add_argument("--header", action="append", default=[])
    args = ap.parse_args()
    sys.path.insert(0, os.path.abspath(args.vmtests))
    import test_steering_config as tsc
    import test_steering_mutexctl as tsm

    # Two vCPUs on two host threads (--mttcg): static keys flipped by hooks coming and going
    # race qemu (tests/vm/README.md, "Netfilter hooks stay pinned"); pinned, none flips here.
    if os.system(f"nft -f {os.path.join(os.path.abspath(args.vmtests), 'pin-hooks.nft')}"):
        raise SystemExit("cannot pin the netfilter hooks")
    ko = os.path.join(args.module, "mutex_proxy.ko")
    for dep in filter(None, os.popen(f"modinfo -F depends {ko}").read().strip().split(",")):
        os.system(f"modprobe {dep}")
    if os.system(f"insmod {ko}"):
        raise SystemExit("cannot load the benchmark module")
    if not os.path.exists(TRIGGER):
        raise SystemExit(f"{TRIGGER} is missing: not a benchmark build (MUTEX_PROXY_BENCH=y)?")
    with open("/proc/sys/net/netfilter/nf_conntrack_max", "w") as f:
        f.write("2000000")
    apply_config(tsc, tsm, args.rules)
    t0 = time.monotonic()
    cpus = [1, 2] if os.cpu_count() >= 2 else [1]

    groups = []  # (title, claim, [(label, numerator variant, denominator variant)], variants)
    fill = args.fill

    def group(title, claim, makers, ratios):
        vs = {}
        for n in cpus:
            for key, (label, case, variant, a) in makers.items():
                vs[key, n] = Variant(title, label, case, variant, n, a)
        log(f"{title}:")
        measure(list(vs.values()), args.reps, args.target)
        groups.append((title, claim, vs, ratios))

    for flows, extra in ((64, fill), (64, fill // 10), (8192, fill)):
        a = f"{flows} {extra}"
        group(f"cache: {flows} flows in turn, {flows + extra} in the table",
              "per-CPU cache 3-10x for lookups",
              {"hit": ("per packet, cache of 4096", "cache", "hit", a),
               "table": ("per packet, no cache (table lookup)", "cache", "table", a),
               "lookup": ("table lookup alone", "cache", "lookup", a)},
              [("no cache / cache", "table", "hit")])
    group("slab: allocate and free one flow (bursts of 16)", "slab cache 10-20x for allocation",
          {"slab": ("flows' kmem_cache", "slab", "slab", ""),
           "kmalloc": ("kmalloc() of the same size", "slab", "kmalloc", "")},
          [("kmalloc / slab", "kmalloc", "slab")])
    for read in ("peek", "classify"):
        what = "the rule count" if read == "peek" else f"classify a flow ({args.rules} rules, the last matches)"
        a = f"{read} {STEERED_IP} {STEERED_PORT}"
        group(f"snapshot: read {what}", "RCU 2-5x for read-heavy configuration",
              {"rcu": ("rcu_read_lock()", "snapshot", "rcu", a),
               "rwlock": ("read_lock()", "snapshot", "rwlock", a),
               "spinlock": ("spin_lock_bh()", "snapshot", "spinlock", a)},
              [("rwlock / rcu", "rwlock", "rcu"), ("spinlock / rcu", "spinlock", "rcu")])
    group("batch: packets of one bulk flow (2 CPUs: one direction each)", "batching 2-3x for bulk traffic",
          {"on": ("batches of 32", "batch", "on", ""),
           "off": ("every packet folded at once", "batch", "off", "")},
          [("off / on", "off", "on")])

    out = list(args.header)
    out.append(f"guest: {os.uname().release}, {os.cpu_count()} CPUs, {time.monotonic() - t0:.0f} s; "
               f"{args.reps} runs per variant after a calibration run, interleaved (ABBA); "
               "median ns per operation per CPU, +-half the range")
    out.append("")
    for title, claim, vs, ratios in groups:
        out.append(f"{title}   [claim: {claim}]")
        for n in cpus:
            for key in dict.fromkeys(k for k, _ in vs):
                v = vs[key, n]
                out.append(f"   {v.label:<42} cpus={n}  {med(v):9.1f} ns/op  +-{spread(v):4.1f}%  "
                           f"[{' '.join(f'{x:.1f}' for x in v.values)}]")
        for label, num, den in ratios:
            parts = [f"{n} CPU{'s' if n > 1 else ''}: {med(vs[num, n]) / med(vs[den, n]):.2f}" for n in cpus]
            out.append(f"   ratio {label:<36} {', '.join(parts)}")
        out.append("")
    log("@@report-begin")
    for line in out:
        log(line)
    log("@@report-end")
    os.system("rmmod mutex_proxy")


if __name__ == "__main__":
    main()
