# SPDX-License-Identifier: GPL-2.0
"""VM tests of the configuration API (MUTEX_CMD_SET_CONFIG / GET_CONFIG):
replace and read back, generations, validation with extack messages,
permissions per namespace, unload with a configuration in place.

Runs after test_module.py (which unloads the module at its end): the first
case loads the module, the last unloads it. Speaks generic netlink itself
(mutexctl has no `config apply` yet); run as a script it is a small client
used for the cases that need another user or namespace:
    python3 test_steering_config.py get | set GEN
"""
import errno
import os
import socket
import struct
import subprocess
import sys

if __name__ != "__main__":
    from guest import Failure, check, check_eq, run

# ---- UAPI numbers (include/uapi/linux/mutex_proxy.h) ----
CMD_GET_INFO, CMD_SET_CONFIG, CMD_GET_CONFIG = 1, 4, 5
A_API_VERSION, A_FEATURES, A_GENERATION, A_POOL, A_RULE = 3, 4, 8, 9, 10
POOL_A_NAME, POOL_A_SCHEDULER, POOL_A_FAILURE_MODE, POOL_A_BACKEND = 1, 2, 3, 4
BE_A_FAMILY, BE_A_ADDR, BE_A_PORT, BE_A_WEIGHT, BE_A_PRIORITY, BE_A_STATE = 2, 3, 4, 5, 6, 7
BE_A_ACTIVE, BE_A_TOTAL = 8, 9
(R_NAME, R_FAMILY, R_PROTO, R_DST_ADDR, R_DST_PLEN, R_DPORT_MIN, R_DPORT_MAX,
 R_SRC_ADDR, R_SRC_PLEN, R_SPORT_MIN, R_SPORT_MAX, R_UID_MIN, R_UID_MAX,
 R_GID_MIN, R_GID_MAX, R_CGROUP, R_MARK_VALUE, R_MARK_MASK, R_OIF, R_IIF,
 R_ACTION, R_TO_PORT, R_POOL) = range(1, 24)
ACT_REDIRECT, ACT_DNAT, ACT_BYPASS, ACT_DROP = range(4)
SCHED_WRR, FAIL_OPEN = 1, 1
FEATURE_CONFIG = 1 << 5

CMD_SET_PARAMS, CMD_GET_ORIGDST = 3, 7
A_PARAMS, A_FLOW = 6, 11
FLOW_A_FAMILY, FLOW_A_PROTO = 2, 3

NLA_F_NESTED = 0x8000
NLMSGERR_ATTR_MSG, NLMSGERR_ATTR_OFFS = 1, 2
NLMSGERR_ATTR_MISS_TYPE, NLMSGERR_ATTR_MISS_NEST = 5, 6


def attr(t, data):
    n = 4 + len(data)
    return struct.pack("HH", n, t) + data + b"\0" * ((4 - n % 4) % 4)


def nest(t, *parts):
    return attr(t | NLA_F_NESTED, b"".join(parts))


def u8(t, v):
    return attr(t, struct.pack("B", v))


def u16(t, v):
    return attr(t, struct.pack("H", v))


def u32(t, v):
    return attr(t, struct.pack("I", v))


def u64(t, v):
    return attr(t, struct.pack("Q", v))


def string(t, s):
    return attr(t, s.encode() + b"\0")


def attrs(b):
    """All attributes in order, as (type, payload)."""
    out = []
    while len(b) >= 4:
        n, t = struct.unpack("HH", b[:4])
        if n < 4:
            break
        out.append((t & 0x3fff, b[4:n]))
        b = b[(n + 3) & ~3:]
    return out


