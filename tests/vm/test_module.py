# SPDX-License-Identifier: GPL-2.0
"""VM tests of the module's foundation: load, parameters through sysfs and
netlink, status and statistics, permissions, namespaces, unload.

Cases run in file order; the first loads the module and the last unloads it.
"""
import errno
import os
import socket

from guest import PARAMS, Failure, check, check_eq, run, sh
from test_steering_mutexctl import apply

# A rule that matches nothing the tests send: it only switches the namespace's datapath on.
WATCH = [{"name": "watch", "protocol": "udp", "destination_ports": "1", "action": "bypass"}]

DEFAULTS = {"perf_enable_batching": "1", "perf_batch_size": "32",
            "perf_cache_size": "1024", "max_conns": "262144", "perf_enable_accounting": "1"}

GOOD = {
    "perf_enable_batching": ["0", "1", "1\n"],
    "perf_batch_size": ["1", "256", "64\n", "32"],
    "perf_cache_size": ["0", "1", "65536", "2048\n", "1024"],
    "max_conns": ["1", "16777216", "1000\n", "262144"],
    "perf_enable_accounting": ["0", "1\n", "1"],
}

MALFORMED = ["\n", "abc", "-1", "1.5", "12abc", "4294967296", "99999999999999999999", " 7"]
OUT_OF_RANGE = {
    "perf_enable_batching": ["2", "10"],
    "perf_batch_size": ["0", "257", "100000"],
    "perf_cache_size": ["3", "1000", "131072", "65535"],
    "max_conns": ["0", "16777217"],
    "perf_enable_accounting": ["2", "10"],
}


def uapi_define(name):
    """The value of a #define in the UAPI header the module was built with."""
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(f"{top}/include/uapi/linux/mutex_proxy.h") as f:
        for line in f:
            parts = line.split()
            if parts[:2] == ["#define", name]:
                return int(parts[2])
    raise Failure(f"{name} not in the UAPI header")


def udp_burst(count, family=socket.AF_INET, addr="127.0.0.1"):
    """Sends count UDP datagrams over loopback to a bound socket (so no ICMP error
    comes back); each passes LOCAL_OUT once and PRE_ROUTING once."""
    with socket.socket(family, socket.SOCK_DGRAM) as rx, \
            socket.socket(family, socket.SOCK_DGRAM) as tx:
        rx.bind((addr, 0))
        for _ in range(count):
            tx.sendto(b"x" * 32, rx.getsockname()[:2])
            rx.recv(64)


def test_load(env):
    check(not env.loaded(), "module already loaded before the test")
    env.load()
    check(env.loaded(), "module not in /sys/module after insmod")
    for name, value in DEFAULTS.items():
        check_eq(env.sysfs_read(name), value, f"default of {name}")
    # The benchmark build's trigger (kmod/bench.c, MUTEX_PROXY_BENCH=y) is not in this one.
    check(os.path.ismount("/sys/kernel/debug"), "debugfs is not mounted")
    check(not os.path.exists("/sys/kernel/debug/mutex_proxy"),
          "the production module carries the benchmark trigger")


def test_bad_load_parameter_refused(env):
    """A bad value at load time fails the load instead of running with it."""
    env.unload()
    r = run(["insmod", f"{env.moddir}/mutex_proxy.ko", "perf_batch_size=0"])
    check(r.rc != 0, f"insmod with perf_batch_size=0 succeeded: {r!r}")
    check(not env.loaded(), "module loaded with a bad parameter")
    env.load("perf_cache_size=2048", "perf_enable_batching=0")
    check_eq(env.sysfs_read("perf_cache_size"), "2048", "load-time perf_cache_size")
    check_eq(env.sysfs_read("perf_enable_batching"), "0", "load-time perf_enable_batching")
    env.unload()
    env.load()


