# SPDX-License-Identifier: GPL-2.0
"""A structure-aware fuzzer of the generic netlink family, under traffic.

Every request starts valid-shaped (what mutexctl or mutexd would send: a SET_CONFIG of pools
and rules at the current generation, a SET_PARAMS of allowed values, a GET_ORIGDST of a
5-tuple, the read commands, FLUSH_FLOWS) and is then perturbed: values (random, boundaries),
sizes (an attribute cut short, grown, a string without its NUL), counts (an attribute
repeated, dropped, a nest repeated past a limit), nesting (NLA_F_NESTED cleared, a leaf put
in a nest, an attribute moved into another nest, unknown types, deep nests). Messages stay
well framed, so the kernel answers every one.

After each request: a refused one changed nothing (same generation, same configuration
without its counters, same parameters); an accepted SET_CONFIG gave the next generation and
reads back. Datagrams run through a redirect the whole time; the harness fails the lane on
any kernel warning, KASAN, lockdep or kmemleak report.

Bounded by time (FUZZ_SECONDS, twice as long on the debug lane) and by count. The seed is
printed; MUTEX_FUZZ_SEED replays a run.
"""
import errno
import os
import random
import socket
import struct
import threading
import time

from guest import PATIENCE, PARAMS, check, check_eq, run
from test_steering_config import (
    A_FLOW, A_GENERATION, A_PARAMS, A_POOL, A_RULE, ACT_BYPASS, ACT_DNAT, ACT_DROP,
    ACT_REDIRECT, BE_A_ADDR, BE_A_FAMILY, BE_A_PORT, BE_A_PRIORITY, BE_A_STATE, BE_A_WEIGHT,
    CMD_GET_CONFIG, CMD_GET_INFO, CMD_GET_ORIGDST, CMD_SET_CONFIG, CMD_SET_PARAMS,
    FLOW_A_FAMILY, FLOW_A_PROTO, NL, NLA_F_NESTED, POOL_A_BACKEND, POOL_A_FAILURE_MODE,
    POOL_A_NAME, POOL_A_SCHEDULER, R_ACTION, R_CGROUP, R_DPORT_MAX, R_DPORT_MIN, R_DST_ADDR,
    R_DST_PLEN, R_FAMILY, R_GID_MAX, R_GID_MIN, R_IIF, R_MARK_MASK, R_MARK_VALUE, R_NAME,
    R_OIF, R_POOL, R_PROTO, R_SPORT_MAX, R_SPORT_MIN, R_SRC_ADDR, R_SRC_PLEN, R_TO_PORT,
    R_UID_MAX, R_UID_MIN, attrs, get_config)

FUZZ_SECONDS = 20 * (2 if os.environ.get("VM_LANE") == "debug" else 1)
FUZZ_MAX = 20000
CMD_GET_STATS, CMD_GET_FLOWS, CMD_FLUSH_FLOWS = 2, 6, 8
FLOW_A_SRC_ADDR, FLOW_A_SRC_PORT, FLOW_A_DST_ADDR, FLOW_A_DST_PORT = 4, 5, 6, 7
# counters that move with traffic: a backend's ACTIVE_FLOWS, TOTAL_FLOWS, PKTS, BYTES,
# PKTS_REPLY, BYTES_REPLY and a rule's PAD and MATCHES
BE_COUNTERS = (8, 9, 10, 11, 12, 13)
RULE_COUNTERS = (24, 25)
NLM_F_DUMP = 0x300
MSG_MAX = 4 << 20  # perturbations compound; larger requests are not sent
TRAFFIC_PORT, PROXY_PORT = 9999, 19999
SYSFS = "/sys/module/mutex_proxy/parameters"
CMD_NAMES = {CMD_GET_INFO: "GET_INFO", CMD_GET_STATS: "GET_STATS", CMD_SET_PARAMS: "SET_PARAMS",
             CMD_SET_CONFIG: "SET_CONFIG", CMD_GET_CONFIG: "GET_CONFIG",
             CMD_GET_FLOWS: "GET_FLOWS", CMD_GET_ORIGDST: "GET_ORIGDST",
             CMD_FLUSH_FLOWS: "FLUSH_FLOWS"}

