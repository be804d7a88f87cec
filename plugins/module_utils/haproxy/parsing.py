# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parsers for HAProxy runtime API replies, and readable names for its status fields.

Pure functions, no I/O. Every format here was checked against HAProxy 2.6:

* ``show stat``: CSV whose first line is the header, prefixed with ``# `` and
  ending with a trailing comma (so does every row);
* ``show servers state``: a format version line (``1``), a ``# be_id be_name ...``
  header, then space-separated rows;
* ``get weight``: ``25 (initial 25)``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import re

from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError

SERVERS_STATE_FORMAT = "1"

# show stat "type" column
TYPE_FRONTEND = 0
TYPE_BACKEND = 1
TYPE_SERVER = 2
TYPE_LISTENER = 3

# Columns of ``show stat`` that hold text; every other non-empty column is a number.
STAT_TEXT_COLUMNS = frozenset((
    "pxname", "svname", "status", "check_status", "last_chk", "last_agt", "agent_status",
    "check_desc", "agent_desc", "addr", "cookie", "mode", "algo", "tracked",
))
SERVERS_STATE_TEXT_COLUMNS = frozenset((
    "be_name", "srv_name", "srv_addr", "srv_fqdn", "srvrecord", "srv_check_addr", "srv_agent_addr",
))

# From HAProxy's management guide (show stat, check_status).
CHECK_STATUS_DESCRIPTIONS = {
    "UNK": "unknown",
    "INI": "initializing",
    "SOCKERR": "socket error",
    "L4OK": "check passed on layer 4, no upper layers testing enabled",
    "L4TOUT": "layer 1-4 timeout",
    "L4CON": "layer 1-4 connection problem (e.g. connection refused)",
    "L6OK": "check passed on layer 6",
    "L6TOUT": "layer 6 (SSL) timeout",
    "L6RSP": "layer 6 invalid response, protocol error",
    "L7OK": "check passed on layer 7",
    "L7OKC": "check conditionally passed on layer 7 (e.g. 404 with disable-on-404)",
    "L7TOUT": "layer 7 (HTTP/SMTP) timeout",
    "L7RSP": "layer 7 invalid response, protocol error",
    "L7STS": "layer 7 response error (e.g. HTTP 5xx)",
    "PROCERR": "external check process error",
    "EXPOK": "external check passed",
    "EXPTOUT": "external check timeout",
    "CHECKED": "check passed",
    "HANA": "health analyze detected enough consecutive errors",
}

# srv_admin_state bits from ``show servers state`` (HAProxy's SRV_ADMF_*).
ADMIN_STATE_FLAGS = (
    (0x01, "forced maintenance"),
    (0x02, "maintenance inherited from a tracked server"),
    (0x04, "maintenance set in the configuration (disabled)"),
    (0x08, "forced drain"),
    (0x10, "drain inherited from a tracked server"),
    (0x20, "maintenance because its address does not resolve"),
    (0x40, "maintenance because its FQDN was changed"),
)
# srv_op_state from ``show servers state`` (HAProxy's SRV_ST_*).
OPERATIONAL_STATES = {0: "stopped", 1: "starting", 2: "running", 3: "stopping"}

GET_WEIGHT_PATTERN = re.compile(r"\A(\d+) \(initial (\d+)\)\Z")
_INTEGER_PATTERN = re.compile(r"\A-?\d+\Z")
_TRANSITION_PATTERN = re.compile(r"\A(UP|DOWN|NOLB) (\d+)/(\d+)\Z")


class ParseError(CloudshiftError, ValueError):
    pass


def _typed(value, text_columns, column):
    if value == "" or value is None:
        return None
    if column not in text_columns and _INTEGER_PATTERN.match(value):
        return int(value)
    return value