def test_sysfs_good_values(env):
    for name, values in GOOD.items():
        for v in values:
            check_eq(env.sysfs_write(name, v), 0, f"write {v!r} to {name}")
            check_eq(env.sysfs_read(name), v.strip(), f"{name} after writing {v!r}")
            check_eq(env.mutexctl("-j", "params", "get", name).json(), {name: int(v)},
                     f"mutexctl params get {name}")
        check_eq(env.sysfs_write(name, DEFAULTS[name]), 0, f"restore {name}")


def test_sysfs_bad_values_keep_old(env):
    for name in PARAMS:
        before = env.sysfs_read(name)
        for v in MALFORMED + OUT_OF_RANGE[name]:
            check_eq(env.sysfs_write(name, v), errno.EINVAL, f"errno writing {v!r} to {name}")
            check_eq(env.sysfs_read(name), before, f"{name} after refused {v!r}")


def test_mutexctl_params_set(env):
    r = env.mutexctl("params", "set", "perf_batch_size", "128")
    check("128" in r.out, f"params set did not print the new value: {r!r}")
    check_eq(env.sysfs_read("perf_batch_size"), "128", "sysfs after mutexctl set")
    j = env.mutexctl("-j", "params", "set", "perf_cache_size", "4096").json()
    check_eq(j["perf_cache_size"], 4096, "JSON reply of params set")
    check_eq(env.sysfs_read("perf_cache_size"), "4096", "sysfs after mutexctl set")
    all_params = env.mutexctl("-j", "params").json()
    check_eq(sorted(all_params), sorted(PARAMS), "params listed by mutexctl -j params")
    check_eq(all_params["perf_batch_size"], 128, "perf_batch_size in params get")
    for name in PARAMS:
        env.mutexctl("params", "set", name, DEFAULTS[name])
        check_eq(env.sysfs_read(name), DEFAULTS[name], f"{name} restored through mutexctl")


def test_mutexctl_params_refused(env):
    for name, values in OUT_OF_RANGE.items():
        for v in values:
            r = env.mutexctl("params", "set", name, v, check_rc=1)
            check(name in r.err, f"kernel's message does not name {name}: {r!r}")
            check_eq(r.out, "", "stdout of a refused set")
            check_eq(env.sysfs_read(name), DEFAULTS[name], f"{name} after refused {v}")
    for v in ["abc", "-1", "", "4294967296", " 5"]:
        r = env.mutexctl("params", "set", "perf_batch_size", v, check_rc=2)
        check(r.err.startswith("mutexctl:"), f"usage error format: {r!r}")
    r = env.mutexctl("params", "set", "no_such_param", "1", check_rc=2)
    check("perf_batch_size" in r.err, f"unknown name does not list valid names: {r!r}")
    check_eq(env.sysfs_read("perf_batch_size"), DEFAULTS["perf_batch_size"], "after usage errors")


def test_status_human_and_json(env):
    st = env.mutexctl("-j", "status").json()
    check_eq(st["version"], "0.1.0", "module version")
    check_eq(st["api_version"], uapi_define("MUTEX_PROXY_API_VERSION"), "API version")
    for feature in ("netns", "stats", "params"):
        check(feature in st["features"], f"feature {feature} missing: {st['features']}")
    check(isinstance(st["netns_cookie"], int) and st["netns_cookie"] > 0, "netns cookie")
    check_eq({k: str(v) for k, v in st["params"].items()}, DEFAULTS, "params in status")
    human = env.mutexctl("status").out
    for word in ("0.1.0", "perf_batch_size", "32", "max_conns", "262144"):
        check(word in human, f"{word!r} missing from human status:\n{human}")
    ver = env.mutexctl("version").out
    check("0.1.0" in ver, f"version output: {ver!r}")


