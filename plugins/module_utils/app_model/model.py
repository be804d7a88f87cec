# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The app model resolved: every backend, its servers per side and weights, the maps and the shadow entries.

resolve(apps, recorded, settings) is the one place that turns cloudshift_apps (checked first by
validation.app_model_problems) and a node's recorded steps into what HAProxy runs:

* a backend per app (its default route) and per route (``<app>--<route>``), in app model order, each with
  its step (recorded, else its initial_step), its servers per side with their rendered options, the weight
  of every server for that step and whether the on-prem servers are backups (step 100);
* the map files: the Host map, the prefix routes' map (every app), one regex map per app with regex routes;
* each shadowed app's shadow entry with its defaults filled in.

haproxy.cfg.j2 (through the app_model filter), the step engine, status/drift and the report read it;
nothing else derives a backend, a server list or a map path. Pure: no I/O.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy import routes as route_model
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.shadow import cfg_word as shadow_cfg_word
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.shadow import settings as shadow_settings
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.validation import backend_label
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.weights import split_weights

CLOUD = "cloud"
ONPREM = "onprem"
SIDES = (ONPREM, CLOUD)
HOSTS_MAP_MATCH = "str"

# The role's defaults (roles/haproxy/defaults/main.yml) for what the model reads of the settings.
DEFAULT_SETTINGS = {
    "hosts_map": "/etc/haproxy/hosts.map",
    "routes_dir": "/etc/haproxy/routes",
    "ca_file": "/etc/ssl/certs/ca-certificates.crt",
    "backup_weight": 100,
    "retries": 1,
    "retry_on": ["conn-failure", "empty-response", "response-timeout", "502", "503", "504"],
    "retry_methods": ["GET", "HEAD", "OPTIONS"],
    "gate_thresholds": {},
}
# A cloud server is checked hard by default (the field report's `inter 1s fall 1 rise 2 observe layer7`).
CLOUD_CHECK_DEFAULTS = {"inter": "1s", "fall": 1, "rise": 2}


class AppModelError(CloudshiftError):
    pass


def _or_default(entry, key, default):
    value = entry.get(key)
    return default if value is None or value == "" else value


def app_settings(settings):
    merged = dict(DEFAULT_SETTINGS)
    merged.update(dict((key, value) for key, value in (settings or {}).items() if value is not None))
    return merged


def _port(value):
    """The port as a number (extra vars and templates give strings); left as it is when it is not one (the one
    validation has named it before anything is rendered)."""
    return int(value) if isinstance(value, int) or (isinstance(value, str) and value.isdigit()) else value


def recorded_endpoint(recorded_state, server_name):
    """The endpoint deploy.yml found in AWS for a cloud server and recorded in the node's state store, or None."""
    return ((recorded_state or {}).get("endpoints") or {}).get(server_name)


def with_endpoint(server, endpoint):
    """The app model's server pointed at its recorded endpoint (pure): the address and port found in AWS, and for a
    function URL its Host (a Lambda answers under its own name); the inventory's address is where it pointed
    before."""
    if not endpoint:
        return server
    moved = dict(server, address=endpoint["address"], port=endpoint["port"])
    if endpoint.get("host"):
        moved["host"] = endpoint["host"]
    return moved


def resolve_server(app, server, backup, weight, ca_file, endpoint=None):
    """A server of an app as haproxy.cfg renders it (the cloud side's hard checks and TLS by default), at its
    recorded endpoint when deploy.yml recorded one."""
    inventory_address = server.get("address")
    server = with_endpoint(server, endpoint)
    is_cloud = server.get("side") == CLOUD
    tls = server["tls"] if server.get("tls") is not None else is_cloud
    verify = _or_default(server, "verify", "required")
    observe = server["observe_layer7"] if server.get("observe_layer7") is not None else is_cloud
    app_host = app.get("host")
    own_host = server.get("host") or app_host
    check_host = server.get("check_host") or own_host
    # None: the request's own Host (sni req.hdr(host)), the field report's line.
    sni = server.get("sni") or (own_host if own_host != app_host else None)
    resolved = {
        "name": server["name"],
        "side": server["side"],
        "address": server.get("address"),
        "port": _port(server.get("port")),
        "tls": bool(tls),
        "verify": verify,
        "host": own_host,
        "check_host": check_host,
        "sni": sni if tls else None,
        "check_sni": (server.get("check_sni") or sni or app_host) if tls else None,
        # A server with a Host of its own (a Lambda function URL, an API Gateway domain) is reached through a relay
        # of its own: HAProxy sets headers per backend, not per server (docs/app-model.md, "Lambda targets").
        "relay": relay_name(app["name"], server["name"]) if app_host not in (own_host, None) or check_host != app_host
        else None,
        "ca_file": _or_default(server, "ca_file", ca_file) if tls and verify == "required" else None,
        "insecure": bool(tls) and verify == "none",
        "observe_layer7": bool(observe),
        "weight": weight,
        "backup": backup,
        "endpoint": dict(endpoint, inventory_address=inventory_address) if endpoint else None,
    }
    for key in ("inter", "fall", "rise"):
        resolved[key] = _or_default(server, key, CLOUD_CHECK_DEFAULTS[key] if is_cloud else None)
    return resolved


