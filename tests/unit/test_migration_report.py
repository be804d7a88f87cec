"""The migration report's pure parts: points per window, deterministic HTML, escaping, errors naming values."""

import pytest

from ansible_collections.cloudshift.migration.plugins.module_utils import audit, migration_report


def side(requests, five=0.0, p95=10.0):
    return {"requests": requests, "shares_pct": {"2xx": 100.0 - five, "5xx": five}, "error_rate_pct": five,
            "connect_ms": {"avg": 0.2, "p95": 0.4}, "response_ms": {"avg": p95 / 2, "p95": p95}}


def record(action, from_step, to_step, figures=None, note=None, verdict="pass", at="2026-12-03T10:00:00+00:00"):
    return {"app": "application-01", "route": None, "action": action, "from": from_step, "to": to_step,
            "verdict": verdict, "forced": False, "note": note, "at": at, "by": "ops", "figures": figures}


def test_a_ramps_verdict_and_step_on_the_same_window_make_one_point():
    window = {"onprem": side(500), "cloud": side(500, five=2.0)}
    records = [record("verdict", 25, 50, window), record("step", 25, 50, window),
               record("step", 50, 75, {"onprem": side(250), "cloud": side(750)}),
               record("step", 75, 100, {"onprem": side(0), "cloud": side(0)})]
    points = migration_report.figure_points(records)
    assert [point["step"] for point in points] == [25, 50]


def test_html_is_deterministic_self_contained_and_escapes_what_it_shows():
    records = [record("step", 0, 25, {"onprem": side(900), "cloud": side(0)}, note="<script>alert(1)</script>"),
               record("rollback", 25, 0, {"onprem": side(700), "cloud": side(300, five=9.0)}, verdict="fail")]
    first = migration_report.render_html("application-01", records)
    assert first == migration_report.render_html("application-01", records)
    assert "<script>" not in first and "&lt;script&gt;" in first
    assert first.count('<svg class="chart"') == 6 and "9.00% 5xx" in first
    assert "Step downs and rollbacks</td><td>1" in first


def test_run_names_a_missing_audit_log_and_a_bad_app(tmp_path):
    params = {"audit_dir": str(tmp_path), "app": "application-09", "route": None, "dest": str(tmp_path / "r.html"),
              "title": None, "mode": "0644"}
    with pytest.raises(migration_report.ReportError, match="no audit log for app application-09"):
        migration_report.run(params, False, False)
    with pytest.raises(Exception, match="invalid app name"):
        migration_report.run(dict(params, app="a;b"), False, False)


def test_check_mode_writes_nothing_and_a_rerun_changes_nothing(tmp_path):
    audit.append_record(str(tmp_path), audit.build_record("application-01", "step", from_step=0, to_step=5))
    params = {"audit_dir": str(tmp_path), "app": "application-01", "route": None, "dest": str(tmp_path / "r.html"),
              "title": None, "mode": "0644"}
    checked = migration_report.run(params, True, True)
    assert checked["changed"] and not (tmp_path / "r.html").exists() and "<!DOCTYPE html>" in checked["diff"]["after"]
    assert migration_report.run(params, False, False)["changed"]
    assert not migration_report.run(params, False, False)["changed"]