class NL:
    def __init__(self, bufsize=16 << 20):
        """bufsize: the size of every read (the kernel sizes a dump's first buffer from the
        largest read so far)."""
        self.bufsize = bufsize
        self.s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 16)
        self.s.setsockopt(270, 11, 1)  # NETLINK_EXT_ACK
        self.s.bind((0, 0))
        self.seq = 1
        err, reply, _ = self.req(0x10, 3, string(2, "mutex_proxy"))  # CTRL_CMD_GETFAMILY
        if err:
            raise OSError(-err, "mutex_proxy family not found")
        self.fam = struct.unpack("H", dict(attrs(reply))[1][:2])[0]

    def big(self):
        """Room for messages of megabytes in both directions."""
        self.s.setsockopt(socket.SOL_SOCKET, 32, 8 << 20)  # SO_SNDBUFFORCE
        self.s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE

    def frame(self, fam, cmd, payload=b""):
        """A request message (NLM_F_REQUEST | NLM_F_ACK)."""
        self.seq += 1
        body = struct.pack("BBH", cmd, 1, 0) + payload
        return struct.pack("IHHII", 16 + len(body), fam, 5, self.seq, 0) + body

    def req(self, fam, cmd, payload=b""):
        """Returns (errno or 0, reply attributes bytes, extack dict)."""
        return self.exchange(self.frame(fam, cmd, payload))

    def exchange(self, message):
        """Sends a framed request; returns as req(). Messages of other requests are skipped;
        a dump ends at its NLMSG_DONE (its reply is the last message's)."""
        self.s.send(message)
        want = struct.unpack("I", message[8:12])[0]
        reply = b""
        while True:
            data = self.s.recv(self.bufsize)
            off = 0
            while off < len(data):
                n, typ, fl, seq, _ = struct.unpack("IHHII", data[off:off + 16])
                m = data[off + 16:off + n]
                off += (n + 3) & ~3
                if seq != want:
                    continue
                if typ == 3:  # NLMSG_DONE
                    return (-struct.unpack("i", m[:4])[0] if len(m) >= 4 else 0), reply, {}
                if typ == 2:  # NLMSG_ERROR
                    err = -struct.unpack("i", m[:4])[0]
                    ext = {}
                    if fl & 0x200:  # NLM_F_ACK_TLVS
                        skip = 4 + (16 if fl & 0x100 else struct.unpack("I", m[4:8])[0])
                        ext = dict(attrs(m[skip:]))
                    return err, reply, ext
                reply = m[4:]

    def cmd(self, cmd, payload=b""):
        return self.req(self.fam, cmd, payload)


def msg(ext):
    return ext.get(NLMSGERR_ATTR_MSG, b"").rstrip(b"\0").decode()


def get_config(nl):
    err, reply, ext = nl.cmd(CMD_GET_CONFIG)
    if err:
        raise OSError(err, msg(ext))
    items = attrs(reply)
    gen = struct.unpack("Q", dict(items)[A_GENERATION])[0]
    return gen, [(t, v) for t, v in items if t in (A_POOL, A_RULE)]


def set_config(nl, gen, *items):
    """Pools and rules go at the top level of the message (not in a nest,
    which could not exceed 64 KiB)."""
    return nl.cmd(CMD_SET_CONFIG, u64(A_GENERATION, gen) + b"".join(items))


def backend(port, family=None, addr=None, weight=None, state=None):
    parts = []
    if family is not None:
        parts += [u8(BE_A_FAMILY, family), attr(BE_A_ADDR, socket.inet_pton(family, addr))]
    parts.append(u16(BE_A_PORT, port))
    if weight is not None:
        parts.append(u32(BE_A_WEIGHT, weight))
    if state is not None:
        parts.append(u8(BE_A_STATE, state))
    return nest(POOL_A_BACKEND, *parts)


def pool(name, *backends, sched=None, fail=None):
    parts = [string(POOL_A_NAME, name)]
    if sched is not None:
        parts.append(u8(POOL_A_SCHEDULER, sched))
    if fail is not None:
        parts.append(u8(POOL_A_FAILURE_MODE, fail))
    return nest(A_POOL, *parts, *backends)


def rule(*parts):
    return nest(A_RULE, *parts)


