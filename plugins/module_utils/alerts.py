# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus rules from the app model (pure): recording rules per backend and side, the alerts the
field report learned it needed, and the Alertmanager route that sends them somewhere.

Every HAProxy backend of an app (the app's own and one per route, ``<app>--<route>``) gets recording
rules labelled ``app``, ``route`` (absent for the app's own backend), ``backend`` and ``side``, read by
the alerts and by the Grafana dashboard. The sides are told apart by server name, from the app model.
docs/alerts.md names every series and gives the runbook of each alert.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.cloudshift.migration.plugins.module_utils.app_model.model import resolve
from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.validation import backend_label, describe_bad_name

COMPONENT = "cloudshift-migration"

THRESHOLD_DEFAULTS = {
    "cloud_5xx_diff_points": 1.0,
    "cloud_5xx_for": "5m",
    "response_time_diff_ms": 50.0,
    "response_time_for": "10m",
    "min_request_rate": 0.1,
    "server_down_for": "1m",
    "check_failures": 3,
    "check_failures_for": "2m",
    "backend_down_for": "1m",
    "retries": 10,
    "retries_for": "5m",
    "pod_churn_window": "30m",
    "pod_churn_max_ratio": 3.0,
    "pod_churn_for": "5m",
}
CLUSTER_DEFAULTS = {
    "node_not_ready_for": "5m",
    "ready_nodes_for": "5m",
    "ready_nodes_max_ratio": 0.9,
    "bounds_drift_for": "15m",
}
SETTINGS_DEFAULTS = {
    "rate_window": "5m",
    "haproxy_matchers": "",
    "kube_matchers": "",
    "asg_min_series": "cluster_autoscaler_node_group_min_count",
    "asg_max_series": "cluster_autoscaler_node_group_max_count",
    # The drift alert compares the Auto Scaling group's own bounds (the CloudWatch exporter's GroupMinSize and
    # GroupMaxSize, group metrics enabled) with the cluster-autoscaler's; an empty series turns it off.
    "autoscaler_min_series": "cluster_autoscaler_node_group_min_count",
    "autoscaler_max_series": "cluster_autoscaler_node_group_max_count",
    "asg_group_min_series": "aws_autoscaling_group_min_size_average",
    "asg_group_max_series": "aws_autoscaling_group_max_size_average",
    "asg_group_label": "auto_scaling_group_name",
    "runbook_url": "",
    "labels": {},
    "receiver": "cloudshift-migration",
    "page_receiver": "",
}
FLOAT_KEYS = ("cloud_5xx_diff_points", "response_time_diff_ms", "min_request_rate", "pod_churn_max_ratio",
              "ready_nodes_max_ratio")
INT_KEYS = ("check_failures", "retries")
APP_KEYS = ("enabled", "deployment")

_DURATION_RE = re.compile(r"^(?=\d)(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?$")
_MATCHER = r'[a-zA-Z_][a-zA-Z0-9_]*\s*(?:=~|!~|!=|=)\s*"(?:[^"\\\n]|\\.)*"'
_MATCHERS_RE = re.compile(r"^\s*(%s)(\s*,\s*%s)*\s*$" % (_MATCHER, _MATCHER))
_METRIC_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_K8S_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_K8S_NAMESPACE_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_LABEL_VALUE_RE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
_LABEL_KEY_RE = re.compile(r"^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_RECEIVER_RE = re.compile(r"^[^\s\"'#][^\n\"]{0,127}$")


class AlertModelError(CloudshiftError):
    pass


# --- checks ---------------------------------------------------------------------------------------------

def _threshold_problems(values, label, keys):
    problems = []
    for key in sorted(values):
        value = values[key]
        if key not in keys:
            problems.append("%s has an unknown key %r; known: %s" % (label, key, ", ".join(sorted(keys))))
        elif key in FLOAT_KEYS:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                problems.append("%s.%s %r is not a number >= 0" % (label, key, value))
            elif key == "ready_nodes_max_ratio" and not 0 < value <= 1:
                problems.append("%s.%s %r is not a ratio above 0, at most 1" % (label, key, value))
        elif key in INT_KEYS:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                problems.append("%s.%s %r is not a whole number >= 1" % (label, key, value))
        elif not isinstance(value, str) or not _DURATION_RE.match(value):
            problems.append("%s.%s %r is not a Prometheus duration (like 30s, 5m, 1h30m)" % (label, key, value))
    return problems


def _deployment_problems(deployment, label):
    if not isinstance(deployment, dict):
        return ["%s.deployment %r must be a dict with namespace and name" % (label, deployment)]
    problems = []
    for key in sorted(set(deployment) - {"namespace", "name"}):
        problems.append("%s.deployment has an unknown key %r; known: name, namespace" % (label, key))
    name = deployment.get("name")
    if not isinstance(name, str) or not _K8S_NAME_RE.match(name):
        problems.append("%s.deployment.name %r is not a Kubernetes name (lower case letters, digits, '-', '.')"
                        % (label, name))
    namespace = deployment.get("namespace", "default")
    if not isinstance(namespace, str) or not _K8S_NAMESPACE_RE.match(namespace):
        problems.append("%s.deployment.namespace %r is not a Kubernetes namespace" % (label, namespace))
    return problems


def _cluster_problems(cluster, label):
    problems = []
    asg = cluster.get("asg_name")
    if not isinstance(asg, str) or not asg or '"' in asg or "\\" in asg or "\n" in asg:
        problems.append("%s.cloud.cluster.asg_name %r is not an Auto Scaling group name" % (label, asg))
    labels = cluster.get("node_labels") or {}
    if not isinstance(labels, dict):
        return problems + ["%s.cloud.cluster.node_labels %r must be a dict" % (label, labels)]
    for key, value in sorted(labels.items()):
        if not isinstance(key, str) or not _LABEL_KEY_RE.match(key):
            problems.append("%s.cloud.cluster.node_labels key %r is not a Kubernetes label key" % (label, key))
        if not isinstance(value, str) or not _LABEL_VALUE_RE.match(value):
            problems.append("%s.cloud.cluster.node_labels[%r] %r is not a Kubernetes label value" % (label, key, value))
    return problems


def _settings_problems(settings):
    problems = []
    for key in sorted(set(settings) - set(SETTINGS_DEFAULTS)):
        problems.append("alerts settings have an unknown key %r" % key)
    if not _DURATION_RE.match(str(settings.get("rate_window", ""))):
        problems.append("alerts_rate_window %r is not a Prometheus duration (like 5m)" % settings.get("rate_window"))
    for key in ("haproxy_matchers", "kube_matchers"):
        value = settings.get(key, "")
        if not isinstance(value, str) or (value.strip() and not _MATCHERS_RE.match(value)):
            problems.append('alerts_%s %r is not a list of PromQL matchers (like job="haproxy", env=~"prod|pre")'
                            % (key, value))
    for key in ("asg_min_series", "asg_max_series", "autoscaler_min_series", "autoscaler_max_series"):
        value = settings.get(key)
        if not isinstance(value, str) or not _METRIC_RE.match(value):
            problems.append("alerts_%s %r is not a metric name" % (key, value))
    group_series = [settings.get("asg_group_min_series"), settings.get("asg_group_max_series")]
    for key, value in zip(("asg_group_min_series", "asg_group_max_series"), group_series):
        if not isinstance(value, str) or (value and not _METRIC_RE.match(value)):
            problems.append("alerts_%s %r is not a metric name (or empty: no drift alert)" % (key, value))
    if all(isinstance(value, str) for value in group_series) and bool(group_series[0]) != bool(group_series[1]):
        problems.append("alerts_asg_group_min_series %r and alerts_asg_group_max_series %r must both be set or "
                        "both be empty" % tuple(group_series))
    group_label = settings.get("asg_group_label")
    if not isinstance(group_label, str) or not _LABEL_NAME_RE.match(group_label) or group_label.startswith("__"):
        problems.append("alerts_asg_group_label %r is not a Prometheus label name" % (group_label,))
    url = settings.get("runbook_url", "")
    if not isinstance(url, str) or (url and not re.match(r"^https?://[^\s\"'<>]+$", url)):
        problems.append("alerts_runbook_url %r is not an http(s) URL (or empty)" % (url,))
    labels = settings.get("labels") or {}
    if not isinstance(labels, dict):
        problems.append("alerts_labels %r must be a dict of label names to values" % (labels,))
    else:
        for name, value in sorted(labels.items()):
            if not isinstance(name, str) or not _LABEL_NAME_RE.match(name) or name.startswith("__"):
                problems.append("alerts_labels key %r is not a Prometheus label name" % (name,))
            elif name in ("app", "route", "backend", "side", "severity", "component", "cluster", "server"):
                problems.append("alerts_labels key %r is set by the rules themselves" % name)
            if not isinstance(value, str) or "\n" in value:
                problems.append("alerts_labels[%r] %r must be a one-line string" % (name, value))
    for key in ("receiver", "page_receiver"):
        value = settings.get(key, "")
        if not isinstance(value, str) or (value and not _RECEIVER_RE.match(value)) or (key == "receiver" and not value):
            problems.append("alerts_%s %r is not an Alertmanager receiver name" % (key, value))
    return problems


def alert_problems(apps, thresholds=None, cluster_thresholds=None, settings=None):
    """Every problem of the app model's alert entries and the role's settings, one sentence each."""
    problems = _threshold_problems(thresholds or {}, "alerts_thresholds", THRESHOLD_DEFAULTS)
    problems += _threshold_problems(cluster_thresholds or {}, "alerts_cluster_thresholds", CLUSTER_DEFAULTS)
    problems += _settings_problems(dict(SETTINGS_DEFAULTS, **(settings or {})))
    if not isinstance(apps, list):
        return problems + ["cloudshift_apps %r must be a list of apps" % (apps,)]
    for index, app in enumerate(apps):
        if not isinstance(app, dict):
            problems.append("cloudshift_apps[%d] %r is not a dict" % (index, app))
            continue
        label = "app %s" % (app.get("name") if isinstance(app.get("name"), str) else "#%d" % index)
        reason = describe_bad_name(app.get("name"))
        if reason:
            problems.append("%s: name %r is not a valid HAProxy name: %s" % (label, app.get("name"), reason))
            continue
        for kind, items in (("server", app.get("servers") or []), ("route", app.get("routes") or [])):
            for item in items:
                reason = describe_bad_name(item.get("name")) if isinstance(item, dict) else "it is not a dict"
                if reason:
                    problems.append("%s: %s name %r is not a valid HAProxy name: %s" % (label, kind, item, reason))
        entry = app.get("alerts") or {}
        if not isinstance(entry, dict):
            problems.append("%s: alerts %r must be a dict" % (label, entry))
            continue
        if "enabled" in entry and not isinstance(entry["enabled"], bool):
            problems.append("%s: alerts.enabled %r is not true or false" % (label, entry["enabled"]))
        if entry.get("deployment") is not None:
            problems += _deployment_problems(entry["deployment"], "%s: alerts" % label)
        problems += _threshold_problems(dict((k, v) for k, v in entry.items() if k not in APP_KEYS),
                                        "%s: alerts" % label, THRESHOLD_DEFAULTS)
        cluster = (app.get("cloud") or {}).get("cluster") if isinstance(app.get("cloud"), dict) else None
        if isinstance(cluster, dict):
            problems += _cluster_problems(cluster, label)
    return problems


def _checked(apps, thresholds, cluster_thresholds, settings):
    problems = alert_problems(apps, thresholds, cluster_thresholds, settings)
    if problems:
        raise AlertModelError("; ".join(problems))


# --- PromQL pieces --------------------------------------------------------------------------------------

def _alternation(names):
    """An anchored PromQL regex (inside double quotes) matching exactly these HAProxy names."""
    return "|".join(_regex_literal(name) for name in names)


def _regex_literal(name):
    """A name of [A-Za-z0-9_.:-] as a regex inside a PromQL string: only its dots need escaping."""
    return name.replace(".", "\\\\.")


def _selector(extra, *matchers):
    parts = [part for part in [extra.strip()] + list(matchers) if part]
    return "{%s}" % ",".join(parts)


def sanitize_label_key(key):
    """kube-state-metrics' name for a Kubernetes node label: label_ + the key with [^a-zA-Z0-9_] as _."""
    return "label_" + re.sub(r"[^a-zA-Z0-9_]", "_", key)


def _backends(app):
    """(backend, route name or None) of every HAProxy backend of an app, as the app model resolves them."""
    return [(backend["name"], backend["route"]) for backend in resolve([app])["backends"]]


def _side_servers(app, side):
    """The names of an app's servers on one side, as the app model resolves them."""
    backend = resolve([app])["backends"][0]
    return list(backend["cloud_servers"] if side == "cloud" else backend["onprem_servers"])


def _common_labels(app, backend, route):
    labels = {"app": app["name"], "backend": backend}
    if route:
        labels["route"] = route
    return labels


def _step_command(app, route, step):
    route_part = " -e route=%s" % route if route else ""
    return "ansible-playbook playbooks/migrate.yml -e app=%s%s -e step=%s" % (app["name"], route_part, step)


class _Builder(object):
    def __init__(self, thresholds, cluster_thresholds, settings):
        self.thresholds = thresholds
        self.cluster_thresholds = dict(CLUSTER_DEFAULTS, **cluster_thresholds)
        self.settings = settings
        self.window = settings["rate_window"]

    def annotations(self, anchor, summary, description):
        annotations = {"summary": summary, "description": description}
        if self.settings["runbook_url"]:
            annotations["runbook_url"] = "%s#%s" % (self.settings["runbook_url"], anchor)
        return annotations

    def alert(self, name, expr, duration, severity, labels, annotations):
        rule = {"alert": name, "expr": expr}
        if duration:
            rule["for"] = duration
        rule["labels"] = dict(self.settings["labels"], severity=severity, component=COMPONENT, **labels)
        rule["annotations"] = annotations
        return rule

    def haproxy(self, metric, *matchers):
        return metric + _selector(self.settings["haproxy_matchers"], *matchers)

    def kube(self, metric, *matchers):
        return metric + _selector(self.settings["kube_matchers"], *matchers)

    # recording rules: one set per backend and side
    def recording(self, app, backend, route):
        rules = []
        for side in ("onprem", "cloud"):
            servers = _side_servers(app, side)
            if not servers:
                continue
            match = ('proxy="%s"' % backend, 'server=~"%s"' % _alternation(servers))
            labels = dict(_common_labels(app, backend, route), side=side)
            responses = "rate(%s[%s])" % (self.haproxy("haproxy_server_http_responses_total", *match), self.window)
            rules.append({"record": "cloudshift:http_responses:rate", "labels": labels,
                          "expr": "sum by (code) (%s)" % responses})
            for code in ("2xx", "5xx"):
                rules.append({"record": "cloudshift:http_responses_%s:ratio" % code, "labels": labels,
                              "expr": "sum(rate(%s[%s])) / sum(%s)" % (
                                  self.haproxy("haproxy_server_http_responses_total", *(match + ('code="%s"' % code,))),
                                  self.window, responses)})
            # HAProxy's averages are per server (its last 1024 requests): weighted here by each server's rate.
            weights = "sum by (instance, proxy, server) (%s)" % responses
            for timing in ("response", "connect"):
                gauge = self.haproxy("haproxy_server_%s_time_average_seconds" % timing, *match)
                rules.append({"record": "cloudshift:%s_time_seconds:avg" % timing, "labels": labels,
                              "expr": "sum(%s * on (instance, proxy, server) %s) / sum(%s)" % (gauge, weights, responses)})
            rules.append({"record": "cloudshift:retries:increase", "labels": labels,
                          "expr": "sum(increase(%s[%s])) + sum(increase(%s[%s]))" % (
                              self.haproxy("haproxy_server_retry_warnings_total", *match), self.window,
                              self.haproxy("haproxy_server_redispatch_warnings_total", *match), self.window)})
        return rules

    # alerts of one backend
    def backend_alerts(self, app, backend, route, limits):
        labels = _common_labels(app, backend, route)
        where = backend_label(app["name"], route or None)
        rollback = _step_command(app, route, 0)
        sel = 'app="%s",backend="%s"' % (app["name"], backend)
        cloud_rate = 'sum(cloudshift:http_responses:rate{%s,side="cloud"})' % sel
        traffic = "on () (%s >= %s)" % (cloud_rate, limits["min_request_rate"])
        cloud_servers = _side_servers(app, "cloud")
        onprem_servers = _side_servers(app, "onprem")
        rules = []
        if cloud_servers:
            # On-prem without traffic (step 100, or no on-prem side) counts as 0% 5xx.
            rules.append(self.alert(
                "CloudshiftCloud5xxAboveOnprem",
                "(sum(cloudshift:http_responses_5xx:ratio{%s,side=\"cloud\"}) - ((sum(cloudshift:http_responses_5xx:ratio"
                "{%s,side=\"onprem\"}) >= 0) or on () vector(0))) * 100 > %s and %s"
                % (sel, sel, limits["cloud_5xx_diff_points"], traffic),
                limits["cloud_5xx_for"], "page", labels,
                self.annotations(
                    "cloudshiftcloud5xxaboveonprem",
                    "%s: the cloud answers {{ $value | printf \"%%.2f\" }} points more 5xx than on-prem" % where,
                    "Over the last %s, the cloud servers of backend %s answered 5xx {{ $value | printf \"%%.2f\" }} "
                    "percentage points more often than the on-prem ones (threshold %s points, for %s). Runbook: send "
                    "the share back on-prem with `%s` (going down is never gated), then read the cloud pods' logs."
                    % (self.window, backend, limits["cloud_5xx_diff_points"], limits["cloud_5xx_for"], rollback))))
            # On-prem without traffic keeps HAProxy's average of its last 1024 requests: the reference.
            onprem_rt = ('(sum(cloudshift:response_time_seconds:avg{%s,side="onprem"}) >= 0)' % sel)
            if onprem_servers:
                onprem_rt += " or on () avg(%s > 0)" % self.haproxy(
                    "haproxy_server_response_time_average_seconds", 'proxy="%s"' % backend,
                    'server=~"%s"' % _alternation(onprem_servers))
            rules.append(self.alert(
                "CloudshiftCloudSlowerThanOnprem",
                "(sum(cloudshift:response_time_seconds:avg{%s,side=\"cloud\"}) - (%s)) * 1000 > %s and %s"
                % (sel, onprem_rt, limits["response_time_diff_ms"], traffic),
                limits["response_time_for"], "warning", labels,
                self.annotations(
                    "cloudshiftcloudslowerthanonprem",
                    "%s: the cloud answers {{ $value | printf \"%%.0f\" }} ms slower than on-prem" % where,
                    "The cloud's average response time on backend %s is {{ $value | printf \"%%.1f\" }} ms above "
                    "on-prem's (threshold %s ms, for %s); health checks do not see this (the field report's slow "
                    "webservice calls). Runbook: hold the step (do not raise it), look at what the cloud app calls; "
                    "go back on-prem with `%s` if users feel it."
                    % (backend, limits["response_time_diff_ms"], limits["response_time_for"], rollback))))
            cloud_match = ('proxy="%s"' % backend, 'server=~"%s"' % _alternation(cloud_servers))
            rules.append(self.alert(
                "CloudshiftCloudServerDown",
                "count by (server) (%s == 1)" % self.haproxy("haproxy_server_status", *(cloud_match + ('state="DOWN"',))),
                limits["server_down_for"], "warning", labels,
                self.annotations(
                    "cloudshiftcloudserverdown",
                    "%s: cloud server {{ $labels.server }} is DOWN" % where,
                    "HAProxy has marked cloud server {{ $labels.server }} of backend %s DOWN on {{ $value }} node(s) for "
                    "more than %s: it gets no traffic there. Runbook: check the ELB's targets (cloudshift.migration.elb_health_info) and "
                    "the pods; the on-prem servers carry its share meanwhile." % (backend, limits["server_down_for"]))))
            rules.append(self.alert(
                "CloudshiftCloudChecksFailing",
                "max by (server) (increase(%s[%s])) >= %s"
                % (self.haproxy("haproxy_server_check_failures_total", *cloud_match), self.window, limits["check_failures"]),
                limits["check_failures_for"], "warning", labels,
                self.annotations(
                    "cloudshiftcloudchecksfailing",
                    "%s: cloud server {{ $labels.server }} failed {{ $value | printf \"%%.0f\" }} health checks" % where,
                    "Cloud server {{ $labels.server }} of backend %s failed {{ $value | printf \"%%.0f\" }} health checks "
                    "in %s (threshold %s): it flaps between UP and DOWN. Runbook: look at the pods' restarts and "
                    "readiness, and at the nodes (CloudshiftNodeNotReady)." % (backend, self.window, limits["check_failures"]))))
        rules.append(self.alert(
            "CloudshiftBackendWithoutServer",
            "max(%s) == 1" % self.haproxy("haproxy_backend_status", 'proxy="%s"' % backend, 'state="DOWN"'),
            limits["backend_down_for"], "page", labels,
            self.annotations(
                "cloudshiftbackendwithoutserver",
                "%s: backend %s has no usable server, users get 503" % (where, backend),
                "Every server of backend %s, on-prem and cloud, has been DOWN for more than %s. Runbook: bring on-prem back first "
                "(its servers, then `%s`); the cloud's share can wait." % (backend, limits["backend_down_for"], rollback))))
        rules.append(self.alert(
            "CloudshiftRetriesRising",
            "sum(cloudshift:retries:increase{%s}) > %s" % (sel, limits["retries"]),
            limits["retries_for"], "warning", labels,
            self.annotations(
                "cloudshiftretriesrising",
                "%s: {{ $value | printf \"%%.0f\" }} retries and redispatches in %s" % (where, self.window),
                "HAProxy retried or redispatched {{ $value | printf \"%%.0f\" }} requests of backend %s in %s "
                "(threshold %s): a side fails requests that users do not see yet. Runbook: find the side in the "
                "dashboard (retries per side); if it is the cloud, `%s`."
                % (backend, self.window, limits["retries"], rollback))))
        return rules

    def pod_churn(self, app, limits):
        deployment = app["alerts"]["deployment"]
        namespace = deployment.get("namespace", "default")
        pods = self.kube("kube_pod_created", 'namespace="%s"' % namespace,
                         'pod=~"%s-[a-z0-9]+-[a-z0-9]+"' % _regex_literal(deployment["name"]))
        return self.alert(
            "CloudshiftPodChurn",
            "count(count_over_time(%s[%s])) / count(%s) > %s"
            % (pods, limits["pod_churn_window"], pods, limits["pod_churn_max_ratio"]),
            limits["pod_churn_for"], "warning",
            {"app": app["name"], "namespace": namespace, "deployment": deployment["name"]},
            self.annotations(
                "cloudshiftpodchurn",
                "%s: deployment %s/%s re-creates its pods again and again" % (app["name"], namespace, deployment["name"]),
                "Deployment %s/%s had {{ $value | printf \"%%.1f\" }} times as many pods in the last %s as it runs now "
                "(threshold %s; one rollout makes 2): pods are killed and re-created (the field report's 5-minute "
                "churn). Runbook: compare the Auto Scaling group's min/max with the cluster-autoscaler's "
                "(cloudshift.migration.capacity_check, run by migrate.yml before each step) and fix the one that "
                "drifted; do not raise the step meanwhile."
                % (namespace, deployment["name"], limits["pod_churn_window"], limits["pod_churn_max_ratio"])))

    def cluster_alerts(self, asg, node_labels):
        limits = self.cluster_thresholds
        label_matchers = ['%s="%s"' % (sanitize_label_key(key), value) for key, value in sorted(node_labels.items())]
        ready = self.kube("kube_node_status_condition", 'condition="Ready"', 'status="true"')
        not_ready = self.kube("kube_node_status_condition", 'condition="Ready"', 'status!="true"')
        in_group = ""
        if label_matchers:
            in_group = " and on (node) %s" % self.kube("kube_node_labels", *label_matchers)
        ready_count = "(sum((max by (node) (%s) == 1)%s) or on () vector(0))" % (ready, in_group)
        asg_min = "max(%s)" % self.kube(self.settings["asg_min_series"], 'node_group="%s"' % asg)
        asg_max = "max(%s)" % self.kube(self.settings["asg_max_series"], 'node_group="%s"' % asg)
        labels = {"cluster": asg}
        group_text = "of Auto Scaling group %s" % asg
        return [
            self.alert(
                "CloudshiftNodeNotReady",
                "(max by (node, status) (%s) == 1)%s" % (not_ready, in_group),
                limits["node_not_ready_for"], "warning", labels,
                self.annotations(
                    "cloudshiftnodenotready",
                    "node {{ $labels.node }} %s is not Ready (Ready={{ $labels.status }})" % group_text,
                    "Node {{ $labels.node }} %s has been Ready={{ $labels.status }} for more than %s; its pods run "
                    "elsewhere, on fewer nodes (the field report: two of three nodes Unknown for days). Runbook: "
                    "`kubectl describe node {{ $labels.node }}`; replace the node rather than nurse it (there, the "
                    "kubelet could not find its configuration after the kops state store moved)."
                    % (group_text, limits["node_not_ready_for"]))),
            self.alert(
                "CloudshiftReadyNodesBelowAsgMin",
                "%s < on () %s" % (ready_count, asg_min),
                limits["ready_nodes_for"], "page", labels,
                self.annotations(
                    "cloudshiftreadynodesbelowasgmin",
                    "%s: {{ $value }} Ready node(s), below the group's minimum" % asg,
                    "Only {{ $value }} node(s) %s are Ready, fewer than its minimum of {{ with query \"%s\" }}"
                    "{{ . | first | value }}{{ end }} (from %s), for %s. Runbook: look at the group's activity "
                    "(instances failing to start or to join) and at CloudshiftNodeNotReady; hold every step."
                    % (group_text, asg_min.replace('"', '\\"'), self.settings["asg_min_series"], limits["ready_nodes_for"]))),
            self.alert(
                "CloudshiftReadyNodesNearAsgMax",
                "%s > on () %s * %s" % (ready_count, limits["ready_nodes_max_ratio"], asg_max),
                limits["ready_nodes_for"], "warning", labels,
                self.annotations(
                    "cloudshiftreadynodesnearasgmax",
                    "%s: {{ $value }} Ready node(s), above %s%% of the group's maximum" % (
                        asg, int(round(limits["ready_nodes_max_ratio"] * 100))),
                    "{{ $value }} node(s) %s are Ready, above %s%% of its maximum of {{ with query \"%s\" }}"
                    "{{ . | first | value }}{{ end }} (from %s): the autoscaler is about to run out of room. Runbook: "
                    "raise the group's maximum and the cluster-autoscaler's together (keep them equal) before the "
                    "next step." % (group_text, int(round(limits["ready_nodes_max_ratio"] * 100)), asg_max.replace('"', '\\"'),
                                    self.settings["asg_max_series"]))),
        ] + self.bounds_drift(asg, labels, group_text)

    def bounds_drift(self, asg, labels, group_text):
        """The field report's drift: the group's min/max changed (kops applied it to the ASG) and the
        cluster-autoscaler kept its own, so it drained a node the group refused to remove, every 5 minutes."""
        if not self.settings["asg_group_min_series"]:
            return []
        rules = []
        for bound in ("min", "max"):
            group_selector = '%s="%s"' % (self.settings["asg_group_label"], asg)
            group_value = "max(%s)" % self.kube(self.settings["asg_group_%s_series" % bound], group_selector)
            autoscaler_value = "max(%s)" % self.kube(self.settings["autoscaler_%s_series" % bound], 'node_group="%s"' % asg)
            word = "minimum" if bound == "min" else "maximum"
            rules.append(self.alert(
                "CloudshiftAutoscalerBoundsDrift",
                "(%s - on () %s) != 0" % (group_value, autoscaler_value),
                self.cluster_thresholds["bounds_drift_for"], "warning", dict(labels, bound=bound),
                self.annotations(
                    "cloudshiftautoscalerboundsdrift",
                    "%s: the Auto Scaling group's %s and the cluster-autoscaler's differ" % (asg, word),
                    "The %s %s is {{ with query \"%s\" }}{{ . | first | value }}{{ end }} (%s) but the "
                    "cluster-autoscaler's is {{ with query \"%s\" }}{{ . | first | value }}{{ end }} (%s), for %s. "
                    "The field report's pods lived 5 minutes: the autoscaler drained a node to go below the group's "
                    "minimum, the group refused, and the pods came back to the empty node. Runbook: set the "
                    "cluster-autoscaler's --nodes=MIN:MAX:%s to the group's values (or the group's to the "
                    "autoscaler's) so both match; hold every step until they do."
                    % (word, group_text, group_value.replace('"', '\\"'), self.settings["asg_group_%s_series" % bound],
                       autoscaler_value.replace('"', '\\"'), self.settings["autoscaler_%s_series" % bound],
                       self.cluster_thresholds["bounds_drift_for"], asg))))
        return rules


def _app_limits(thresholds, app):
    entry = dict(app.get("alerts") or {})
    for key in APP_KEYS:
        entry.pop(key, None)
    return dict(THRESHOLD_DEFAULTS, **dict(thresholds, **entry))


def rule_groups(apps, thresholds=None, cluster_thresholds=None, settings=None):
    """The Prometheus rule file's content ({"groups": [...]}) for the app model; AlertModelError on a bad input."""
    thresholds = thresholds or {}
    cluster_thresholds = cluster_thresholds or {}
    settings = dict(SETTINGS_DEFAULTS, **(settings or {}))
    _checked(apps, thresholds, cluster_thresholds, settings)
    builder = _Builder(thresholds, cluster_thresholds, settings)
    groups = []
    clusters = {}
    for app in apps:
        entry = app.get("alerts") or {}
        if entry.get("enabled", True) is False:
            continue
        limits = _app_limits(thresholds, app)
        recording, alerting = [], []
        for backend, route in _backends(app):
            recording += builder.recording(app, backend, route)
            alerting += builder.backend_alerts(app, backend, route, limits)
        if entry.get("deployment"):
            alerting.append(builder.pod_churn(app, limits))
        groups.append({"name": "cloudshift-%s-recording" % app["name"], "rules": recording})
        groups.append({"name": "cloudshift-%s" % app["name"], "rules": alerting})
        cluster = (app.get("cloud") or {}).get("cluster") or {}
        if cluster.get("asg_name"):
            clusters.setdefault(cluster["asg_name"], dict(cluster.get("node_labels") or {}))
    for asg in sorted(clusters):
        groups.append({"name": "cloudshift-cluster-%s" % asg, "rules": builder.cluster_alerts(asg, clusters[asg])})
    return {"groups": groups}


def alertmanager_snippet(settings=None):
    """The route (to put under route.routes) and the inhibit rules of cloudshift.migration's alerts."""
    settings = dict(SETTINGS_DEFAULTS, **(settings or {}))
    problems = _settings_problems(settings)
    if problems:
        raise AlertModelError("; ".join(problems))
    component = 'component="%s"' % COMPONENT
    route = {
        "receiver": settings["receiver"],
        "matchers": [component],
        "group_by": ["alertname", "app", "backend", "cluster"],
        "group_wait": "30s",
        "group_interval": "5m",
        "repeat_interval": "4h",
        "routes": [{"receiver": settings["page_receiver"] or settings["receiver"], "matchers": ['severity="page"'],
                    "repeat_interval": "1h"}],
    }
    inhibit_rules = [
        # No usable server at all says more than each server being down or retried.
        {"source_matchers": [component, 'alertname="CloudshiftBackendWithoutServer"'],
         "target_matchers": [component, 'alertname=~"CloudshiftCloudServerDown|CloudshiftCloudChecksFailing|CloudshiftRetriesRising"'],
         "equal": ["backend"]},
    ]
    return {"route": route, "inhibit_rules": inhibit_rules}
