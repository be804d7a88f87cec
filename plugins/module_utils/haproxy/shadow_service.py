# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What haproxy_shadow does: validate, read the live share and counters, set the share over the
runtime API (set/add/del map, no reload) and record it in the node's store."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import signal
import time

from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.client import HAProxyError
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.maps import (
    MapError, parse_map_entries, parse_map_list, read_file, validate_map_path, write_file_atomically)
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.shadow import (
    ShadowError, counter_delta, effective_percent, file_with_share, map_value, parse_counters, parse_map_value, read_store, write_store,
    zero_counters)
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.validation import ValidationError, validate_name

SHADOW_ERRORS = (ShadowError, MapError, ValidationError, HAProxyError)
MAX_LEASE_SECONDS = 7 * 86400 + 3600
MAX_HOLD_SECONDS = 7 * 86400
# While holding, the lease is renewed this often and lasts three times as long, so a holder that dies
# (Ctrl-C, a lost connection) stops the copies within about RENEW_SECONDS * 3.
RENEW_SECONDS = 20
COUNTERS_COMMAND = "cloudshift shadow"


def validate(params):
    validate_name(params["app"], "app")
    validate_map_path(params["map_file"])
    if params["state"] == "present":
        percent = params["percent"]
        if percent is None or not 0 <= percent <= 100:
            raise ShadowError("invalid percent %r: the share of the app's requests to copy, 0 to 100" % (percent,))
    lease = params.get("lease_seconds") or 0
    if not 0 <= lease <= MAX_LEASE_SECONDS:
        raise ShadowError("invalid lease_seconds %r: 0 (no lease) to %d" % (lease, MAX_LEASE_SECONDS))
    hold = params.get("hold_seconds") or 0
    if not 0 <= hold <= MAX_HOLD_SECONDS:
        raise ShadowError("invalid hold_seconds %r: 0 to %d" % (hold, MAX_HOLD_SECONDS))
    if hold and params["state"] != "present":
        raise ShadowError("hold_seconds goes with state=present")
    if params["state"] == "present" and not params["read_live"]:
        raise ShadowError("read_live=false only reads the node's store: state=present sets the share live")


def read_counters(session, app):
    """The app's copy counters, from the Lua action's runtime API command."""
    reply = session.execute(COUNTERS_COMMAND)
    if reply.lower().startswith("unknown command"):
        raise ShadowError("HAProxy does not know the command `%s`: the role's Lua file (cloudshift-shadow.lua) is "
                          "not loaded" % COUNTERS_COMMAND)
    return parse_counters(reply).get(app, zero_counters())


def read_live(session, map_file, app):
    """((percent, deadline), whether the map has the app, counters) as HAProxy runs them, in one session."""
    loaded = [item["file"] for item in parse_map_list(session.execute("show map"))]
    if map_file not in loaded:
        raise ShadowError("HAProxy has no shadow map loaded from %s (maps loaded: %s): does the app model give an app "
                          "a shadow entry, and has site.yml run since?" % (map_file, ", ".join(loaded) or "none"))
    entries = dict(parse_map_entries(session.execute("show map %s" % map_file)))
    return parse_map_value(entries.get(app)), app in entries, read_counters(session, app)


def sync_file(map_file, app, percent, deadline):
    """Keep the map file as the live map, so a reload of any kind keeps the share."""
    try:
        write_file_atomically(map_file, file_with_share(read_file(map_file), app, percent, deadline))
    except (IOError, OSError) as exc:
        raise ShadowError("the share of %s is set live and recorded, but the map file %s could not be written: %s"
                          % (app, map_file, exc))


def change_command(map_file, app, percent, deadline, present):
    if percent == 0:
        return "del map %s %s" % (map_file, app) if present else None
    verb = "set" if present else "add"
    return "%s map %s %s %s" % (verb, map_file, app, map_value(percent, deadline))


def describe(app, percent, deadline):
    if percent == 0:
        return "%s: no shadow copies\n" % app
    until = " until %s" % time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(deadline)) if deadline else ""
    return "%s: %d%% of the allowed requests copied to the shadow%s\n" % (app, percent, until)


class Interrupted(Exception):
    pass