def relay_name(app_name, server_name):
    """The listen section (and its abns@ address) relaying an app's server that has a Host of its own."""
    return "cloudshift-relay:%s:%s" % (app_name, server_name)


def resolve_relays(backends):
    """One relay per app server with a Host of its own (its route backends share it), in the app model's order."""
    relays = {}
    for backend in backends:
        for server in backend["servers"]:
            if server["relay"] and server["relay"] not in relays:
                relays[server["relay"]] = dict(server, app=backend["app"], app_host=backend["host"])
    return list(relays.values())


def step_of(recorded_state, route, initial_step):
    """(step, source) of an app (route None) or a route: the recorded one, else the initial_step."""
    entry = recorded_state or {}
    if route is not None:
        entry = (entry.get("routes") or {}).get(route) or {}
    step = entry.get("step")
    if step is None:
        return int(initial_step or 0), "initial_step"
    return int(step), "state store"


def thresholds_of(app, route, settings):
    merged = dict(settings["gate_thresholds"] or {})
    merged.update(app.get("gate") or {})
    if route is not None:
        merged.update(route.get("gate") or {})
    return merged


def retry_of(app, settings):
    policy = {"retries": settings["retries"], "retry_on": list(settings["retry_on"]),
              "methods": list(settings["retry_methods"])}
    policy.update(dict((key, value) for key, value in (app.get("retry") or {}).items() if value is not None))
    return policy


def side_weights(step, servers_by_side, settings, backup=True):
    """{side: [weight of each server]} at a step; at 100 the on-prem servers are backups with the backup weight."""
    cloud, onprem = split_weights(step, len(servers_by_side[CLOUD]), len(servers_by_side[ONPREM]))
    if step == 100 and backup:
        onprem = [int(settings["backup_weight"])] * len(onprem)
    return {CLOUD: cloud, ONPREM: onprem}


def resolve_backend(app, route, recorded_state, settings):
    """One backend: the app's own (route None) or one route's, at its step."""
    route_name = None if route is None else route["name"]
    entry = app if route is None else route
    step, source = step_of(recorded_state, route_name, entry.get("initial_step"))
    initial_step = int(entry.get("initial_step") or 0)
    servers_by_side = dict((side, [server for server in app.get("servers") or [] if server.get("side") == side])
                           for side in SIDES)
    live = side_weights(step, servers_by_side, settings)
    # haproxy.cfg's weights: the initial step's below 100, so that a step applied live (and kept in the server-state
    # file, which HAProxy loads only for a server whose configured weight did not change) leaves the file alone.
    rendered = live if step == 100 else side_weights(initial_step, servers_by_side, settings, backup=False)
    onprem_backup = step == 100
    servers = []
    for side in SIDES:
        for index, server in enumerate(servers_by_side[side]):
            backup = onprem_backup and side == ONPREM
            resolved = resolve_server(app, server, backup, live[side][index], settings["ca_file"],
                                      recorded_endpoint(recorded_state, server["name"]))
            resolved["config_weight"] = rendered[side][index]
            servers.append(resolved)
    health_check = (route or {}).get("health_check") or app.get("health_check") or {}
    kind, match = route_model.match_of(route) if route is not None else (None, None)
    return {
        "name": app["name"] if route is None else route_model.route_backend(app["name"], route_name),
        "app": app["name"],
        "route": route_name,
        "label": backend_label(app["name"], route_name),
        "host": app.get("host"),
        "step": step,
        "step_source": source,
        "initial_step": initial_step,
        "onprem_backup": onprem_backup,
        "servers": servers,
        "cloud_servers": [server["name"] for server in servers if server["side"] == CLOUD],
        "onprem_servers": [server["name"] for server in servers if server["side"] == ONPREM],
        "weights": dict((server["name"], server["weight"]) for server in servers),
        "has_relays": any(server["relay"] for server in servers),
        "health_check": {"path": _or_default(health_check, "path", "/"),
                         "expect_status": health_check.get("expect_status")},
        "retry": retry_of(app, settings),
        "thresholds": thresholds_of(app, route, settings),
        "kind": kind,
        "match": match,
    }


def _entry(key, value):
    return {"key": key, "value": value}


