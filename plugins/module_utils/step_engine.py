# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The step engine: plan -> measure -> judge -> apply -> record, for one backend over a fleet of nodes.

A step is one transaction over the fleet. Its phases, and where each runs:

* begin (controller, action plugin migration_step): the one validation (app model and request) and the
  target - the backend the request moves, resolved by the app model, as one dict.
* measure (each node, module haproxy_step phase=measure): on the lock node, the run's lock first; then the
  plan on this node (its recorded step, the request resolved, the backend and servers live on an
  admin-level socket) and the cloud and on-prem figures of its window. Reads only.
* judge (controller): every node planned the same step; the cloud side (ELB health, capacity) before
  traffic goes up; the gate over every node's window; the decision, or a refusal with the numbers.
* apply (each node, haproxy_step phase=apply): the decided step, only if the node is still where its plan
  found it; weights over the runtime API, the state store, the server-state file, the window's snapshot.
* finish (controller): the fleet's outcome (a node that failed makes the others take the step back), the
  audit line, the report, the lock given back.

This file is the controller's half (the action plugin migration_step runs it in the controller's process: the
validation, AWS, the gate, the audit log); step_node.py is the node's half (the module haproxy_step). Nothing
here derives a backend: the target comes from the app model.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.cloudshift.migration.plugins.module_utils import approval, audit, cloud_model, fleet, gate, \
    notify, ramp, route53
from ansible_collections.cloudshift.migration.plugins.module_utils.analysis import resolve_thresholds
from ansible_collections.cloudshift.migration.plugins.module_utils.app_model import request as requests
from ansible_collections.cloudshift.migration.plugins.module_utils.app_model.validation import app_model_problems
from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.report import step_table
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.step import ROLLBACK


# The verbs no node measure takes the lock for: the begin phase takes it on the lock node.
LOCK_ALONE = ("status", "shadow", "restore", "site", "deploy")


class EngineError(CloudshiftError):
    pass


# -- pure ------------------------------------------------------------------------------------------

def agreed_step(target, plans):
    """The one step every node resolved the request to; EngineError naming the nodes when they disagree."""
    steps = sorted(set(plan["step"] for plan in plans.values()))
    if len(steps) != 1:
        detail = "; ".join("%s %s -> %s" % (node, plans[node]["current"], plans[node]["step"]) for node in sorted(plans))
        raise EngineError("the nodes disagree on the step the request means for %s: %s" % (target["backend"], detail))
    return steps[0]


def is_raising(plans, step):
    """Whether the step goes up on any node (only going up is gated and checked against the cloud side)."""
    return min(plan["current"] for plan in plans.values()) < step


def cloud_checks_needed(plans, step):
    """(elb, capacity): the ELB's health before the first traffic to the cloud, capacity before every step up."""
    raising = is_raising(plans, step)
    lowest = min(plan["current"] for plan in plans.values())
    return raising and lowest == 0, raising and step > 0


def refusal(target, plans, step, verdict, force):
    """The lines refusing a step up whose gate failed, or None when the step may go."""
    if not is_raising(plans, step) or verdict["verdict"] != "fail" or force:
        return None
    current = max(plan["current"] for plan in plans.values())
    return (["refused: %s stays at step %s, the gate failed for step %s (pass -e force=true to go up anyway; it is "
             "recorded)" % (target["label"], current, step)] + verdict["table"] + [""] + verdict["figures"])


def step_note(raising, verdict, force, note=None):
    if raising and force and verdict.get("verdict") == "fail":
        return "forced past a failed gate" + ("; %s" % note if note else "")
    return note


def _approved_note(target, step, raising, request):
    if raising and request.get("approve") and approval.needs_approval(target.get("app_entry"), step):
        return "approved by %s" % request["approve"]
    return None


def window_request(gate_window):
    """migrate.yml's window: since the current step was set, or gate_window seconds from now."""
    return {"start": "now", "seconds": gate_window} if gate_window else {"start": "step", "seconds": 0}


