#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Stand-in for a local proxy client in the demonstration (tests/vm/demo-guest.sh).

Usage: proxy-client.py PORT
Listens on PORT (all addresses). For every connection mutex_proxy redirected to it, it reads
the original destination with SO_ORIGINAL_DST, exactly as a SOCKS/relay client behind an
iptables REDIRECT does, and answers with one line saying what it learned; a real client would
now dial that destination through its upstream proxy. Prints one line once it listens.
"""
import socket
import struct
import sys
import threading

SO_ORIGINAL_DST = 80  # linux/netfilter_ipv4.h


def serve(conn, peer):
    with conn:
        raw = conn.getsockopt(socket.SOL_IP, SO_ORIGINAL_DST, 16)
        dport, = struct.unpack("!H", raw[2:4])
        daddr = socket.inet_ntoa(raw[4:8])
        me = conn.getsockname()
        conn.sendall(f"proxy client: connection from {peer[0]}:{peer[1]} to {me[0]}:{me[1]}, "
                     f"SO_ORIGINAL_DST = {daddr}:{dport}\n".encode())
        while conn.recv(4096):
            pass


port = int(sys.argv[1])
srv = socket.create_server(("0.0.0.0", port))
print(f"proxy client listening on port {port}", flush=True)
while True:
    c, p = srv.accept()
    threading.Thread(target=serve, args=(c, p), daemon=True).start()
