# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The per-node state store: each app's (and route's) recorded step.

Layout (documented in docs/app-model.md):
    <state_dir>/apps/<app>.json
    {"app": "application-01", "step": 25, "previous_step": 1, "updated_at": "...",
     "undo": {"step": 1, "previous_step": 0},
     "history": [{"step": 1, "at": "...", "by": "...", "note": ""}, ...],
     "routes": {"customers": {"step": 50, "previous_step": 25, "updated_at": "...", "history": [...]}}}

`undo` holds what the entry was before its last change (step and rollback pointer), so a step that
reached some nodes of a fleet but not all can be taken back exactly (undo_step), leaving `rollback`
pointing where it pointed before; it is dropped once used.

`pending` is the intent of a change that needs a reload (a step reaching or leaving 100, or its undo), written
with the step before the first change and dropped once the running HAProxy is read back at that step:
    "pending": {"kind": "step", "from": 25, "to": 100, "since": "...", "by": "alice"}
A record still holding it was cut off (kill -9, Ctrl-C, a crash): the next run that takes the app's lock finishes or
undoes it (haproxy/recovery.py). kind `step` is undone unless the node already runs it; `undo` and `recover` are
finished.

Files are replaced atomically (write to a temporary file in the same directory, fsync, rename),
so a reader never sees half a file and a crash leaves the previous state.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import os

from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.validation import (
    ADDRESS_PATTERN, HOST_PATTERN, is_ip_address, validate_name)
from ansible_collections.cloudshift.migration.plugins.module_utils.jsonfile import JsonFileError, read_json, write_json

HISTORY_LENGTH = 50
STATE_FORMAT = 1


class StateError(CloudshiftError):
    pass


def app_state_path(state_dir, app):
    validate_name(app, "app")
    return os.path.join(state_dir, "apps", app + ".json")


def load_app_state(state_dir, app):
    """The recorded state of an app, or None when nothing was ever recorded."""
    path = app_state_path(state_dir, app)
    try:
        data = read_json(path, "state file")
    except JsonFileError as exc:
        raise StateError(str(exc))
    if data is not None and (not isinstance(data, dict) or data.get("app") != app):
        raise StateError("state file %s does not hold the state of app %s" % (path, app))
    if data is not None:
        problem = record_problem(data)
        if problem:
            raise StateError("state file %s is damaged: %s (nothing was changed; put the file back from a backup or "
                             "remove it to fall back to the app's initial_step)" % (path, problem))
    return data


def _step_problem(entry, key, where):
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        return "%s%s is %s, not an integer from 0 to 100" % (where, key, json.dumps(value))
    return None


ENTRY_FIELDS = ("step", "previous_step", "updated_at", "undo", "history", "pending")
PENDING_KINDS = ("step", "undo", "recover")
PENDING_FIELDS = ("kind", "from", "to", "since", "by")
RECORD_FIELDS = ("app", "format", "routes", "endpoints") + ENTRY_FIELDS
ENDPOINT_FIELDS = ("address", "port", "host", "resolved", "kind", "name", "found_by", "at", "by", "previous")
ENDPOINT_STRINGS = ("host", "resolved", "kind", "name", "found_by", "at", "by")


def _history_problem(history, where):
    if not isinstance(history, list):
        return "%shistory is %s, not a list" % (where, json.dumps(history))
    for index, record in enumerate(history):
        if not isinstance(record, dict):
            return "%shistory[%d] is %s, not an object" % (where, index, json.dumps(record))
        problem = _step_problem(record, "step", "%shistory[%d]." % (where, index))
        if problem:
            return problem
    return None


def _entry_problem(entry, where, fields=ENTRY_FIELDS):
    if not isinstance(entry, dict):
        return "%s is %s, not an object" % (where.rstrip(".") or "the record", json.dumps(entry))
    unknown = sorted(key for key in entry if key not in fields)
    if unknown:
        return "%s%s is not a field of a state record (fields: %s)" % (where, unknown[0], ", ".join(fields))
    # Every write records the step (null when it went back to unrecorded): a record with a history or an update
    # time and no step lost it, and falling back to the initial step would move the app.
    if "step" not in entry and any(key in entry for key in ENTRY_FIELDS if key != "step"):
        return "%sstep is missing" % where
    for key in ("step", "previous_step"):
        problem = _step_problem(entry, key, where)
        if problem:
            return problem
    if "updated_at" in entry and not isinstance(entry["updated_at"], str):
        return "%supdated_at is %s, not a time" % (where, json.dumps(entry["updated_at"]))
    undo = entry.get("undo")
    if undo is not None:
        if not isinstance(undo, dict):
            return "%sundo is %s, not an object" % (where, json.dumps(undo))
        for key in ("step", "previous_step"):
            problem = _step_problem(undo, key, where + "undo.")
            if problem:
                return problem
    if "pending" in entry:
        problem = _pending_problem(entry["pending"], where + "pending.")
        if problem:
            return problem
    if "history" in entry:
        return _history_problem(entry["history"], where)
    return None


