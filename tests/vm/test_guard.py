# SPDX-License-Identifier: GPL-2.0
"""VM test of the boot guard (`mutexctl guard`), with real nftables and real traffic.

With the module not loaded, `guard install` loads table inet mutex_proxy_guard from a
configuration: a connection the configuration steers to a pool in failure mode closed is dropped
(a locally sent packet dropped at LOCAL_OUT fails at once with EPERM), one an earlier bypass
rule lets through still goes, one to a fail-open pool goes. The command says that the module is
not loaded. Then what mutexd.service does once ready: the module holds the configuration,
`guard remove` takes the table away, and the same connection is steered to the pool.
Cases run in name order: a_ sets up, z_ tears down (the module unloaded, as found).
"""
import errno
import json
import os
import socket
import time

from guest import PATIENCE, check, check_eq, run
from test_steering_nat import listener

CONF = "/tmp/guard.toml"
TABLE = ["nft", "list", "table", "inet", "mutex_proxy_guard"]
STATE = {}


def config(mode="closed"):
    return f"""
[daemon]
guard = "{mode}"

[[pool]]
name = "sentries"
failure_mode = "closed"
  [[pool.backend]]
  address = "127.0.0.1"
  port = {STATE["backend"].getsockname()[1]}

[[pool]]
name = "relays"
failure_mode = "open"
  [[pool.backend]]
  address = "127.0.0.1"
  port = 9

[[rule]]
name = "loopback"
destination = "127.0.0.0/8"
action = "bypass"

[[rule]]
name = "p2p"
destination = "0.0.0.0/0"
destination_ports = "26656"
action = "dnat"
pool = "sentries"

[[rule]]
name = "discovery"
protocol = "udp"
destination = "192.0.2.0/24"
destination_ports = "30303"
action = "dnat"
pool = "relays"
"""


def write(mode="closed"):
    with open(CONF, "w") as f:
        f.write(config(mode))


def dial(addr, port):
    """connect(): 0, or the errno it failed with."""
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.settimeout(PATIENCE)
    try:
        c.connect((addr, port))
        return 0, c
    except OSError as e:
        c.close()
        return e.errno, None


def datagram(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.sendto(b"discv5", (addr, port))
        return 0
    except OSError as e:
        return e.errno
    finally:
        s.close()


def dropped(chain="output"):
    """Packets the guard's dropping rules of `chain` counted."""
    doc = json.loads(run(["nft", "-j", "list", "table", "inet", "mutex_proxy_guard"],
                         check_rc=0).out)
    total = 0
    for item in doc["nftables"]:
        rule = item.get("rule")
        if rule and rule["chain"] == chain:
            for expr in rule["expr"]:
                if "counter" in expr:
                    total += expr["counter"]["packets"]
    return total


def test_guard_a_setup(env):
    if env.loaded():
        env.unload()
    run(["ip", "route", "replace", "192.0.2.0/24", "dev", "lo", "src", "127.0.0.1"], check_rc=0)
    STATE["backend"] = listener(addr="127.0.0.1")
    STATE["local"] = listener(addr="127.0.0.1", port=26656)  # what the bypass rule lets reach
    write()


def test_guard_b_holds_while_the_module_is_missing(env):
    r = env.mutexctl("guard", "install", "--config", CONF)
    check("4 rules drop" in r.out, r.out)  # p2p, for TCP and UDP, in output and forward
    check("the mutex_proxy module is not loaded: the guard stays" in r.err, r.err)
    check_eq(run(TABLE).rc, 0, "the guard's table is loaded")
    check_eq(datagram("192.0.2.1", 26656), errno.EPERM, "a fail-closed pool's peer is dropped")
    # A TCP connect is not refused at once when its SYN is dropped (TCP retransmits): the
    # guard's counter shows the drop.
    before = dropped()
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.setblocking(False)
    check_eq(c.connect_ex(("192.0.2.1", 26656)), errno.EINPROGRESS, "connect in progress")
    end = time.monotonic() + PATIENCE
    while dropped() == before and time.monotonic() < end:
        time.sleep(0.05)
    check(dropped() > before, "the SYN to the fail-closed pool's peer counted as dropped")
    c.close()
    err, c = dial("127.0.0.1", 26656)
    check_eq(err, 0, "the earlier bypass rule still lets loopback through")
    STATE["local"].accept()[0].close(), c.close()
    check_eq(datagram("192.0.2.1", 30303), 0, "a fail-open pool's traffic is not dropped")
    # installing again replaces the table, it does not stack a second one
    env.mutexctl("guard", "install", "--config", CONF)
    rules = [line for line in run(TABLE, check_rc=0).out.splitlines() if "comment" in line]
    check_eq(len(rules), 10, f"five in each chain (TCP and UDP apart; no owner match): {rules}")


def test_guard_c_lifts_when_the_module_holds_the_configuration(env):
    # What mutexd.service does: the module loaded, the configuration in it (READY=1), then its
    # ExecStartPost removes the guard.
    env.load()
    env.mutexctl("config", "apply", CONF)
    r = env.mutexctl("guard", "remove")
    check("removed" in r.out, r.out)
    check(run(TABLE).rc != 0, "the guard's table is gone")
    err, c = dial("192.0.2.1", 26656)
    check_eq(err, 0, "the peer is reachable again")
    side, _ = STATE["backend"].accept()
    c.sendall(b"steered")
    check_eq(side.recv(7), b"steered", "through the fail-closed pool's backend")
    side.close(), c.close()
    env.mutexctl("guard", "remove")  # again: nothing to remove is no error


def test_guard_d_off_and_all(env):
    # the module steers before the guard's chain sees the packet: only without it is the guard
    # what decides
    env.mutexctl("config", "apply", "/dev/null")
    env.unload()
    write("all")
    env.mutexctl("guard", "install", "--config", CONF)
    check_eq(datagram("192.0.2.1", 30303), errno.EPERM, "guard = all drops the open pool's too")
    write("off")
    r = env.mutexctl("guard", "install", "--config", CONF)
    check("off" in r.out, r.out)
    check(run(TABLE).rc != 0, "guard = off: no table (the earlier one removed)")
    # a file mutexd would refuse loads nothing
    with open(CONF, "a") as f:
        f.write('[[rule]]\naction = "dnat"\npool = "nowhere"\n')
    r = env.mutexctl("guard", "install", "--config", CONF, check_rc=1)
    check(f"{CONF}:" in r.err, r.err)
    check(run(TABLE).rc != 0, "nothing loaded from a bad file")


def test_guard_z_teardown(env):
    for s in STATE.values():
        s.close()
    os.unlink(CONF)
    run(["ip", "route", "del", "192.0.2.0/24", "dev", "lo"])
    check(not env.loaded(), "module still loaded after rmmod")