# A configuration like the one of a validator node.
GOOD = [
    pool("socks", backend(1080), backend(1081, weight=3), sched=SCHED_WRR),
    pool("sentries", backend(26656, socket.AF_INET, "192.0.2.10"),
         backend(26656, socket.AF_INET6, "2001:db8::10", state=2), fail=FAIL_OPEN),
    rule(string(R_NAME, "rpc"), u8(R_PROTO, socket.IPPROTO_TCP), u16(R_DPORT_MIN, 8545),
         u16(R_DPORT_MAX, 8545), u8(R_ACTION, ACT_BYPASS)),
    rule(u8(R_FAMILY, socket.AF_INET), attr(R_DST_ADDR, socket.inet_pton(socket.AF_INET, "10.0.0.0")),
         u8(R_DST_PLEN, 8), u8(R_ACTION, ACT_BYPASS)),
    rule(u8(R_PROTO, socket.IPPROTO_TCP), u16(R_DPORT_MIN, 26656), u16(R_DPORT_MAX, 26657),
         u32(R_UID_MIN, 1000), u32(R_UID_MAX, 1999), u32(R_MARK_VALUE, 0x10), u32(R_MARK_MASK, 0xff),
         u8(R_ACTION, ACT_DNAT), u32(R_POOL, 1)),
    rule(u8(R_PROTO, socket.IPPROTO_UDP), u8(R_ACTION, ACT_REDIRECT), u32(R_POOL, 0)),
    rule(u8(R_ACTION, ACT_REDIRECT), u16(R_TO_PORT, 12345)),
]


def test_config_load(env):
    if not env.loaded():
        env.load()
    nl = NL()
    err, reply, _ = nl.cmd(CMD_GET_INFO)
    check_eq(err, 0, "GET_INFO")
    a = dict(attrs(reply))
    api = struct.unpack("I", a[A_API_VERSION])[0]
    check(api >= 2, f"API version {api}: SET_CONFIG/GET_CONFIG need 2")
    check(struct.unpack("Q", a[A_FEATURES])[0] & FEATURE_CONFIG, "MUTEX_FEATURE_CONFIG missing")


def test_config_initially_empty(env):
    gen, cfg = get_config(NL())
    check_eq(gen, 0, "generation before any SET_CONFIG")
    check_eq(cfg, [], "configuration before any SET_CONFIG")


def test_config_set_and_read_back(env):
    nl = NL()
    err, reply, ext = set_config(nl, 0, *GOOD)
    check_eq(err, 0, f"SET_CONFIG refused: {msg(ext)}")
    check_eq(struct.unpack("Q", dict(attrs(reply))[A_GENERATION])[0], 1, "new generation")
    gen, cfg = get_config(nl)
    check_eq(gen, 1, "generation after SET_CONFIG")
    items = cfg
    check_eq([t for t, _ in items], [A_POOL] * 2 + [A_RULE] * 5, "pools then rules, in order")
    p1 = attrs(items[1][1])
    check_eq(p1[0], (POOL_A_NAME, b"sentries\0"), "pool name")
    check_eq(dict(p1)[POOL_A_FAILURE_MODE], b"\x01", "failure mode")
    bes = [dict(attrs(v)) for t, v in p1 if t == POOL_A_BACKEND]
    check_eq(len(bes), 2, "backends of pool sentries")
    check_eq(bes[1][BE_A_ADDR], socket.inet_pton(socket.AF_INET6, "2001:db8::10"), "IPv6 backend address")
    check_eq(bes[1][BE_A_STATE], b"\x02", "backend state drain")
    check_eq(struct.unpack("Q", bes[0][BE_A_TOTAL])[0], 0, "total flows of a new backend")
    check_eq(struct.unpack("I", bes[0][BE_A_WEIGHT])[0], 1, "default weight")
    r2 = dict(attrs(items[4][1]))
    check_eq(struct.unpack("I", r2[R_MARK_MASK])[0], 0xff, "mark mask")
    check_eq(struct.unpack("I", r2[R_POOL])[0], 1, "pool index")
    check(R_SRC_ADDR not in r2, "attribute not given comes back")
    check_eq(dict(attrs(items[2][1]))[R_NAME], b"rpc\0", "rule name")


