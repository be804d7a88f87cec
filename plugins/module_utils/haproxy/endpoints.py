# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A cloud server's endpoint in the node's state store (state.py, key `endpoints`): recorded by deploy.yml once it
found and checked it in AWS, read by the app model (model.with_endpoint), put back with `previous`; and read back
from the running HAProxy (`show servers state`: the name and port each server runs with)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.client import HAProxyError
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.server_state import NO_VALUE
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.state import (
    StateError, app_state_path, endpoint_problem, load_app_state, recorded_endpoints, with_endpoint, write_app_state)
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.validation import ValidationError, validate_name

SAME_KEYS = ("address", "port", "host")


class EndpointRecordError(CloudshiftError):
    pass


def describe(endpoint, inventory="the inventory's address"):
    """One line for a recorded endpoint (pure)."""
    if not endpoint:
        return inventory
    text = "%s:%s" % (endpoint["address"], endpoint["port"])
    if endpoint.get("host"):
        text += " (Host %s)" % endpoint["host"]
    if endpoint.get("kind") or endpoint.get("name"):
        text += " [%s]" % " ".join(item for item in (endpoint.get("kind"), endpoint.get("name")) if item)
    return text


def same_endpoint(one, other):
    return bool(one) == bool(other) and (not one or all(one.get(key) == other.get(key) for key in SAME_KEYS))


def record(params, check_mode=False):
    """migration_endpoint: {changed, endpoint, replaced, diff}."""
    try:
        app = validate_name(params["app"], "app")
        server = validate_name(params["server"], "server")
        state = load_app_state(params["state_dir"], app)
    except (ValidationError, StateError) as exc:
        raise EndpointRecordError(str(exc))
    current = recorded_endpoints(state).get(server)
    unchanged = {"changed": False, "endpoint": current, "replaced": current,
                 "line": "%s stays at %s" % (server, describe(current))}
    if params["state"] == "query":
        return unchanged
    wanted = None
    if params["state"] == "present":
        wanted = dict((key, value) for key, value in params["endpoint"].items() if value is not None)
        problem = endpoint_problem(wanted, "endpoint.")
        if problem:
            raise EndpointRecordError("%s: nothing was recorded" % problem)
        if same_endpoint(current, wanted):
            return unchanged
        new_state = with_endpoint(state, app, server, wanted, by=params.get("by"))
    else:
        if current is None:
            return unchanged
        new_state = with_endpoint(state, app, server, None, by=params.get("by"))
    after = recorded_endpoints(new_state).get(server)
    path = app_state_path(params["state_dir"], app)
    diff = {"before_header": path, "after_header": path,
            "before": "%s: %s\n" % (server, describe(current)), "after": "%s: %s\n" % (server, describe(after))}
    if not check_mode:
        try:
            write_app_state(params["state_dir"], app, new_state)
        except StateError as exc:
            raise EndpointRecordError(str(exc))
    return {"changed": True, "endpoint": after, "replaced": current, "diff": diff,
            "line": "%s: %s -> %s" % (server, describe(current), describe(after))}


def running_endpoints(rows):
    """{(backend, server): {"address", "fqdn", "port"}} of `show servers state` rows (parsing.parse_servers_state)."""
    running = {}
    for row in rows:
        address, fqdn = str(row.get("srv_addr") or NO_VALUE), str(row.get("srv_fqdn") or NO_VALUE)
        running[(row["be_name"], row["srv_name"])] = {
            "address": None if address in (NO_VALUE, "0.0.0.0") else address,
            "fqdn": None if fqdn == NO_VALUE else fqdn, "port": int(row["srv_port"])}
    return running


def read_back_problems(running, wanted, require_address=True):
    """Servers not running where the app model puts them (pure). wanted: the model's server_state_addresses, limited
    to the servers a deploy moved; with require_address, a name must also have resolved to an address."""
    problems = []
    for backend in sorted(wanted):
        for server, entry in sorted(wanted[backend].items()):
            live = running.get((backend, server))
            where = "%s/%s" % (backend, server)
            if live is None:
                problems.append("%s is not in the running HAProxy" % where)
                continue
            target = (live["fqdn"] or live["address"] or "").lower()
            if target != entry["address"].lower() or live["port"] != entry["port"]:
                problems.append("%s runs at %s:%s, not %s:%s" % (
                    where, target or "no address", live["port"], entry["address"], entry["port"]))
            elif require_address and live["address"] is None:
                problems.append("%s: %s has not resolved to an address yet" % (where, entry["address"]))
    return problems


def expected_of(addresses, servers):
    """The app model's server_state_addresses limited to the named servers (every backend or relay holding one)."""
    return dict((backend, dict((name, entry) for name, entry in entries.items() if name in servers))
                for backend, entries in addresses.items() if any(name in servers for name in entries))


def read_back(client, wanted, wait=10.0, sleep=time.sleep, clock=time.monotonic):
    """Read the running HAProxy until every server in wanted ({backend: {server: {address, port}}}) runs there
    with an address (a name resolved by its resolvers), or wait seconds have passed: {"running", "problems"}."""
    deadline = clock() + wait
    while True:
        try:
            running = running_endpoints(client.show_servers_state())
        except HAProxyError as exc:
            raise EndpointRecordError("cannot read the running servers back: %s" % exc)
        problems = read_back_problems(running, wanted)
        if not problems or clock() >= deadline:
            shown = dict(("%s/%s" % key, value) for key, value in running.items()
                         if key[0] in wanted and key[1] in wanted[key[0]])
            return {"running": shown, "problems": problems}
        sleep(0.25)
