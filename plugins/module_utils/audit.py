# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit log: one JSON line per step change, verdict, forced step and rollback, one file per app.

``<audit_dir>/<app>.jsonl`` on the controller. Lines are appended with one ``write`` on a file opened
with O_APPEND, so lines of concurrent runs never interleave.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import os

from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.validation import ValidationError, validate_name

ACTIONS = ("step", "rollback", "verdict", "ramp-start", "ramp-rollback", "ramp-done", "ramp-stopped", "dns",
           "dns-rollback", "step-undone", "reconcile", "lock-broken", "recovered", "endpoint")
AUDIT_FORMAT = 1


class AuditError(CloudshiftError):
    pass


def audit_path(audit_dir, app):
    return os.path.join(audit_dir, validate_name(app, "app") + ".jsonl")


def _round(value, digits=3):
    return None if value is None else round(value, digits)


def figures_digest(window):
    """What the audit log keeps of a window: per side counts, response shares, error rate and times."""
    digest = {"seconds": window.get("seconds"), "nodes": window.get("nodes")}
    for side, figures in window["sides"].items():
        timings = figures["timings"]
        digest[side] = {
            "requests": figures["requests"],
            "shares_pct": dict((name, _round(value)) for name, value in figures["shares_pct"].items()),
            "error_rate_pct": _round(figures["error_rate_pct"]),
            "failed_attempts": figures["failed_attempts"],
            "retries": figures["retries"],
            "redispatches": figures["redispatches"],
            "check_failures": figures["check_failures"],
            "samples": timings["samples"],
            "connect_ms": dict((key, _round(timings["connect_ms"][key])) for key in ("avg", "p95")),
            "response_ms": dict((key, _round(timings["response_ms"][key])) for key in ("avg", "p95")),
            "server_ms": dict((key, _round(timings["server_ms"][key])) for key in ("avg", "p50", "p95", "p99")),
        }
    return digest


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")


def build_record(app, action, route=None, by=None, from_step=None, to_step=None, verdict=None, forced=False,
                 note=None, details=None, at=None):
    """One audit record (pure); AuditError naming the bad value."""
    validate_name(app, "app")
    if route is not None:
        validate_name(route, "route")
    if action not in ACTIONS:
        raise AuditError("unknown audit action %r; known: %s" % (action, ", ".join(ACTIONS)))
    for label, step in (("from_step", from_step), ("to_step", to_step)):
        if step is not None and (isinstance(step, bool) or not isinstance(step, int) or not 0 <= step <= 100):
            raise AuditError("%s must be a step from 0 to 100, got %r" % (label, step))
    if verdict not in (None, "pass", "fail", "inconclusive"):
        raise AuditError("verdict must be pass, fail or inconclusive, got %r" % (verdict,))
    record = {
        "format": AUDIT_FORMAT,
        "at": at or now_iso(),
        "app": app,
        "route": route,
        "action": action,
        "by": by,
        "from": from_step,
        "to": to_step,
        "verdict": verdict,
        "forced": bool(forced),
        "note": note,
    }
    for key, value in (details or {}).items():
        if key in record:
            raise AuditError("details may not override the audit field %r" % key)
        record[key] = value
    return record


def _ends_torn(fd):
    """Whether the file's last line lacks its newline (a write cut short by a crash or a full disk)."""
    size = os.fstat(fd).st_size
    if not size:
        return False
    os.lseek(fd, size - 1, os.SEEK_SET)
    return os.read(fd, 1) != b"\n"


def append_record(audit_dir, record):
    """Append one record as a JSON line; returns the file's path. A torn last line is ended first, in the same
    write, so that the new record starts a line of its own (the torn one stays, reported by read_records)."""
    path = audit_path(audit_dir, record["app"])
    line = (json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n").encode("utf-8")
    try:
        if not os.path.isdir(audit_dir):
            os.makedirs(audit_dir, 0o750)
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, (b"\n" + line) if _ends_torn(fd) else line)
        finally:
            os.close(fd)
    except (IOError, OSError) as exc:
        raise AuditError("cannot append to the audit log %s: %s" % (path, exc))
    return path


def writable_problem(audit_dir, app):
    """Why a record of app could not be appended (None when it could), found without writing anything: checked by
    every changing run before its first change, so that a step is never applied without its audit line."""
    path = audit_path(audit_dir, app)
    try:
        if os.path.lexists(path):
            os.close(os.open(path, os.O_WRONLY | os.O_APPEND))
            return None
        directory = audit_dir
        while not os.path.exists(directory):
            directory = os.path.dirname(directory) or "."
        if not os.path.isdir(directory):
            return "%s is not a directory" % directory
        if not os.access(directory, os.W_OK | os.X_OK):
            return "%s is not writable" % directory
    except (IOError, OSError) as exc:
        return "%s: %s" % (path, exc.strerror or exc)
    return None


def read_records(path, damaged=None):
    """Every record of an audit file, oldest first. A line that is not a JSON object (torn by a crash, edited) is not
    a record: with a list as damaged, each such line's number and start are added to it, for the caller to report."""
    records = []
    try:
        with open(path) as handle:
            for number, line in enumerate(handle, 1):
                try:
                    record = json.loads(line)
                except ValueError:
                    record = None
                if isinstance(record, dict):
                    records.append(record)
                elif line.strip() and damaged is not None:
                    damaged.append({"line": number, "text": line.strip()[:80]})
    except (IOError, OSError) as exc:
        if getattr(exc, "errno", None) == 2:
            return []
        raise AuditError("cannot read the audit log %s: %s" % (path, exc))
    return records


# The module migration_audit and its action plugin (which runs it in the controller's process) share these.
ARGUMENT_SPEC = dict(
    audit_dir=dict(type="path", required=True),
    app=dict(type="str", required=True),
    route=dict(type="str"),
    action=dict(type="str", required=True, choices=list(ACTIONS)),
    by=dict(type="str"),
    from_step=dict(type="int"),
    to_step=dict(type="int"),
    verdict=dict(type="str", choices=["pass", "fail", "inconclusive"]),
    forced=dict(type="bool", default=False),
    note=dict(type="str"),
    window=dict(type="dict"),
    checks=dict(type="list", elements="dict"),
    nodes=dict(type="list", elements="str"),
    dns=dict(type="dict"),
)


ERRORS = (AuditError, ValidationError, KeyError, TypeError)


def run(params, check_mode, diff):
    """The result of migration_audit: the record appended (not in check mode) and the file."""
    details = {}
    if params["window"]:
        details["figures"] = figures_digest(params["window"])
        details["backend"] = params["window"].get("backend")
    if params["checks"] is not None:
        details["checks"] = params["checks"]
    if params["nodes"] is not None:
        details["nodes"] = params["nodes"]
    if params.get("dns") is not None:
        details["dns"] = params["dns"]
    record = build_record(params["app"], params["action"], route=params["route"], by=params["by"],
                          from_step=params["from_step"], to_step=params["to_step"], verdict=params["verdict"],
                          forced=params["forced"], note=params["note"], details=details)
    path = audit_path(params["audit_dir"], params["app"])
    if not check_mode:
        append_record(params["audit_dir"], record)
    result = {"changed": True, "record": record, "path": path}
    if diff:
        result["diff"] = {"before": "", "after": json.dumps(record, sort_keys=True) + "\n",
                          "after_header": "%s (appended)" % path}
    return result


def failure_message(params, exc):
    return "cannot record the %s of %s in the audit log: %s" % (params.get("action"), params.get("app"), exc)
