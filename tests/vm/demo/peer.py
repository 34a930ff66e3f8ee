#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Stand-in for a p2p endpoint in the demonstration (tests/vm/demo-guest.sh): a sentry node, or
a peer out on the internet.

Usage: peer.py GREETING ADDRESS:PORT...
Listens on every ADDRESS:PORT. Greets each connection with one line, GREETING with '{client}'
replaced by the address the connection came from, then answers each line it receives with
'NAME: <line>' (NAME: GREETING's first word), so a client always knows whom it reached.
Prints one line once it listens.
"""
import socket
import sys
import threading

greeting, endpoints = sys.argv[1], sys.argv[2:]
name = greeting.split()[0].rstrip(":")


def serve(conn, client):
    with conn:
        try:
            conn.sendall(greeting.replace("{client}", client[0]).encode() + b"\n")
            for line in conn.makefile("rb"):
                conn.sendall(f"{name}: ".encode() + line)
        except OSError:
            pass  # a health check that connects and closes at once


def listen(srv):
    while True:
        c, client = srv.accept()
        threading.Thread(target=serve, args=(c, client), daemon=True).start()


servers = []
for endpoint in endpoints:
    address, port = endpoint.rsplit(":", 1)
    servers.append(socket.create_server((address, int(port))))
for srv in servers[1:]:
    threading.Thread(target=listen, args=(srv,), daemon=True).start()
print(f"{name} listening on {' '.join(endpoints)}", flush=True)
listen(servers[0])