def summary(target, verdict, raising, gate_window, reports, cloud_tables=None):
    """The table migrate.yml ends with: nodes, shares, servers, cloud against on-prem, and the cloud side's checks
    (ELB or Lambda health, capacity) when the step went up."""
    since = "the gate window started" if gate_window else "the previous step was set"
    lines = step_table(reports)
    lines += ["", "cloud against on-prem since %s (%s s):" % (since, verdict["window"]["seconds"])]
    lines += verdict["figures"] + [""]
    lines += ["gate of the step up:"] if raising else ["gate (information only: going down is not gated):"]
    lines += verdict["table"]
    if cloud_tables:
        lines += ["", "the cloud side before traffic went up:"] + list(cloud_tables[1:] if cloud_tables[0] == "" else cloud_tables)
    return lines


def _settings(args):
    return args.get("settings") or {}


def lock_purpose(request):
    route = " route=%s" % request["route"] if request.get("route") else ""
    if request["verb"] == "ramp":
        return "ramp.yml app=%s%s steps=%s" % (request["app"], route, ",".join(str(step) for step in request["steps"]))
    return "migrate.yml app=%s%s step=%s" % (request["app"], route, request["step"])


def lock_ttl(request, ttl):
    """The lease: the role's, or longer when the run holds the lock through a gate window or ramp checks."""
    if request["verb"] == "ramp":
        return max(int(ttl), 3 * int(request["interval"]) + 600)
    return max(int(ttl), int(request.get("gate_window") or 0) + 600)


def begin(args, fleet):
    """Phase begin: the app model's one validation, the request's, and what the nodes need (pure)."""
    apps = args.get("apps")
    settings = _settings(args)
    problems = app_model_problems(apps, settings.get("validation") or {})
    if problems:
        raise EngineError("the app model or the role settings are refused, nothing was changed: %s" % "; ".join(problems))
    verb = args.get("verb") or "migrate"
    request_args = dict(args.get("request") or {})
    target = None
    deploy_plan = []
    if verb == "ramp":
        request, target = requests.ramp_request(request_args, apps, fleet, settings.get("model"))
    elif verb == "status":
        request = requests.status_request(request_args, apps, fleet)
    elif verb == "shadow":
        request = requests.shadow_request(request_args, apps, fleet)
    elif verb in ("restore", "site"):
        request = requests.restore_request(request_args, apps, fleet, verb)
    elif verb == "report":
        request = requests.report_request(request_args, apps)
        request.update(lock_node=None, break_lock=False)
    elif verb == "deploy":
        request, deploy_plan = requests.deploy_request(request_args, apps, fleet, settings.get("model"))
    else:
        request, target = requests.migrate_request(request_args, apps, fleet, settings.get("model"))
    every_app = [app["name"] for app in apps]
    run = {"changed": False, "verb": request["verb"], "request": request, "target": target,
           "cloud_prefetch": bool(target and request["verb"] in ("step", "dns") and request.get("step") != 0
                                  and request.get("step") != "dns-rollback"
                                  and any((target.get("cloud") or {}).get(key) for key in ("load_balancer", "cluster", "lambda"))),
           "lock_node": request["lock_node"], "lock": None, "apps": every_app,
           "window": window_request(request.get("gate_window") or 0)}
    ttl = int(args.get("lock_ttl") or 900)
    if request["verb"] == "dns" and request["step"] == "dns-rollback":
        run["window"] = None
    if request["verb"] == "report":
        return run
    if request["verb"] == "status":
        run["apps"] = [request["app"]] if request.get("app") else every_app
        if request["reconcile"]:
            run["lock"] = _lock(run["apps"], ttl, "reconcile of %s" % ", ".join(run["apps"]), request)
    elif request["verb"] == "restore":
        run["lock"] = _lock(every_app, ttl, "restore.yml (previous configuration)", request)
    elif request["verb"] == "site":
        run["lock"] = _lock(every_app, ttl, "site.yml (every app's configuration)", request)
    elif request["verb"] == "deploy":
        run["apps"] = [request["app"]]
        run["deploy"] = deploy_plan
        run["lock"] = _lock([request["app"]], ttl, "deploy.yml app=%s" % request["app"], request)
    elif request["verb"] == "shadow":
        seconds = sum(seconds for _percent, seconds in request["schedule"])
        run["lock"] = _lock([request["app"]], max(ttl, seconds + 600), "replicate.yml app=%s" % request["app"], request)
    elif not request.get("dry_run"):
        run["lock"] = _lock([request["app"]], lock_ttl(request, ttl), lock_purpose(request), request)
    return run


