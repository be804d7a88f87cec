# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fleet of HAProxy nodes kept in step (pure functions): the report of a step that did not reach every node.

Each node row, built by the role from the node's registered results:
    {"node": "node-a", "failed": False, "result": <haproxy_step result>, "undo": <haproxy_step undo result or None>,
     "error": <why the node failed, or None>}
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.report import render_table

ON_NODE_FAILURE = ("revert", "complete")


def _text(value):
    return "-" if value is None or value == "" else str(value)


def node_error(row):
    """Why a node failed, in one line (HAProxy's or the connection's own words)."""
    result = row.get("result") or {}
    error = row.get("error") or result.get("msg")
    if result.get("unreachable"):
        error = "unreachable: %s" % (error or "no connection")
    return " ".join(str(error or "failed (no message)").split())


def node_outcome(row, target):
    """(step the node is at as far as the run knows, what happened to it)."""
    result = row.get("result") or {}
    undo = row.get("undo") or {}
    previous = result.get("previous_step", row.get("previous_step"))
    if row.get("failed"):
        if row.get("self_undone"):
            return row.get("self_undone_step", previous), "failed, put back: %s" % node_error(row)
        return previous, "failed, not changed: %s" % node_error(row)
    if undo.get("failed") or undo.get("unreachable"):
        return target, "took the step, could NOT be put back: %s" % node_error({"result": undo})
    if undo.get("undone"):
        return undo.get("step"), "took the step, put back"
    if result.get("step") is not None and result.get("step") == result.get("previous_step"):
        return result.get("step"), "was already at the step"
    return result.get("step", target), "took the step"


def failure_report(label, target, rows, mode="revert"):
    """Lines saying which node failed, why, and where each node stands (pure).

    The first line says whether the fleet is consistent; nodes that could not be put back make it split.
    """
    failed = [row["node"] for row in rows if row.get("failed")]
    table_rows = []
    steps = set()
    split = False
    for row in rows:
        step, what = node_outcome(row, target)
        steps.add(step)
        if "could NOT" in what:
            split = True
        table_rows.append([row["node"], _text(step), what])
    split = split or len(steps) > 1
    retried = " after retrying (on_node_failure=complete)" if mode == "complete" else ""
    head = ("step %s of %s did not reach every node: %s failed%s."
            % (target, label, ", ".join(failed), retried))
    if split:
        verdict = ("THE FLEET IS SPLIT: the nodes are not all at the same step. Run migrate.yml again with the step "
                   "every node should be at (status.yml shows each node).")
    else:
        verdict = ("The nodes that took it were put back: every node is at step %s, nothing is split."
                   % _text(next(iter(steps))))
    advice = ("Mend what %s reported and run the step again, or leave %s out with --limit '!%s' (status.yml then "
              "flags %s)." % (" and ".join(failed), "it" if len(failed) == 1 else "them", ":!".join(failed),
                              "it" if len(failed) == 1 else "them"))
    return [head, verdict, ""] + render_table(["node", "step", "what happened"], table_rows) + ["", advice]


def undone_nodes(rows):
    """Nodes where the step was taken back."""
    return [row["node"] for row in rows if (row.get("undo") or {}).get("undone")]


# The status of a fleet ------------------------------------------------------------------------

def _side_text(servers, side, key):
    values = [server for server in servers if server.get("side") == side]
    if key == "weight":
        return "+".join(str(server.get("weight")) for server in values) or "-"
    texts = []
    for server in values:
        text = str(server.get("status") or "-")
        if server.get("backup"):
            text += " (backup)"
        for state in server.get("admin_state") or []:
            text += " [%s]" % state
        texts.append(text)
    return ", ".join(texts) or "-"


def endpoint_lines(rows):
    """The cloud servers deploy.yml pointed at an endpoint found in AWS, per node: recorded, and as HAProxy runs it."""
    found = []
    for row in rows:
        for entry in (row.get("result") or {}).get("endpoints") or []:
            if entry.get("endpoint"):
                found.append("  %s: %s server %s at %s (recorded by %s at %s), running at %s" % (
                    row["node"], entry["app"], entry["server"], entry["recorded"], entry["endpoint"].get("by") or
                    "deploy.yml", entry["endpoint"].get("at") or "?", entry["running"] or "- (not in HAProxy)"))
    return ["", "Cloud endpoints (deploy.yml):"] + found if found else []


