"""A DNS server on loopback for the tests, standing in for the VPC resolver that knows the ELBs' names.

No name of a discovered ELB (moto's `<name>-<n>.<region>.elb.amazonaws.com`) resolves on this machine, and the tests
must not touch /etc/hosts: HAProxy's `resolvers` section (haproxy_resolvers.nameservers) and the deploy probe ask this
server instead. It speaks real DNS over UDP (RFC 1035): A records from a table the test changes while it runs, an
empty NOERROR answer for AAAA and other types of a known name, NXDOMAIN for any other name. Every question is
recorded.
"""

import socket
import struct
import threading

TYPE_A = 1
CLASS_IN = 1


def parse_question(packet):
    """(id, flags, name, qtype, end offset of the question) of a query."""
    ident, flags, qdcount = struct.unpack(">HHH", packet[:6])
    if qdcount != 1:
        raise ValueError("one question expected, got %d" % qdcount)
    labels, offset = [], 12
    while packet[offset]:
        length = packet[offset]
        labels.append(packet[offset + 1:offset + 1 + length].decode("ascii"))
        offset += 1 + length
    qtype, _qclass = struct.unpack(">HH", packet[offset + 1:offset + 5])
    return ident, flags, ".".join(labels).lower(), qtype, offset + 5


def answer(packet, records, ttl=5):
    ident, flags, name, qtype, end = parse_question(packet)
    question = packet[12:end]
    address = records.get(name)
    rcode = 0 if address is not None else 3
    answers = b""
    if address is not None and qtype == TYPE_A:
        answers = b"\xc0\x0c" + struct.pack(">HHIH", TYPE_A, CLASS_IN, ttl, 4) + socket.inet_aton(address)
    # QR, the query's opcode and RD, RA; one question, the answers, no authority, no additional (no EDNS echo).
    reply_flags = 0x8000 | (flags & 0x7900) | 0x0080 | rcode
    header = struct.pack(">HHHHHH", ident, reply_flags, 1, 1 if answers else 0, 0, 0)
    return header + question + answers, name, qtype


class DnsStandin(object):
    def __init__(self, port, records=None):
        self.port = port
        self.records = dict((name.lower().rstrip("."), address) for name, address in (records or {}).items())
        self.questions = []
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", port))
        self.sock.settimeout(0.2)
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def set(self, name, address):
        with self.lock:
            self.records[name.lower().rstrip(".")] = address

    def asked(self, name):
        with self.lock:
            return [qtype for asked, qtype in self.questions if asked == name.lower().rstrip(".")]

    def _serve(self):
        while self.running:
            try:
                packet, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                with self.lock:
                    reply, name, qtype = answer(packet, self.records)
                    self.questions.append((name, qtype))
            except (ValueError, IndexError, struct.error):
                continue
            self.sock.sendto(reply, peer)

    def close(self):
        self.running = False
        self.thread.join(2)
        self.sock.close()
