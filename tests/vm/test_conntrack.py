# SPDX-License-Identifier: GPL-2.0
"""VM tests of what the module owes conntrack: it decides only for a connection's first packet
and leaves alone what conntrack knew before it (flows older than the module, mid-stream TCP
segments that conntrack picks up again after `conntrack -F`), and it holds no reference on an
entry before conntrack confirms it (an NFQUEUE program in the path, bridged broadcast with
br_netfilter).

Each case builds its own namespace (lo only, destinations routed to lo) and removes it. Runs
first of the VM test files: the first case loads the module, the last unloads it.
"""
import select
import socket

from guest import PATIENCE, check, check_eq, run, sh
from nfqueue import NfQueue
from test_steering_mutexctl import accept_one, apply, dial, exchange, listener, netns, silent

PRE, LOOSE, IPS = "ct-pre", "ct-loose", "ct-ips"
BR, PEER = "ct-br", "ct-peer"
DST = "192.0.2.1"

# conntrack on in a namespace without the module: a rule that needs it
CT_ON = """table inet ct_on {
	chain output { type filter hook output priority 0; ct state new counter; }
}
"""


def make_ns(name):
    sh(f"ip netns add {name} && ip -n {name} link set lo up && "
       f"ip -n {name} addr add {DST}/32 dev lo", check_rc=0)


def udp(ns, addr, port=0):
    with netns(ns):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    s.settimeout(PATIENCE)
    return s


def test_ct_load(env):
    check(not env.loaded(), "module already loaded before the test")
    for ns in (PRE, LOOSE, IPS):
        make_ns(ns)


def test_ct_flow_older_than_the_module_is_left_alone(env):
    """An unreplied UDP flow that conntrack tracked before the module came is not steered,
    counted or tracked when a rule matches its later datagrams (the NAT core asks about it,
    but nf_nat_setup_info() cannot change a confirmed entry)."""
    run(["ip", "netns", "exec", PRE, "nft", "-f", "-"], input=CT_ON, check_rc=0)
    orig = udp(PRE, DST, 5400)
    proxy = udp(PRE, "127.0.0.1", 5401)
    cli = udp(PRE, "127.0.0.1")
    try:
        cli.sendto(b"before", (DST, 5400))
        check_eq(orig.recv(64), b"before", "datagram before the module")
        env.load(keep_conntrack=True)  # the old flow must outlive the load
        apply(env, PRE, "ct-pre", rules=[
            {"name": "udp", "protocol": "udp", "destination": DST, "destination_ports": "5400",
             "action": "redirect", "to_port": 5401}])
        for i in range(3):
            cli.sendto(b"after%d" % i, (DST, 5400))
            check_eq(orig.recv(64), b"after%d" % i, "the old flow keeps its destination")
        check(not _readable(proxy), "the old flow reached the proxy")
        st = env.stats(netns=PRE)
        check_eq((st["flows_steered"], st["flow_count"]), (0, 0), "old flow counted as steered")
        check_eq(env.mutexctl("-j", "flows", netns=PRE).json(), [], "old flow in the table")
        # A new flow is steered as usual.
        new = udp(PRE, "127.0.0.1")
        new.sendto(b"new", (DST, 5400))
        proxy.settimeout(PATIENCE)
        check_eq(proxy.recv(64), b"new", "a new flow is redirected")
        new.close()
        check_eq(env.stats(netns=PRE)["flows_steered"], 1, "flows_steered after a new flow")
    finally:
        orig.close(), proxy.close(), cli.close()


def _readable(s):
    """A datagram is waiting at s (within 0.2 s)."""
    ready, _, _ = select.select([s], [], [], 0.2)
    return bool(ready)


def test_ct_midstream_segment_is_not_steered(env):
    """With nf_conntrack_tcp_loose (the default), a segment of an established connection
    after `conntrack -F` opens a NEW entry; the module steers TCP only on a SYN, so the
    connection keeps talking to where it was going instead of being sent to the proxy."""
    srv = listener(LOOSE, DST, 7300)
    proxy = listener(LOOSE, "127.0.0.1", 7301)
    with netns(LOOSE):
        c = socket.create_connection((DST, 7300), timeout=PATIENCE)
    try:
        i, s = accept_one([srv, proxy])
        check_eq(i, 0, "direct connection before any configuration")
        c.sendall(b"one")
        check_eq(s.recv(16), b"one", "data before")
        apply(env, LOOSE, "ct-loose", rules=[
            {"name": "p2p", "protocol": "tcp", "destination": DST, "destination_ports": "7300",
             "action": "redirect", "to_port": 7301}])
        run(["ip", "netns", "exec", LOOSE, "conntrack", "-F"], check_rc=0)
        for n in range(3):
            c.sendall(b"two%d" % n)
            check_eq(s.recv(16), b"two%d" % n, "data after conntrack -F reaches the server")
            s.sendall(b"back%d" % n)
            check_eq(c.recv(16), b"back%d" % n, "the server's answer")
        check(silent(proxy), "the proxy saw a connection")
        st = env.stats(netns=LOOSE)
        check_eq(st["flows_steered"], 0, "flows_steered")
        # a new connection is steered
        with netns(LOOSE):
            c2 = socket.create_connection((DST, 7300), timeout=PATIENCE)
        i, s2 = accept_one([srv, proxy])
        check_eq(i, 1, "a new connection goes to the proxy")
        c2.close(), s2.close()
        s.close()
    finally:
        c.close(), srv.close(), proxy.close()