def test_config_stale_generation_refused(env):
    nl = NL()
    err, _, ext = set_config(nl, 0, pool("other"))
    check_eq(err, errno.ESTALE, "SET_CONFIG with generation 0 after 1")
    check("configuration changed since" in msg(ext), f"stale message: {msg(ext)!r}")
    gen, cfg = get_config(nl)
    check_eq(gen, 1, "generation after a refused SET_CONFIG")
    check_eq(len(cfg), 7, "configuration after a refused SET_CONFIG")


BAD = [
    ("weight 0", [pool("p", backend(1, weight=0))], "weight"),
    ("weight 65536", [pool("p", backend(1, weight=65536))], "weight"),
    ("port 0", [pool("p", backend(0))], ""),
    ("bad pool name", [pool("a b")], "pool name"),
    ("duplicate pool", [pool("p"), pool("p")], "duplicate pool"),
    ("mixed pool", [pool("p", backend(1), backend(2, socket.AF_INET, "192.0.2.1"))], "mix"),
    ("prefix bits", [rule(u8(R_FAMILY, socket.AF_INET),
                          attr(R_DST_ADDR, socket.inet_pton(socket.AF_INET, "10.0.0.1")),
                          u8(R_DST_PLEN, 8), u8(R_ACTION, ACT_DROP))], "beyond the prefix"),
    ("prefix without family", [rule(attr(R_DST_ADDR, b"\x0a\0\0\0"), u8(R_DST_PLEN, 8),
                                    u8(R_ACTION, ACT_DROP))], "FAMILY"),
    ("port range reversed", [rule(u16(R_DPORT_MIN, 9), u16(R_DPORT_MAX, 8), u8(R_ACTION, ACT_DROP))], "range"),
    ("no action", [rule(u8(R_PROTO, socket.IPPROTO_TCP))], "ACTION"),
    ("action 9", [rule(u8(R_ACTION, 9))], ""),
    ("redirect without target", [rule(u8(R_ACTION, ACT_REDIRECT))], "redirect"),
    ("dnat to missing pool", [rule(u8(R_ACTION, ACT_DNAT), u32(R_POOL, 0))], "pool index"),
    ("dnat of both families to an IPv4 pool",
     [pool("p", backend(1, socket.AF_INET, "192.0.2.1")),
      rule(u8(R_ACTION, ACT_DNAT), u32(R_POOL, 0))], "both families"),
    ("dnat of IPv6 to an IPv4 pool",
     [pool("p", backend(1, socket.AF_INET, "192.0.2.1")),
      rule(u8(R_FAMILY, socket.AF_INET6), u8(R_ACTION, ACT_DNAT), u32(R_POOL, 0))],
     "rule's family"),
    ("uid with iif", [rule(u32(R_UID_MIN, 1), u32(R_UID_MAX, 1), u32(R_IIF, 1), u8(R_ACTION, ACT_DROP))],
     "input interface"),
    ("counters set", [pool("p", nest(POOL_A_BACKEND, u16(BE_A_PORT, 1), u64(BE_A_TOTAL, 5)))], "counters"),
]


def test_config_invalid_refused(env):
    nl = NL()
    for what, items, words in BAD:
        err, _, ext = set_config(nl, 1, *items)
        check_eq(err, errno.EINVAL, f"{what}: errno")
        check(msg(ext), f"{what}: no extack message")
        check(words in msg(ext), f"{what}: message {msg(ext)!r} lacks {words!r}")
        check(NLMSGERR_ATTR_OFFS in ext, f"{what}: no attribute offset")
    err, _, ext = nl.cmd(CMD_SET_CONFIG, pool("p"))
    check_eq(err, errno.EINVAL, "SET_CONFIG without generation")
    err, _, ext = nl.cmd(CMD_SET_CONFIG, u64(A_GENERATION, 1) + attr(A_RULE, u8(R_ACTION, ACT_DROP)))
    check_eq(err, errno.EINVAL, "rule without NLA_F_NESTED")
    gen, cfg = get_config(nl)
    check_eq(gen, 1, "generation after refused configurations")
    check_eq(len(cfg), 7, "configuration after refused configurations")


