# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One run per app at a time: a lock file per app on every HAProxy node.

``<state_dir>/locks/<name>.lock`` holds who took it (a JSON object):

    {"name": "application-01", "run_id": "ctl-1:5f1e...:4242:889911", "by": "alice", "controller": "ctl-1",
     "boot_id": "5f1e...", "pid": 4242, "pid_start": "889911", "purpose": "migrate.yml app=application-01 step=25",
     "since": "2026-12-03T17:20:00+00:00", "expires": "2026-12-03T17:35:00+00:00"}

A lock is taken by linking a complete file in place (``link`` fails when the lock exists: atomic, and a
reader never sees half a lock), renewed by its own run (same run_id), released only by its own run, and
broken only when stale: renamed aside (``<name>.lock.broken-<time>``), which only one breaker can do, then
taken anew. The controller decides which stale locks are broken (plugin_utils/run_lock.py: a dead holder's by
itself, one whose lease ran out when asked).

Stale: its lease ran out (``expires`` passed, by the node's clock), or its holder runs on this very
controller and its process is gone (same boot, no process with that pid and start time) or the
controller restarted since. A lock held from another controller counts as alive until its lease ends.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import errno
import json
import os

from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError
from ansible_collections.cloudshift.migration.plugins.module_utils.fileio import atomic_write
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.validation import validate_name
from ansible_collections.cloudshift.migration.plugins.module_utils.jsonfile import JsonFileError, read_json

LOCK_DIR = "locks"
HOLDER_KEYS = ("run_id", "by", "controller", "boot_id", "pid", "pid_start", "purpose")
MIN_TTL, MAX_TTL = 10, 7 * 24 * 3600


class LockError(CloudshiftError):
    pass


def lock_path(state_dir, name):
    return os.path.join(state_dir, LOCK_DIR, validate_name(name, "lock") + ".lock")


def parse_time(text):
    try:
        return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S+00:00").replace(tzinfo=datetime.timezone.utc)
    except (TypeError, ValueError):
        return None


def iso(moment):
    return moment.astimezone(datetime.timezone.utc).replace(microsecond=0).isoformat()


def new_lock(name, holder, ttl, now):
    """The lock record a holder writes (pure)."""
    lock = dict((key, holder.get(key)) for key in HOLDER_KEYS)
    lock.update(name=name, since=iso(now), expires=iso(now + datetime.timedelta(seconds=ttl)))
    return lock


def renewed(lock, ttl, now):
    updated = dict(lock)
    updated["expires"] = iso(now + datetime.timedelta(seconds=ttl))
    return updated


def lease_left(lock, now):
    """Seconds until the lock's lease runs out (negative once it has), None when it has no readable expiry."""
    expires = parse_time(lock.get("expires"))
    return None if expires is None else (expires - now).total_seconds()


def holder_text(lock):
    """'alice on ctl-1 (pid 4242, migrate.yml app=application-01 step=25)' (pure)."""
    details = ["pid %s" % lock.get("pid")] if lock.get("pid") is not None else []
    if lock.get("purpose"):
        details.append(str(lock["purpose"]))
    text = "%s on %s" % (lock.get("by") or "someone", lock.get("controller") or "an unknown controller")
    return text + (" (%s)" % ", ".join(details) if details else "")


def describe_lock(lock, now):
    """Who holds a lock and since when, for an operator (pure)."""
    since = parse_time(lock.get("since"))
    age = "" if since is None else " (%d s ago)" % max(0, int((now - since).total_seconds()))
    left = lease_left(lock, now)
    lease = "" if left is None else (", lease until %s" % lock.get("expires") if left >= 0
                                     else ", lease ran out at %s" % lock.get("expires"))
    return "held by %s since %s%s%s" % (holder_text(lock), lock.get("since") or "an unknown time", age, lease)


def staleness(lock, identity, now, process_alive):
    """(stale, reason): whether the lock's holder is gone (pure but for process_alive(pid, pid_start)).

    identity is this controller's {"controller", "boot_id"}.
    """
    left = lease_left(lock, now)
    if left is not None and left < 0:
        return True, "its lease ran out at %s (%d s ago) without being renewed" % (lock["expires"], int(-left))
    if lock.get("controller") and lock.get("controller") == identity.get("controller"):
        if lock.get("boot_id") and identity.get("boot_id") and lock["boot_id"] != identity["boot_id"]:
            return True, "its controller %s has restarted since it was taken" % lock["controller"]
        if lock.get("pid") is not None and not process_alive(lock.get("pid"), lock.get("pid_start")):
            return True, "its process %s on %s is gone" % (lock["pid"], lock["controller"])
    return False, None


def validate_request(names, ttl=None):
    if not isinstance(names, list) or not names:
        raise LockError("names must be a non-empty list of lock names, got %r" % (names,))
    for name in names:
        validate_name(name, "lock")
    if len(set(names)) != len(names):
        raise LockError("names lists a lock twice: %s" % ", ".join(names))
    if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int) or not MIN_TTL <= ttl <= MAX_TTL):
        raise LockError("invalid lock ttl %r: seconds from %d to %d" % (ttl, MIN_TTL, MAX_TTL))