def _lock(names, ttl, purpose, request):
    return {"names": names, "ttl": ttl, "purpose": purpose, "by": request.get("by"), "break_stale": request["break_lock"]}


def with_audit(run, audit_dir, nodes):
    """The run with its lock request knowing where to record a broken stale lock (the controller's business: the
    action plugins take it out before the request reaches the lock node)."""
    if run.get("lock"):
        run["lock"] = dict(run["lock"], audit_dir=audit_dir, nodes=list(nodes))
        # A change is recorded once made: a log that cannot take its line stops the run before the first change.
        for app in run["lock"]["names"] if audit_dir else []:
            problem = audit.writable_problem(audit_dir, app)
            if problem:
                raise EngineError("the audit log of %s cannot be written (%s), nothing was changed: fix it or set "
                                  "migration_audit_dir" % (app, problem))
    return run


def _first(nodes, values):
    for node in nodes:
        if node in values:
            return values[node]
    return None


def judge_step(run, measured, args):
    """Phase judge: the same step on every node, the cloud side before traffic goes up, the gate over every node's
    window; the decision, or EngineError with the lines refusing the step."""
    target = run["target"]
    request = run["request"]
    nodes = sorted(measured)
    if not nodes:
        raise EngineError("no node measured %s" % target["label"])
    plans = dict((node, measured[node]["plan"]) for node in nodes)
    step = agreed_step(target, plans) if len(plans) > 1 else plans[nodes[0]]["step"]
    raising = is_raising(plans, step)
    current = plans[nodes[0]]["current"]
    prefix = "refused: %s stays at step %s" % (target["label"], current)
    # Before any AWS call or gate: a step that needs a person's approval goes no further without it.
    unapproved = approval.refusal(target.get("app_entry"), target["label"], current, step, raising, request.get("approve"))
    if unapproved:
        raise EngineError(unapproved)
    check_elb, check_capacity = cloud_checks_needed(plans, step)
    cloud = _cloud_side(target, args, check_elb, check_capacity, prefix, args.get("cloud_prefetch"))
    verdict = _gate(target, dict((node, measured[node]["window"]) for node in nodes), args)
    lines = refusal(target, plans, step, verdict, request.get("force"))
    if lines:
        raise EngineError("\n".join(lines))
    return {"changed": False, "step": step, "raising": raising,
            "forced": bool(raising and request.get("force") and verdict["verdict"] == "fail"),
            "note": step_note(raising, verdict, request.get("force"), _approved_note(target, step, raising, request)),
            "gate": verdict, "cloud_tables": cloud["tables"],
            "expected": dict((node, plans[node]["current"]) for node in nodes)}


def node_report(node, target, applied, reloaded=None):
    report = dict(reloaded or applied)
    report.update({"node": node, "app": target["backend"], "previous_step": applied.get("previous_step"),
                   "step": applied.get("step"), "reloaded": bool(applied.get("reload_required"))})
    return report


