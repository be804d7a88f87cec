"""The role alerts end to end: playbooks/alerts.yml on the local inventory, real promtool and amtool."""

import os
import shutil
import subprocess

import pytest
import yaml

from localenv_fixture import LocalEnv, ROOT

PROMTOOL_TESTS = os.path.join(ROOT, "tests", "promtool")
RULES = "cloudshift-migration.rules.yml"


def render(tmp_path, *extra, check=True):
    env = LocalEnv(tmp_path / "run", 0)
    rules_dir = tmp_path / "rules"
    run = env.playbook("alerts.yml", "-e", "alerts_rules_dir=%s" % rules_dir, *extra, check=check)
    return run, rules_dir


def promtool_test(rules_dir):
    for name in os.listdir(PROMTOOL_TESTS):
        shutil.copy(os.path.join(PROMTOOL_TESTS, name), str(rules_dir))
    tests = sorted(name for name in os.listdir(PROMTOOL_TESTS) if name.endswith(".test.yml"))
    return subprocess.run(["promtool", "test", "rules"] + tests, cwd=str(rules_dir), capture_output=True, text=True,
                          timeout=120, check=False)


def test_rules_pass_promtool_check_and_every_alert_fires_and_stays_silent(tmp_path):
    run, rules_dir = render(tmp_path)
    assert run.changed() == 3, run  # the directory and both files
    check = subprocess.run(["promtool", "check", "rules", str(rules_dir / RULES)], capture_output=True, text=True,
                           timeout=60, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    result = promtool_test(rules_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    rules = yaml.safe_load((rules_dir / RULES).read_text())
    alerts = set(rule["alert"] for group in rules["groups"] for rule in group["rules"] if "alert" in rule)
    tested = set()
    for name in os.listdir(PROMTOOL_TESTS):
        for case in yaml.safe_load(open(os.path.join(PROMTOOL_TESTS, name)))["tests"]:
            for alert_test in case.get("alert_rule_test", []):
                tested.add((alert_test["alertname"], bool(alert_test["exp_alerts"])))
    for alert in alerts:
        assert (alert, True) in tested and (alert, False) in tested, "%s lacks a firing or a silent case" % alert
    again, _rules_dir = render(tmp_path)
    assert again.changed() == 0, again


@pytest.mark.parametrize("loosened, alert", [
    ('{"alerts_thresholds": {"cloud_5xx_diff_points": 10}}', "CloudshiftCloud5xxAboveOnprem"),
    ('{"alerts_cluster_thresholds": {"bounds_drift_for": "30m"}}', "CloudshiftAutoscalerBoundsDrift"),
])
def test_the_promtool_tests_catch_a_loosened_threshold(tmp_path, loosened, alert):
    _run, rules_dir = render(tmp_path, "-e", loosened)
    result = promtool_test(rules_dir)
    assert result.returncode != 0 and alert in result.stdout + result.stderr


def test_alertmanager_snippet_is_a_valid_route(tmp_path):
    _run, rules_dir = render(tmp_path, "-e", "alerts_page_receiver=oncall")
    snippet = yaml.safe_load((rules_dir / "cloudshift-migration.alertmanager.yml").read_text())
    config = {"route": {"receiver": "default", "routes": [snippet["route"]]},
              "inhibit_rules": snippet["inhibit_rules"],
              "receivers": [{"name": "default"}, {"name": "cloudshift-migration"}, {"name": "oncall"}]}
    path = tmp_path / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config))
    result = subprocess.run(["amtool", "check-config", str(path)], capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert snippet["route"]["routes"][0]["receiver"] == "oncall"


@pytest.mark.parametrize("extra, message", [
    ('{"alerts_thresholds": {"cloud_5xx_for": "5 min"}}', "alerts_thresholds.cloud_5xx_for '5 min' is not a Prometheus duration"),
    ('{"alerts_thresholds": {"retries": 0}}', "alerts_thresholds.retries 0 is not a whole number >= 1"),
    ('{"alerts_haproxy_matchers": "job=haproxy"}', "alerts_haproxy_matchers 'job=haproxy' is not a list of PromQL matchers"),
    ('{"alerts_labels": {"severity": "x"}}', "alerts_labels key 'severity' is set by the rules themselves"),
    ('{"alerts_cluster_thresholds": {"ready_nodes_max_ratio": 1.5}}', "ready_nodes_max_ratio 1.5 is not a ratio"),
    ('{"alerts_asg_group_max_series": ""}', "alerts_asg_group_max_series '' must both be set or both be empty"),
    ('{"alerts_promtool": "/nonexistent/promtool"}', '"/nonexistent/promtool" is not installed'),
])
def test_bad_settings_are_refused_naming_the_value_and_write_nothing(tmp_path, extra, message):
    run, rules_dir = render(tmp_path, "-e", extra, check=False)
    assert run.returncode != 0 and message in run.output.replace("\n", " ").replace("  ", " ").replace("''", "'"), run
    assert not rules_dir.exists()


def test_check_mode_writes_nothing_and_diff_shows_the_rules(tmp_path):
    run, rules_dir = render(tmp_path, "--check", "--diff")
    assert "CloudshiftCloud5xxAboveOnprem" in run.output and not (rules_dir / RULES).exists(), run