# A tree node: (type, bytes) for a leaf, (type, [children]) for a nest; a set NLA_F_NESTED
# bit is part of the type.


def leaf(t, fmt, v):
    return (t, struct.pack(fmt, v))


def enc(nodes):
    out = b""
    for t, v in nodes:
        body = enc(v) if isinstance(v, list) else v
        n = 4 + len(body)
        out += struct.pack("HH", n & 0xffff, t & 0xffff) + body + b"\0" * ((4 - n % 4) % 4)
    return out


def nest(t, children):
    return (t | NLA_F_NESTED, children)


def addr(rng, family):
    if family == socket.AF_INET:
        return socket.inet_pton(family, f"192.0.2.{rng.randrange(1, 255)}")
    return socket.inet_pton(family, f"2001:db8::{rng.randrange(1, 0xffff):x}")


def gen_backend(rng, local):
    kids = [leaf(BE_A_PORT, "H", rng.randrange(1, 65536))]
    if not local:
        fam = rng.choice((socket.AF_INET, socket.AF_INET6))
        kids = [leaf(BE_A_FAMILY, "B", fam), (BE_A_ADDR, addr(rng, fam))] + kids
    if rng.random() < 0.5:
        kids.append(leaf(BE_A_WEIGHT, "I", rng.randrange(1, 65536)))
    if rng.random() < 0.3:
        kids.append(leaf(BE_A_PRIORITY, "B", rng.randrange(256)))
    if rng.random() < 0.3:
        kids.append(leaf(BE_A_STATE, "B", rng.randrange(3)))
    return nest(POOL_A_BACKEND, kids)


def gen_pool(rng, i, local):
    kids = [(POOL_A_NAME, f"p{i}".encode() + b"\0"),
            leaf(POOL_A_SCHEDULER, "B", rng.randrange(5)),
            leaf(POOL_A_FAILURE_MODE, "B", rng.randrange(2))]
    kids += [gen_backend(rng, local) for _ in range(rng.randrange(4))]
    return nest(A_POOL, kids)