# On the node ----------------------------------------------------------------------------------

def read_lock(state_dir, name):
    try:
        return read_json(lock_path(state_dir, name), "lock")
    except JsonFileError as exc:
        raise LockError(str(exc))


def _lock_text(lock):
    return json.dumps(lock, sort_keys=True) + "\n"


def _link_new(path, lock):
    """Create path holding lock, atomically; False when a lock is already there."""
    return atomic_write(path, _lock_text(lock), mode=0o640, make_dirs_mode=0o750, exclusive=True)


def _replace(path, lock):
    atomic_write(path, _lock_text(lock), mode=0o640)


def _break(path, run_id, now):
    """Move the stale lock of run_id aside; False when it is no longer that lock (someone else moved it)."""
    current = read_json(path, "lock")
    if current is None or current.get("run_id") != run_id:
        return False
    try:
        os.rename(path, "%s.broken-%s" % (path, now.strftime("%Y%m%dT%H%M%S")))
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return False
        raise
    return True


def acquire(state_dir, names, holder, ttl, now, check_mode=False, break_run_ids=()):
    """Take (or renew) every lock of names for holder, all or none on this node.

    Returns {"acquired", "renewed", "broken" (the stale locks moved aside), "conflicts" ([{name, lock}])}.
    A conflict leaves nothing taken by this call.
    """
    validate_request(names, ttl)
    if not holder.get("run_id"):
        raise LockError("the lock holder has no run_id")
    outcome = {"acquired": [], "renewed": [], "broken": [], "conflicts": []}
    taken_here = []
    try:
        for name in names:
            path = lock_path(state_dir, name)
            current = read_json(path, "lock")
            if current is not None and current.get("run_id") == holder["run_id"]:
                if not check_mode:
                    _replace(path, renewed(current, ttl, now))
                outcome["renewed"].append(name)
                continue
            if current is not None and current.get("run_id") in break_run_ids:
                stale = current
                if check_mode or _break(path, stale["run_id"], now):
                    outcome["broken"].append(stale)
                # Whatever is there now (nothing, or the lock of a run that broke it first) decides.
                current = None if check_mode else read_json(path, "lock")
            if current is not None:
                outcome["conflicts"].append({"name": name, "lock": current})
                break
            if check_mode:
                outcome["acquired"].append(name)
                continue
            if _link_new(path, new_lock(name, holder, ttl, now)):
                outcome["acquired"].append(name)
                taken_here.append(path)
            else:
                outcome["conflicts"].append({"name": name, "lock": read_json(path, "lock") or {}})
                break
    except (IOError, OSError, JsonFileError) as exc:
        _release_paths(taken_here)
        raise LockError("cannot take the lock in %s: %s" % (os.path.join(state_dir, LOCK_DIR), exc))
    if outcome["conflicts"]:
        _release_paths(taken_here)
        outcome["acquired"] = []
    return outcome


