# SPDX-License-Identifier: GPL-2.0
"""VM test of mutexd's run-time tuning on a real load: more active UDP flows than the per-CPU
cache has entries make the daemon grow perf_cache_size (the log says why, with the numbers),
the cache's hit rate then rises, and once the load stops and its flows expire the cache
shrinks back to the configured minimum; every change is counted in the metrics.

One namespace, lo only: FLOWS sockets send datagrams in turn to 192.0.2.50:7950, which a rule
redirects to 7951. The namespace's unreplied-UDP conntrack timeout is lowered so the flows
expire soon after the load stops.
"""
import http.client
import os
import re
import resource
import signal
import socket
import subprocess
import threading
import time

from guest import PATIENCE, TIME_SCALE, check, check_eq, run
from test_steering_mutexctl import netns

NS = "tn"
DST, PORT, PROXY = "192.0.2.50", 7950, 7951
FLOWS = 1500
WORK = "/tmp/mutexd-tuning"
CONFIG = f"{WORK}/mutexd.toml"
LOG = f"{WORK}/mutexd.log"
INTERVAL_S = 1
UDP_TIMEOUT_S = 5
CACHE_MIN, CACHE_MAX = 256, 16384

CONFIG_TEXT = f"""[tuning]
enabled = true
interval = "{INTERVAL_S}s"
cache_size_min = {CACHE_MIN}
cache_size_max = {CACHE_MAX}
batch_size_min = 32          # the batch size stays: this test is about the cache
batch_size_max = 32

[metrics]
listen = "127.0.0.1:9478"

[[rule]]
name = "load"
protocol = "udp"
destination = "{DST}"
destination_ports = "{PORT}"
action = "redirect"
to_port = {PROXY}
"""

_daemon = []


def log_text():
    with open(LOG, errors="replace") as f:
        return f.read()


def wait_log(pattern, after=0, timeout=PATIENCE):
    """The first match of regex `pattern` in the log past `after`, and the seconds it took."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        m = re.search(pattern, log_text()[after:])
        if m:
            return m, time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"not in mutexd's log within {timeout:.0f} s: {pattern!r}\n"
                         f"{log_text()[after:]}")


def cache_size(env):
    return int(env.mutexctl("-j", "params", netns=NS).json()["perf_cache_size"])


def hit_rate(env, seconds):
    """The cache's hit rate over `seconds`, from two `mutexctl stats` reads."""
    a = env.mutexctl("-j", "stats", netns=NS).json()
    time.sleep(seconds)
    b = env.mutexctl("-j", "stats", netns=NS).json()
    hits, misses = b["cache_hits"] - a["cache_hits"], b["cache_misses"] - a["cache_misses"]
    check(hits + misses > 0, "no cache lookups during the load")
    return hits / (hits + misses)


class Load:
    """FLOWS UDP flows, each sending in turn, until the with block ends."""

    def __enter__(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, FLOWS + 256)), hard))
        with netns(NS):
            self.sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(FLOWS)]
        self.sink.bind(("0.0.0.0", PROXY))
        self.sink.setblocking(False)
        self.stop, self.sent = threading.Event(), 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def _run(self):
        while not self.stop.is_set():
            for s in self.socks:
                try:
                    s.sendto(b"t", (DST, PORT))
                    self.sent += 1
                except OSError:
                    pass
            try:
                while True:
                    self.sink.recv(64)
            except OSError:
                pass

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(PATIENCE)
        for s in self.socks:
            s.close()
        self.sink.close()


def scrape():
    with netns(NS):
        conn = http.client.HTTPConnection("127.0.0.1", 9478, timeout=PATIENCE)
        conn.connect()
    try:
        conn.request("GET", "/metrics")
        return conn.getresponse().read().decode()
    finally:
        conn.close()


