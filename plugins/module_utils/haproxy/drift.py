# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Service layer of haproxy_drift: one node's live HAProxy against its recorded state, and the way back.

The recorded state of a node is:
  * the state store (each app's and route's step), which gives each backend's weights (split_weights) and
    whether the on-prem servers are backup (step 100, a configuration change);
  * the map files the role renders (Host map, routing maps), which HAProxy loads at start;
  * the shadow store (each shadowed app's share), which the shadow map follows.
Drift is what differs live: a weight or a map entry changed by hand over the runtime API, a server put in
maintenance or drain by hand. Reconciling sets the recorded values back over the runtime API (no reload);
backup flags that do not match the step are reported for site.yml, since only a reload changes them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.cloudshift.migration.plugins.module_utils.app_model.model import AppModelError, resolve
from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.endpoints import (
    describe as describe_endpoint, read_back_problems, running_endpoints)
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.maps import (
    manage_map, parse_map_file, read_file, validate_map_path)
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.server_state import write_server_state_file
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.shadow import (
    effective_percent, read_store, settings)
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.shadow_service import (
    change_command, read_live, sync_file)
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.recovery import cut_off
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.split import (
    CLOUD, ONPREM, SplitError, apply_split, backend_servers, plan_weights, shares, side_of)
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.state import (
    StateError, load_app_state, pending_entries)
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.validation import backend_label, validate_name

# Admin states only the runtime API sets (a person, or a tool): the ones a reconcile clears.
HAND_SET_ADMIN_STATES = ("forced maintenance", "forced drain")


class DriftError(CloudshiftError):
    pass


def targets(apps, states=None):
    """[{backend, app, route, initial_step, cloud, onprem, step, step_source}] of every app and route backend, as the
    app model resolves them at the node's recorded steps (the names checked as the runtime API needs them)."""
    return targets_of(checked_model(apps, states))


def checked_model(apps, states=None):
    """The app model resolved at the node's recorded steps, its names checked as the runtime API needs them."""
    if not isinstance(apps, list):
        raise DriftError("apps must be the app model (a list of apps), got %r" % (apps,))
    for app in apps:
        validate_name(app.get("name"), "app")
        servers = app.get("servers") or []
        for server in servers:
            validate_name(server.get("name"), "server")
        if not any(server.get("side") == CLOUD for server in servers) or \
                not any(server.get("side") == ONPREM for server in servers):
            raise DriftError("app %s needs at least one cloud and one on-prem server in the app model" % app["name"])
        for route in app.get("routes") or []:
            validate_name(route.get("name"), "route")
    try:
        return resolve(apps, states or {})
    except (AppModelError, KeyError, TypeError, ValueError) as exc:
        raise DriftError("the app model cannot be resolved: %s" % exc)


def targets_of(model):
    return [{"backend": backend["name"], "app": backend["app"], "route": backend["route"],
             "initial_step": backend["initial_step"], "cloud": backend["cloud_servers"],
             "onprem": backend["onprem_servers"], "step": backend["step"],
             "step_source": "state store" if backend["step_source"] == "state store" else "initial_step"}
            for backend in model["backends"]]


def recorded_states(state_dir, apps):
    """({app: its state store record or None}, {app: why its record cannot be read}): one damaged record is that
    app's problem, reported as such, not the whole node's."""
    states, damaged = {}, {}
    for app in apps:
        try:
            states[app["name"]] = load_app_state(state_dir, app["name"])
        except StateError as exc:
            damaged[app["name"]] = str(exc)
    return states, damaged


def pending_line(app, route, change):
    """The drift line of a change a stopped run left unfinished (pure)."""
    return ("%s; the next run that takes the app's lock (migrate.yml, site.yml, status.yml -e reconcile=true) finishes "
            "or undoes it" % cut_off(backend_label(app, route), change))


def backend_drift(target, step, servers):
    """(expected weights or None, [problems]) of one backend against its recorded step (pure)."""
    label = target["backend"]
    missing = [name for name in target["cloud"] + target["onprem"] if name not in servers]
    if missing:
        return None, ["%s: HAProxy has no server %s (the running configuration is not the app model's: "
                      "run site.yml)" % (label, ", ".join(missing))]
    problems = []
    onprem_backup = [servers[name]["backup"] for name in target["onprem"]]
    if step == 100 and not all(onprem_backup):
        problems.append("%s: recorded step 100 but the on-prem servers are not backup in the running "
                        "configuration (run site.yml to reload it)" % label)
    if step < 100 and any(onprem_backup):
        problems.append("%s: recorded step %d but the on-prem servers are backup in the running configuration "
                        "(run site.yml to reload it)" % (label, step))
    expected = None
    if not problems:
        try:
            expected = plan_weights(label, servers, target["cloud"], target["onprem"], step)
        except SplitError as exc:
            problems.append("%s: %s" % (label, exc))
    if expected is not None:
        wrong = ["%s %s, recorded step %d wants %s" % (name, servers[name]["weight"], step, weight)
                 for name, weight in sorted(expected.items()) if servers[name]["weight"] != weight]
        if wrong:
            problems.append("%s: weight %s" % (label, "; ".join(wrong)))
    for name in target["cloud"] + target["onprem"]:
        hand_set = [state for state in servers[name].get("admin_state") or [] if state in HAND_SET_ADMIN_STATES]
        if hand_set:
            problems.append("%s: server %s is in %s (set over the runtime API)" % (label, name, " and ".join(hand_set)))
    return expected, problems


def server_rows(target, servers):
    rows = []
    for name, view in servers.items():
        rows.append({"name": name, "side": side_of(name, target["cloud"], target["onprem"]), "weight": view["weight"],
                     "status": view["status"], "backup": view["backup"], "admin_state": view.get("admin_state") or [],
                     "last_check": view.get("last_check")})
    return rows


def read_state(client, target_list, require_admin):
    readings = client.read_backends([target["backend"] for target in target_list], require_admin=require_admin)
    return dict((backend, backend_servers(reading)) for backend, reading in readings.items())


def map_drift(client, map_path, reconcile, check_mode, model_entries=None):
    """The live map against what it must hold; put back with an atomic replace when reconciling.

    model_entries (the app model's rendered map, [{"key", "value"}]) is the truth when given: the live map and the
    file are both compared with it, and a reconcile sets it live, never the file's entries (a valid but wrong line on
    disk must not go live). Without it (restore.yml: the previous file is what is wanted) the file is the truth.
    A map looked up in a tree (map_str, map_beg...) is compared as a set of entries: its order means nothing.
    """
    validate_map_path(map_path)
    text = read_file(map_path)
    problems = []
    if model_entries is None:
        if text is None:
            return {"map": map_path, "drift": True, "changed": False,
                    "problems": ["map file %s does not exist (run site.yml)" % map_path]}
        wanted = parse_map_file(text)
        source = "its file"
    else:
        wanted = [(item["key"], item["value"]) for item in model_entries]
        source = "the app model"
    entries = [{"key": key, "value": value} for key, value in wanted]
    plan = manage_map(client, map_path, entries, "replace", write_file=False, check_mode=True)
    live = [(item["key"], item["value"]) for item in plan["entries_before"]]

    def same_entries(actual):
        return actual == wanted if plan["ordered"] else sorted(actual) == sorted(wanted)

    if model_entries is not None:
        on_disk = None if text is None else parse_map_file(text)
        if on_disk is None:
            problems.append("map file %s does not exist (site.yml renders it from the app model)" % map_path)
        elif not same_entries(on_disk):
            problems.append("map file %s differs from the app model: %s (site.yml renders it again; reconcile never "
                            "pushes the file)" % (map_path, _entries_difference(on_disk, wanted, "in the file")))
    same = same_entries(live)
    live_problem = None
    if not same:
        parts = []
        if plan["added"]:
            parts.append("missing live: %s" % ", ".join(item["key"] for item in plan["added"]))
        if plan["removed"]:
            parts.append("not in %s: %s" % (source, ", ".join(item["key"] for item in plan["removed"])))
        if plan["changed_values"]:
            changed = ["%s is %s live, %s in %s" % (item["key"], item["before"], item["after"], source)
                       for item in plan["changed_values"]]
            parts.append("changed: %s" % ", ".join(changed))
        if not parts and plan["order_changed"]:
            parts.append("the entries are in another order (the first match wins)")
        live_problem = "map %s differs from %s: %s" % (map_path, source, "; ".join(parts) or "entries differ")
        problems.insert(0, live_problem)
        if reconcile and not check_mode:
            manage_map(client, map_path, entries, "replace", write_file=False, check_mode=False)
    return {"map": map_path, "drift": bool(problems), "changed": bool(live_problem) and reconcile, "problems": problems,
            "live_entries": len(live), "file_entries": None if text is None else len(parse_map_file(text)),
            "source": source}


def _entries_difference(actual, wanted, where):
    actual_keys, wanted_keys = dict(actual), dict(wanted)
    parts = ["%s is %s %s, %s in the app model" % (key, actual_keys[key], where, wanted_keys[key])
             for key in sorted(set(actual_keys) & set(wanted_keys)) if actual_keys[key] != wanted_keys[key]]
    extra = sorted(set(actual_keys) - set(wanted_keys))
    missing = sorted(set(wanted_keys) - set(actual_keys))
    if extra:
        parts.append("not in the app model: %s" % ", ".join(extra))
    if missing:
        parts.append("missing %s: %s" % (where, ", ".join(missing)))
    return "; ".join(parts) or "the entries are in another order"


def shadow_drift(client, state_dir, map_file, apps, reconcile, check_mode, now):
    """Each shadowed app's live share against its store (the deadline of a held share is not compared)."""
    rows = []
    with client.session() as session:
        for app in apps:
            if not app.get("shadow"):
                continue
            name = validate_name(app["name"], "app")
            recorded = read_store(state_dir, name)
            if recorded:
                percent, deadline = recorded["percent"], recorded.get("deadline") or 0
            else:
                percent, deadline = settings(app["shadow"])["initial_percent"], 0
            want = effective_percent(percent, deadline, now)
            (live_percent, live_deadline), present, _counters = read_live(session, map_file, name)
            live = effective_percent(live_percent, live_deadline, now)
            row = {"app": name, "recorded": want, "live": live, "drift": live != want, "changed": False}
            if row["drift"]:
                row["problem"] = "shadow of %s is %s%% live, %s%% recorded" % (name, live, want)
                if reconcile and not check_mode:
                    command = change_command(map_file, name, want, deadline if want else 0, present)
                    if command:
                        reply = session.execute(command).strip()
                        if reply:
                            raise DriftError("HAProxy refused `%s`: %s" % (command, reply))
                    sync_file(map_file, name, want, deadline if want else 0)
                row["changed"] = reconcile
            rows.append(row)
    return rows


def reconcile_backend(client, target, step, servers):
    """Put the recorded weights back and clear hand-set maintenance/drain; the commands sent."""
    sent = []
    split = apply_split(client, target["backend"], target["cloud"], target["onprem"], step)
    sent.extend(split["commands"])
    commands = []
    for name in target["cloud"] + target["onprem"]:
        if any(state in HAND_SET_ADMIN_STATES for state in servers[name].get("admin_state") or []):
            commands.append("set server %s/%s state ready" % (target["backend"], name))
    if commands:
        replies = client.run(commands)
        refused = ["%s: %s" % (command, reply.strip()) for command, reply in zip(commands, replies) if reply.strip()]
        if refused:
            raise DriftError("HAProxy refused %s" % "; ".join(refused))
        sent.extend(commands)
    return sent


def node_drift(client, state_dir, apps, maps, shadow_map, reconcile=False, check_mode=False,
               server_state_file=None, now=None, model_maps=None):
    """The whole node: every backend, map and shadow share; reconciled when asked (not in check mode), then read back:
    `remaining` is the drift the node still shows after the reconcile (all of it when nothing was reconciled).

    maps: map files compared with their file; model_maps: [{"path", "entries"}] compared with the app model's entries.
    """
    now = time.time() if now is None else now
    targets(apps)  # names checked before anything is read
    for map_path in list(maps or []) + [item.get("path") for item in model_maps or []]:
        validate_map_path(map_path)
    if shadow_map:
        validate_map_path(shadow_map)
    states, damaged = recorded_states(state_dir, apps)
    readable = [app for app in apps if app["name"] not in damaged]  # nothing of a damaged app is reconciled
    model = checked_model(readable, states)
    target_list = targets_of(model)
    live = read_state(client, target_list, require_admin=reconcile)
    backends = []
    drift = []
    commands = []
    for target in target_list:
        step, source = target["step"], target["step_source"]
        servers = live[target["backend"]]
        expected, problems = backend_drift(target, step, servers)
        realised, effective = shares(servers, [n for n in target["cloud"] if n in servers],
                                     [n for n in target["onprem"] if n in servers],
                                     dict((name, view["weight"]) for name, view in servers.items()))
        entry = {"backend": target["backend"], "app": target["app"], "route": target["route"], "step": step,
                 "step_source": source, "share": _round(realised), "effective_share": _round(effective),
                 "weights": dict((name, view["weight"]) for name, view in servers.items()),
                 "expected_weights": expected, "servers": server_rows(target, servers), "drift": problems,
                 "reconciled": False}
        fixable = expected is not None and problems
        if reconcile and fixable:
            if not check_mode:
                commands.extend(reconcile_backend(client, target, step, servers))
            entry["reconciled"] = True
        backends.append(entry)
        drift.extend(problems)
    map_rows = [map_drift(client, path, reconcile, check_mode) for path in maps or []]
    map_rows += [map_drift(client, item["path"], reconcile, check_mode, model_entries=item.get("entries") or [])
                 for item in model_maps or []]
    for row in map_rows:
        drift.extend(row["problems"])
    shadow_rows = shadow_drift(client, state_dir, shadow_map, readable, reconcile, check_mode, now) if shadow_map else []
    drift.extend("app %s: %s" % (name, damaged[name]) for name in sorted(damaged))
    drift.extend(pending_line(app["name"], route, change) for app in readable
                 for route, change in pending_entries(states.get(app["name"])))
    drift.extend(row["problem"] for row in shadow_rows if row["drift"])
    endpoints = endpoint_rows(running_endpoints(client.show_servers_state()), model)
    drift.extend(row["problem"] for row in endpoints if row["problem"])
    changed = bool(reconcile and (any(entry["reconciled"] for entry in backends) or any(row["changed"] for row in map_rows)
                                  or any(row["changed"] for row in shadow_rows)))
    if changed and not check_mode and server_state_file and commands:
        write_server_state_file(client.run(["show servers state"])[0], server_state_file)
    remaining = list(drift)
    if changed and not check_mode:
        # What the node shows now, read back: only what is gone from it was put back (a backup flag, a map file
        # on disk or a damaged state file stay until site.yml).
        remaining = node_drift(client, state_dir, apps, maps, shadow_map, now=now, model_maps=model_maps)["drift"]
    return {"changed": changed, "backends": backends, "maps": map_rows, "shadow": shadow_rows, "drift": drift,
            "remaining": remaining, "commands": commands, "damaged_states": damaged, "endpoints": endpoints}


def endpoint_rows(running, model):
    """Each cloud server of the resolved app model as the node runs it against where the model puts it (its endpoint
    recorded by deploy.yml, else the inventory's address): [{app, server, where, endpoint, running, problem}] (pure).
    running: endpoints.running_endpoints of the node's `show servers state`."""
    addresses = model["server_state_addresses"]
    rows = []
    for backend in model["backends"]:
        if backend["route"] is not None:
            continue  # a route's backend holds the app's servers: one row per server
        for server in backend["servers"]:
            if server["side"] != CLOUD:
                continue
            where = server["relay"] or backend["name"]
            wanted = addresses[where][server["name"]]
            live = running.get((where, server["name"]))
            # A name its resolvers have not answered yet is where it should be: status says so in `running`.
            problems = read_back_problems(running, {where: {server["name"]: wanted}}, require_address=False) \
                if live else []
            rows.append({"app": backend["app"], "server": server["name"], "where": where,
                         "endpoint": server["endpoint"], "recorded": describe_endpoint(server["endpoint"]) if
                         server["endpoint"] else None, "wanted": "%s:%s" % (wanted["address"], wanted["port"]),
                         "running": "%s:%s%s" % (live["fqdn"] or live["address"], live["port"],
                                                 " (%s)" % live["address"] if live["fqdn"] and live["address"] else
                                                 " (not resolved yet)" if live["fqdn"] else "") if live else None,
                         "problem": ("app %s: %s (the configuration rendered from the app model and the state store "
                                     "puts it there: site.yml or deploy.yml reloads it)" % (backend["app"], problems[0]))
                         if problems else None})
    return rows


def _round(value):
    return None if value is None else round(value, 2)


ERRORS = (CloudshiftError, ValueError)