def _release_paths(paths):
    for path in paths:
        try:
            os.unlink(path)
        except OSError:
            pass


def release(state_dir, names, run_id, check_mode=False):
    """Release the locks of names held by run_id; {"released", "not_held" ([{name, lock}])}."""
    validate_request(names)
    outcome = {"released": [], "not_held": []}
    for name in names:
        path = lock_path(state_dir, name)
        try:
            current = read_json(path, "lock")
            if current is None:
                continue
            if current.get("run_id") != run_id:
                outcome["not_held"].append({"name": name, "lock": current})
                continue
            if not check_mode:
                os.unlink(path)
        except (IOError, OSError, JsonFileError) as exc:
            raise LockError("cannot release the lock %s: %s" % (path, exc))
        outcome["released"].append(name)
    return outcome


def query(state_dir, names):
    validate_request(names)
    return dict((name, read_lock(state_dir, name)) for name in names)


def conflict_view(conflict, now):
    """A conflict as the action plugin reads it: the lock, who holds it, whether its lease ran out."""
    lock = conflict["lock"]
    left = lease_left(lock, now)
    return {"name": conflict["name"], "lock": lock, "description": describe_lock(lock, now),
            "lease_left": left, "expired": left is not None and left < 0}


def handle(state_dir, request, now, check_mode=False):
    """One lock request on this node (migration_lock, or haproxy_step's lock): take, renew, release or query.

    request: names, state (acquired, released, query), by, purpose, ttl, run_id, holder, break_run_ids.
    Returns {changed, run_id, conflicts, acquired, renewed, broken, released, locks}.
    """
    names = request["names"]
    state = request.get("state") or "acquired"
    result = {"changed": False, "run_id": request.get("run_id"), "conflicts": []}
    if state == "query":
        result["locks"] = query(state_dir, names)
        return result
    if not request.get("run_id"):
        raise LockError("no run_id: the lock is taken through an action plugin of the collection, which knows the run")
    if state == "released":
        outcome = release(state_dir, names, request["run_id"], check_mode)
        result.update(changed=bool(outcome["released"]), released=outcome["released"],
                      conflicts=[conflict_view(item, now) for item in outcome["not_held"]])
        return result
    holder = dict(request.get("holder") or {}, run_id=request["run_id"], by=request.get("by"),
                  purpose=request.get("purpose"))
    outcome = acquire(state_dir, names, holder, request.get("ttl") or 900, now, check_mode=check_mode,
                      break_run_ids=request.get("break_run_ids") or ())
    result.update(changed=bool(outcome["acquired"] or outcome["renewed"] or outcome["broken"]),
                  acquired=outcome["acquired"], renewed=outcome["renewed"], broken=outcome["broken"],
                  conflicts=[conflict_view(item, now) for item in outcome["conflicts"]])
    return result


# On the controller ----------------------------------------------------------------------------

def process_start(pid):
    """A process's start time (clock ticks after boot, /proc/<pid>/stat field 22), or None when it is gone."""
    try:
        with open("/proc/%d/stat" % int(pid)) as handle:
            text = handle.read()
    except (IOError, OSError, ValueError, TypeError):
        return None
    # The command name (field 2) is in parentheses and may hold spaces: count from its closing one.
    fields = text[text.rindex(")") + 2:].split()
    return fields[19] if len(fields) > 19 else None


def process_alive(pid, pid_start):
    start = process_start(pid)
    return start is not None and (pid_start is None or str(start) == str(pid_start))


def boot_id():
    try:
        with open("/proc/sys/kernel/random/boot_id") as handle:
            return handle.read().strip()
    except (IOError, OSError):
        return None
