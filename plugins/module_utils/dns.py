# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A name resolved the way HAProxy's `resolvers` section will resolve it: an A query over UDP to the nameservers it
is given (haproxy_resolvers.nameservers), else the system's resolver. deploy.yml checks a new endpoint this way
before HAProxy is pointed at it, so that a name HAProxy's resolvers cannot find is refused, not swapped in.

The packet building and parsing are pure (RFC 1035) and unit-tested."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import socket
import struct

from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError

TYPE_A = 1
CLASS_IN = 1
RCODES = {1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


class DnsError(CloudshiftError):
    pass


def query_packet(name, ident):
    """An A query for name, recursion desired (pure)."""
    labels = name.rstrip(".").split(".")
    if not all(0 < len(label) < 64 for label in labels):
        raise DnsError("invalid name %r: each label holds 1 to 63 characters" % name)
    question = b"".join(struct.pack(">B", len(label)) + label.encode("ascii") for label in labels) + b"\x00"
    return struct.pack(">HHHHHH", ident, 0x0100, 1, 0, 0, 0) + question + struct.pack(">HH", TYPE_A, CLASS_IN)


def _skip_name(packet, offset):
    while True:
        length = packet[offset]
        if length == 0:
            return offset + 1
        if length & 0xC0 == 0xC0:  # a compression pointer ends the name
            return offset + 2
        offset += 1 + length


def parse_answer(packet, ident):
    """The IPv4 addresses of an answer to query ident (pure); DnsError names an error code or a bad packet."""
    try:
        answer_id, flags, qdcount, ancount = struct.unpack(">HHHH", packet[:8])
        if answer_id != ident or not flags & 0x8000:
            raise DnsError("the answer is not the one to this query")
        rcode = flags & 0x000F
        if rcode:
            raise DnsError(RCODES.get(rcode, "error code %d" % rcode))
        offset = 12
        for _index in range(qdcount):
            offset = _skip_name(packet, offset) + 4
        addresses = []
        for _index in range(ancount):
            offset = _skip_name(packet, offset)
            kind, klass, _ttl, length = struct.unpack(">HHIH", packet[offset:offset + 10])
            offset += 10
            if kind == TYPE_A and klass == CLASS_IN and length == 4:
                addresses.append(socket.inet_ntoa(packet[offset:offset + 4]))
            offset += length
        return addresses
    except (struct.error, IndexError) as exc:
        raise DnsError("a malformed answer (%s)" % exc)


def split_nameserver(nameserver):
    """("ip", port) of a nameserver written as HAProxy's `nameserver` takes it: ip[:port], port 53 by default."""
    host, _sep, port = nameserver.rpartition(":") if nameserver.count(":") == 1 else (nameserver, "", "53")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise DnsError("invalid nameserver %r: ip[:port]" % nameserver)
    return host, int(port)


def ask(nameserver, name, timeout=2.0):
    """The A records of name from one nameserver."""
    host, port = split_nameserver(nameserver)
    ident = struct.unpack(">H", os.urandom(2))[0]
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.settimeout(timeout)
        sock.sendto(query_packet(name, ident), (host, port))
        while True:
            packet, _peer = sock.recvfrom(4096)
            try:
                return parse_answer(packet, ident)
            except DnsError as exc:
                if "not the one" not in str(exc):
                    raise
    except socket.timeout:
        raise DnsError("no answer within %s s" % timeout)
    except (socket.error, OSError) as exc:
        raise DnsError(str(exc))
    finally:
        sock.close()


def resolve(name, nameservers=None, timeout=2.0):
    """(addresses, where) of name: through the first nameserver that answers, else the system's resolver when none
    is given. DnsError says what each nameserver answered."""
    if nameservers:
        failures = []
        for nameserver in nameservers:
            try:
                addresses = ask(nameserver, name, timeout)
            except DnsError as exc:
                failures.append("%s: %s" % (nameserver, exc))
                continue
            if addresses:
                return addresses, "nameserver %s" % nameserver
            failures.append("%s: no A record" % nameserver)
        raise DnsError("%s does not resolve (%s)" % (name, "; ".join(failures)))
    try:
        found = socket.getaddrinfo(name, None, socket.AF_INET, socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise DnsError("%s does not resolve through the system's resolver (%s)" % (name, exc))
    return sorted(set(item[4][0] for item in found)), "the system's resolver"