def test_required_attributes_named(env):
    """A request without an attribute it needs: EINVAL, a message naming the attribute,
    NLMSGERR_ATTR_MISS_TYPE (and MISS_NEST inside a nest), and nothing changes."""
    nl = NL()
    before = get_config(nl)
    for cmd, payload, name, missing, in_nest in (
            (CMD_SET_PARAMS, b"", "MUTEX_A_PARAMS", A_PARAMS, False),
            (CMD_SET_CONFIG, b"", "MUTEX_A_GENERATION", A_GENERATION, False),
            (CMD_GET_ORIGDST, b"", "MUTEX_A_FLOW", A_FLOW, False),
            (CMD_GET_ORIGDST, nest(A_FLOW, u8(FLOW_A_PROTO, socket.IPPROTO_UDP)),
             "MUTEX_FLOW_A_FAMILY", FLOW_A_FAMILY, True)):
        err, _, ext = nl.cmd(cmd, payload)
        check_eq(err, errno.EINVAL, f"without {name}: errno")
        check_eq(msg(ext), f"{name} is required", f"without {name}: message")
        check_eq(struct.unpack("I", ext.get(NLMSGERR_ATTR_MISS_TYPE, b"\xff" * 4)[:4])[0],
                 missing, f"without {name}: NLMSGERR_ATTR_MISS_TYPE")
        check_eq(NLMSGERR_ATTR_MISS_NEST in ext, in_nest, f"without {name}: NLMSGERR_ATTR_MISS_NEST")
    check_eq(get_config(nl), before, "configuration after the refusals")
    nl.s.close()


def client_copy():
    """This file as a client script every user and namespace can run (the checkout may not
    be readable to them): its path."""
    me = "/tmp/mutex_proxy_config_client.py"
    with open(os.path.abspath(__file__)) as src, open(me, "w") as dst:
        dst.write(src.read())
    os.chmod(me, 0o755)
    return me


def test_config_permissions_and_namespaces(env):
    # A copy every user can read (the checkout may not be).
    me = client_copy()
    # The configuration names the node's sentries and relays: an unprivileged user can
    # neither read nor replace it.
    r = run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "python3", me, "get"])
    check_eq((r.rc, r.out.strip()), (errno.EPERM, ""), f"unprivileged get: {r!r}")
    r = run(["python3", me, "get"])
    check_eq((r.rc, r.out.strip()), (0, "1 7"), f"root's get: {r!r}")
    r = run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "python3", me, "set", "1"])
    check_eq(r.rc, errno.EPERM, f"unprivileged set: {r!r}")
    # A container's root configures its own namespace, which starts empty.
    r = run(["unshare", "--user", "--map-root-user", "--net", "sh", "-c",
             f"python3 {me} get && python3 {me} set 0 && python3 {me} get"])
    check_eq((r.rc, r.out.split()), (0, ["0", "0", "1", "1", "1"]), f"container namespace: {r!r}")
    gen, _ = get_config(NL())
    check_eq(gen, 1, "host generation after the container's change")


def test_config_large(env):
    """A configuration far beyond one attribute's 64 KiB, in one message."""
    nl = NL()
    nl.big()
    gen, _ = get_config(nl)
    rules = [rule(u8(R_PROTO, socket.IPPROTO_TCP), u16(R_DPORT_MIN, 1 + i), u16(R_DPORT_MAX, 1 + i),
                  u8(R_ACTION, ACT_REDIRECT), u16(R_TO_PORT, 1 + i)) for i in range(5000)]
    check(sum(map(len, rules)) > 200000, "test message too small")
    err, _, ext = set_config(nl, gen, *GOOD[:2], *rules)
    check_eq(err, 0, f"large SET_CONFIG: {msg(ext)}")
    gen2, cfg = get_config(nl)
    check_eq(gen2, gen + 1, "generation after a large SET_CONFIG")
    check_eq(len(cfg), 5002, "pools and rules read back")
    check_eq(dict(attrs(cfg[-1][1]))[R_TO_PORT], struct.pack("H", 5000), "last rule read back")