def finish_step(run, decision, active, every, measured, applied, undone, failures, args, check_mode=False):
    """Phase finish: the fleet's outcome, the audit line and the report (failed_lines when the step did not reach
    every node)."""
    target = run["target"]
    request = run["request"]
    step = decision.get("step")
    audit_dir = args.get("audit_dir")
    failed = [node for node in every if node not in active]
    result = {"changed": any(result.get("changed") for result in applied.values())}
    gate_result = decision.get("gate") or {}
    first = _first(every, applied) or {}
    if failed:
        rows = []
        for node in every:
            failure = failures.get(node) or {}
            rows.append({"node": node, "failed": node in failed, "result": applied.get(node) or {},
                         "undo": undone.get(node), "previous_step": ((measured.get(node) or {}).get("plan") or {}).get("current"),
                         "self_undone": failure.get("undone", False), "self_undone_step": failure.get("step"),
                         "error": failure.get("error")})
        mode = request.get("on_node_failure") or "revert"
        record = audit.build_record(
            target["app"], "step-undone", route=target["route"], by=request.get("by"), from_step=step,
            to_step=first.get("previous_step", step), note="step %s did not reach %s (on_node_failure=%s); taken back "
            "on %s" % (step, ", ".join(failed), mode, ", ".join(fleet.undone_nodes(rows)) or "no node"),
            details={"nodes": every})
        _audit(audit_dir, record, check_mode, result, _webhooks(args))
        result["failed_lines"] = fleet.failure_report(target["label"], step, rows, mode)
        return result
    if result["changed"] and audit_dir:
        action = args.get("audit_action") or ("rollback" if request.get("step") == ROLLBACK else "step")
        record = audit.build_record(target["app"], action, route=target["route"], by=request.get("by"),
                                    from_step=first.get("previous_step"), to_step=step,
                                    verdict=gate_result.get("verdict"), forced=decision.get("forced", False),
                                    note=args.get("audit_note") or decision.get("note"),
                                    details=_gate_details(gate_result, active))
        _audit(audit_dir, record, check_mode, result, _webhooks(args))
        result["audit"] = record
    reloaded = args.get("reloaded") or {}
    reports = [node_report(node, target, applied[node], reloaded.get(node)) for node in every if node in applied]
    result["reports"] = reports
    if gate_result:
        result["report"] = summary(target, gate_result, decision.get("raising"),
                                   request.get("gate_window") if decision.get("raising") else 0, reports,
                                   decision.get("cloud_tables"))
    return result


def _audit(audit_dir, record, check_mode, result, webhooks=None):
    """Append a record to the audit log and post it to the webhooks (not in check mode); a failure of either is a
    warning once the change is made."""
    if not audit_dir or check_mode:
        return
    try:
        audit.append_record(audit_dir, record)
    except audit.AuditError as exc:
        result.setdefault("warnings", []).append(str(exc))
    undelivered = notify.notify(webhooks, record) if webhooks else []
    if undelivered:
        result.setdefault("warnings", []).extend(undelivered)


def _webhooks(args):
    return args.get("webhooks") or []


def _gate_details(gate_result, nodes):
    details = {"nodes": nodes}
    if gate_result.get("window"):
        details["figures"] = audit.figures_digest(gate_result["window"])
        details["backend"] = gate_result["window"].get("backend")
    if gate_result.get("checks") is not None:
        details["checks"] = gate_result["checks"]
    return details


def _gate(target, windows, args):
    reference = None
    if args.get("audit_dir"):
        reference = os.path.join(args["audit_dir"], "%s.onprem-reference.json" % target["backend"])
    return gate.run({"windows": windows, "thresholds": target["thresholds"], "reference_file": reference,
                     "label": target["label"]}, check_mode=bool(args.get("check_mode")))


def _cloud_side(target, args, check_elb, check_capacity, prefix, prefetched=None):
    """The cloud side's checks (made now, or taken from those started as the first node measured: prefetched is
    then a function returning them, or None when they could not be made), or EngineError with the lines refusing the
    move. Nothing waits for the prefetched checks unless they are needed."""
    if not (check_elb or check_capacity):
        return {"tables": []}
    app = target["app_entry"]
    needed = cloud_model.needed_checks(app, check_elb, check_capacity)
    checks = prefetched() if prefetched else None
    if not checks or any(checks.get(name) is None and name not in (checks.get("errors") or {}) for name in needed):
        checks = cloud_model.cloud_checks(app, args.get("aws") or {}, args.get("ca_file"), check_elb, check_capacity)
    try:
        refused, tables = cloud_model.cloud_verdict(app, checks, check_elb, check_capacity)
    except cloud_model.CloudModelError as exc:
        raise EngineError("%s, the cloud side could not be checked: %s" % (prefix, exc))
    if refused:
        raise EngineError("\n".join(["%s, %s" % (prefix, refused[0])] + refused[1:]))
    return {"tables": tables}


