# SPDX-License-Identifier: GPL-2.0
"""VM test of the shipped units under systemd as PID 1 (vm-run.sh --systemd: the host root as the
lower layer of an overlay, systemd runs the tests as mutex-vm.service; ctest vm_systemd).
Elsewhere (the lanes' harness is PID 1) every case returns at once.

The units are daemon/mutexd.service and daemon/mutex-proxy-guard.service as shipped, with only
the binaries' paths pointed at the build, and a drop-in that shortens mutexd's watchdog to 10 s.
In order: the guard holds while the module is missing and says why in its journal; mutexd cannot
start then (the guard stays); the DKMS-built module installed and loaded by
systemd-modules-load.service from the shipped modules-load.d file; `systemctl start mutexd`
returns once mutexd is READY, by then its ExecStartPost has lifted the guard; `systemctl reload` applies a changed
file; a hung mutexd (SIGSTOP) is killed by the watchdog and restarted; `systemctl stop` leaves the
module steering.
"""
import os
import socket
import time

from guest import PATIENCE, check, check_eq, run
from test_dkms import MODDIR, install_for_modprobe
from test_steering_nat import listener

UNITS = "/etc/systemd/system"
CONF = "/etc/mutex_proxy/mutexd.toml"
TABLE = ["nft", "list", "table", "inet", "mutex_proxy_guard"]
STATE = {}


def under_systemd():
    with open("/proc/1/comm") as f:
        return f.read().strip() == "systemd"


def systemctl(*args, check_rc=0):
    return run(["systemctl", *args], check_rc=check_rc, timeout=PATIENCE * 4)


def prop(unit, name):
    return systemctl("show", "-p", name, "--value", unit).out.strip()


def journal(unit):
    return run(["journalctl", "--no-pager", "-o", "cat", "-u", unit], check_rc=0).out


def wait(what, cond, limit=PATIENCE * 2):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.1)
    check(cond(), f"{what} within {limit:.0f} s")


def config(extra_rule=False):
    text = f"""
[daemon]
guard = "closed"

[metrics]
enabled = false

[[pool]]
name = "sentries"
failure_mode = "closed"
check = "none"
  [[pool.backend]]
  address = "127.0.0.1"
  port = {STATE["backend"].getsockname()[1]}

[[rule]]
name = "p2p"
protocol = "tcp"
destination = "192.0.2.1"
destination_ports = "26656"
action = "dnat"
pool = "sentries"
"""
    if extra_rule:
        text += """
[[rule]]
name = "p2p-alt"
protocol = "tcp"
destination = "192.0.2.2"
destination_ports = "26656"
action = "dnat"
pool = "sentries"
"""
    return text


def write_config(**kw):
    os.makedirs(os.path.dirname(CONF), exist_ok=True)
    tmp = CONF + ".new"
    with open(tmp, "w") as f:
        f.write(config(**kw))
    os.rename(tmp, CONF)


def rules(env):
    return len(env.mutexctl("-j", "config", "show").json()["rules"])


def test_systemd_a_units(env):
    if not under_systemd():
        return
    if env.loaded():
        env.unload()
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for name in ("mutexd.service", "mutex-proxy-guard.service"):
        with open(os.path.join(top, "daemon", name)) as f:
            text = f.read()
        text = text.replace("/usr/sbin/mutexd", env.mutexd_path)
        text = text.replace("/usr/bin/mutexctl", env.mutexctl_path)
        with open(os.path.join(UNITS, name), "w") as f:
            f.write(text)
    os.makedirs(f"{UNITS}/mutexd.service.d", exist_ok=True)
    with open(f"{UNITS}/mutexd.service.d/test.conf", "w") as f:
        f.write("[Service]\nWatchdogSec=10s\n")  # 3 s was missed on a loaded machine
    run(["ip", "route", "replace", "192.0.2.0/24", "dev", "lo", "src", "127.0.0.1"], check_rc=0)
    STATE["backend"] = listener(addr="127.0.0.1")
    write_config()
    systemctl("daemon-reload")


