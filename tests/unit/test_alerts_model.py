"""The alert model (pure): problems naming the value, selectors, and the Grafana dashboard's series."""

import json
import os
import re

import yaml

from ansible_collections.cloudshift.migration.plugins.module_utils import alerts

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def local_apps():
    with open(os.path.join(ROOT, "inventories", "local", "group_vars", "haproxy", "apps.yml")) as handle:
        return yaml.safe_load(handle)["cloudshift_apps"]


def test_every_backend_and_side_gets_recording_rules_and_alerts():
    groups = alerts.rule_groups(local_apps())["groups"]
    backends = set(rule["labels"]["backend"] for group in groups for rule in group["rules"] if "record" in rule)
    assert backends == {"application-01", "application-02", "application-02--critical-payments",
                        "application-02--customers", "application-02--v2", "application-02--v1"}
    names = [group["name"] for group in groups]
    assert "cloudshift-cluster-nodes.cloudshift.local" in names


def test_problems_name_the_app_and_the_value():
    apps = local_apps()
    apps[0]["alerts"] = {"cloud_5xx_for": "five minutes", "deployment": {"name": "Bad_Name"}, "colour": 1}
    problems = alerts.alert_problems(apps)
    assert "app application-01: alerts.cloud_5xx_for 'five minutes' is not a Prometheus duration (like 30s, 5m, 1h30m)" in problems
    assert any("alerts.deployment.name 'Bad_Name' is not a Kubernetes name" in problem for problem in problems)
    assert any("alerts has an unknown key 'colour'" in problem for problem in problems)


def test_a_disabled_app_gets_no_rules_and_dots_are_escaped():
    apps = local_apps()
    apps[1]["alerts"] = {"enabled": False}
    apps[0]["servers"][1]["name"] = "aws.k8s.app-01"
    groups = alerts.rule_groups(apps)["groups"]
    assert not any("application-02" in group["name"] for group in groups)
    text = json.dumps(groups)
    assert 'server=~\\"aws\\\\\\\\.k8s\\\\\\\\.app-01\\"' in text


def test_the_dashboard_reads_only_series_the_rules_record_or_haproxy_exports():
    with open(os.path.join(ROOT, "roles", "alerts", "files", "grafana", "cloudshift-migration.json")) as handle:
        dashboard = json.load(handle)
    recorded = set(rule["record"] for group in alerts.rule_groups(local_apps())["groups"] for rule in group["rules"]
                   if "record" in rule)
    exported = {"haproxy_server_status", "haproxy_server_check_failures_total", "ALERTS"}
    used = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            used.update(re.findall(r"(cloudshift:[a-z0-9_:]+|haproxy_[a-z_]+|ALERTS)\{", target["expr"]))
    assert used and used <= recorded | exported, used - recorded - exported
    assert {"cloudshift:http_responses_2xx:ratio", "cloudshift:http_responses_5xx:ratio",
            "cloudshift:connect_time_seconds:avg", "cloudshift:response_time_seconds:avg"} <= used


def _drift_rules(settings=None):
    groups = alerts.rule_groups(local_apps(), settings=settings)["groups"]
    return [rule for group in groups for rule in group["rules"] if rule.get("alert") == "CloudshiftAutoscalerBoundsDrift"]


def test_the_drift_alert_compares_the_groups_own_bounds_with_the_autoscalers_per_bound():
    rules = _drift_rules({"kube_matchers": 'job="ksm"', "asg_group_label": "dimension_AutoScalingGroupName",
                          "asg_group_min_series": "aws_autoscaling_group_min_size_maximum",
                          "asg_group_max_series": "aws_autoscaling_group_max_size_maximum"})
    assert [rule["labels"]["bound"] for rule in rules] == ["min", "max"]
    assert rules[0]["expr"] == (
        '(max(aws_autoscaling_group_min_size_maximum{job="ksm",dimension_AutoScalingGroupName="nodes.cloudshift.local"})'
        ' - on () max(cluster_autoscaler_node_group_min_count{job="ksm",node_group="nodes.cloudshift.local"})) != 0')
    assert rules[0]["for"] == "15m" and rules[0]["labels"]["cluster"] == "nodes.cloudshift.local"


def test_empty_group_series_render_no_drift_alert_and_half_set_ones_are_refused():
    assert _drift_rules({"asg_group_min_series": "", "asg_group_max_series": ""}) == []
    problems = alerts.alert_problems(local_apps(), settings=dict(
        alerts.SETTINGS_DEFAULTS, asg_group_max_series="", asg_group_label="auto scaling"))
    assert ("alerts_asg_group_min_series 'aws_autoscaling_group_min_size_average' and alerts_asg_group_max_series '' "
            "must both be set or both be empty") in problems
    assert "alerts_asg_group_label 'auto scaling' is not a Prometheus label name" in problems
    problems = alerts.alert_problems(local_apps(), settings=dict(alerts.SETTINGS_DEFAULTS, autoscaler_min_series="a-b"))
    assert problems == ["alerts_autoscaler_min_series 'a-b' is not a metric name"]
