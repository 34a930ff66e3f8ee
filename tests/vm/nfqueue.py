# SPDX-License-Identifier: GPL-2.0
"""An NFQUEUE program for the VM tests: what an inline IPS (Suricata in NFQ mode) does to the
packets it is given, reduced to accepting each one. Speaks nfnetlink_queue over a raw netlink
socket (no library in the guest): binds a queue, reads NFQNL_MSG_PACKET messages with
metadata only, and answers every packet with an NF_ACCEPT verdict.

    with NfQueue(0) as q:      # in the namespace whose rules say `queue num 0`
        ...                     # traffic
        q.accepted              # packets verdicted so far
"""
import socket
import struct
import threading

NETLINK_NETFILTER = 12
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET, NFQNL_MSG_VERDICT, NFQNL_MSG_CONFIG = 0, 1, 2
NFQA_CFG_CMD, NFQA_CFG_PARAMS = 1, 2
NFQA_PACKET_HDR, NFQA_VERDICT_HDR = 1, 2
NFQNL_CFG_CMD_BIND = 1
NFQNL_COPY_META = 1
NF_ACCEPT = 1
NLM_F_REQUEST, NLM_F_ACK = 1, 4
NLMSG_ERROR = 2


def _attr(kind, payload):
    n = 4 + len(payload)
    return struct.pack("=HH", n, kind) + payload + b"\0" * ((4 - n % 4) % 4)


def _attrs(data):
    off = 0
    while off + 4 <= len(data):
        n, kind = struct.unpack_from("=HH", data, off)
        if n < 4:
            return
        yield kind & 0x3FFF, data[off + 4:off + n]
        off += (n + 3) & ~3


class NfQueue:
    """Queue `num`, served by a thread until close(); `accepted` counts the verdicts."""

    def __init__(self, num):
        self.num = num
        self.accepted = 0
        self.seq = 0
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        self.sock.bind((0, 0))
        self.sock.settimeout(0.2)
        self._config(_attr(NFQA_CFG_CMD, struct.pack("!BxH", NFQNL_CFG_CMD_BIND, 0)))
        self._config(_attr(NFQA_CFG_PARAMS, struct.pack("!IB", 0, NFQNL_COPY_META)))
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _send(self, msg, payload, flags=NLM_F_REQUEST):
        self.seq += 1
        body = struct.pack("!BBH", socket.AF_UNSPEC, 0, self.num) + payload
        hdr = struct.pack("=IHHII", 16 + len(body), (NFNL_SUBSYS_QUEUE << 8) | msg, flags,
                          self.seq, 0)
        self.sock.send(hdr + body)

    def _config(self, payload):
        self._send(NFQNL_MSG_CONFIG, payload, NLM_F_REQUEST | NLM_F_ACK)
        while True:
            data = self.sock.recv(65536)
            _, kind, _, seq, _ = struct.unpack_from("=IHHII", data)
            if kind == NLMSG_ERROR and seq == self.seq:
                err = struct.unpack_from("=i", data, 16)[0]
                if err:
                    raise OSError(-err, f"NFQUEUE config of queue {self.num}")
                return

    def _serve(self):
        while not self.stop.is_set():
            try:
                data = self.sock.recv(1 << 20)
            except socket.timeout:
                continue
            except OSError:
                return
            off = 0
            while off + 16 <= len(data):
                n, kind = struct.unpack_from("=IH", data, off)
                if kind == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
                    for akind, val in _attrs(data[off + 20:off + n]):
                        if akind == NFQA_PACKET_HDR:
                            pid = struct.unpack_from("!I", val)[0]
                            # Counted before the verdict lets the packet go on.
                            self.accepted += 1
                            self._send(NFQNL_MSG_VERDICT,
                                       _attr(NFQA_VERDICT_HDR, struct.pack("!II", NF_ACCEPT, pid)))
                off += (n + 3) & ~3

    def close(self):
        self.stop.set()
        self.thread.join()
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