# -- ramp.yml ---------------------------------------------------------------------------------------

def judge_ramp_start(run, measured, args):
    """Before the first check: every node at one step; the start line; the audit's ramp-start."""
    target, request = run["target"], run["request"]
    plans = dict((node, measured[node]["plan"]) for node in measured)
    try:
        state = ramp.start(target["label"], request, plans)
    except ValueError as exc:
        raise EngineError(str(exc))
    result = {"changed": False, "ramp": state, "apply": False, "line": state["line"]}
    if not request["dry_run"]:
        record = audit.build_record(
            target["app"], "ramp-start", route=target["route"], by=request.get("by"), from_step=state["step"],
            note="steps %s, interval %g s, threshold %s, %s check(s) a step" % (
                ",".join(str(step) for step in request["steps"]), request["interval"], request["threshold"],
                request["checks_per_step"]), details={"nodes": sorted(measured)})
        _audit(args.get("audit_dir"), record, args.get("check_mode"), result, _webhooks(args))
    return result


def judge_ramp_check(run, measured, args):
    """One check: the gate over the interval on every node, the decision, the cloud side before a raise."""
    target, request = run["target"], run["request"]
    state = args["ramp"]
    nodes = sorted(measured)
    gate_result = _gate(target, dict((node, measured[node]["window"]) for node in nodes), args)
    new = ramp.after_check(state, gate_result, request)
    apply = new["action"] in (ramp.RAISE, ramp.ROLLBACK) and not request["dry_run"]
    if apply and new["action"] == ramp.RAISE:
        _cloud_side(target, args, state["step"] == 0, True,
                    "ramp stopped: %s stays at step %s" % (target["label"], state["step"]))
    return {"changed": False, "ramp": new, "apply": apply, "step": new["target"],
            "raising": new["action"] == ramp.RAISE, "gate": gate_result, "forced": False,
            "note": "ramp check %s: %s" % (new["checks"], new["action"]),
            "audit_action": "ramp-rollback" if new["action"] == ramp.ROLLBACK else "step",
            "expected": dict((node, measured[node]["plan"]["current"]) for node in nodes),
            "ends": ramp.ends(new, request["dry_run"]) or new["action"] == ramp.ROLLBACK,
            "line": new["line"]}


def finish_ramp(run, decision, active, every, measured, applied, undone, failures, args, check_mode=False):
    """After one check: its verdict, then its step (or rollback), then the ramp's end in the audit log; the end's lines
    (done, dry run, rollback)."""
    target, request = run["target"], run["request"]
    state = decision["ramp"]
    gate_result = decision["gate"]
    result = {"changed": False}
    if not request["dry_run"]:
        verdict = audit.build_record(
            target["app"], "verdict", route=target["route"], by=request.get("by"), from_step=state["measured_step"],
            to_step=state["target"], verdict=gate_result["verdict"],
            note="ramp check %s: %s" % (state["checks"], state["action"]), details=_gate_details(gate_result, active))
        _audit(args.get("audit_dir"), verdict, check_mode, result, _webhooks(args))
    if decision.get("apply"):
        moved = finish_step(run, decision, active, every, measured, applied, undone, failures,
                            dict(args, audit_action=decision["audit_action"], audit_note=decision["note"]),
                            check_mode=check_mode)
        moved.setdefault("warnings", []).extend(result.get("warnings", []))
        result = moved
        if result.get("failed_lines"):
            return result
    if not request["dry_run"] and state["action"] == ramp.DONE:
        done = audit.build_record(target["app"], "ramp-done", route=target["route"], by=request.get("by"),
                                  to_step=state["measured_step"], verdict=gate_result["verdict"],
                                  note="ramp done after %s checks" % state["checks"], details={"nodes": active})
        _audit(args.get("audit_dir"), done, check_mode, result, _webhooks(args))
    lines = ramp.end_lines(target["label"], state, request, gate_result)
    if state["action"] == ramp.ROLLBACK:
        result["failed_lines"] = lines
    else:
        result["report"] = lines
    return result


