# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Operator-readable tables (pure functions)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

STEP_COLUMNS = ("node", "app", "step", "share", "up share", "server", "side", "weight", "state", "last check")


def format_share(value):
    if value is None or value == "":
        return "-"
    try:
        return "%.1f%%" % float(value)
    except (TypeError, ValueError):
        return str(value)


def format_check(server):
    if server.get("last_check"):
        return str(server["last_check"])
    status = server.get("check_status") or ""
    code = server.get("check_code")
    duration = server.get("check_duration_ms")
    text = status
    if code not in (None, ""):
        text += "/%s" % code
    if duration not in (None, ""):
        text += " in %sms" % duration
    return text or "-"


def format_state(server):
    state = server.get("status") or "-"
    if server.get("backup"):
        state += " (backup)"
    return state


def _step_text(report):
    previous, step = report.get("previous_step"), report.get("step")
    if previous in (None, "") or str(previous) == str(step):
        return str(step)
    return "%s -> %s" % (previous, step)


def render_table(header, rows):
    widths = [len(title) for title in header]
    for row in rows:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip()
             for line in [header] + rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return lines


def step_table(reports):
    """Lines of a table: one row per server, node/app/step/share on each node's first row."""
    rows = []
    for report in reports:
        if not isinstance(report, dict):
            continue
        servers = report.get("servers") or [{}]
        for index, server in enumerate(servers):
            head = [str(report.get("node", "-")), str(report.get("app", "-")), _step_text(report),
                    format_share(report.get("share")), format_share(report.get("effective_share"))]
            if index:
                head = [""] * len(head)
            rows.append(head + [str(server.get("name", "-")), str(server.get("side", "-")),
                                str(server.get("weight", "-")), format_state(server), format_check(server)])
    return render_table(list(STEP_COLUMNS), rows)


FIGURES_COLUMNS = ("node", "side", "requests", "2xx", "4xx", "5xx", "errors", "retried", "chk fail",
                   "connect avg", "response avg", "p50", "p95", "p99", "samples")
SIDE_LABELS = {"cloud": "cloud", "onprem": "on-prem"}


def _pct(value):
    return "-" if value is None else "%.2f%%" % value


def _ms(value):
    return "-" if value is None else ("%.0f ms" % value if value >= 100 else "%.1f ms" % value)


def figures_rows(node, window):
    """Two rows (cloud, on-prem) of one window's figures."""
    rows = []
    for side in ("cloud", "onprem"):
        figures = window["sides"][side]
        timings = figures["timings"]
        server_ms = timings["server_ms"]
        samples = str(timings["samples"])
        if timings.get("sampled_from", timings["samples"]) != timings["samples"]:
            samples += " of %d" % timings["sampled_from"]
        rows.append([node, SIDE_LABELS[side], str(figures["requests"]), _pct(figures["shares_pct"]["2xx"]),
                     _pct(figures["shares_pct"]["4xx"]), _pct(figures["shares_pct"]["5xx"]),
                     _pct(figures["error_rate_pct"]), str(figures["failed_attempts"]), str(figures["check_failures"]),
                     _ms(timings["connect_ms"]["avg"]), _ms(timings["response_ms"]["avg"]), _ms(server_ms["p50"]),
                     _ms(server_ms["p95"]), _ms(server_ms["p99"]), samples])
    return rows


def figures_table(windows, merged=None):
    """Lines of a table of cloud vs on-prem figures: one pair of rows per node, then the fleet's.

    windows: {node: window}; merged: their stats.merge_windows, shown as 'all nodes' when there are several.
    """
    rows = []
    for node in sorted(windows):
        rows.extend(figures_rows(node, windows[node]))
    if merged is not None and len(windows) > 1:
        rows.extend(figures_rows("all nodes", merged))
    return render_table(list(FIGURES_COLUMNS), rows)