def test_tuning_start(env):
    if not env.loaded():
        env.load()
    os.makedirs(WORK, exist_ok=True)
    run(["ip", "netns", "add", NS], check_rc=0)
    run(["ip", "-n", NS, "link", "set", "lo", "up"], check_rc=0)
    run(["ip", "-n", NS, "addr", "add", f"{DST}/32", "dev", "lo"], check_rc=0)
    run(["ip", "netns", "exec", NS, "sysctl", "-qw",
         f"net.netfilter.nf_conntrack_udp_timeout={UDP_TIMEOUT_S}"], check_rc=0)
    env.mutexctl("params", "set", "perf_cache_size", str(CACHE_MIN), netns=NS)
    with open(CONFIG, "w") as f:
        f.write(CONFIG_TEXT)
    log = open(LOG, "wb")
    _daemon.append(subprocess.Popen(
        ["ip", "netns", "exec", NS, env.mutexd_path, "--config", CONFIG],
        stdout=log, stderr=subprocess.STDOUT))
    wait_log(r"ready: generation")
    wait_log(r"tuning: every 1000 ms")


def test_tuning_grows_the_cache_under_a_missing_load_and_shrinks_it_after(env):
    at = len(log_text())
    with Load() as load:
        m, took = wait_log(r"tuning: perf_cache_size (\d+) -> (\d+) \(hit_rate_low\): hit rate "
                           r"(\d+)% of (\d+) lookups, (\d+) flows for (\d+) entries", at,
                           timeout=2 * PATIENCE)
        print(f"grown after {took:.1f} s of load ({load.sent} datagrams): {m.group(0)}")
        check_eq(int(m.group(1)), CACHE_MIN, "the cache grew from")
        grown = int(m.group(2))
        check(int(m.group(5)) > CACHE_MIN, f"flows when it grew: {m.group(5)}")
        check(grown >= int(m.group(5)) and grown <= CACHE_MAX and grown & (grown - 1) == 0,
              f"grown to {grown} for {m.group(5)} flows")
        check_eq(cache_size(env), grown, "perf_cache_size after the growth")
        shown = env.mutexctl("params", netns=NS).out
        check(re.search(rf"perf_cache_size = {grown} set by mutexd at .* \(was {CACHE_MIN}\): "
                        r"hit_rate_low: hit rate", shown), f"mutexctl params: {shown}")
        before = int(m.group(3)) / 100
        after = hit_rate(env, 2 * INTERVAL_S * TIME_SCALE)
        print(f"hit rate {before:.0%} before, {after:.0%} after")
        check(after > before + 0.15, f"the hit rate did not rise: {before:.0%} -> {after:.0%}")
        check_eq(cache_size(env), grown, "perf_cache_size under the same load")
    at = len(log_text())
    t0 = time.monotonic()
    # The flows expire after UDP_TIMEOUT_S; then three idle intervals per halving.
    halvings = (grown // CACHE_MIN).bit_length() - 1
    budget = UDP_TIMEOUT_S + halvings * 4 * INTERVAL_S
    m, took = wait_log(rf"tuning: perf_cache_size {2 * CACHE_MIN} -> {CACHE_MIN} \(cache_idle\)",
                       at, timeout=PATIENCE + 3 * budget * TIME_SCALE)
    print(f"back to {CACHE_MIN} {time.monotonic() - t0:.1f} s after the load stopped "
          f"({halvings} halvings; about {budget} s expected)")
    check_eq(cache_size(env), CACHE_MIN, "perf_cache_size after the load")
    doc = env.mutexctl("-j", "params", netns=NS).json()
    check_eq(doc["set_by_mutexd"]["perf_cache_size"]["reason"], "cache_idle",
             "why mutexctl params says mutexd set it")
    text = scrape()
    grows = re.findall(r'mutex_proxy_tuning_actions_total\{parameter="perf_cache_size",'
                       r'reason="hit_rate_low"\} (\d+)', text)
    shrinks = re.findall(r'mutex_proxy_tuning_actions_total\{parameter="perf_cache_size",'
                         r'reason="cache_idle"\} (\d+)', text)
    check_eq(grows, ["1"], "growths in the metrics")
    check_eq(shrinks, [str(halvings)], "shrinks in the metrics")
    check(re.search(r"tuning: perf_batch_size \d+ ->", log_text()) is None,
          "the batch size was changed")


def test_tuning_stop(env):
    for d in _daemon:
        d.send_signal(signal.SIGTERM)
        check_eq(d.wait(PATIENCE), 0, "mutexd's exit status")
    run(["ip", "netns", "del", NS])
    env.mutexctl("params", "set", "perf_cache_size", "1024")
    env.unload()
