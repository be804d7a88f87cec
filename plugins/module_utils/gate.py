# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The step gate over a fleet: every node's window added up, cloud against on-prem, and the
on-prem reference used when on-prem has no traffic of its own (at step 100 its servers are backups).

Pure functions; the module migration_gate reads and writes the reference file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible_collections.cloudshift.migration.plugins.module_utils.analysis import (
    compare_sides, format_verdict, percentile, resolve_thresholds, validate_side)
from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.report import figures_table
from ansible_collections.cloudshift.migration.plugins.module_utils.jsonfile import JsonFileError, read_json, write_json
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.stats import (
    CLOUD, ONPREM, StatsError, gate_side, merge_windows)

REFERENCE_FORMAT = 1
REFERENCE_QUANTILES = 101  # p0, p1, ... p100 of the on-prem latencies
REFERENCE_COUNTS = ("requests", "http_5xx", "http_4xx", "connection_errors", "failed_attempts", "check_failures")


class GateError(CloudshiftError):
    pass


def make_reference(onprem, at, label):
    """What is kept of an on-prem side to judge the cloud later without on-prem traffic."""
    latencies = onprem["latencies_ms"]
    quantiles = [percentile(latencies, q) for q in range(REFERENCE_QUANTILES)] if latencies else []
    reference = dict((key, onprem.get(key, 0)) for key in REFERENCE_COUNTS)
    reference.update({"format": REFERENCE_FORMAT, "at": at, "of": label, "latency_quantiles_ms": quantiles,
                      "latency_samples": len(latencies)})
    return reference


def reference_side(reference):
    """The on-prem side analysis.compare_sides takes, from a reference (its quantiles as the latencies)."""
    if not isinstance(reference, dict) or reference.get("format") != REFERENCE_FORMAT:
        raise GateError("the on-prem reference is not one written by migration_gate (format %d): %r"
                        % (REFERENCE_FORMAT, str(reference)[:200]))
    side = dict((key, reference.get(key, 0)) for key in REFERENCE_COUNTS)
    # Judged against the cloud, not again against its own past: no check failures carried over.
    side["check_failures"] = 0
    side["latencies_ms"] = list(reference.get("latency_quantiles_ms") or [])
    return validate_side(side, "on-prem reference")


def iso_time(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).isoformat(timespec="seconds")


def onprem_is_backup(window):
    """Whether every on-prem server of the window is a backup (the app or route is at step 100)."""
    onprem = [view for view in window["servers"].values() if view.get("side") == ONPREM]
    return bool(onprem) and all(view.get("backup") for view in onprem)


def evaluate(windows, thresholds=None, reference=None, now=None, label=None):
    """Gate verdict on the fleet's windows ({node: window} from haproxy_stats_info).

    Returns the compare_sides result plus the merged figures, whether the reference stood in for
    on-prem, and a new reference when on-prem had enough requests of its own.
    """
    limits = resolve_thresholds(thresholds)
    merged = merge_windows(windows)
    cloud = gate_side(merged, CLOUD)
    onprem = gate_side(merged, ONPREM)
    reference_used = None
    judged_onprem = onprem
    if onprem_is_backup(merged) and onprem["requests"] < limits["min_requests"] and reference:
        judged_onprem = reference_side(reference)
        reference_used = {"at": reference.get("at"), "of": reference.get("of"), "requests": reference.get("requests"),
                          "latency_samples": reference.get("latency_samples")}
    result = compare_sides(cloud, judged_onprem, limits)
    new_reference = None
    if onprem["requests"] >= limits["min_requests"]:
        at = now if now is not None else iso_time(merged["end"])
        new_reference = make_reference(onprem, at, label or merged["backend"])
    result.update({
        "backend": merged["backend"],
        "window": merged,
        "reference_used": reference_used,
        "new_reference": new_reference,
    })
    result["table"] = format_verdict(result)
    if reference_used:
        result["table"].insert(1, "on-prem figures: reference of %s from %s (%s requests; on-prem had %d in this window)"
                               % (reference_used["of"], reference_used["at"], reference_used["requests"],
                                  onprem["requests"]))
    return result


def read_reference(path):
    """The reference kept at path, or None when there is none."""
    try:
        return read_json(path, "the on-prem reference")
    except JsonFileError as exc:
        raise GateError(str(exc))


def write_reference(path, reference):
    try:
        write_json(path, reference, "the on-prem reference")
    except JsonFileError as exc:
        raise GateError(str(exc))


# The module migration_gate and its action plugin (which runs it in the controller's process) share these.
ARGUMENT_SPEC = dict(
    windows=dict(type="dict", required=True),
    thresholds=dict(type="dict", default={}),
    reference_file=dict(type="path"),
    label=dict(type="str"),
)
ERRORS = (GateError, StatsError, ValueError, KeyError, TypeError)


def run(params, check_mode):
    """The result of migration_gate: the verdict, its table, the figures, the fleet window (without samples).

    The reference file is read when given and rewritten (not in check mode) when on-prem had enough requests.
    """
    reference = read_reference(params["reference_file"]) if params["reference_file"] else None
    result = evaluate(params["windows"], params["thresholds"], reference=reference, label=params["label"])
    new_reference = result.pop("new_reference")
    if params["reference_file"] and new_reference is not None and not check_mode:
        write_reference(params["reference_file"], new_reference)
    window = dict(result.pop("window"))
    window.pop("samples", None)
    result.update({
        "changed": False,
        "window": window,
        "figures": figures_table(params["windows"], window),
        "reference_updated": bool(params["reference_file"] and new_reference is not None),
    })
    return result


def failure_message(params, exc):
    return "cannot judge %s: %s" % (params.get("label") or "the windows", exc)


def _threshold_problems(thresholds, label):
    try:
        resolve_thresholds(thresholds)
    except ValueError as exc:
        return ["gate thresholds of %s: %s" % (label, exc)]
    return []


def _gate_of(owner, label, problems):
    gate = owner.get("gate") or {}
    if not isinstance(gate, dict):
        problems.append("gate thresholds of %s must be a dict, got %r" % (label, gate))
        return None
    return gate


def gate_problems(apps, thresholds, label="migration_gate_thresholds"):
    """Problems of the role's thresholds, then of each app's over them and each route's over its app's."""
    thresholds = thresholds or {}
    problems = _threshold_problems(thresholds, label)
    if problems or not isinstance(apps, (list, tuple)):
        return problems
    for app in apps:
        if not isinstance(app, dict):
            continue
        app_label = "app %s" % app.get("name")
        app_gate = _gate_of(app, app_label, problems)
        if app_gate is None:
            continue
        app_thresholds = dict(thresholds, **app_gate)
        problems.extend(_threshold_problems(app_thresholds, app_label))
        for route in app.get("routes") or []:
            if not isinstance(route, dict):
                continue
            route_label = "%s route %s" % (app_label, route.get("name"))
            route_gate = _gate_of(route, route_label, problems)
            if route_gate is not None:
                problems.extend(_threshold_problems(dict(app_thresholds, **route_gate), route_label))
    return problems