def parse_show_stat(text):
    """Rows of a ``show stat`` reply as dicts keyed by the header's column names.

    Empty fields become None, numeric fields int; text fields stay str.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines or not lines[0].startswith("# "):
        raise ParseError("not a 'show stat' reply (no '# pxname,...' header): %r" % text[:200])
    reader = csv.reader(lines)
    header = next(reader)
    header[0] = header[0][2:]
    if "pxname" not in header or "svname" not in header:
        raise ParseError("'show stat' header without pxname and svname columns: %r" % lines[0][:100])
    rows = []
    for fields in reader:
        row = {}
        for index, column in enumerate(header):
            if not column or column == "-":
                continue
            value = fields[index] if index < len(fields) else ""
            row[column] = _typed(value, STAT_TEXT_COLUMNS, column)
        rows.append(row)
    return rows


def parse_servers_state(text):
    """Rows of a ``show servers state`` reply (format 1) as dicts keyed by header names."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise ParseError("empty 'show servers state' reply")
    version = lines[0].strip()
    if version != SERVERS_STATE_FORMAT:
        raise ParseError("unsupported 'show servers state' format %r (expected version %s): %r"
                         % (version, SERVERS_STATE_FORMAT, text[:200]))
    if len(lines) < 2 or not lines[1].startswith("# "):
        raise ParseError("'show servers state' reply has no '# be_id be_name ...' header: %r" % text[:200])
    header = lines[1][2:].split()
    rows = []
    for line in lines[2:]:
        fields = line.split(" ")
        if len(fields) < len(header):
            raise ParseError("'show servers state' row has %d fields, header has %d: %r"
                             % (len(fields), len(header), line))
        rows.append(dict((column, _typed(fields[index], SERVERS_STATE_TEXT_COLUMNS, column))
                         for index, column in enumerate(header)))
    return rows


def parse_get_weight(text):
    """(current, initial) weights from a ``get weight`` reply such as ``25 (initial 25)``."""
    match = GET_WEIGHT_PATTERN.match(text.strip())
    if not match:
        raise ParseError("not a 'get weight' reply: %r" % text.strip())
    return int(match.group(1)), int(match.group(2))


def server_state(status):
    """A server's ``show stat`` status in one readable word or phrase.

    HAProxy reports transitions as ``UP 1/3`` (up, failing checks, going down) and
    ``DOWN 1/2`` (down, passing checks, going up); ``no check`` means up without checks.
    """
    if not status:
        return "unknown"
    if status == "no check":
        return "up (not checked)"
    match = _TRANSITION_PATTERN.match(status)
    if match:
        word, done, needed = match.groups()
        direction = "going up" if word == "DOWN" else "going down"
        return "%s, %s (%s/%s checks)" % (word.lower(), direction, done, needed)
    return status.lower()


def is_serving(status):
    """Whether a server with this ``show stat`` status takes new load-balanced requests.

    UP (even while failing checks but not yet down) and unchecked servers do;
    DOWN, MAINT, DRAIN and NOLB do not.
    """
    if not status:
        return False
    if status == "no check" or status == "UP":
        return True
    match = _TRANSITION_PATTERN.match(status)
    return bool(match and match.group(1) == "UP")


def check_status_description(check_status):
    """Readable meaning of a ``check_status`` code (``* `` marks a check in progress)."""
    if not check_status:
        return "no check"
    code = check_status[2:] if check_status.startswith("* ") else check_status
    description = CHECK_STATUS_DESCRIPTIONS.get(code, "unknown check status")
    if code != check_status:
        description += " (check in progress)"
    return description


def admin_state_description(admin_state):
    """Readable list of the admin flags set in a ``srv_admin_state`` value (empty when none)."""
    admin_state = admin_state or 0
    return [text for flag, text in ADMIN_STATE_FLAGS if admin_state & flag]


def last_check_summary(stat_row):
    """The last check as HAProxy's stats page shows it: ``L7OK/200 in 1ms``, plus its info text if any.

    None when the server is not checked.
    """
    check_status = stat_row.get("check_status")
    if not check_status:
        return None
    text = check_status
    if stat_row.get("check_code") is not None:
        text += "/%s" % stat_row["check_code"]
    if stat_row.get("check_duration") is not None and stat_row["check_duration"] >= 0:
        text += " in %sms" % stat_row["check_duration"]
    if stat_row.get("last_chk"):
        text += ": %s" % stat_row["last_chk"]
    return text


def server_summary(stat_row, weight=None):
    """The operator-facing view of one server's ``show stat`` row."""
    status = stat_row.get("status")
    return {
        "name": stat_row.get("svname"),
        "weight": stat_row.get("uweight") if weight is None else weight,
        "status": server_state(status),
        "haproxy_status": status,
        "serving": is_serving(status),
        "backup": bool(stat_row.get("bck")),
        "check_status": stat_row.get("check_status"),
        "check_description": stat_row.get("check_desc") or check_status_description(stat_row.get("check_status")),
        "check_code": stat_row.get("check_code"),
        "check_duration_ms": stat_row.get("check_duration"),
        "last_check": last_check_summary(stat_row),
        "last_check_info": stat_row.get("last_chk"),
        "seconds_since_status_change": stat_row.get("lastchg"),
        "current_sessions": stat_row.get("scur"),
        "total_sessions": stat_row.get("stot"),
        "total_requests": stat_row.get("req_tot"),
        "times_selected": stat_row.get("lbtot"),
        "address": stat_row.get("addr"),
    }
