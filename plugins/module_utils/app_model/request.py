# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An operator's request (-e app=... -e step=...) checked against the app model, for each verb.

Part of the app model's one validation (validation.py checks the app model and the settings; this checks
what an operator asks of it). Each check names the bad value, quoted as JSON so that a newline or a ';' is
shown and not obeyed; every problem is found before any node is touched. Returns the request normalized
(real types) and the target it moves.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible_collections.cloudshift.migration.plugins.module_utils.app_model.model import (
    AppModelError, app_settings, find_app, target_backend)
from ansible_collections.cloudshift.migration.plugins.module_utils import endpoint
from ansible_collections.cloudshift.migration.plugins.module_utils.cloud_model import manifests_plan
from ansible_collections.cloudshift.migration.plugins.module_utils.approval import approver_problem, ramp_refusal
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy import routes as route_model
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.shadow import schedule_problems
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.validation import backend_label
from ansible_collections.cloudshift.migration.plugins.module_utils.ramp import default_max_checks, ramp_problems

STEP_WORDS = ("rollback", "dns", "dns-rollback", "status")
STEP_PATTERN = re.compile(r"\A(?:rollback|dns|dns-rollback|status|[0-9]{1,3})\Z")
TRUE_WORDS = ("true", "yes", "1", "on", "y", "t")
FALSE_WORDS = ("false", "no", "0", "off", "n", "f")
ON_NODE_FAILURE = ("revert", "complete")
MAX_GATE_WINDOW = 3600
MAX_DNS_WEIGHT = 255
REPORT_RAMP = [1, 5, 10, 25, 50, 75, 100]


def quoted(value):
    """A value as Ansible's to_json shows it."""
    try:
        return json.dumps(value, sort_keys=True)
    except (TypeError, ValueError):
        return json.dumps(str(value))


def as_bool(value):
    """True, False, or None when the value is not a boolean Ansible would read as one."""
    if isinstance(value, bool):
        return value
    if value is None:
        return None
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    return None