def finish_ramp_stopped(run, args, check_mode=False):
    """The ramp ran out of checks: recorded, and the run fails saying how to resume."""
    target, request = run["target"], run["request"]
    state = args.get("ramp") or {}
    result = {"changed": False}
    if not request["dry_run"]:
        record = audit.build_record(target["app"], "ramp-stopped", route=target["route"], by=request.get("by"),
                                    from_step=state.get("step"), note="stopped after %s checks without reaching the "
                                    "last step" % state.get("checks"), details={"nodes": args.get("nodes") or []})
        _audit(args.get("audit_dir"), record, check_mode, result, _webhooks(args))
    min_requests = resolve_thresholds(target["thresholds"])["min_requests"]
    result["failed_lines"] = ramp.stopped_lines(target["label"], state, request, min_requests)
    return result


# -- step=dns / dns-rollback ------------------------------------------------------------------------

def dns_params(target, request, args):
    """route53_cutover's options for the app's DNS move."""
    dns = target["dns"] or {}
    cloud = target.get("cloud") or {}
    rollback = request["step"] == "dns-rollback"
    params = dict(args.get("aws") or {})
    params.update({
        "state": "restore" if rollback else "cutover",
        "zone": dns["zone"], "private_zone": dns.get("private_zone", False),
        "record": dns.get("record") or target["host"],
        "load_balancer_type": cloud.get("load_balancer_type") or "auto",
        "type": dns.get("type", "alias"), "ipv6": dns.get("ipv6", False),
        "evaluate_target_health": dns.get("evaluate_target_health", True), "ttl": dns.get("ttl", 60),
        "backup_file": dns_backup_file(args["audit_dir"], target["app"]), "wait": True,
        "wait_timeout": dns.get("wait_timeout", 300),
        "comment": "cloudshift.migration step=%s of %s by %s" % (request["step"], target["app"], request.get("by") or "operator")})
    if dns.get("target_dns_name") is not None:
        params.update(target_dns_name=dns["target_dns_name"], target_hosted_zone_id=dns.get("target_hosted_zone_id"))
    else:
        params["load_balancer"] = cloud.get("load_balancer")
    if request.get("dns_weight") is not None and not rollback:
        params["weight"] = int(request["dns_weight"])
    return cloud_model.checked(route53.ARGUMENT_SPEC, params, "the DNS move of %s" % target["app"])


def dns_backup_file(audit_dir, app):
    return os.path.join(audit_dir, "%s.dns-backup.json" % app)


def judge_dns(run, measured, args):
    """step=dns: every node held 100 for the soak, the gate over it (force overrides), the ELB and capacity (force
    does not); then the record moves through Route53. dns-rollback puts the backup back, never gated."""
    target, request = run["target"], run["request"]
    app = target["app"]
    rollback = request["step"] == "dns-rollback"
    refused = "refused: the DNS of %s stays where it is" % app
    gate_result = {}
    cloud = {"tables": [], "health": None, "capacity": None}
    nodes = sorted(measured)
    if not rollback:
        soak = int((target["dns"] or {}).get("soak_seconds", 3600))
        states = dict((node, {"step": measured[node]["plan"]["current"] if measured[node]["plan"]["recorded"] else None,
                              "updated_at": measured[node]["plan"].get("updated_at")}) for node in nodes)
        problems = cloud_model.dns_soak_problems(states, soak, app)
        if problems:
            raise EngineError("%s: %s" % (refused, "; ".join(problems)))
        gate_result = _gate(target, dict((node, measured[node]["window"]) for node in nodes), args)
        if gate_result["verdict"] != "pass" and not request.get("force"):
            head = ("%s, the gate over the %s s at step 100 is %s (pass -e force=true to move DNS anyway; it is recorded)"
                    % (refused, gate_result["window"]["seconds"], gate_result["verdict"]))
            raise EngineError("\n".join([head] + gate_result["table"] + [""] + gate_result["figures"]))
        cloud = _cloud_side(target, args, True, True, refused, args.get("cloud_prefetch"))
    try:
        change = route53.run(dns_params(target, request, args), check_mode=bool(args.get("check_mode")))
    except route53.CutoverError as exc:
        raise EngineError("the DNS of %s: %s" % (app, exc))
    change.pop("diff", None)
    return {"changed": bool(change["changes"]), "dns": change, "gate": gate_result, "cloud": cloud,
            "forced": bool(not rollback and request.get("force") and gate_result.get("verdict") != "pass")}


