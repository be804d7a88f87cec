# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Routes of an app (path-by-path migration): names, checks and routing map files (pure functions).

An app may list `routes`; each route gets its own backend, `<app>--<route>`, with the app's
servers and the route's own step. The frontend sends a request to a route backend when its
host+path (Host header lower-cased, port removed, then the path) matches:

* first the app's regex routes, in the app model's order (map_reg: the first match wins),
  looked up in one map file per app (`<routes_dir>/<app>.regex.map`), only for the app's Host;
* then the prefix routes of every app (map_beg on `<host><prefix>`: the longest prefix wins,
  order does not matter), in one map file (`<routes_dir>/prefix.map`);
* else the Host map sends it to the app's own backend (the app's default route).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.maps import (
    describe_bad_token, render_map_file)
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.pcre import regex_problem_text
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.validation import (
    BACKEND_SEPARATOR, backend_name, describe_bad_name)

MAX_NAME_LENGTH = 128
MATCH_KINDS = ("regex", "prefix")
PREFIX_MATCH = "beg"
REGEX_MATCH = "reg"
# What a prefix may hold: URL path characters, no whitespace (a map file key is one word).
_PREFIX_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~!$&()*+,=:@%/-")


def route_backend(app, route):
    """Name of a route's backend: `<app>--<route>` (ValidationError naming a bad part)."""
    return backend_name(app, route)


def app_routes(app):
    """The app's routes, [] when it has none (or they are not a list: route_problems says so)."""
    routes = app.get("routes") if isinstance(app, dict) else None
    return [route for route in routes if isinstance(route, dict)] if isinstance(routes, list) else []


def match_of(route):
    """(kind, value) of a route's match: ('prefix', '/v2/') or ('regex', '...'); (None, None) when bad."""
    match = route.get("match")
    if not isinstance(match, dict):
        return None, None
    kinds = [kind for kind in MATCH_KINDS if match.get(kind) is not None]
    if len(kinds) != 1:
        return None, None
    return kinds[0], match[kinds[0]]


def _j(value):
    """A value quoted for a message, JSON-like, so a newline or quote is shown, not obeyed."""
    if isinstance(value, str):
        return '"%s"' % value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return repr(value)


def _is_step(value):
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 0 <= value <= 100
    return isinstance(value, str) and value.isdigit() and 0 <= int(value) <= 100


def _prefix_problem(prefix):
    if not isinstance(prefix, str) or not prefix:
        return "it is not a non-empty string"
    if not prefix.startswith("/"):
        return "it must start with '/'"
    bad = sorted(set(char for char in prefix if char not in _PREFIX_CHARS))
    if bad:
        return "it holds %s (only URL path characters, no space, '#', '?', ';' or backslash)" % ", ".join(
            _j(char) for char in bad)
    return None


def _regex_problem(regex):
    reason = describe_bad_token(regex, is_key=True)
    if reason:
        return reason + " (a map key is one word: write \\s or \\x20 for a space)"
    problem = regex_problem_text(regex)
    if problem:
        return "PCRE2 (as HAProxy compiles map_reg) refuses it: %s" % problem
    return None