def status_report(rows, reconciled=False):
    """The status of every node (rows: {"node", "result"} with haproxy_drift's result, or {"node", "error"}).

    Returns {"lines", "disagreements", "drift" ({node: [problems]}), "remaining" ({node: [problems still there after
    the reconcile, read back]}), "unanswered" ({node: error}), "consistent"}.
    """
    per_backend = {}
    order = []
    unanswered = {}
    drift = {}
    remaining = {}
    for row in rows:
        node = row["node"]
        result = row.get("result") or {}
        if row.get("error") or result.get("failed") or result.get("unreachable") or "backends" not in result:
            unanswered[node] = " ".join(str(row.get("error") or result.get("msg") or "no answer").split())
            continue
        if result.get("drift"):
            drift[node] = list(result["drift"])
            left = result.get("remaining", result["drift"]) if reconciled else result["drift"]
            if left:
                remaining[node] = list(left)
        for backend in result["backends"]:
            name = backend["backend"]
            if name not in per_backend:
                per_backend[name] = []
                order.append(name)
            per_backend[name].append((node, backend))
    table = []
    disagreements = []
    for name in order:
        entries = per_backend[name]
        steps = dict((node, backend["step"]) for node, backend in entries)
        differs = len(set(steps.values())) > 1
        if differs:
            disagreements.append("%s: the nodes disagree on the recorded step (%s)"
                                 % (name, ", ".join("%s %s" % (node, step) for node, step in sorted(steps.items()))))
        for index, (node, backend) in enumerate(entries):
            servers = backend.get("servers") or []
            flags = []
            if differs:
                flags.append("STEP DIFFERS")
            if backend.get("drift"):
                still = [problem for problem in backend["drift"] if problem in remaining.get(node, [])]
                flags.append("reconciled" if backend.get("reconciled") and reconciled and not still else "DRIFT")
            source = "" if backend.get("step_source") == "state store" else " (initial)"
            weights = "%s / %s" % (_side_text(servers, "cloud", "weight"), _side_text(servers, "onprem", "weight"))
            table.append([name if index == 0 else "", node, "%s%s" % (backend["step"], source),
                          _share(backend.get("share")), weights,
                          _side_text(servers, "cloud", "state"), _side_text(servers, "onprem", "state"),
                          ", ".join(flags) or "ok"])
    lines = render_table(["backend", "node", "step", "share", "weights cloud / on-prem", "cloud servers",
                          "on-prem servers", "flags"], table)
    if disagreements:
        lines += ["", "Nodes that disagree:"] + ["  " + text for text in disagreements]
    lines += endpoint_lines(rows)
    put_back = dict((node, [problem for problem in problems if problem not in remaining.get(node, [])])
                    for node, problems in drift.items()) if reconciled else {}
    put_back = dict((node, problems) for node, problems in put_back.items() if problems)
    if put_back:
        lines += ["", "Drift put back by reconcile (read back):"]
        for node in sorted(put_back):
            lines += ["  %s: %s" % (node, problem) for problem in put_back[node]]
    if remaining:
        lines += ["", "Drift from the recorded state%s:" % (" still there after reconcile (read back)" if reconciled else "")]
        for node in sorted(remaining):
            lines += ["  %s: %s" % (node, problem) for problem in remaining[node]]
    if unanswered:
        lines += ["", "Nodes that did not answer:"] + ["  %s: %s" % (node, error) for node, error in sorted(unanswered.items())]
    consistent = not disagreements and not unanswered and not remaining
    if consistent:
        summary = "%d node(s), %d backend(s): every node is at its recorded state and they agree." % (
            len(rows), len(order))
        if reconciled and drift:
            summary = "%d node(s), %d backend(s): the drift above was put back (read back); the nodes agree." % (
                len(rows), len(order))
    else:
        parts = []
        if disagreements:
            parts.append("%d backend(s) with nodes at different steps (put them in step with migrate.yml -e app=.. "
                         "-e step=N)" % len(disagreements))
        if remaining and not reconciled:
            parts.append("%d node(s) drifted from their recorded state (-e reconcile=true puts it back)" % len(remaining))
        elif remaining:
            parts.append("%d node(s) still differ from their recorded state after reconcile (read back): what a "
                         "reconcile cannot put back over the runtime API (a backup flag, a file on disk) needs "
                         "site.yml" % len(remaining))
        if unanswered:
            parts.append("%d node(s) did not answer" % len(unanswered))
        summary = "%d node(s), %d backend(s): %s." % (len(rows), len(order), "; ".join(parts))
    return {"lines": lines + ["", summary], "disagreements": disagreements, "drift": drift, "remaining": remaining,
            "put_back": put_back, "unanswered": unanswered, "consistent": consistent}


def _share(value):
    return "-" if value is None else "%.1f%%" % float(value)
