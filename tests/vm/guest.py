#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""In-guest test runner for mutex_proxy VM tests.

Runs inside the VM that tests/vm/vm-run.sh boots (as root, host root over 9p).
Loads the module built for the running kernel, runs every test_* function of
the given test files in order, unloads the module, and prints one line per
case plus the closing line 'N passed, N failed'. Exit status 0 only if every
case passed.

Usage: guest.py --module DIR --mutexctl PATH [--kunit] [--dkms DIR] TESTFILE...
"""
import argparse
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
import traceback

# How long to wait for something that should happen (a connection arriving, a process
# answering). Tests wait for the event itself: this is only the limit after which a broken run
# gives up, so it is wide. Measured: such waits take well under 1 s on the stock lanes and up to
# about 5 s on the debug lane (KASAN) on a slow day; machines of this kind differ by 2x or more
# from day to day. MUTEX_TIME_SCALE overrides the lane's factor.
TIME_SCALE = float(os.environ.get("MUTEX_TIME_SCALE") or (5 if os.environ.get("VM_LANE") == "debug" else 1))
PATIENCE = 30 * TIME_SCALE
# A case that runs longer than this is stopped and reported by name (the lane goes on).
CASE_LIMIT = 600 * TIME_SCALE

PARAMS = ("perf_enable_batching", "perf_batch_size", "perf_cache_size", "max_conns",
          "perf_enable_accounting")
SYSFS = "/sys/module/mutex_proxy/parameters"


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def check_eq(got, want, what):
    if got != want:
        raise Failure(f"{what}: got {got!r}, want {want!r}")


class Result:
    def __init__(self, argv, rc, out, err):
        self.argv, self.rc, self.out, self.err = argv, rc, out, err

    def json(self):
        try:
            return json.loads(self.out)
        except json.JSONDecodeError as e:
            raise Failure(f"{' '.join(self.argv)}: not JSON ({e}): {self.out!r}") from e

    def __repr__(self):
        return f"rc={self.rc} out={self.out!r} err={self.err!r}"


def run(argv, check_rc=None, input=None, timeout=None):
    """Runs argv; if check_rc is given, fails unless the exit status equals it."""
    if timeout is None:
        timeout = 4 * PATIENCE
    try:
        p = subprocess.run(argv, capture_output=True, text=True, input=input, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise Failure(f"{' '.join(map(str, argv))}: still running after {timeout:.0f} s") from e
    r = Result(argv, p.returncode, p.stdout, p.stderr)
    if check_rc is not None and r.rc != check_rc:
        raise Failure(f"{' '.join(argv)}: exit {r.rc}, want {check_rc}: {r!r}")
    return r


def sh(cmd, **kw):
    return run(["sh", "-c", cmd], **kw)


class Env:
    """What a test case gets: paths and helpers bound to this run."""

    def __init__(self, args):
        self.moddir = os.path.abspath(args.module)
        self.mutexctl_path = os.path.abspath(args.mutexctl)
        # the daemon of the same build, beside it
        self.mutexd_path = os.path.join(os.path.dirname(self.mutexctl_path), "mutexd")
        self.kunit = args.kunit
        # the module as DKMS built and installed it (stock lanes), or None
        self.dkms = os.path.abspath(args.dkms) if args.dkms else None

    def mutexctl(self, *args, netns=None, user=None, check_rc=0):
        argv = [self.mutexctl_path, *map(str, args)]
        if user is not None:
            argv = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *argv]
        if netns is not None:
            argv = ["ip", "netns", "exec", netns, *argv]
        return run(argv, check_rc=check_rc)

    def stats(self, netns=None):
        return self.mutexctl("-j", "stats", netns=netns).json()

    def sysfs_read(self, name):
        with open(f"{SYSFS}/{name}") as f:
            return f.read().strip()

    def sysfs_write(self, name, value):
        """Writes value; returns 0 or the errno the kernel refused it with."""
        try:
            fd = os.open(f"{SYSFS}/{name}", os.O_WRONLY)
        except OSError as e:
            return e.errno
        try:
            os.write(fd, str(value).encode())
            return 0
        except OSError as e:
            return e.errno
        finally:
            os.close(fd)

    def load(self, *params, keep_conntrack=False):
        """insmod the lane's module. A module's first configuration adopts the connections an
        earlier load steered (mutexctl upgrade): closed ones of earlier cases linger in conntrack,
        so unless keep_conntrack, conntrack is flushed first and every file starts on an empty
        connection table, as its cases expect."""
        deps = run(["modinfo", "-F", "depends", f"{self.moddir}/mutex_proxy.ko"], check_rc=0)
        for dep in filter(None, deps.out.strip().split(",")):
            run(["modprobe", dep], check_rc=0)
        if not keep_conntrack:
            run(["conntrack", "-F"])
        run(["insmod", f"{self.moddir}/mutex_proxy.ko", *params], check_rc=0)

    def unload(self):
        run(["rmmod", "mutex_proxy"], check_rc=0)

    def loaded(self):
        return os.path.exists("/sys/module/mutex_proxy")


class CaseTimeout(Failure):
    pass


def _case_timeout(signum, frame):
    raise CaseTimeout(f"still running after {CASE_LIMIT:.0f} s (the case's limit); stopped")


def load_tests(arg):
    """The cases of FILE.py, or of FILE.py::CASE[,CASE...] only those (for a run by hand)."""
    path, _, only = arg.partition("::")
    spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    names = only.split(",") if only else None
    return [(f"{mod.__name__}.{n}", getattr(mod, n)) for n in dir(mod)
            if n.startswith("test_") and callable(getattr(mod, n)) and (names is None or n in names)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--module", required=True, help="directory with mutex_proxy.ko")
    ap.add_argument("--mutexctl", required=True)
    ap.add_argument("--kunit", action="store_true", help="this lane runs KUnit")
    ap.add_argument("--dkms", help="directory with the DKMS-installed mutex_proxy.ko[.xz|.zst|.gz]")
    ap.add_argument("tests", nargs="+")
    args = ap.parse_args()
    env = Env(args)

    run(["ip", "link", "set", "lo", "up"], check_rc=0)
    # Tests load and unload the module while traffic runs: see pin-hooks.nft for why the
    # netfilter hooks stay pinned for the whole run.
    run(["nft", "-f", os.path.join(os.path.dirname(os.path.abspath(__file__)), "pin-hooks.nft")],
        check_rc=0)
    cases = [c for t in args.tests for c in sorted(load_tests(t), key=lambda c: c[1].__code__.co_firstlineno)]
    passed = failed = 0
    signal.signal(signal.SIGALRM, _case_timeout)
    for name, fn in cases:
        t0 = time.monotonic()
        # Named before it runs: if the VM's own timeout ends the run, the log says which case
        # was running.
        print(f"... {name}", flush=True)
        try:
            signal.setitimer(signal.ITIMER_REAL, CASE_LIMIT)
            try:
                fn(env)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            passed += 1
            print(f"ok {name} ({time.monotonic() - t0:.1f}s)", flush=True)
        except Exception as e:  # a failing case must not stop the others
            failed += 1
            print(f"FAIL {name} ({time.monotonic() - t0:.1f}s): {e}", flush=True)
            if not isinstance(e, Failure):
                traceback.print_exc(file=sys.stdout)
    print(f"{passed} passed, {failed} failed", flush=True)
    sys.exit(1 if failed or not passed else 0)


if __name__ == "__main__":
    # Test files `import guest`: let that be this module, so that their Failure is the one
    # main() catches (reported in one line, without a traceback).
    sys.modules["guest"] = sys.modules[__name__]
    main()
