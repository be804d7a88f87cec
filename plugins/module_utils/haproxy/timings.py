# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-request timings from HAProxy's own log, read back from a ``ring`` over the runtime API.

``show stat`` only gives averages over the last 1024 requests. The role declares a ring
(``ring cloudshift-timings``) and makes the frontend log every request to it with LOG_FORMAT, so
``show events cloudshift-timings`` returns one line per request: backend, server, status and the
timers of HAProxy's HTTP log (section 8.2.3 of its configuration manual), plus ``<pid>.<request
counter>``, which names each request uniquely and so marks where a window starts.

Pure functions: the client reads the ring, this module parses and selects lines.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError

DEFAULT_RING = "cloudshift-timings"
# HAProxy's "option httplog" format without the cookie and header captures, plus the request id.
LOG_FORMAT = ("%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq "
              "%{+Q}r %pid.%rt")
# A ring that does not exist, or a sink that is not a buffer, as HAProxy 2.6 answers `show events`.
NO_SUCH_SINK_REPLY = "No such event sink"
NOT_A_BUFFER_REPLY = "Nothing to report for this sink"

_LINE = re.compile(
    r"\A(?P<client>\S+) \[(?P<date>[^\]]*)\] (?P<frontend>\S+) (?P<backend>[^/\s]+)/(?P<server>\S+) "
    r"(?P<TR>-?\d+)/(?P<Tw>-?\d+)/(?P<Tc>-?\d+)/(?P<Tr>-?\d+)/\+?(?P<Ta>-?\d+) "
    r"(?P<status>-?\d+) \+?(?P<bytes>\d+) (?P<termination>\S{2,4}) "
    r"\d+/\d+/\d+/\d+/(?P<redispatched>\+?)(?P<retries>\d+) \d+/\d+ "
    r"\"(?P<request>.*)\" (?P<id>\d+\.\d+)\Z"
)
TIMER_NAMES = ("queue_ms", "connect_ms", "response_ms", "active_ms")
_TIMER_FIELDS = ("Tw", "Tc", "Tr", "Ta")


class TimingsError(CloudshiftError, ValueError):
    pass


def parse_line(line):
    """One ring line as a dict, or None when it is not in LOG_FORMAT (another log, a truncated line).

    Timers are ints in ms, -1 where HAProxy did not get that far (no connection, no response).
    """
    match = _LINE.match(line.rstrip("\r\n"))
    if match is None:
        return None
    fields = match.groupdict()
    parsed = {
        "backend": fields["backend"],
        "server": fields["server"],
        "status": int(fields["status"]),
        "termination": fields["termination"],
        "retries": int(fields["retries"]),
        "redispatched": fields["redispatched"] == "+",
        "id": fields["id"],
    }
    for name, field in zip(TIMER_NAMES, _TIMER_FIELDS):
        parsed[name] = int(fields[field])
    return parsed


def ring_reply_lines(reply, ring):
    """The lines of a `show events <ring>` reply; TimingsError when the ring cannot be read."""
    text = reply.strip()
    if text == NO_SUCH_SINK_REPLY:
        raise TimingsError("HAProxy has no ring named %s (`show events` lists its sinks): render the configuration "
                           "with the role cloudshift.migration.haproxy, which declares it" % ring)
    if text == NOT_A_BUFFER_REPLY:
        raise TimingsError("HAProxy's sink %s is not a ring buffer, so it cannot be read back" % ring)
    return [line for line in reply.splitlines() if line.strip()]


def line_id(line):
    """The request id (``<pid>.<counter>``) ending a ring line, or None."""
    head, _sep, tail = line.rstrip().rpartition(" ")
    if head and re.match(r"\A\d+\.\d+\Z", tail):
        return tail
    return None


def last_id(lines):
    """The id of the newest line that has one: where the next window starts."""
    for line in reversed(lines):
        found = line_id(line)
        if found is not None:
            return found
    return None


def lines_after(lines, marker):
    """(lines logged after the one whose id is marker, whether the marker was found).

    The ring is in logging order, so everything after the marker came later, whatever its
    start time. Without the marker (first window, the ring wrapped, or a new worker after a
    reload) every line is taken and found is False.
    """
    if marker is None:
        return list(lines), False
    for index in range(len(lines) - 1, -1, -1):
        if line_id(lines[index]) == marker:
            return list(lines[index + 1:]), True
    return list(lines), False


def timing_rows(lines, backend):
    """Parsed lines of one backend (lines of other backends, or not in LOG_FORMAT, are left out)."""
    rows = []
    for line in lines:
        parsed = parse_line(line)
        if parsed is not None and parsed["backend"] == backend:
            rows.append(parsed)
    return rows


def evenly_spaced(items, limit):
    """At most limit items, taken at even intervals (time order kept, no randomness)."""
    if limit is None or len(items) <= limit:
        return list(items)
    if limit <= 0:
        return []
    step = len(items) / float(limit)
    return [items[int(index * step)] for index in range(limit)]