def gen_rule(rng, pools):
    kids = []
    fam = rng.choice((0, socket.AF_INET, socket.AF_INET6))
    if rng.random() < 0.3:
        kids.append((R_NAME, f"r{rng.randrange(100)}".encode() + b"\0"))
    if fam:
        kids.append(leaf(R_FAMILY, "B", fam))
        if rng.random() < 0.6:
            plen = rng.randrange(33 if fam == socket.AF_INET else 129)
            a = bytearray(addr(rng, fam))
            for bit in range(plen, len(a) * 8):  # no bit beyond the prefix
                a[bit // 8] &= ~(0x80 >> (bit % 8)) & 0xff
            kids += [(R_DST_ADDR, bytes(a)), leaf(R_DST_PLEN, "B", plen)]
        if rng.random() < 0.2:
            kids += [(R_SRC_ADDR, bytes(len(addr(rng, fam)))), leaf(R_SRC_PLEN, "B", 0)]
    proto = rng.choice((0, socket.IPPROTO_TCP, socket.IPPROTO_UDP))
    if proto:
        kids.append(leaf(R_PROTO, "B", proto))
    for lo_t, hi_t, fmt, top in ((R_DPORT_MIN, R_DPORT_MAX, "H", 65535),
                                 (R_SPORT_MIN, R_SPORT_MAX, "H", 65535),
                                 (R_UID_MIN, R_UID_MAX, "I", (1 << 32) - 1),
                                 (R_GID_MIN, R_GID_MAX, "I", (1 << 32) - 1)):
        if rng.random() < 0.3:
            lo = rng.randrange(1, top)
            kids += [leaf(lo_t, fmt, lo), leaf(hi_t, fmt, rng.randrange(lo, top + 1))]
    if rng.random() < 0.2:
        mask = rng.randrange(1, 1 << 32)
        kids += [leaf(R_MARK_VALUE, "I", rng.getrandbits(32) & mask), leaf(R_MARK_MASK, "I", mask)]
    if rng.random() < 0.1:
        kids.append(leaf(R_OIF, "I", rng.randrange(1, 4)))
    if rng.random() < 0.1:
        kids.append((R_CGROUP, rng.choice((b"/", b"/fuzz.slice", b"/system.slice/x.service"))
                     + b"\0"))
    act = rng.choice((ACT_REDIRECT, ACT_DNAT, ACT_BYPASS, ACT_DROP))
    kids.append(leaf(R_ACTION, "B", act))
    if act == ACT_REDIRECT:
        kids.append(leaf(R_TO_PORT, "H", rng.randrange(1, 65536)))
    elif act == ACT_DNAT and pools:
        kids.append(leaf(R_POOL, "I", rng.randrange(pools)))
    return nest(A_RULE, kids)


def gen_set_config(rng, generation):
    npools = rng.randrange(4)
    items = [gen_pool(rng, i, rng.random() < 0.5) for i in range(npools)]
    items += [gen_rule(rng, npools) for _ in range(rng.randrange(7))]
    gen = generation if rng.random() < 0.9 else rng.choice((0, generation + 1, 1 << 63))
    return CMD_SET_CONFIG, [leaf(A_GENERATION, "Q", gen)] + items


def gen_set_params(rng):
    good = {1: (0, 1), 2: (1, 32, 256), 3: (0, 64, 1024, 4096), 4: (1024, 65536), 5: (0, 1)}
    kids = [leaf(t, "I", rng.choice(v)) for t, v in good.items() if rng.random() < 0.4]
    return CMD_SET_PARAMS, [nest(A_PARAMS, kids)]


def gen_origdst(rng):
    fam = rng.choice((socket.AF_INET, socket.AF_INET6))
    return CMD_GET_ORIGDST, [nest(A_FLOW, [
        leaf(FLOW_A_FAMILY, "B", fam), leaf(FLOW_A_PROTO, "B", rng.choice((6, 17))),
        (FLOW_A_SRC_ADDR, addr(rng, fam)), leaf(FLOW_A_SRC_PORT, "H", rng.randrange(1, 65536)),
        (FLOW_A_DST_ADDR, addr(rng, fam)), leaf(FLOW_A_DST_PORT, "H", rng.randrange(1, 65536))])]


def gen_request(rng, generation):
    r = rng.random()
    if r < 0.5:
        return gen_set_config(rng, generation)
    if r < 0.65:
        return gen_set_params(rng)
    if r < 0.8:
        return gen_origdst(rng)
    return rng.choice((CMD_GET_INFO, CMD_GET_STATS, CMD_GET_CONFIG, CMD_GET_FLOWS,
                       CMD_FLUSH_FLOWS, 0, 9, 200)), []


# ---- perturbations ----

def all_nodes(nodes, parent=None):
    """(list holding the node, index) for every node, depth first."""
    out = []
    for i, (t, v) in enumerate(nodes):
        out.append((nodes, i))
        if isinstance(v, list):
            out += all_nodes(v)
    return out


def boundary(rng, n):
    if n == 0:
        return b""
    v = rng.choice((0, 1, 2, 0x7f, 0x80, 0xff, (1 << 8 * n) - 1, (1 << 8 * n) - 2,
                    1 << (8 * n - 1), rng.getrandbits(8 * n)))
    return (v & ((1 << 8 * n) - 1)).to_bytes(n, "little")


def perturb(rng, nodes, state):
    """One perturbation; at most one per request multiplies the size (state["big"])."""
    where = all_nodes(nodes)
    if not where:
        nodes.append((rng.randrange(1, 40), boundary(rng, rng.choice((1, 2, 4, 8)))))
        return
    lst, i = rng.choice(where)
    t, v = lst[i]
    kind = rng.randrange(10)
    if kind == 0 and not isinstance(v, list):            # value: boundary or random
        lst[i] = (t, boundary(rng, len(v)))
    elif kind == 1 and not isinstance(v, list):          # size: cut short or grown
        lst[i] = (t, v[:rng.randrange(len(v))] if v and rng.random() < 0.5
                  else v + os.urandom(rng.randrange(1, 9)))
    elif kind == 2 and not isinstance(v, list) and v.endswith(b"\0"):
        lst[i] = (t, v[:-1] + b"x" * rng.choice((1, 40, 300)))  # string without its NUL
    elif kind == 3:                                       # count: repeat
        n = rng.choice((1, 2, 300))
        if n == 300:
            n = 1 if state["big"] else 300
            state["big"] = True
        lst[i + 1:i + 1] = [lst[i]] * n
    elif kind == 4:                                       # count: drop
        del lst[i]
    elif kind == 5:                                       # nesting: flag cleared or set
        lst[i] = (t ^ NLA_F_NESTED, v)
    elif kind == 6:                                       # nesting: a leaf in a nest
        lst[i] = nest(t & ~NLA_F_NESTED, [(t, v)]) if not isinstance(v, list) else \
            nest(t, [nest(t, v)])
    elif kind == 7:                                       # nesting: moved elsewhere
        inside = {id(x) for x, _ in all_nodes([lst[i]])}  # never into itself
        dests = [x for x, _ in where if id(x) not in inside or x is lst]
        node = lst.pop(i)
        dest = rng.choice(dests)
        dest.insert(rng.randrange(len(dest) + 1), node)
    elif kind == 8:                                       # unknown or out-of-range types
        lst.insert(i, (rng.choice((0, 24, 25, 63, 0x3fff, 0x7fff)),
                       boundary(rng, rng.choice((0, 1, 2, 4, 8)))))
    else:                                                 # a nest repeated past its limit
        if isinstance(v, list) and v and not state["big"]:
            state["big"] = True
            v.extend([v[0]] * 300)
        else:
            lst[i] = (t, boundary(rng, len(v)))


# ---- the kernel's side ----

class FuzzNL(NL):
    def request(self, cmd, nodes, flags=5, version=1):
        """Sends one well-framed request; returns the errno of its answer (0: accepted), or
        None for a request too large to send."""
        self.seq += 1
        body = struct.pack("BBH", cmd, version, 0) + enc(nodes)
        if len(body) > MSG_MAX:
            return None
        return self.exchange(struct.pack("IHHII", 16 + len(body), self.fam, flags, self.seq, 0)
                             + body)[0]


def config_view(nl):
    """(generation, pools and rules without the counters that move with traffic)."""
    gen, items = get_config(nl)
    view = []
    for t, v in items:
        if t == A_POOL:
            v = tuple((a, b if a != POOL_A_BACKEND else
                       tuple((c, d) for c, d in attrs(b) if c not in BE_COUNTERS))
                      for a, b in attrs(v))
        elif t == A_RULE:
            v = tuple((a, b) for a, b in attrs(v) if a not in RULE_COUNTERS)
        view.append((t, v))
    return gen, view


def params_view():
    out = {}
    for p in PARAMS:
        with open(f"{SYSFS}/{p}") as f:
            out[p] = f.read().strip()
    return out


def traffic(stop, sent):
    """Datagrams to 192.0.2.77:TRAFFIC_PORT (redirected to PROXY_PORT while the base
    configuration holds) until stop is set."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(("0.0.0.0", PROXY_PORT))
    srv.setblocking(False)
    cli = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    while not stop.is_set():
        for _ in range(8):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # a new flow each time
            try:
                s.sendto(b"x" * 64, ("192.0.2.77", TRAFFIC_PORT))
                sent[0] += 1
            except OSError:
                pass
            s.close()
        try:
            cli.sendto(b"y", ("192.0.2.77", TRAFFIC_PORT))
            while True:
                srv.recv(2048)
        except OSError:
            pass
        time.sleep(0.001)


BASE = [leaf(A_GENERATION, "Q", 0),
        nest(A_RULE, [leaf(R_FAMILY, "B", socket.AF_INET), leaf(R_PROTO, "B", 17),
                      (R_DST_ADDR, socket.inet_pton(socket.AF_INET, "192.0.2.77")),
                      leaf(R_DST_PLEN, "B", 32), leaf(R_DPORT_MIN, "H", TRAFFIC_PORT),
                      leaf(R_DPORT_MAX, "H", TRAFFIC_PORT), leaf(R_ACTION, "B", ACT_REDIRECT),
                      leaf(R_TO_PORT, "H", PROXY_PORT)])]


def test_fuzz_load(env):
    if not env.loaded():
        env.load()
    run(["ip", "route", "replace", "192.0.2.0/24", "dev", "lo", "src", "127.0.0.1"], check_rc=0)


def test_fuzz_netlink_under_traffic(env):
    seed = int(os.environ.get("MUTEX_FUZZ_SEED") or time.time_ns() % (1 << 32))
    print(f"fuzz seed {seed} (MUTEX_FUZZ_SEED={seed} replays it), {FUZZ_SECONDS} s")
    rng = random.Random(seed)
    nl = FuzzNL()
    nl.big()
    nl.s.settimeout(4 * PATIENCE)
    params0 = params_view()
    gen, _ = config_view(nl)
    base = list(BASE)
    base[0] = leaf(A_GENERATION, "Q", gen)
    check_eq(nl.request(CMD_SET_CONFIG, base), 0, "base configuration")
    stop, sent = threading.Event(), [0]
    th = threading.Thread(target=traffic, args=(stop, sent), daemon=True)
    th.start()
    counts = {"sent": 0, "accepted": 0, "refused": 0}
    answers = {}
    try:
        before, params = config_view(nl), params_view()
        t_end = time.monotonic() + FUZZ_SECONDS
        while time.monotonic() < t_end and counts["sent"] < FUZZ_MAX:
            cmd, nodes = gen_request(rng, before[0])
            state = {"big": False}
            for _ in range(rng.choice((0, 1, 1, 2, 3))):
                perturb(rng, nodes, state)
            flags = 5 | (NLM_F_DUMP if cmd in (CMD_GET_FLOWS, CMD_GET_CONFIG)
                         and rng.random() < 0.5 else 0)
            version = 1 if rng.random() < 0.95 else rng.choice((0, 2, 255))
            try:
                err = nl.request(cmd, nodes, flags, version)
            except socket.timeout:
                raise AssertionError(f"no answer to command {cmd} (seed {seed})")
            if err is None:
                continue
            counts["sent"] += 1
            counts["accepted" if not err else "refused"] += 1
            key = f"{CMD_NAMES.get(cmd, cmd)}:{errno.errorcode.get(err, err) if err else 'ok'}"
            answers[key] = answers.get(key, 0) + 1
            after, params_after = config_view(nl), params_view()
            if cmd == CMD_SET_CONFIG and not err:
                check_eq(after[0], before[0] + 1, f"generation after an accepted SET_CONFIG "
                                                  f"(seed {seed})")
            elif cmd == CMD_SET_PARAMS and not err:
                check_eq(after, before, f"configuration after SET_PARAMS (seed {seed})")
            else:
                check_eq(after, before, f"configuration after a {'refused' if err else ''} "
                                        f"command {cmd}, errno {err} (seed {seed})")
                check_eq(params_after, params, f"parameters after command {cmd}, errno {err} "
                                               f"(seed {seed})")
            before, params = after, params_after
    finally:
        stop.set()
        th.join(timeout=4 * PATIENCE)
    print(f"fuzz: {counts}; {sent[0]} datagrams beside; answers: "
          + ", ".join(f"{k} {v}" for k, v in sorted(answers.items())))
    check(counts["refused"] > counts["sent"] // 4, f"too few refusals to be fuzzing: {counts}")
    check(counts["accepted"] > 0, f"nothing accepted: {counts}")
    # Leave things as they were for the next file.
    err = nl.request(CMD_SET_CONFIG, [leaf(A_GENERATION, "Q", before[0])])
    check_eq(err, 0, "empty configuration at the end")
    for p, v in params0.items():
        check_eq(env.sysfs_write(p, v), 0, f"restore {p}")
    nl.s.close()


def test_fuzz_unload(env):
    env.unload()
    check(not env.loaded(), "module still loaded after rmmod")
