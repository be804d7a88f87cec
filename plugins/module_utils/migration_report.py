# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The migration report: one self-contained HTML file from an app's audit log (pure, but for run()).

A timeline of every event (steps, verdicts, rollbacks, ramps, DNS) and charts of on-prem against cloud
for each window the gate measured: 2xx and 5xx shares, connect and response times (the graphs the field
report's authors looked at), plus the cloud share over time. Charts are inline SVG drawn here: no
script, no external asset, so the file opens anywhere, offline.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import html
import os

from ansible_collections.cloudshift.migration.plugins.module_utils import audit
from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError
from ansible_collections.cloudshift.migration.plugins.module_utils.fileio import atomic_write
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.validation import ValidationError, backend_label, validate_name

SIDES = (("onprem", "on-prem", "#1f77b4"), ("cloud", "cloud", "#e8590c"))
CHARTS = (
    ("share-2xx", "2xx responses", "%", lambda figures: figures["shares_pct"].get("2xx")),
    ("share-5xx", "5xx responses", "%", lambda figures: figures["shares_pct"].get("5xx")),
    ("connect-time", "Connect time (average)", "ms", lambda figures: figures["connect_ms"].get("avg")),
    ("response-time", "Response time (average)", "ms", lambda figures: figures["response_ms"].get("avg")),
    ("response-time-p95", "Response time (p95)", "ms", lambda figures: figures["response_ms"].get("p95")),
)
WIDTH, HEIGHT = 760, 260
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 58, 16, 16, 54


class ReportError(CloudshiftError):
    pass


def _esc(value):
    return html.escape("" if value is None else str(value), quote=True)


def measured_step(record):
    """The step the record's window was measured at: the step before a change, 100 for a DNS move."""
    if record.get("from") is not None:
        return record["from"]
    if str(record.get("action", "")).startswith("dns"):
        return 100
    return record.get("to")


def figure_points(records, route=None):
    """One point per measured window of the backend (the app's own, or a route's), in time order.

    A ramp records its verdict and then the step it took on the same window: a window is kept once.
    """
    points = []
    for record in records:
        figures = record.get("figures")
        if record.get("route") != route or not isinstance(figures, dict):
            continue
        sides = dict((side, figures.get(side)) for side, _label, _color in SIDES)
        if not any(isinstance(value, dict) and value.get("requests") for value in sides.values()):
            continue
        if points and points[-1]["figures"] == figures:
            continue
        points.append({"at": record.get("at"), "step": measured_step(record), "action": record.get("action"),
                       "verdict": record.get("verdict"), "figures": figures})
    return points


def _side_value(point, side, extract):
    figures = point["figures"].get(side)
    if not isinstance(figures, dict) or not figures.get("requests"):
        return None
    try:
        value = extract(figures)
    except (KeyError, TypeError, AttributeError):
        return None
    return None if value is None else float(value)


def _nice_max(value):
    if value <= 0:
        return 1.0
    magnitude = 10 ** len(str(int(value))) / 10.0
    for factor in (1, 2, 2.5, 5, 10):
        if value <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _format_tick(value):
    return ("%.0f" % value) if value >= 10 or value == int(value) else ("%.2g" % value)


def svg_chart(chart_id, title, unit, labels, series):
    """An inline SVG line chart; series are (name, color, values with None for no data)."""
    values = [value for _name, _color, points in series for value in points if value is not None]
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    top = _nice_max(max(values) * 1.05) if values else 1.0
    if unit == "%" and values and max(values) <= 100:
        top = min(top, 100.0)
    count = len(labels)

    def x_of(index):
        return MARGIN_LEFT + (plot_w * (index + 0.5) / count if count else 0)

    def y_of(value):
        return MARGIN_TOP + plot_h - plot_h * (value / top)

    parts = ['<svg class="chart" id="%s" role="img" aria-label="%s" viewBox="0 0 %d %d" width="%d" height="%d" '
             'xmlns="http://www.w3.org/2000/svg">' % (_esc(chart_id), _esc(title), WIDTH, HEIGHT, WIDTH, HEIGHT),
             '<rect x="0" y="0" width="%d" height="%d" fill="#ffffff"/>' % (WIDTH, HEIGHT)]
    for tick in range(5):
        value = top * tick / 4.0
        y = y_of(value)
        parts.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#e3e3e3"/>' % (MARGIN_LEFT, y, WIDTH - MARGIN_RIGHT, y))
        parts.append('<text x="%d" y="%.1f" font-size="11" text-anchor="end" fill="#555">%s</text>'
                     % (MARGIN_LEFT - 6, y + 4, _esc(_format_tick(value))))
    parts.append('<text x="12" y="%d" font-size="11" fill="#555" transform="rotate(-90 12 %d)" text-anchor="middle">%s</text>'
                 % (MARGIN_TOP + plot_h // 2, MARGIN_TOP + plot_h // 2, _esc(unit)))
    for index, label in enumerate(labels):
        parts.append('<text x="%.1f" y="%d" font-size="10" text-anchor="middle" fill="#555">%s</text>'
                     % (x_of(index), MARGIN_TOP + plot_h + 16, _esc(label)))
    parts.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#888"/>'
                 % (MARGIN_LEFT, MARGIN_TOP + plot_h, WIDTH - MARGIN_RIGHT, MARGIN_TOP + plot_h))
    if not values:
        parts.append('<text x="%d" y="%d" font-size="14" text-anchor="middle" fill="#999">no measured window</text>'
                     % (MARGIN_LEFT + plot_w // 2, MARGIN_TOP + plot_h // 2))
    for series_index, (name, color, points) in enumerate(series):
        segment = []
        for index, value in enumerate(list(points) + [None]):
            if value is not None:
                segment.append((x_of(index), y_of(value)))
                continue
            if len(segment) > 1:
                parts.append('<polyline fill="none" stroke="%s" stroke-width="2.5" points="%s"/>'
                             % (color, " ".join("%.1f,%.1f" % point for point in segment)))
            segment = []
        for index, value in enumerate(points):
            if value is not None:
                parts.append('<circle cx="%.1f" cy="%.1f" r="4" fill="%s"><title>%s %s: %s %s</title></circle>'
                             % (x_of(index), y_of(value), color, _esc(name), _esc(labels[index]),
                                _esc("%.3g" % value), _esc(unit)))
        legend_x = MARGIN_LEFT + 10 + 110 * series_index
        parts.append('<rect x="%d" y="%d" width="14" height="4" fill="%s"/><text x="%d" y="%d" font-size="12" fill="#222">%s</text>'
                     % (legend_x, HEIGHT - 14, color, legend_x + 20, HEIGHT - 9, _esc(name)))
    parts.append("</svg>")
    return "".join(parts)


# Audit actions after which the fleet is at the record's `to` step (step-undone: a step that did not reach
# every node was taken back, `to` is where the nodes are again).
STEP_CHANGES = ("step", "rollback", "ramp-rollback", "step-undone")


def step_chart(records):
    """The cloud share after each step change, over the events."""
    changes = [record for record in records if record.get("action") in STEP_CHANGES
               and record.get("to") is not None and record.get("route") is None]
    labels = ["#%d" % (index + 1) for index in range(len(changes))]
    values = [float(record["to"]) for record in changes]
    return svg_chart("cloud-share", "Cloud share after each step change", "% to the cloud", labels,
                     [("cloud share", SIDES[1][2], values)])


def _figure_cell(figures):
    if not isinstance(figures, dict) or not figures.get("requests"):
        return "&ndash;"
    five = (figures.get("shares_pct") or {}).get("5xx")
    p95 = (figures.get("response_ms") or {}).get("p95")
    return "%s req, %s 5xx, p95 %s" % (
        _esc(figures["requests"]), "&ndash;" if five is None else _esc("%.2f%%" % five),
        "&ndash;" if p95 is None else _esc("%.1f ms" % p95))


def _step_text(record):
    if record.get("from") is None and record.get("to") is None:
        return ""
    if record.get("action") == "verdict":
        return "at %s%s" % (record.get("from"), " (next %s)" % record["to"] if record.get("to") is not None else "")
    return "%s &rarr; %s" % (_esc(record.get("from")), _esc(record.get("to")))


def timeline_rows(records):
    rows = []
    for number, record in enumerate(records, 1):
        figures = record.get("figures") or {}
        verdict = record.get("verdict") or ""
        rows.append(
            '<tr class="action-%s"><td>%d</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>'
            '<td class="verdict-%s">%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>'
            % (_esc(record.get("action")), number, _esc(record.get("at")), _esc(record.get("action")),
               _esc(record.get("route") or ""), _step_text(record), _esc(verdict), _esc(verdict),
               "forced" if record.get("forced") else "", _esc(record.get("by") or ""), _esc(record.get("note") or ""),
               _figure_cell(figures.get("onprem")), _figure_cell(figures.get("cloud"))))
    return rows


STYLE = """
body { font-family: DejaVu Sans, Helvetica, Arial, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; }
.summary td { padding: 2px 14px 2px 0; } .charts { display: flex; flex-wrap: wrap; gap: 18px; }
figure { margin: 0; border: 1px solid #ddd; padding: 8px; } figcaption { font-weight: bold; margin-bottom: 4px; }
table.timeline { border-collapse: collapse; font-size: 12px; } .timeline th, .timeline td { border: 1px solid #ddd; padding: 3px 6px; text-align: left; }
.timeline th { background: #f3f3f3; } .verdict-fail { color: #c92a2a; font-weight: bold; } .verdict-pass { color: #2b8a3e; }
tr.action-rollback td, tr.action-ramp-rollback td { background: #fff0f0; }
"""


def render_html(app, records, route=None, title=None, source=None):
    """The report's HTML: deterministic for the same records (no clock in it), so a re-run changes nothing."""
    validate_name(app, "app")
    if route is not None:
        validate_name(route, "route")
    points = figure_points(records, route)
    labels = ["%s @%s" % ("#%d" % (index + 1), point["step"]) for index, point in enumerate(points)]
    backend = backend_label(app, route or None)
    steps = [record for record in records if record.get("action") in STEP_CHANGES
             and record.get("route") == route]
    current = steps[-1]["to"] if steps else None
    rollbacks = sum(1 for record in records if record.get("action") in ("rollback", "ramp-rollback")
                    or (record.get("action") == "step" and record.get("to") is not None
                        and record.get("from") is not None and record["to"] < record["from"]))
    forced = sum(1 for record in records if record.get("forced"))
    failed = sum(1 for record in records if record.get("verdict") == "fail")
    title = title or "Migration of %s" % backend
    charts = ['<figure><figcaption>Cloud share after each step change</figcaption>%s</figure>' % step_chart(records)]
    for chart_id, chart_title, unit, extract in CHARTS:
        series = [(label, color, [_side_value(point, side, extract) for point in points]) for side, label, color in SIDES]
        charts.append('<figure><figcaption>%s, on-prem vs cloud</figcaption>%s</figure>'
                      % (_esc(chart_title), svg_chart(chart_id, chart_title, unit, labels, series)))
    summary = [
        ("App", backend), ("Events", len(records)), ("Measured windows", len(points)),
        ("First event", records[0].get("at") if records else "none"),
        ("Last event", records[-1].get("at") if records else "none"),
        ("Current step", "none recorded" if current is None else "%s%% to the cloud" % current),
        ("Failed verdicts", failed), ("Step downs and rollbacks", rollbacks), ("Forced steps", forced),
    ]
    if source:
        summary.append(("Audit log", source))
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>%s</title><style>%s</style></head><body>' % (_esc(title), STYLE),
        "<h1>%s</h1>" % _esc(title),
        '<table class="summary">%s</table>' % "".join(
            "<tr><td>%s</td><td>%s</td></tr>" % (_esc(key), _esc(value)) for key, value in summary),
        "<h2>On-prem vs cloud, each window the gate measured</h2>",
        "<p>Each point is one window, labelled with its number and the step it was measured at (@step); "
        "a side without requests in a window has no point.</p>",
        '<div class="charts">%s</div>' % "".join(charts),
        "<h2>Timeline</h2>",
        '<table class="timeline"><thead><tr><th>#</th><th>when (UTC)</th><th>action</th><th>route</th><th>step</th>'
        "<th>verdict</th><th></th><th>by</th><th>note</th><th>on-prem</th><th>cloud</th></tr></thead><tbody>",
        "\n".join(timeline_rows(records)),
        "</tbody></table>",
        "</body></html>",
        "",
    ])


ARGUMENT_SPEC = dict(
    audit_dir=dict(type="path", required=True),
    app=dict(type="str", required=True),
    route=dict(type="str"),
    dest=dict(type="path", required=True),
    title=dict(type="str"),
    mode=dict(type="str", default="0644"),
)

ERRORS = (ReportError, audit.AuditError, ValidationError, IOError, OSError)


def _read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def run(params, check_mode, diff, cwd=None):
    """Write the report of params["app"]; ReportError naming the bad value."""
    app = validate_name(params["app"], "app")
    route = params.get("route")
    if route is not None:
        validate_name(route, "route")
    try:
        mode = int(str(params.get("mode") or "0644"), 8)
    except ValueError:
        raise ReportError("mode %r is not an octal file mode like 0644" % (params.get("mode"),))
    dest = params["dest"]
    if not os.path.isabs(dest):
        dest = os.path.join(cwd or os.getcwd(), dest)
    path = audit.audit_path(params["audit_dir"], app)
    if not os.path.exists(path):
        raise ReportError("no audit log for app %s at %s: nothing was recorded for it yet (migrate.yml or ramp.yml "
                          "writes it)" % (app, path))
    damaged = []
    records = audit.read_records(path, damaged)
    records = [record for record in records if record.get("app") == app]
    if route is not None and not any(record.get("route") == route for record in records):
        raise ReportError("the audit log of app %s has no event of route %r" % (app, route))
    content = render_html(app, records, route=route, title=params.get("title"), source=path)
    before = _read(dest)
    changed = before != content
    if changed and not check_mode:
        atomic_write(dest, content, mode=mode, make_dirs_mode=0o755)
    points = figure_points(records, route)
    unchanged = "" if changed else " (unchanged)"
    result = {"changed": changed, "path": dest, "events": len(records), "windows": len(points),
              "msg": "%s: %d events, %d measured windows%s" % (dest, len(records), len(points), unchanged)}
    if damaged:
        result["damaged_lines"] = damaged
        result["warnings"] = ["the audit log %s has %d damaged line(s), not in the report: %s" % (
            path, len(damaged), "; ".join("line %d: %s" % (item["line"], item["text"]) for item in damaged))]
    if diff:
        result["diff"] = {"before": before or "", "after": content, "before_header": dest, "after_header": dest}
    return result


def failure_message(params, exc):
    return "cannot write the migration report of %s: %s" % (params.get("app"), exc)