def _interrupt(signum, _frame):
    raise Interrupted(signum)


def hold(params, client, result, sleep=time.sleep, clock=time.time):
    """Keep the share for hold_seconds, renewing its lease; the counters' change over the hold. A signal
    (Ctrl-C, a lost connection, a kill) sets the share back to 0 before the module ends."""
    app, map_file, percent = params["app"], params["map_file"], params["percent"]
    started = clock()
    before = result.get("counters") or zero_counters()
    previous = dict((number, signal.signal(number, _interrupt)) for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP))
    try:
        while clock() - started < params["hold_seconds"]:
            sleep(min(RENEW_SECONDS, params["hold_seconds"] - (clock() - started)))
            if percent > 0 and clock() - started < params["hold_seconds"]:
                deadline = int(clock()) + RENEW_SECONDS * 3
                with client.session() as session:
                    reply = session.execute(change_command(map_file, app, percent, deadline, True)).strip()
                    if "not found" in reply.lower():  # a reload in between dropped the entry: add it back
                        reply = session.execute(change_command(map_file, app, percent, deadline, False)).strip()
                if reply:
                    raise ShadowError("HAProxy refused to renew the shadow of %s: %s" % (app, reply))
                result["deadline"] = deadline
    except Interrupted as exc:
        with client.session() as session:
            session.execute(change_command(map_file, app, 0, 0, True))
        write_store(params["state_dir"], app, 0, 0, by=params.get("by"))
        sync_file(map_file, app, 0, 0)
        raise ShadowError("interrupted (signal %d) after %.0f s of the %d s hold: the shadow of %s is back to 0%%"
                          % (exc.args[0], clock() - started, params["hold_seconds"], app))
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    with client.session() as session:
        after = read_counters(session, app)
    result["counters"] = after
    result["held"] = {"seconds": round(clock() - started, 1), "counters": counter_delta(before, after)}
    return result


def run(params, client, check_mode, now=None):
    validate(params)
    app, map_file = params["app"], params["map_file"]
    recorded = read_store(params["state_dir"], app)
    now = time.time() if now is None else now
    result = {"changed": False, "recorded": recorded}
    if not params["read_live"]:  # the store only (a query: validate refuses to set without HAProxy)
        percent, deadline = (recorded["percent"], recorded.get("deadline") or 0) if recorded else (0, 0)
        result.update(percent=percent, previous_percent=percent, deadline=deadline,
                      effective_percent=effective_percent(percent, deadline, now))
        return result
    with client.session() as session:
        (live_percent, live_deadline), present, counters = read_live(session, map_file, app)
        result.update(percent=live_percent, previous_percent=live_percent, deadline=live_deadline,
                      effective_percent=effective_percent(live_percent, live_deadline, now), counters=counters)
        if params["state"] == "query":
            return result
        percent = params["percent"]
        lease = params.get("lease_seconds") or (RENEW_SECONDS * 3 if params.get("hold_seconds") else 0)
        deadline = int(now) + lease if lease and percent > 0 else 0
        live_differs = (live_percent, live_deadline if live_percent else 0) != (percent, deadline)
        store_differs = recorded is None or (recorded["percent"], recorded.get("deadline") or 0) != (percent, deadline)
        result.update(percent=percent, deadline=deadline, effective_percent=effective_percent(percent, deadline, now),
                      changed=live_differs or store_differs,
                      diff={"before": describe(app, live_percent, live_deadline), "after": describe(app, percent, deadline),
                            "before_header": "%s in %s" % (app, map_file), "after_header": "%s in %s" % (app, map_file)})
        if check_mode:
            return result
        if not result["changed"]:
            return hold(params, client, result) if params.get("hold_seconds") else result
        if live_differs:
            command = change_command(map_file, app, percent, deadline, present)
            if command is not None:
                reply = session.execute(command).strip()
                if reply:
                    raise ShadowError("HAProxy refused `%s`: %s" % (command, reply))
    result["recorded"] = write_store(params["state_dir"], app, percent, deadline, by=params.get("by"))
    sync_file(map_file, app, percent, deadline)
    if params.get("hold_seconds"):
        return hold(params, client, result)
    return result