def test_config_too_large_for_its_memory_cgroup(env):
    """A container's root in a memory-limited cgroup pushes a configuration larger than its
    limit: SET_CONFIG fails with ENOMEM (charged to that cgroup, and without the OOM killer:
    the allocations may fail), and the running configuration stays whole. Lifted the limit,
    the same message applies."""
    me = client_copy()
    cg = "/sys/fs/cgroup/mutex_memcg_test"
    with open("/sys/fs/cgroup/cgroup.subtree_control", "w") as f:
        f.write("+memory")
    if os.path.isdir(cg):
        os.rmdir(cg)
    os.mkdir(cg)
    # An unprivileged socket's buffers are capped by these (global) sysctls.
    for k in ("wmem_max", "rmem_max"):
        with open(f"/proc/sys/net/core/{k}", "w") as f:
            f.write(str(16 << 20))
    p = subprocess.Popen(
        ["sh", "-c", f"echo $$ >{cg}/cgroup.procs && "
         f"exec unshare --user --map-root-user --net python3 {me} memcg"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        check(line.startswith("ready"), f"memcg client: {line!r} {p.stderr.read() if p.poll() else ''}")
        with open(f"{cg}/memory.current") as f:
            current = int(f.read())
        # Room for the client to go on (it allocates nothing large from here), far less than
        # the kernel's copy of 65,000 rules needs (above 10 MB).
        with open(f"{cg}/memory.max", "w") as f:
            f.write(str(current + (6 << 20)))
        p.stdin.write("go\n")
        p.stdin.flush()
        line = p.stdout.readline().split()
        check_eq(line[:2], ["limited", str(errno.ENOMEM)], f"SET_CONFIG over the limit: {line}")
        check_eq(line[2:], ["kept"], "the configuration after the refused SET_CONFIG")
        with open(f"{cg}/memory.events") as f:
            events = dict(l.split() for l in f)
        check_eq((events.get("oom"), events.get("oom_kill")), ("0", "0"),
                 f"the OOM killer ran for a configuration: {events}")
        with open(f"{cg}/memory.max", "w") as f:
            f.write("max")
        p.stdin.write("go\n")
        p.stdin.flush()
        line = p.stdout.readline().split()
        if not line:
            p.wait(timeout=600)
        check_eq(line, ["unlimited", "0", "applied"],
                 f"the same SET_CONFIG without the limit ({p.stderr.read() if not line else ''})")
        p.stdin.close()
        check_eq(p.wait(timeout=600), 0, "memcg client exit")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.rmdir(cg)


def memcg_client():
    """The container side of test_config_too_large_for_its_memory_cgroup."""
    nl = NL()
    nl.s.setsockopt(270, 10, 1)  # NETLINK_CAP_ACK: an error does not echo 4 MB back
    nl.s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
    nl.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    err, _, ext = set_config(nl, 0, *GOOD)
    if err:
        print("small", err, msg(ext), flush=True)
        return 1
    before = get_config(nl)
    rules = [rule(u8(R_PROTO, socket.IPPROTO_TCP), u16(R_DPORT_MIN, 1 + i % 60000),
                  u16(R_DPORT_MAX, 1 + i % 60000), u8(R_ACTION, ACT_REDIRECT), u16(R_TO_PORT, 1))
             for i in range(65000)]
    # The whole message, built before the limit: the client allocates nothing large after.
    message = nl.frame(nl.fam, CMD_SET_CONFIG, u64(A_GENERATION, before[0]) + b"".join(GOOD[:2] + rules))
    del rules
    print("ready", flush=True)
    for what in ("limited", "unlimited"):
        sys.stdin.readline()
        err, _, ext = nl.exchange(message)
        if err:
            state = "kept" if get_config(nl) == before else "changed"
        else:
            # 65,000 rules do not fit one reply: read them back as a dump
            derr, items = dump_config(nl)
            n = sum(1 for t, _ in items if t == A_RULE)
            state = "applied" if not derr and n == 65000 else f"read-back:{derr}:{n}"
        print(what, err, state, flush=True)
    return 0


def dump(nl, cmd, bufsize=1 << 20, between=None):
    """cmd as a dump (NLM_F_DUMP) on nl, read bufsize bytes at a time, calling between() after
    each read: (errno or 0, [(nlmsg flags, top-level attributes) of every message], the flags of
    the final NLMSG_DONE or NLMSG_ERROR)."""
    nl.seq += 1
    body = struct.pack("BBH", cmd, 1, 0)
    nl.s.send(struct.pack("IHHII", 16 + len(body), nl.fam, 0x301, nl.seq, 0) + body)  # DUMP
    messages = []
    while True:
        data = nl.s.recv(bufsize)
        off = 0
        while off < len(data):
            n, typ, fl = struct.unpack("IHH", data[off:off + 8])
            m = data[off + 16:off + n]
            off += (n + 3) & ~3
            if typ in (2, 3):  # NLMSG_ERROR, NLMSG_DONE
                return -struct.unpack("i", m[:4])[0], messages, fl
            messages.append((fl, attrs(m[4:])))
        if between:
            between()


def dump_config(nl):
    """GET_CONFIG as a dump on nl: (errno or 0, [top-level attributes of every message])."""
    err, messages, _ = dump(nl, CMD_GET_CONFIG)
    return err, [a for _, items in messages for a in items]


def test_config_pool_of_max_backends_dumps(env):
    """A pool of MUTEX_MAX_BACKENDS IPv6 backends (about 30 KiB, more than a fresh socket's
    first dump buffer) round-trips through a GET_CONFIG dump: a dump never splits a pool, so
    each of its messages must have room for the largest one."""
    nl = NL()
    nl.big()
    gen, _ = get_config(nl)
    bes = [backend(26656, socket.AF_INET6, f"2001:db8::{i + 1:x}", weight=1 + i)
           for i in range(256)]
    err, _, ext = set_config(nl, gen, pool("many", *bes))
    check_eq(err, 0, f"SET_CONFIG of 256 backends: {msg(ext)}")
    fresh = NL(bufsize=4096)  # a client that never read a large message
    err, items = dump_config(fresh)
    check_eq(err, 0, "GET_CONFIG dump of a pool of 256 backends")
    pools = [v for t, v in items if t == A_POOL]
    check_eq(len(pools), 1, f"pools in the dump (attributes: {[t for t, _ in items]})")
    check_eq(sum(1 for t, _ in attrs(pools[0]) if t == POOL_A_BACKEND), 256, "backends in the dump")
    fresh.s.close()
    gen, _ = get_config(nl)
    check_eq(set_config(nl, gen)[0], 0, "empty the configuration")


def test_config_replace_many_then_unload(env):
    """Replacements queue RCU frees; unloading afterwards must wait for them."""
    nl = NL()
    nl.big()  # the large configuration of the case before is read back first
    gen, _ = get_config(nl)
    for _ in range(50):
        err, reply, ext = set_config(nl, gen, *GOOD)
        check_eq(err, 0, f"replace: {msg(ext)}")
        gen += 1
    err, _, _ = set_config(nl, gen)
    check_eq(err, 0, "empty configuration")
    check_eq(get_config(nl)[1], [], "empty configuration read back")
    err, _, _ = set_config(nl, gen + 1, *GOOD)
    check_eq(err, 0, "configuration left in place for the unload")
    env.unload()
    check(not env.loaded(), "module still loaded after rmmod")


def main(argv):
    if argv[1] == "memcg":
        return memcg_client()
    nl = NL()
    if argv[1] == "get":
        try:
            gen, cfg = get_config(nl)
        except OSError as e:
            return e.errno
        print(gen, len(cfg))
        return 0
    err, reply, ext = set_config(nl, int(argv[2]), pool("c", backend(1)))
    if err:
        print(msg(ext), file=sys.stderr)
        return err
    print(struct.unpack("Q", dict(attrs(reply))[A_GENERATION])[0])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