def _pending_problem(pending, where):
    if not isinstance(pending, dict):
        return "%s is %s, not an object" % (where.rstrip("."), json.dumps(pending))
    unknown = sorted(key for key in pending if key not in PENDING_FIELDS)
    if unknown:
        return "%s%s is not a field of a pending change (fields: %s)" % (where, unknown[0], ", ".join(PENDING_FIELDS))
    if pending.get("kind") not in PENDING_KINDS:
        return "%skind is %s, not one of %s" % (where, json.dumps(pending.get("kind")), ", ".join(PENDING_KINDS))
    if pending.get("to") is None:
        return "%sto is missing" % where
    for key in ("from", "to"):
        problem = _step_problem(pending, key, where)
        if problem:
            return problem
    for key in ("since", "by"):
        if pending.get(key) is not None and not isinstance(pending[key], str):
            return "%s%s is %s, not a string" % (where, key, json.dumps(pending[key]))
    return None


def endpoint_problem(endpoint, where, nested=True):
    if not isinstance(endpoint, dict):
        return "%s is %s, not an object" % (where.rstrip("."), json.dumps(endpoint))
    unknown = sorted(key for key in endpoint if key not in ENDPOINT_FIELDS)
    if unknown:
        return "%s%s is not a field of an endpoint (fields: %s)" % (where, unknown[0], ", ".join(ENDPOINT_FIELDS))
    # The address goes into haproxy.cfg's server line: the app model's own check of a server's address.
    address = endpoint.get("address")
    if not isinstance(address, str) or not ADDRESS_PATTERN.match(address):
        return "%saddress is %s, not a host name or an IP address" % (where, json.dumps(address))
    port = endpoint.get("port")
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        return "%sport is %s, not a port 1-65535" % (where, json.dumps(port))
    for key in ENDPOINT_STRINGS:
        value = endpoint.get(key)
        if value is not None and not isinstance(value, str):
            return "%s%s is %s, not a string" % (where, key, json.dumps(value))
    host, resolved = endpoint.get("host"), endpoint.get("resolved")
    if host is not None and not HOST_PATTERN.match(host):
        return "%shost is %s, not a name or an address" % (where, json.dumps(host))
    if resolved is not None and not is_ip_address(resolved):
        return "%sresolved is %s, not an IP address" % (where, json.dumps(resolved))
    if endpoint.get("previous") is not None:
        if not nested:
            return "%sprevious holds a previous of its own" % where
        return endpoint_problem(endpoint["previous"], where + "previous.", nested=False)
    return None


def _keyed_problem(data, key, check):
    """The first problem of the objects of data[key] ({name: object}), each checked by check(object, where)."""
    entries = data.get(key)
    if entries is None:
        return None
    if not isinstance(entries, dict):
        return "%s is %s, not an object" % (key, json.dumps(entries))
    for name in sorted(entries):
        problem = check(entries[name], "%s.%s." % (key, name))
        if problem:
            return problem
    return None


def record_problem(data):
    """What makes a loaded state record unusable (a step that is not an integer 0-100...), or None (pure)."""
    problem = _entry_problem(data, "", RECORD_FIELDS) or _keyed_problem(data, "endpoints", endpoint_problem)
    if problem:
        return problem
    if "format" in data and data["format"] != STATE_FORMAT:
        return "format is %s, not %d" % (json.dumps(data["format"]), STATE_FORMAT)
    return _keyed_problem(data, "routes", _entry_problem)


def _entry(data, route):
    if route is None:
        return data
    return data.setdefault("routes", {}).setdefault(route, {})


def recorded_step(state, route=None):
    """The step recorded for an app (or one of its routes) in a loaded state, or None."""
    if state is None:
        return None
    if route is None:
        return state.get("step")
    return state.get("routes", {}).get(route, {}).get("step")


def previous_step(state, route=None):
    if state is None:
        return None
    entry = state if route is None else state.get("routes", {}).get(route, {})
    return entry.get("previous_step")


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


def with_step(state, app, step, route=None, by=None, note=None, at=None):
    """A new state dict with step recorded (pure: the given state is not modified)."""
    data = json.loads(json.dumps(state)) if state else {"app": app, "format": STATE_FORMAT}
    if route is not None:
        validate_name(route, "route")
    entry = _entry(data, route)
    at = at or now_iso()
    if entry.get("step") != step:
        entry["undo"] = {"step": entry.get("step"), "previous_step": entry.get("previous_step")}
        entry["previous_step"] = entry.get("step")
    entry["step"] = step
    entry.pop("pending", None)  # a new step supersedes any intent: the caller records its own
    _record(entry, step, at, by, note)
    return data