def as_int(value):
    """An int from an int or a string of digits (extra vars arrive as strings), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.match(r"\A-?[0-9]+\Z", value.strip()):
        return int(value.strip())
    return None


class Problems(object):
    """The problems of one request, in the order they are found."""

    def __init__(self):
        self.items = []

    def add(self, text):
        self.items.append(text)

    def raise_if_any(self, prefix=""):
        if self.items:
            raise AppModelError(prefix + "; ".join(self.items))


def _bool_option(request, name, problems, advice):
    value = as_bool(request.get(name, False))
    if value is None:
        problems.add("invalid %s %s: %s" % (name, quoted(request.get(name)), advice))
        return False
    return value


def check_app(apps, app_name, problems, verb_hint="-e app=NAME"):
    names = [app.get("name") for app in apps if isinstance(app, dict)]
    if app_name is None or app_name == "":
        problems.add("no app given: pass %s; known apps: %s" % (verb_hint, ", ".join(names)))
        return None
    app = find_app(apps, app_name) if isinstance(app_name, str) else None
    if app is None:
        problems.add("unknown app %s; known apps: %s" % (quoted(app_name), ", ".join(names)))
    return app


def check_route(app, route_name, problems):
    """The route asked for; None when none is (an empty name is asked for, and unknown)."""
    if route_name is None or app is None:
        return None
    routes = [route.get("name") for route in route_model.app_routes(app)]
    if not routes:
        problems.add("app %s has no routes, so route %s cannot be moved (omit -e route to move the whole app)"
                     % (app["name"], quoted(route_name)))
    elif route_name not in routes:
        problems.add("unknown route %s for app %s; routes of %s: %s"
                     % (quoted(route_name), app["name"], app["name"], ", ".join(routes)))
    return route_name if route_name in routes else None


def check_lock_options(request, fleet, problems):
    lock_node = request.get("lock_node") or ""
    nodes = sorted(fleet or [])
    if lock_node and lock_node not in nodes:
        problems.add("invalid lock_node %s: the locks live on one node of the inventory group haproxy (%s), the same "
                     "for every run" % (quoted(lock_node), ", ".join(nodes)))
    return {
        "break_lock": _bool_option(request, "break_lock", problems, "true breaks a stale lock (one whose run is gone)"),
        "lock_node": lock_node if lock_node in nodes else (nodes[0] if nodes else None),
    }


def parse_step(value, problems):
    """An int 0-100 or one of STEP_WORDS; None (with the problem added) otherwise."""
    if value is None or value == "":
        problems.add("no step given: pass -e step=N (0-100), rollback, dns, dns-rollback or status")
        return None
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not STEP_PATTERN.match(text) or (text not in STEP_WORDS and int(text) > 100):
        problems.add("invalid step %s: a step is an integer from 0 (on-prem only) to 100 (cloud only), rollback, dns "
                     "(point the DNS record of the app at its ELB), dns-rollback or status (show every node, change "
                     "nothing)" % quoted(value))
        return None
    return text if text in STEP_WORDS else int(text)


def migrate_request(request, apps, fleet, settings=None):
    """migrate.yml's request: (normalized request, target or None for status); AppModelError with every problem."""
    problems = Problems()
    app = check_app(apps, request.get("app"), problems)
    route = check_route(app, request.get("route"), problems)
    step = parse_step(request.get("step"), problems)
    status = step == "status"
    dns = step in ("dns", "dns-rollback")
    normalized = {"app": request.get("app"), "route": route, "step": step, "verb": "status" if status else
                  ("dns" if dns else "step")}
    normalized["on_node_failure"] = request.get("on_node_failure") or "revert"
    if normalized["on_node_failure"] not in ON_NODE_FAILURE:
        problems.add("invalid on_node_failure %s: revert (put the nodes that took the step back when another node "
                     "fails, the default) or complete (retry the failing nodes first)" % quoted(request.get("on_node_failure")))
    normalized.update(check_lock_options(request, fleet, problems))
    normalized["reconcile"] = _bool_option(request, "reconcile", problems, "true or false")
    normalized["fail_on_drift"] = _bool_option(request, "fail_on_drift", problems, "true or false")
    if normalized["reconcile"] and step is not None and not status:
        problems.add("reconcile applies to step=status (or status.yml), not step %s: a step already sets every node "
                     "to the recorded step" % quoted(request.get("step")))
    force = _bool_option(request, "force", problems,
                         "pass -e force=true to go up against a failed gate, or leave it out")
    gate_window = as_int(request.get("gate_window") or 0)
    if gate_window is None or not 0 <= gate_window <= MAX_GATE_WINDOW:
        problems.add("invalid gate_window %s: seconds from 0 to %d (0, the default, judges the traffic since the current "
                     "step was set)" % (quoted(request.get("gate_window")), MAX_GATE_WINDOW))
        gate_window = 0
    dns_weight = request.get("dns_weight")
    if dns_weight is not None and dns_weight != "":
        if step != "dns":
            problems.add("dns_weight applies to step=dns only, got step %s" % request.get("step"))
        elif as_int(dns_weight) is None or not 0 <= as_int(dns_weight) <= MAX_DNS_WEIGHT:
            problems.add("invalid dns_weight %s: a Route53 weight from 0 to 255 for the record of the ELB (the previous "
                         "record gets 255 minus it); omit it to point the record at the ELB only" % dns_weight)
        dns_weight = as_int(dns_weight)
    else:
        dns_weight = None
    if status and (force or gate_window or dns_weight is not None or request.get("route") is not None):
        problems.add("step=status shows every backend of %s on every node and changes nothing (reconcile=true puts the "
                     "recorded state back): force, gate_window, dns_weight and route do not apply to it"
                     % request.get("app"))
    if dns and request.get("route") is not None:
        problems.add("step=%s moves the DNS record of the whole app %s, not of route %s: omit -e route"
                     % (step, request.get("app"), quoted(request.get("route"))))
    if step == "dns" and app is not None and app.get("dns") is None:
        problems.add("app %s has no dns in the app model (cloudshift_apps[].dns with at least its Route53 zone): "
                     "step=%s has no record to move" % (app["name"], step))
    approve_problem = approver_problem(request.get("approve"))
    if approve_problem:
        problems.add(approve_problem)
    normalized.update(force=force, gate_window=gate_window, dns_weight=dns_weight, by=request.get("by") or None,
                      approve=request.get("approve") or None)
    problems.raise_if_any()
    target = None if status else target_of(apps, normalized, settings)
    return normalized, target