def map_files(apps, settings):
    """Every map file the configuration loads: path, match method, entries [[key, value]], content."""
    maps = [{"path": settings["hosts_map"], "match": HOSTS_MAP_MATCH, "kind": "hosts",
             "entries": [_entry(app["host"].lower(), app["name"]) for app in sorted(apps, key=lambda item: item["name"])
                         if app.get("host")]}]
    prefix_entries = route_model.prefix_map_entries(apps)
    if prefix_entries:
        maps.append({"path": os.path.join(settings["routes_dir"], "prefix.map"), "match": route_model.PREFIX_MATCH,
                     "kind": "prefix", "entries": [_entry(*entry) for entry in prefix_entries],
                     "content": route_model.prefix_map_file(apps)})
    for app in apps:
        regex_entries = route_model.regex_map_entries(app)
        if regex_entries:
            maps.append({"path": regex_map_path(settings, app["name"]), "match": route_model.REGEX_MATCH,
                         "kind": "regex", "app": app["name"], "host": app["host"], "entries": [_entry(*entry) for entry in regex_entries],
                         "content": route_model.regex_map_file(app)})
    return maps


def regex_map_path(settings, app_name):
    return os.path.join(settings["routes_dir"], "%s.regex.map" % app_name)


def resolve_shadow(app):
    entry = shadow_settings(app["shadow"])
    entry["app"] = app["name"]
    entry["app_host"] = app["host"]
    entry["allow_cfg"] = [shadow_cfg_word(regex) for regex in entry["allow"]]
    entry["deny_cfg"] = [shadow_cfg_word(regex) for regex in entry["deny"]]
    return entry


def resolve(apps, recorded=None, settings=None):
    """The app model resolved for a node (pure).

    apps: cloudshift_apps, already checked by validation.app_model_problems.
    recorded: {app name: the app's state store record (haproxy/state.py) or None}; a missing app is at its
      initial steps. None resolves every backend at its initial step.
    settings: paths and role settings (DEFAULT_SETTINGS' keys).
    """
    if not isinstance(apps, list):
        raise AppModelError("the app model (cloudshift_apps) must be a list of apps, got %r" % (apps,))
    settings = app_settings(settings)
    recorded = recorded or {}
    backends = []
    for app in apps:
        state = recorded.get(app["name"])
        backends.append(resolve_backend(app, None, state, settings))
        for route in route_model.app_routes(app):
            backends.append(resolve_backend(app, route, state, settings))
    return {
        "backends": backends,
        "relays": resolve_relays(backends),
        "maps": map_files(apps, settings),
        "shadow": [resolve_shadow(app) for app in apps if app.get("shadow") is not None],
        "regex_apps": [app["name"] for app in apps if route_model.regex_map_entries(app)],
        "has_prefix_routes": bool(route_model.prefix_map_entries(apps)),
        "server_state_weights": server_state_weights(backends),
        "server_state_addresses": server_state_addresses(backends),
    }


def server_state_weights(backends):
    """{backend: {server: [weight at its step, weight in haproxy.cfg]}}: what the server-state file must hold before
    a reload so that the new worker starts at the recorded step (HAProxy loads a server's weight from the file only
    when the file's initial weight equals the configuration's; haproxy/server_state.py)."""
    return dict((backend["name"], dict((server["name"], [server["weight"], server["config_weight"]])
                                       for server in backend["servers"])) for backend in backends)


def _address_entry(server):
    return {"address": server["address"], "port": server["port"],
            "resolved": (server.get("endpoint") or {}).get("resolved")}


def server_state_addresses(backends):
    """{backend or relay: {server: {address, port, resolved}}}: where the server-state file must point each server
    before a reload, so that the new worker reaches it where haproxy.cfg says (haproxy/server_state.py); a relayed
    server is reached at its relay's address (abns@), its relay reaches the endpoint."""
    addresses = {}
    for backend in backends:
        for server in backend["servers"]:
            if server["relay"]:
                addresses.setdefault(server["relay"], {})[server["name"]] = _address_entry(server)
            else:
                addresses.setdefault(backend["name"], {})[server["name"]] = _address_entry(server)
    return addresses


def find_app(apps, name):
    for app in apps if isinstance(apps, list) else []:
        if isinstance(app, dict) and app.get("name") == name:
            return app
    return None


def find_backend(model, name):
    for backend in model["backends"]:
        if backend["name"] == name:
            return backend
    raise AppModelError("the app model has no backend %s" % name)


def target_backend(apps, app_name, route_name=None, recorded_state=None, settings=None):
    """The one backend a request moves (the app's own, or one route's), resolved (pure)."""
    app = find_app(apps, app_name)
    if app is None:
        raise AppModelError("unknown app %s" % app_name)
    settings = app_settings(settings)
    if route_name is None:
        return resolve_backend(app, None, recorded_state, settings)
    for route in route_model.app_routes(app):
        if route.get("name") == route_name:
            return resolve_backend(app, route, recorded_state, settings)
    raise AppModelError("unknown route %s of app %s" % (route_name, app_name))
