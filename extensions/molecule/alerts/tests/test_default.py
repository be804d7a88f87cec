# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Testinfra checks of the molecule scenario `alerts`: the rules the role wrote pass promtool, and fire (promtool
test rules) with each app's own thresholds; the Alertmanager route and the Grafana dashboard are in place."""

import json

import pytest
import yaml

ALERTS = {"CloudshiftCloud5xxAboveOnprem", "CloudshiftCloudSlowerThanOnprem", "CloudshiftCloudServerDown",
          "CloudshiftCloudChecksFailing", "CloudshiftBackendWithoutServer", "CloudshiftRetriesRising"}


@pytest.fixture(scope="module")
def root(host):
    return host.ansible.get_variables()["molecule_alerts_root"]


def test_the_rules_pass_promtool_and_name_every_app(host, root):
    rules = host.file(root + "/rules/cloudshift-migration.rules.yml")
    assert rules.exists and rules.mode == 0o644
    check = host.run("promtool check rules %s" % rules.path)
    assert check.rc == 0, check.stderr
    data = yaml.safe_load(rules.content_string)
    alerts = [rule for group in data["groups"] for rule in group["rules"] if "alert" in rule]
    assert ALERTS <= set(rule["alert"] for rule in alerts)
    for app in ("molecule-app", "molecule-other"):
        assert any(rule.get("labels", {}).get("app") == app for rule in alerts), app
    every_rule = [rule for group in data["groups"] for rule in group["rules"]]
    haproxy_selectors = [rule["expr"] for rule in every_rule if "haproxy_server_" in rule["expr"]]
    assert haproxy_selectors and all('job="haproxy"' in expr for expr in haproxy_selectors)


def series(app, cloud_5xx_per_minute):
    prefix = 'haproxy_server_http_responses_total{job="haproxy",instance="h1",proxy="%s",server="%s-%s",code="%s"}'
    return [
        {"series": prefix % (app, "cloud", app, "2xx"), "values": "0+%dx20" % (600 - cloud_5xx_per_minute)},
        {"series": prefix % (app, "cloud", app, "5xx"), "values": "0+%dx20" % cloud_5xx_per_minute},
        {"series": prefix % (app, "onprem", app, "2xx"), "values": "0+600x20"},
        {"series": prefix % (app, "onprem", app, "5xx"), "values": "0+0x20"},
    ]


def fired(app, points, threshold):
    labels = {"alertname": "CloudshiftCloud5xxAboveOnprem", "severity": "page", "component": "cloudshift-migration",
              "app": app, "backend": app}
    annotations = {
        "summary": "%s: the cloud answers %.2f points more 5xx than on-prem" % (app, points),
        "description": "Over the last 5m, the cloud servers of backend %s answered 5xx %.2f percentage points more often "
                       "than the on-prem ones (threshold %.1f points, for 5m). Runbook: send the share back on-prem with "
                       "`ansible-playbook playbooks/migrate.yml -e app=%s -e step=0` (going down is never gated), then "
                       "read the cloud pods' logs." % (app, points, threshold, app)}
    return [{"exp_labels": labels, "exp_annotations": annotations}]


def test_each_app_alerts_with_its_own_threshold(host, root):
    """1.5 points of cloud 5xx: above the role's 1 point (molecule-other fires), below molecule-app's own 2."""
    tests = {"rule_files": ["cloudshift-migration.rules.yml"], "evaluation_interval": "1m", "tests": [
        {"name": "1.5 points: silent under the app's own threshold", "interval": "1m",
         "input_series": series("molecule-app", 9),
         "alert_rule_test": [{"eval_time": "15m", "alertname": "CloudshiftCloud5xxAboveOnprem", "exp_alerts": []}]},
        {"name": "3 points: fires for that app", "interval": "1m", "input_series": series("molecule-app", 18),
         "alert_rule_test": [{"eval_time": "15m", "alertname": "CloudshiftCloud5xxAboveOnprem",
                              "exp_alerts": fired("molecule-app", 3.0, 2.0)}]},
        {"name": "1.5 points: fires under the role's threshold", "interval": "1m",
         "input_series": series("molecule-other", 9),
         "alert_rule_test": [{"eval_time": "15m", "alertname": "CloudshiftCloud5xxAboveOnprem",
                              "exp_alerts": fired("molecule-other", 1.5, 1.0)}]},
    ]}
    path = root + "/rules/molecule.test.yml"
    host.run("cat > %s <<'EOF'\n%s\nEOF" % (path, yaml.safe_dump(tests, sort_keys=False)))
    result = host.run("cd %s/rules && promtool test rules molecule.test.yml" % root)
    assert result.rc == 0, result.stdout + result.stderr


def test_the_alertmanager_route_pages_the_page_receiver(host, root):
    snippet = host.file(root + "/rules/cloudshift-migration.alertmanager.yml")
    assert snippet.exists and snippet.mode == 0o644
    data = yaml.safe_load(snippet.content_string)
    assert "route" in data and "inhibit_rules" in data
    assert "molecule-pager" in snippet.content_string
    assert 'component="cloudshift-migration"' in snippet.content_string or "cloudshift-migration" in json.dumps(data["route"])


def test_the_grafana_dashboard_is_copied(host, root):
    dashboard = host.file(root + "/grafana/cloudshift-migration.json")
    assert dashboard.exists
    assert json.loads(dashboard.content_string)["panels"]