def ramp_request(request, apps, fleet, settings=None):
    """ramp.yml's request: (normalized request with its steps and bounds, target)."""
    problems = Problems()
    app = check_app(apps, request.get("app"), problems)
    route = check_route(app, request.get("route"), problems)
    steps = request.get("steps") if request.get("steps") is not None else REPORT_RAMP
    ramp_issues = ramp_problems(steps, request.get("interval", 60), request.get("threshold", 2),
                                request.get("checks_per_step", 1), request.get("max_checks"))
    dry_run = as_bool(request.get("dry_run", False))
    if dry_run is None:
        ramp_issues.append("dry_run must be true or false, got %s" % quoted(request.get("dry_run")))
    on_node_failure = request.get("on_node_failure") or "revert"
    if on_node_failure not in ON_NODE_FAILURE:
        ramp_issues.append("invalid on_node_failure %s: revert or complete" % quoted(on_node_failure))
    lock = check_lock_options(request, fleet, problems)
    approve_problem = approver_problem(request.get("approve"))
    if approve_problem:
        ramp_issues.append(approve_problem)
    elif app is not None and not ramp_issues:
        approval_issue = ramp_refusal(app, backend_label(request.get("app"), route), [as_int(step) for step in steps],
                                      request.get("approve") or None)
        if approval_issue:
            ramp_issues.append(approval_issue)
    problems.raise_if_any()
    if ramp_issues:
        label = backend_label(request.get("app"), route)
        raise AppModelError("ramp of %s refused: %s" % (label, "; ".join(ramp_issues + problems.items)))
    steps = [as_int(step) for step in steps]
    checks_per_step = as_int(request.get("checks_per_step", 1))
    max_checks = request.get("max_checks")
    normalized = {"app": request.get("app"), "route": route, "verb": "ramp", "steps": steps,
                  "interval": float(request.get("interval", 60)), "threshold": as_int(request.get("threshold", 2)),
                  "checks_per_step": checks_per_step, "dry_run": bool(dry_run), "on_node_failure": on_node_failure,
                  "max_checks": as_int(max_checks) if max_checks is not None else default_max_checks(steps, checks_per_step),
                  "by": request.get("by") or None, "force": False, "gate_window": 0,
                  "approve": request.get("approve") or None}
    normalized.update(lock)
    return normalized, target_of(apps, normalized, settings)


def status_request(request, apps, fleet):
    """status.yml's request: which apps, reconcile, fail_on_drift."""
    problems = Problems()
    app_name = request.get("app")
    if app_name not in (None, ""):
        check_app(apps, app_name, problems)
    normalized = {"verb": "status", "app": app_name or None,
                  "reconcile": _bool_option(request, "reconcile", problems, "true puts each node's recorded state back"),
                  "fail_on_drift": _bool_option(request, "fail_on_drift", problems, "true or false"),
                  "by": request.get("by") or None}
    normalized.update(check_lock_options(request, fleet, problems))
    problems.raise_if_any()
    return normalized


def report_request(request, apps):
    """report.yml's request: the app and, when given, one of its routes."""
    problems = Problems()
    app = check_app(apps, request.get("app"), problems)
    route = check_route(app, request.get("route"), problems)
    problems.raise_if_any()
    return {"verb": "report", "app": app["name"], "route": route, "by": request.get("by") or None}


def restore_request(request, apps, fleet, verb="restore"):
    """restore.yml's request (it puts the previous configuration back on every node), or site.yml's (verb site: it
    renders and runs every app's configuration): the lock options only."""
    problems = Problems()
    normalized = {"verb": verb, "by": request.get("by") or None}
    normalized.update(check_lock_options(request, fleet, problems))
    problems.raise_if_any()
    return normalized