def finish_dns(run, decision, active, args, check_mode=False):
    target, request = run["target"], run["request"]
    change = decision["dns"]
    gate_result = decision.get("gate") or {}
    rollback = request["step"] == "dns-rollback"
    result = {"changed": bool(change["changes"])}
    if change["changes"]:
        weight = request.get("dns_weight")
        note = "%s %s" % (change["record"], "restored" if rollback else (
            "weighted %s/255 to the ELB" % weight if weight is not None else "pointed at the ELB"))
        details = _gate_details(gate_result, active) if gate_result else {"nodes": active}
        details["dns"] = dict((key, change.get(key)) for key in ("record", "zone_id", "change_id", "status", "before",
                                                                 "after", "target"))
        details["dns"]["backup_file"] = dns_backup_file(args["audit_dir"], target["app"])
        record = audit.build_record(target["app"], request["step"], by=request.get("by"),
                                    verdict=gate_result.get("verdict"), forced=decision.get("forced", False),
                                    note=note, details=details)
        _audit(args.get("audit_dir"), record, check_mode, result, _webhooks(args))
    lines = ["DNS of %s%s:" % (target["app"], " (check mode: nothing submitted)" if check_mode else "")] + change["table"]
    if not rollback:
        lines += ["", "cloud against on-prem over the soak (%s s):" % gate_result["window"]["seconds"]] + gate_result["figures"]
        lines += ["", "gate of the DNS move:"] + gate_result["table"] + decision["cloud"]["tables"]
    result["report"] = lines
    return result


# -- status ------------------------------------------------------------------------------------------

def finish_status(run, every, nodes_read, args, check_mode=False):
    """Every node's status in one table; the reconcile recorded per app; fail_on_drift."""
    request = run["request"]
    rows = [{"node": node, "result": nodes_read.get(node) or {"failed": True, "msg": "no answer"}} for node in every]
    reconciled = request["reconcile"] and not check_mode
    status = fleet.status_report(rows, reconciled=reconciled)
    result = {"changed": bool(reconciled and status["put_back"]), "report": status["lines"], "status": status}
    if reconciled and status["put_back"]:
        for app in run["apps"]:
            mentions = [problem for problems in status["put_back"].values() for problem in problems if app in problem]
            if mentions:
                note = "live state put back to the recorded one (read back) on %s: %s" % (
                    ", ".join(sorted(status["put_back"])), "; ".join(mentions))
                record = audit.build_record(app, "reconcile", by=request.get("by"), note=note[:900],
                                            details={"nodes": every})
                _audit(args.get("audit_dir"), record, check_mode, result, _webhooks(args))
    if request["fail_on_drift"] and not status["consistent"]:
        result["failed_lines"] = [status["lines"][-1]]
    return result


# -- dispatch ---------------------------------------------------------------------------------------

def judge(run, measured, args):
    if run["verb"] == "ramp":
        return judge_ramp_check(run, measured, args) if args.get("ramp") else judge_ramp_start(run, measured, args)
    if run["verb"] == "dns":
        return judge_dns(run, measured, args)
    return judge_step(run, measured, args)


def finish(run, decision, active, every, measured, applied, undone, failures, args, check_mode=False):
    if run["verb"] == "ramp":
        if args.get("stopped"):
            return finish_ramp_stopped(run, dict(args, nodes=active), check_mode)
        return finish_ramp(run, decision, active, every, measured, applied, undone, failures, args, check_mode)
    if run["verb"] == "dns":
        return finish_dns(run, decision, active, args, check_mode)
    if run["verb"] == "status":
        return finish_status(run, every, args.get("nodes_read") or {}, args, check_mode)
    return finish_step(run, decision, active, every, measured, applied, undone, failures, args, check_mode)