def test_stats_count_real_packets(env):
    apply(env, None, "watch", rules=WATCH)
    before = env.stats()
    check(set(before) >= {"pkts_seen", "flows_new", "cache_hits", "events_lost"},
          f"stats keys: {sorted(before)}")
    udp_burst(200)
    after = env.stats()
    delta = after["pkts_seen"] - before["pkts_seen"]
    check(400 <= delta < 440, f"pkts_seen grew by {delta} for 200 looped datagrams")
    for k, v in after.items():
        if k != "flow_count":  # a gauge: flows in the table now
            check(v >= before[k], f"counter {k} went backwards")
    human = env.mutexctl("stats").out
    line = [ln for ln in human.splitlines() if ln.split()[:1] == ["pkts_seen"]]
    check(line, f"no pkts_seen line in human stats:\n{human}")
    check(int(line[0].split()[-1]) >= after["pkts_seen"], "human pkts_seen behind JSON")


def test_stats_ipv6(env):
    before = env.stats()["pkts_seen"]
    udp_burst(50, socket.AF_INET6, "::1")
    delta = env.stats()["pkts_seen"] - before
    check(100 <= delta < 140, f"pkts_seen grew by {delta} for 50 IPv6 datagrams")


def test_proc_summary(env):
    with open("/proc/net/mutex_proxy") as f:
        text = f.read()
    check(text.startswith("mutex_proxy 0.1.0"), f"/proc/net/mutex_proxy header: {text[:80]!r}")
    fields = dict(ln.split()[:2] for ln in text.splitlines()[1:] if len(ln.split()) >= 2)
    check_eq(fields.get("perf_batch_size"), "32", "perf_batch_size in /proc")
    seen_proc = int(fields["pkts_seen"])
    seen_nl = env.stats()["pkts_seen"]
    check(seen_proc <= seen_nl, "proc pkts_seen ahead of a later netlink read")


def ct_count(ns):
    """Conntrack entries of namespace ns."""
    r = run(["ip", "netns", "exec", ns, "cat", "/proc/sys/net/netfilter/nf_conntrack_count"],
            check_rc=0)
    return int(r.out)


def ns_burst(ns, n=50):
    run(["ip", "netns", "exec", ns, "python3", "-c",
         "import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
         f"for p in range(9, 9 + {n}): s.sendto(b'z', ('127.0.0.1', p))"], check_rc=0)


def test_nothing_switched_on_without_rules(env):
    """A namespace pays for the module only while its configuration has a rule: before the
    first rule no conntrack entry is made and no hook counts a packet; with one, both; when
    the configuration is emptied, neither again."""
    ns = "mp-idle"
    sh(f"ip netns add {ns} && ip -n {ns} link set lo up", check_rc=0)
    try:
        ns_burst(ns)
        check_eq(ct_count(ns), 0, "conntrack entries before any configuration")
        check_eq(env.stats(ns)["pkts_seen"], 0, "pkts_seen before any configuration")
        apply(env, ns, "watch", rules=WATCH)
        ns_burst(ns)
        check(ct_count(ns) >= 50, f"conntrack entries with a rule: {ct_count(ns)}")
        seen = env.stats(ns)["pkts_seen"]
        check(seen >= 100, f"pkts_seen with a rule: {seen}")
        apply(env, ns, "empty")
        run(["ip", "netns", "exec", ns, "conntrack", "-F"], check_rc=0)
        ns_burst(ns)
        check_eq(ct_count(ns), 0, "conntrack entries after the configuration was emptied")
        check_eq(env.stats(ns)["pkts_seen"], seen, "pkts_seen after the configuration was emptied")
    finally:
        run(["ip", "netns", "del", ns])


def test_unprivileged_reads_but_cannot_set(env):
    st = env.mutexctl("-j", "status", user=65534).json()
    check_eq(st["version"], "0.1.0", "status as nobody")
    env.mutexctl("-j", "stats", user=65534)
    r = env.mutexctl("params", "set", "perf_batch_size", "64", user=65534, check_rc=1)
    check("not permitted" in r.err.lower(), f"unprivileged set error: {r!r}")
    check_eq(env.sysfs_read("perf_batch_size"), "32", "after unprivileged set")
    r = sh(f"setpriv --reuid=65534 --regid=65534 --clear-groups sh -c "
           f"'echo 64 > /sys/module/mutex_proxy/parameters/perf_batch_size'")
    check(r.rc != 0, "nobody could write a sysfs parameter")
    check_eq(env.sysfs_read("perf_batch_size"), "32", "after unprivileged sysfs write")