def test_systemd_b_guard_holds_without_the_module(env):
    if not under_systemd():
        return
    systemctl("start", "mutex-proxy-guard.service")
    check_eq(prop("mutex-proxy-guard.service", "ActiveState"), "active", "the guard unit")
    check_eq(run(TABLE).rc, 0, "the guard's table is loaded")
    log = journal("mutex-proxy-guard.service")
    check("the mutex_proxy module is not loaded: the guard stays" in log, f"its journal: {log}")
    r = systemctl("start", "mutexd.service", check_rc=None)
    check(r.rc != 0, "mutexd cannot start without the module")
    check("load it first" in journal("mutexd.service"), "mutexd's journal says why")
    check_eq(run(TABLE).rc, 0, "the guard stays while mutexd is not ready")
    systemctl("stop", "mutexd.service", check_rc=None)
    systemctl("reset-failed", "mutexd.service", check_rc=None)


def load_as_at_boot(env):
    """The module as a node loads it at boot: installed where DKMS puts it (the lane's DKMS
    build), named by the shipped modules-load.d file, loaded by systemd-modules-load.service.
    Without a DKMS build (the debug lane) it is insmod'ed."""
    kos = [f for f in os.listdir(env.dkms) if f.startswith("mutex_proxy.ko")] if env.dkms else []
    if len(kos) != 1:
        env.load()
        return
    install_for_modprobe(os.path.join(env.dkms, kos[0]))  # the root is an overlay: writable
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    os.makedirs("/usr/lib/modules-load.d", exist_ok=True)
    with open(os.path.join(top, "kmod", "modules-load.conf")) as f, \
            open("/usr/lib/modules-load.d/mutex_proxy.conf", "w") as out:
        out.write(f.read())
    systemctl("restart", "systemd-modules-load.service")
    check(env.loaded(), "systemd-modules-load loaded mutex_proxy from modules-load.d")
    with open("/sys/module/mutex_proxy/version") as f:
        version = f.read().strip()
    check_eq(run(["modinfo", "-F", "filename", "mutex_proxy"], check_rc=0).out.strip(),
             f"{MODDIR}/updates/dkms/{kos[0]}", f"the DKMS-installed module ({version})")


def test_systemd_c_ready_lifts_the_guard(env):
    if not under_systemd():
        return
    load_as_at_boot(env)
    systemctl("start", "mutexd.service")  # returns once READY=1 and ExecStartPost are done
    check_eq(prop("mutexd.service", "ActiveState"), "active", "mutexd")
    check(run(TABLE).rc != 0, "the guard's table is gone once mutexd is ready")
    check_eq(rules(env), 1, "the file's rule in the module")
    c = socket.create_connection(("192.0.2.1", 26656), timeout=PATIENCE)
    side, _ = STATE["backend"].accept()
    side.close(), c.close()


def test_systemd_d_reload_applies_a_changed_file(env):
    if not under_systemd():
        return
    pid = prop("mutexd.service", "MainPID")
    gen = env.mutexctl("-j", "config", "show").json()["generation"]
    write_config(extra_rule=True)
    systemctl("reload", "mutexd.service")
    wait("the second rule in the module", lambda: rules(env) == 2)
    check(env.mutexctl("-j", "config", "show").json()["generation"] > gen, "a new generation")
    check_eq(prop("mutexd.service", "MainPID"), pid, "reloaded, not restarted")


def test_systemd_e_watchdog_restarts_a_hung_daemon(env):
    if not under_systemd():
        return
    pid = prop("mutexd.service", "MainPID")
    restarts = int(prop("mutexd.service", "NRestarts"))
    os.kill(int(pid), 19)  # SIGSTOP: alive, silent
    wait("a new mutexd after the watchdog fired",
         lambda: prop("mutexd.service", "MainPID") not in (pid, "0")
         and prop("mutexd.service", "ActiveState") == "active")
    check_eq(int(prop("mutexd.service", "NRestarts")), restarts + 1, "one restart")
    check("watchdog timeout" in journal("mutexd.service").lower(), "the journal names the watchdog")
    check_eq(rules(env), 2, "the configuration is still in the module")


def test_systemd_f_stop_leaves_the_module_steering(env):
    if not under_systemd():
        return
    systemctl("stop", "mutexd.service")
    check_eq(prop("mutexd.service", "ActiveState"), "inactive", "mutexd stopped")
    check_eq(rules(env), 2, "the module keeps the configuration")
    c = socket.create_connection(("192.0.2.2", 26656), timeout=PATIENCE)
    side, _ = STATE["backend"].accept()
    c.sendall(b"still")
    check_eq(side.recv(5), b"still", "steered with mutexd stopped")
    side.close(), c.close()


def test_systemd_z_teardown(env):
    if not under_systemd():
        return
    STATE["backend"].close()
    env.mutexctl("config", "apply", "/dev/null")
    env.unload()