def _route_problems(app, app_label, app_names):
    routes = app.get("routes")
    if routes is None:
        return []
    if not isinstance(routes, list):
        return ["%s: routes must be a list of routes, got %s" % (app_label, _j(routes))]
    problems = []
    names, keys = {}, {}
    seen_prefix_route = None
    app_name = app.get("name")
    host = app.get("host") if isinstance(app.get("host"), str) else ""
    for index, route in enumerate(routes):
        if not isinstance(route, dict):
            problems.append("%s: routes[%d] must be a dict, got %s" % (app_label, index, _j(route)))
            continue
        name = route.get("name")
        label = "%s route %s" % (app_label, _j(name))
        reason = describe_bad_name(name)
        if reason:
            problems.append("%s: name %s is not valid for HAProxy (%s)" % (label, _j(name), reason))
        else:
            names.setdefault(name, []).append(index)
            backend = "%s%s%s" % (app_name, BACKEND_SEPARATOR, name)
            if isinstance(app_name, str) and len(backend) > MAX_NAME_LENGTH:
                problems.append("%s: its backend name %s is longer than %d characters (shorten the app or route name)"
                                % (label, _j(backend), MAX_NAME_LENGTH))
            if backend in app_names:
                problems.append("%s: its backend name %s is already the name of an app" % (label, _j(backend)))
        kind, value = match_of(route)
        if kind is None:
            problems.append("%s: match %s must hold exactly one of prefix (a path like /v2/) or regex "
                            "(on host+path, like application-02\\.6play\\.fr\\/v2\\/)" % (label, _j(route.get("match"))))
        elif kind == "prefix":
            reason = _prefix_problem(value)
            if reason:
                problems.append("%s: prefix %s is refused: %s" % (label, _j(value), reason))
            else:
                keys.setdefault(("prefix", host.lower() + value), []).append(name)
            seen_prefix_route = seen_prefix_route or name
        else:
            reason = _regex_problem(value)
            if reason:
                problems.append("%s: regex %s is refused: %s" % (label, _j(value), reason))
            else:
                keys.setdefault(("regex", value), []).append(name)
            if seen_prefix_route is not None:
                problems.append("%s: this regex route comes after the prefix route %s, but regex routes are tried "
                                "first: list the regex routes first" % (label, _j(seen_prefix_route)))
        if "initial_step" in route and not _is_step(route.get("initial_step")):
            problems.append("%s: initial_step %s is not an integer from 0 to 100" % (label, _j(route.get("initial_step"))))
        health_check = route.get("health_check")
        if health_check is not None and not isinstance(health_check, dict):
            problems.append("%s: health_check must be a dict (path, expect_status), got %s" % (label, _j(health_check)))
    for name, indexes in names.items():
        if len(indexes) > 1:
            problems.append("%s: route name %s is used by more than one route (routes[%s])"
                            % (app_label, _j(name), "], routes[".join(str(i) for i in indexes)))
    for (kind, key), route_names in keys.items():
        if len(route_names) > 1:
            problems.append("%s: routes %s have the same %s %s" % (
                app_label, ", ".join(_j(name) for name in route_names), kind, _j(key)))
    return problems


def route_problems(apps):
    """One sentence per problem in the routes of the app model, [] when all is well.

    Checks what Jinja cannot: names as validation.validate_name, regexes with PCRE2 as HAProxy
    compiles map_reg keys, map keys the runtime API can carry. Other app fields are the preflight
    template's job.
    """
    if not isinstance(apps, list):
        return []
    app_names = set(app.get("name") for app in apps if isinstance(app, dict) and isinstance(app.get("name"), str))
    problems = []
    for app in apps:
        if isinstance(app, dict):
            problems.extend(_route_problems(app, "app %s" % _j(app.get("name")), app_names))
    return problems


def routes_with_steps(apps, recorded=None):
    """Every route of every app with its backend and step, in app model order.

    recorded: {app: {route: step}} from the state store; a route without a recorded step
    is at its initial_step (default 0).
    """
    recorded = recorded or {}
    result = []
    for app in apps:
        for route in app_routes(app):
            kind, value = match_of(route)
            recorded_step = (recorded.get(app["name"]) or {}).get(route["name"])
            step = recorded_step if recorded_step is not None else int(route.get("initial_step") or 0)
            result.append({
                "app": app["name"],
                "route": route["name"],
                "backend": route_backend(app["name"], route["name"]),
                "kind": kind,
                "match": value,
                "step": int(step),
                "source": "state store" if recorded_step is not None else "initial_step (nothing recorded)",
                "initial_step": int(route.get("initial_step") or 0),
                "health_check": route.get("health_check") or app.get("health_check") or {},
            })
    return result


def prefix_map_entries(apps):
    """[(host+prefix, backend)] of every prefix route, sorted (a map_beg map is a tree: order is irrelevant)."""
    entries = []
    for app in apps:
        for route in app_routes(app):
            kind, value = match_of(route)
            if kind == "prefix":
                entries.append((app["host"].lower() + value, route_backend(app["name"], route["name"])))
    return sorted(entries)


def regex_map_entries(app):
    """[(regex, backend)] of one app's regex routes, in the app model's order (the first match wins)."""
    return [(match_of(route)[1], route_backend(app["name"], route["name"]))
            for route in app_routes(app) if match_of(route)[0] == "regex"]


def prefix_map_file(apps):
    """The prefix map file, exactly as the haproxy_map module writes it."""
    return render_map_file(prefix_map_entries(apps), [PREFIX_MATCH])


def regex_map_file(app):
    """One app's regex map file, exactly as the haproxy_map module writes it (order kept)."""
    return render_map_file(regex_map_entries(app), [REGEX_MATCH])