def _record(entry, step, at, by, note):
    entry["updated_at"] = at
    record = {"step": step, "at": at}
    if by:
        record["by"] = by
    if note:
        record["note"] = note
    history = entry.setdefault("history", [])
    history.append(record)
    del history[:-HISTORY_LENGTH]


def undo_record(state, route=None):
    """What the app's (or route's) entry was before its last change: {"step", "previous_step"}, or None."""
    if state is None:
        return None
    entry = state if route is None else state.get("routes", {}).get(route, {})
    return entry.get("undo")


def without_step(state, app, undone_step, route=None, by=None, note=None, at=None):
    """A new state dict with the change to undone_step taken back (pure), or None when there is nothing to undo.

    Nothing to undo: the recorded step is not undone_step (this node never took it, or it was already
    taken back), or no undo record is kept. The entry gets back its step and rollback pointer; a step
    that was not recorded before becomes unrecorded again (the app's initial_step applies).
    """
    undo = undo_record(state, route)
    if undo is None or recorded_step(state, route) != undone_step:
        return None
    data = json.loads(json.dumps(state))
    if route is not None:
        validate_name(route, "route")
    entry = _entry(data, route)
    del entry["undo"]
    entry.pop("pending", None)
    for key in ("step", "previous_step"):
        entry[key] = undo.get(key)  # null: not recorded (the app's initial_step applies)
    text = "step %s undone" % undone_step
    _record(entry, undo.get("step"), at or now_iso(), by, "%s: %s" % (text, note) if note else text)
    return data


def pending_change(state, route=None):
    """The intent of a change cut off before the node was read back at it ({"kind", "from", "to"...}), or None."""
    if state is None:
        return None
    entry = state if route is None else state.get("routes", {}).get(route, {})
    return entry.get("pending")


def with_pending(state, app, route, pending):
    """A new state dict whose app (or route) entry holds pending, or none when pending is None (pure)."""
    data = json.loads(json.dumps(state)) if state else {"app": app, "format": STATE_FORMAT}
    entry = _entry(data, route)
    if pending is None:
        entry.pop("pending", None)
    else:
        entry["pending"] = dict((key, value) for key, value in pending.items() if value is not None or key == "from")
    return data


def pending_entries(state):
    """[(route or None, pending)] of every entry of a record with a change cut off (pure)."""
    if state is None:
        return []
    found = [(None, state["pending"])] if state.get("pending") else []
    for route in sorted(state.get("routes") or {}):
        if (state["routes"][route] or {}).get("pending"):
            found.append((route, state["routes"][route]["pending"]))
    return found


def recorded_endpoints(state):
    """{server: endpoint} deploy.yml recorded for an app's cloud servers (an empty dict when none)."""
    return dict((state or {}).get("endpoints") or {})


def with_endpoint(state, app, server, endpoint, by=None, at=None):
    """A new state dict whose server points at endpoint (pure); the endpoint it replaces is kept as its `previous`
    (none: the inventory's address), so that the swap can be taken back exactly. endpoint None: the server goes back
    to the endpoint before (or to the inventory's address)."""
    data = json.loads(json.dumps(state)) if state else {"app": app, "format": STATE_FORMAT}
    validate_name(server, "server")
    endpoints = data.setdefault("endpoints", {})
    current = endpoints.get(server)
    if endpoint is None:
        previous = (current or {}).get("previous")
        if previous is None:
            endpoints.pop(server, None)
        else:
            endpoints[server] = dict(previous, previous=None)
    else:
        entry = dict((key, value) for key, value in endpoint.items() if key in ENDPOINT_FIELDS and key != "previous")
        entry.update(at=at or now_iso(), by=by)
        entry["previous"] = dict((key, value) for key, value in current.items() if key != "previous") if current else None
        endpoints[server] = entry
    if not endpoints:
        data.pop("endpoints")
    return data


def restore_app_state(state_dir, app, state):
    """Put a record back as it was before this run wrote it (none: the app had no record)."""
    if state is not None:
        write_app_state(state_dir, app, state)
    elif os.path.exists(app_state_path(state_dir, app)):
        os.remove(app_state_path(state_dir, app))


def write_app_state(state_dir, app, data, mode=0o640):
    """Atomically replace the state file of an app."""
    try:
        return write_json(app_state_path(state_dir, app), data, "state file", mode=mode, indent=2)
    except JsonFileError as exc:
        raise StateError(str(exc))