def deploy_request(request, apps, fleet, settings=None):
    """deploy.yml's request: the app, and optionally one of its cloud servers (-e server=NAME), each with a discover
    entry; (normalized request, the plan: what to look for in AWS and how to probe it, per server)."""
    problems = Problems()
    app = check_app(apps, request.get("app"), problems)
    wanted = request.get("server") or None
    plan = []
    manifests = None
    if app is not None:
        plan = deploy_plan(app, settings)
        manifests = manifests_plan(app)
        names = [entry["server"] for entry in plan]
        if not plan and manifests is None:
            problems.add('app %s has no cloud server with a discover entry and no manifests (docs/app-model.md, "The '
                         'deploy stage"): nothing to apply or find in AWS' % app["name"])
        if wanted is not None and wanted not in names:
            problems.add("invalid server %s: the cloud servers of %s with a discover entry are %s"
                         % (quoted(wanted), app["name"], ", ".join(names) or "none"))
        plan = [entry for entry in plan if wanted is None or entry["server"] == wanted]
    normalized = {"verb": "deploy", "app": request.get("app"), "server": wanted, "by": request.get("by") or None,
                  "manifests": manifests}
    normalized.update(check_lock_options(request, fleet, problems))
    problems.raise_if_any()
    return normalized, plan


def deploy_plan(app, settings=None):
    """Per cloud server with a discover entry: where cloud_endpoint_info looks, and its probe as HAProxy's check
    makes it (the app's health page, Host, SNI, CA) (pure)."""
    backend = target_backend([app], app["name"], None, None, app_settings(settings))
    health = backend["health_check"]
    plan = []
    for server in app.get("servers") or []:
        if server.get("side") != "cloud" or not server.get("discover"):
            continue
        resolved = next(item for item in backend["servers"] if item["name"] == server["name"])
        plan.append({"server": server["name"], "discover": endpoint.discover_params(server["discover"]),
                     "probe": {"scheme": "https" if resolved["tls"] else "http", "path": health["path"],
                               "host": server.get("host") or app.get("host"), "sni": server.get("sni"),
                               "ca_file": resolved["ca_file"],
                               "expect_status": [int(health["expect_status"])] if health["expect_status"] else [200]}})
    return plan


def shadow_request(request, apps, fleet):
    """replicate.yml's request: the app (with a shadow entry) and its schedule."""
    problems = Problems()
    app = check_app(apps, request.get("app"), problems)
    if app is not None and app.get("shadow") is None:
        with_shadow = [item["name"] for item in apps if isinstance(item, dict) and item.get("shadow") is not None]
        problems.add('app %s has no shadow entry in the app model (docs/app-model.md, "Shadow traffic"); apps with '
                     'one: %s' % (app["name"], ", ".join(with_shadow) or "none"))
    schedule = request.get("schedule")
    for problem in schedule_problems(schedule):
        problems.add(problem)
    normalized = {"verb": "shadow", "app": request.get("app"), "by": request.get("by") or None}
    normalized.update(check_lock_options(request, fleet, problems))
    problems.raise_if_any()
    normalized["schedule"] = [[as_int(percent), as_int(seconds)] for percent, seconds in schedule]
    return normalized


def target_of(apps, request, settings=None):
    """The backend the request moves, resolved by the app model, with the app's cloud and dns entries."""
    settings = app_settings(settings)
    backend = target_backend(apps, request["app"], request.get("route"), None, settings)
    app = find_app(apps, request["app"])
    target = dict((key, backend[key]) for key in ("app", "route", "label", "host", "initial_step", "cloud_servers",
                                                  "onprem_servers", "thresholds"))
    entry_keys = ("name", "host", "health_check", "cloud", "dns", "alerts", "approval")
    target.update(backend=backend["name"], cloud=app.get("cloud"), dns=app.get("dns"),
                  app_entry=dict((key, app.get(key)) for key in entry_keys))
    return target
