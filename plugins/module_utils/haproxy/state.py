# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The per-node state store: each app's (and route's) recorded step.

Layout (documented in docs/app-model.md):
    <state_dir>/apps/<app>.json
    {"app": "application-01", "step": 25, "previous_step": 1, "updated_at": "...",
     "history": [{"step": 1, "at": "...", "by": "...", "note": ""}, ...],
     "routes": {"customers": {"step": 50, "previous_step": 25, "updated_at": "...", "history": [...]}}}

Files are replaced atomically (write to a temporary file in the same directory, fsync, rename),
so a reader never sees half a file and a crash leaves the previous state.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import os
import tempfile

from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.validation import validate_name

HISTORY_LENGTH = 50
STATE_FORMAT = 1


class StateError(Exception):
    pass


def app_state_path(state_dir, app):
    validate_name(app, "app")
    return os.path.join(state_dir, "apps", app + ".json")


def load_app_state(state_dir, app):
    """The recorded state of an app, or None when nothing was ever recorded."""
    path = app_state_path(state_dir, app)
    try:
        with open(path) as handle:
            data = json.load(handle)
    except (IOError, OSError) as exc:
        if getattr(exc, "errno", None) == 2:
            return None
        raise StateError("cannot read state file %s: %s" % (path, exc))
    except ValueError as exc:
        raise StateError("state file %s is not valid JSON: %s" % (path, exc))
    if not isinstance(data, dict) or data.get("app") != app:
        raise StateError("state file %s does not hold the state of app %s" % (path, app))
    return data


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
        entry["previous_step"] = entry.get("step")
    entry["step"] = step
    entry["updated_at"] = at
    record = {"step": step, "at": at}
    if by:
        record["by"] = by
    if note:
        record["note"] = note
    history = entry.setdefault("history", [])
    history.append(record)
    del history[:-HISTORY_LENGTH]
    return data


def write_app_state(state_dir, app, data, mode=0o640):
    """Atomically replace the state file of an app."""
    path = app_state_path(state_dir, app)
    directory = os.path.dirname(path)
    try:
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o750)
        fd, tmp_path = tempfile.mkstemp(prefix="." + app + ".", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(data, handle, indent=2, sort_keys=True)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp_path, mode)
            os.rename(tmp_path, path)
        except Exception:
            if os.path.exists(tmp_path):
                os.unlink(tmp_path)
            raise
    except (IOError, OSError) as exc:
        raise StateError("cannot write state file %s: %s" % (path, exc))
    return path