def test_container_root_cannot_retune_host(env):
    """Root of a user namespace owns its own netns but not the module's parameters."""
    r = run(["unshare", "--user", "--map-root-user", "--net", env.mutexctl_path,
             "params", "set", "perf_batch_size", "64"])
    check_eq(r.rc, 1, f"container root params set: {r!r}")
    check("not permitted" in r.err.lower(), f"container root error: {r!r}")
    check_eq(env.sysfs_read("perf_batch_size"), "32", "after container root set")
    r = run(["unshare", "--user", "--map-root-user", "--net", env.mutexctl_path, "-j", "stats"])
    check_eq(r.rc, 0, f"container root reading its own stats: {r!r}")


def test_namespaces_are_separate(env):
    for ns in ("mpa", "mpb"):
        run(["ip", "netns", "add", ns], check_rc=0)
        run(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"], check_rc=0)
    try:
        cookies = {env.mutexctl("-j", "status", netns=ns).json()["netns_cookie"]
                   for ns in ("mpa", "mpb")}
        cookies.add(env.mutexctl("-j", "status").json()["netns_cookie"])
        check_eq(len(cookies), 3, "netns cookies of init, mpa, mpb distinct")
        for ns in ("mpa", "mpb"):
            apply(env, ns, "watch", rules=WATCH)
        a0, b0, i0 = env.stats("mpa"), env.stats("mpb"), env.stats()
        run(["ip", "netns", "exec", "mpa", "python3", "-c",
             "import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
             "for _ in range(300): s.sendto(b'z', ('127.0.0.1', 9))"], check_rc=0)
        a1, b1, i1 = env.stats("mpa"), env.stats("mpb"), env.stats()
        check(a1["pkts_seen"] - a0["pkts_seen"] >= 600, "mpa did not count its traffic")
        check_eq(b1["pkts_seen"], b0["pkts_seen"], "mpb counted mpa's traffic")
        check(i1["pkts_seen"] - i0["pkts_seen"] < 600, "init namespace counted mpa's traffic")
        r = run(["ip", "netns", "exec", "mpb", "cat", "/proc/net/mutex_proxy"], check_rc=0)
        check("pkts_seen" in r.out, "/proc/net/mutex_proxy in a namespace")
    finally:
        for ns in ("mpa", "mpb"):
            run(["ip", "netns", "del", ns])


def test_kunit(env):
    """Debug lane: the KUnit suite module runs its cases at load; ktap.py judges them."""
    if not env.kunit:
        return
    kunit = f"{env.moddir}/mutex_proxy_kunit.ko"
    check(os.path.exists(kunit), f"{kunit} not built for a KUnit kernel")
    start = len(run(["dmesg"], check_rc=0).out.splitlines())
    run(["insmod", kunit], check_rc=0)
    run(["rmmod", "mutex_proxy_kunit"], check_rc=0)
    log = "\n".join(run(["dmesg"], check_rc=0).out.splitlines()[start:])
    here = os.path.dirname(os.path.abspath(__file__))
    r = run(["python3", f"{here}/ktap.py", "-"], input=log)
    print(r.out, end="")
    if r.rc != 0:
        raise Failure(f"KUnit failed:\n{r.out}{r.err}")


def test_unload(env):
    env.unload()
    check(not env.loaded(), "module still loaded after rmmod")
    r = env.mutexctl("status", check_rc=1)
    check("not loaded" in r.err, f"status without module: {r!r}")
    check(not os.path.exists("/proc/net/mutex_proxy"), "/proc/net/mutex_proxy left behind")