# An inline IPS: every TCP packet to the proxy's port goes through queue 3 before it leaves.
IPS_RULES = """table inet ips {
	chain output { type filter hook output priority 0; tcp dport 7401 queue num 3; }
}
"""


def test_ct_nfqueue_in_the_path(env):
    """A steered TCP connection establishes through an NFQUEUE rule (an inline IPS such as
    Suricata): the queue gets the SYN while its conntrack entry is unconfirmed, and
    nfnetlink_queue drops such a packet when anything besides the packet holds the entry."""
    run(["ip", "netns", "exec", IPS, "nft", "-f", "-"], input=IPS_RULES, check_rc=0)
    proxy = listener(IPS, "127.0.0.1", 7401)
    apply(env, IPS, "ct-ips", rules=[
        {"name": "p2p", "protocol": "tcp", "destination": DST, "destination_ports": "7400",
         "action": "redirect", "to_port": 7401}])
    with netns(IPS):
        q = NfQueue(3)
    c = s = None
    try:
        c = dial(IPS, DST, 7400)
        i, s = accept_one([proxy])
        check_eq(i, 0, "the connection reached the proxy through the queue")
        exchange(c, s, b"ips")
        # At least the SYN and the data segment went through the queue.
        check(q.accepted >= 2, f"the queue saw {q.accepted} packets")
        st = env.stats(netns=IPS)
        check_eq(st["flows_steered"], 1, "flows_steered")
        fl = env.mutexctl("-j", "flows", netns=IPS).json()
        check_eq(len(fl), 1, f"flows: {fl}")
        check(fl[0]["pkts_orig"] >= 2, f"the flow's packets were counted: {fl[0]}")
    finally:
        for x in (c, s, proxy):
            if x:
                x.close()
        q.close()


def test_ct_bridged_broadcast_with_br_netfilter(env):
    """A broadcast datagram bridged with br_netfilter and delivered locally reaches the
    bridge's LOCAL_IN with its conntrack entry unconfirmed; br_netfilter confirms it there and
    warns (WARN_ON_ONCE, a failed run here) if the entry has a second reference. A rule that
    steers it (DNAT to another port of the broadcast address: the packet stays bridged) must
    leave the entry to its packet."""
    if not env.kunit:  # the debug kernel has it built in
        run(["modprobe", "br_netfilter"], check_rc=0)
    sh(f"ip netns add {BR} && ip netns add {PEER} && "
       f"ip -n {BR} link add br0 type bridge && "
       f"ip -n {BR} link add port0 type veth peer name eth0 netns {PEER} && "
       f"ip -n {BR} link set port0 master br0 && "
       f"ip -n {BR} addr add 10.9.0.1/24 brd 10.9.0.255 dev br0 && "
       f"ip -n {BR} link set br0 up && ip -n {BR} link set port0 up && ip -n {BR} link set lo up && "
       f"ip -n {PEER} addr add 10.9.0.2/24 brd 10.9.0.255 dev eth0 && "
       f"ip -n {PEER} link set eth0 up && "
       f"ip netns exec {BR} sysctl -qw net.bridge.bridge-nf-call-iptables=1", check_rc=0)
    apply(env, BR, "ct-br", pools=[
        {"name": "bcast", "backend": [{"address": "10.9.0.255", "port": 5501}]}], rules=[
        {"name": "bc", "protocol": "udp", "destination": "10.9.0.255",
         "destination_ports": "5500", "action": "dnat", "pool": "bcast"}])
    rcv = udp(BR, "0.0.0.0", 5501)
    with netns(PEER):
        snd = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    snd.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    try:
        for n in range(3):
            snd.sendto(b"bc%d" % n, ("10.9.0.255", 5500))
            check_eq(rcv.recv(64), b"bc%d" % n, "the broadcast, steered to the other port")
        st = env.stats(netns=BR)
        check_eq(st["flows_steered"], 1, "flows_steered")
    finally:
        snd.close(), rcv.close()


def test_ct_unload(env):
    for ns in (PRE, LOOSE, IPS, BR, PEER):
        run(["ip", "netns", "del", ns])
    env.unload()
    check(not env.loaded(), "module still loaded after rmmod")
