# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWS side of the app model (docs/app-model.md, "The cloud side" and "DNS"): each app's `cloud`
(its ELB, the probe HAProxy's check mirrors, its cluster) and `dns` (the Route53 cutover), checked
by the preflight with the same rules as the modules that use them, so a bad value is refused at
site.yml time, naming the app."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import os

from ansible_collections.cloudshift.migration.plugins.module_utils import capacity, elb, k8s, lambda_side, route53
from ansible_collections.cloudshift.migration.plugins.module_utils.aws import aws_problems
from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError


CLOUD_KEYS = ("load_balancer", "load_balancer_type", "target_groups", "min_healthy_targets", "wait_timeout",
              "probe", "cluster", "lambda", "manifests", "rollout_timeout")
DEFAULT_ROLLOUT_TIMEOUT = 300
LAMBDA_KEYS = ("function", "qualifier", "endpoint", "expected_concurrency", "max_throttles", "max_error_rate",
               "window_seconds")
PROBE_KEYS = tuple(elb.PROBE_SPEC)
CLUSTER_KEYS = ("asg_name", "asg_min", "asg_max", "autoscaler_nodes", "autoscaler_manifest", "nodes_file",
                "ready_nodes", "node_labels", "max_ready_ratio", "not_ready_grace", "kubernetes",
                "max_restarts_last_hour")
DNS_KEYS = ("zone", "record", "private_zone", "type", "ipv6", "ttl", "evaluate_target_health", "soak_seconds",
            "wait_timeout", "target_dns_name", "target_hosted_zone_id")
AWS_KEYS = ("region", "profile", "endpoint_url", "access_key", "secret_key", "session_token", "retry_mode",
            "max_attempts")
MAX_SOAK_SECONDS = 30 * 86400


class CloudModelError(CloudshiftError):
    pass


def _unknown(data, allowed, label):
    return ["%s has unknown key%s %s (known: %s)" % (label, "s" if len(extra) > 1 else "", ", ".join(sorted(extra)),
                                                     ", ".join(allowed))
            for extra in [set(data) - set(allowed)] if extra]


def _typed(value, kind):
    return isinstance(value, kind) and not isinstance(value, bool)


def probe_params(app, cloud, ca_file=None):
    """The probe of elb_health_info for an app: its health path, Host and SNI, HAProxy's CA."""
    probe = dict((key, spec.get("default")) for key, spec in elb.PROBE_SPEC.items())
    probe.update({"path": (app.get("health_check") or {}).get("path") or "/", "host": app.get("host"),
                  "ca_file": ca_file})
    probe.update(dict((key, value) for key, value in (cloud.get("probe") or {}).items() if value is not None))
    return probe


def cloud_problems(apps, aws=None, ca_file=None):
    """Problems of every app's cloud and dns entries and of the AWS settings, each naming the app."""
    problems = []
    aws = aws or {}
    if not isinstance(aws, dict):
        return ["migration_aws must be a dict (region, endpoint_url, profile...), got %r" % (aws,)]
    problems += _unknown(aws, AWS_KEYS, "migration_aws")
    uses_aws = False
    for app in apps or []:
        if not isinstance(app, dict):
            continue
        name = app.get("name", "?")
        cloud, dns = app.get("cloud"), app.get("dns")
        if cloud is not None:
            uses_aws = True
            problems += ["app %s cloud: %s" % (name, problem) for problem in _cloud_problems(app, cloud, ca_file)]
        if dns is not None:
            uses_aws = True
            problems += ["app %s dns: %s" % (name, problem) for problem in _dns_problems(app, cloud, dns)]
    if uses_aws:
        aws_params = dict((key, aws.get(key)) for key in AWS_KEYS)
        aws_params["max_attempts"] = aws.get("max_attempts", 5)
        problems += ["migration_aws: %s" % problem for problem in aws_problems(aws_params)]
    return problems


def _cloud_problems(app, cloud, ca_file):
    if not isinstance(cloud, dict):
        return ["must be a dict, got %r" % (cloud,)]
    problems = _unknown(cloud, CLOUD_KEYS, "it")
    if cloud.get("lambda") is not None:
        problems += _lambda_problems(app, cloud, ca_file)
    if cloud.get("load_balancer") is not None or (cloud.get("probe") is not None and cloud.get("lambda") is None):
        if not isinstance(cloud.get("load_balancer"), str):
            problems.append("load_balancer (the ELB's name) is required with a probe")
        else:
            probe = cloud.get("probe") or {}
            if not isinstance(probe, dict):
                return problems + ["probe must be a dict, got %r" % (probe,)]
            problems += _unknown(probe, PROBE_KEYS, "probe")
            params = {"load_balancer": cloud["load_balancer"],
                      "load_balancer_type": cloud.get("load_balancer_type", "auto"),
                      "target_groups": cloud.get("target_groups") or [],
                      "min_healthy": cloud.get("min_healthy_targets", 1), "wait_timeout": cloud.get("wait_timeout", 0),
                      "wait_interval": 2.0, "probe": probe_params(app, cloud, ca_file), "region": "eu-west-1"}
            if params["load_balancer_type"] not in elb.LOAD_BALANCER_TYPES:
                problems.append("invalid load_balancer_type %r (one of: %s)" % (
                    params["load_balancer_type"], ", ".join(elb.LOAD_BALANCER_TYPES)))
            elif not isinstance(params["target_groups"], list):
                problems.append("target_groups must be a list of names, got %r" % (params["target_groups"],))
            elif not _typed(params["min_healthy"], int) or not _typed(params["wait_timeout"], int):
                problems.append("min_healthy_targets and wait_timeout are integers, got %r and %r" % (
                    params["min_healthy"], params["wait_timeout"]))
            else:
                problems += elb.input_problems(params)
    cluster = cloud.get("cluster")
    if cluster is not None:
        if not isinstance(cluster, dict):
            return problems + ["cluster must be a dict, got %r" % (cluster,)]
        problems += _unknown(cluster, CLUSTER_KEYS, "cluster")
        params = dict(cluster_params(app, cluster), region="eu-west-1", max_attempts=5)
        kubernetes = params.get("kubernetes")
        if kubernetes is not None and not isinstance(kubernetes, dict):
            return problems + ["cluster: kubernetes must be a dict (kubeconfig or in_cluster...), got %r" % (kubernetes,)]
        if kubernetes is not None:
            unknown = _unknown(kubernetes, tuple(k8s.KUBERNETES_SPEC), "kubernetes")
            if unknown:
                return problems + ["cluster: %s" % problem for problem in unknown]
            try:
                params["kubernetes"] = checked(k8s.KUBERNETES_SPEC, kubernetes, "cluster: kubernetes")
            except CloudModelError as exc:
                return problems + [str(exc)]
        problems += ["cluster: %s" % problem for problem in capacity.input_problems(params)]
    return problems + _manifest_problems(cloud)


def _manifest_problems(cloud):
    """The manifests deploy.yml applies with kubernetes.core.k8s: files, and a cluster to apply them to."""
    manifests, problems = cloud.get("manifests"), []
    if manifests is None:
        return problems
    if not isinstance(manifests, list) or not manifests:
        return ["manifests must be a list of manifest files (deploy.yml applies them in order), got %r" % (manifests,)]
    for path in manifests:
        if not isinstance(path, str) or not os.path.isabs(path) or not os.path.isfile(path):
            problems.append("manifests: %r is not an absolute path to a file" % (path,))
    kubernetes = (cloud.get("cluster") or {}).get("kubernetes") if isinstance(cloud.get("cluster"), dict) else None
    if not isinstance(kubernetes, dict) or not (kubernetes.get("kubeconfig") or kubernetes.get("in_cluster")):
        problems.append("manifests need cluster.kubernetes (kubeconfig or in_cluster): the cluster to apply them to")
    timeout = cloud.get("rollout_timeout", DEFAULT_ROLLOUT_TIMEOUT)
    if not _typed(timeout, int) or not 1 <= timeout <= 3600:
        problems.append("rollout_timeout %r is not a number of seconds from 1 to 3600" % (timeout,))
    return problems


def manifests_plan(app):
    """What deploy.yml applies before it looks for the endpoints (pure): None, or {manifests, kubeconfig, context,
    rollout_timeout}."""
    cloud = app.get("cloud") or {}
    if not cloud.get("manifests"):
        return None
    kubernetes = (cloud.get("cluster") or {}).get("kubernetes") or {}
    return {"manifests": list(cloud["manifests"]), "kubeconfig": kubernetes.get("kubeconfig"),
            "context": kubernetes.get("context"),
            "rollout_timeout": int(cloud.get("rollout_timeout", DEFAULT_ROLLOUT_TIMEOUT))}


def cluster_params(app, cluster):
    """capacity_check's cluster options from an app's cloud.cluster (as given: typed by the caller). The Deployment
    read from the Kubernetes API is the cluster's own, else the one the app's alerts watch."""
    params = dict((key, cluster.get(key)) for key in CLUSTER_KEYS)
    params.update({"node_labels": cluster.get("node_labels") or {},
                   "max_ready_ratio": cluster.get("max_ready_ratio", 0.9),
                   "not_ready_grace": cluster.get("not_ready_grace", 300),
                   "max_restarts_last_hour": cluster.get("max_restarts_last_hour", 3)})
    kubernetes = cluster.get("kubernetes")
    deployment = (app.get("alerts") or {}).get("deployment")
    if isinstance(kubernetes, dict) and "deployment" not in kubernetes and isinstance(deployment, dict):
        params["kubernetes"] = dict(kubernetes, deployment=deployment)
    return params


def _lambda_problems(app, cloud, ca_file):
    entry = cloud["lambda"]
    if not isinstance(entry, dict):
        return ["lambda must be a dict (function, qualifier...), got %r" % (entry,)]
    problems = _unknown(entry, LAMBDA_KEYS, "lambda")
    if cloud.get("cluster") is not None:
        problems.append("lambda and cluster: a Lambda side has no nodes to check; give one of the two")
    if not problems:
        try:
            params = lambda_params(app, {"region": "eu-west-1", "max_attempts": 5}, ca_file)
        except CloudModelError as exc:
            return [str(exc)]
        problems += ["lambda: %s" % problem for problem in lambda_side.input_problems(params)]
    return problems


def lambda_host(app):
    """The Host the app's Lambda side answers under: its cloud servers' own host (docs/app-model.md)."""
    hosts = [server.get("host") for server in app.get("servers") or []
             if server.get("side") == "cloud" and server.get("host")]
    return hosts[0] if hosts else None


def lambda_params(app, aws, ca_file=None):
    """lambda_side's options for an app's Lambda side: the function, its endpoint's Host, the probe of its health
    path, and the capacity thresholds."""
    cloud = app.get("cloud") or {}
    entry = dict(cloud.get("lambda") or {})
    params = dict(aws or {})
    params.update((key, value) for key, value in entry.items() if value is not None)
    host = lambda_host(app)
    probe = dict((key, value) for key, value in (cloud.get("probe") or {}).items() if value is not None)
    probe.setdefault("path", (app.get("health_check") or {}).get("path") or "/")
    if host:
        probe.setdefault("host", host)
    probe.setdefault("ca_file", ca_file)
    params.update({"host": host, "probe": probe})
    return checked(lambda_side.ARGUMENT_SPEC, params, "the Lambda side of %s" % app.get("name"))


def _dns_problems(app, cloud, dns):
    if not isinstance(dns, dict):
        return ["must be a dict, got %r" % (dns,)]
    problems = _unknown(dns, DNS_KEYS, "it")
    soak = dns.get("soak_seconds", 3600)
    if not _typed(soak, int) or not 0 <= soak <= MAX_SOAK_SECONDS:
        problems.append("invalid soak_seconds %r: 0 to %d seconds at step 100 before DNS may move" % (soak, MAX_SOAK_SECONDS))
    if not dns.get("zone"):
        problems.append("zone (the Route53 hosted zone, e.g. 6play.fr) is required")
        return problems
    has_lb = isinstance(cloud, dict) and cloud.get("load_balancer")
    if not has_lb and not dns.get("target_dns_name"):
        problems.append("the cutover needs a target: cloud.load_balancer, or dns.target_dns_name")
        return problems
    params = {"state": "cutover", "zone": dns["zone"], "record": dns.get("record") or app.get("host") or "",
              "type": dns.get("type", "alias"), "ipv6": dns.get("ipv6", False), "ttl": dns.get("ttl", 60),
              "load_balancer": None if dns.get("target_dns_name") else cloud["load_balancer"],
              "target_dns_name": dns.get("target_dns_name"), "target_hosted_zone_id": dns.get("target_hosted_zone_id"),
              "set_identifier": "cloud", "onprem_set_identifier": "onprem", "wait_timeout": dns.get("wait_timeout", 300),
              "region": "eu-west-1", "max_attempts": 5}
    if params["type"] not in ("alias", "cname"):
        problems.append("invalid type %r (alias or cname)" % (params["type"],))
        return problems
    return problems + route53.input_problems(params)


def cloud_probe(app, ca_file=None):
    """The probe elb_health_info makes for an app (its cloud.probe over the defaults)."""
    return probe_params(app, app.get("cloud") or {}, ca_file)


def dns_soak_problems(node_states, soak_seconds, label, now=None):
    """Why DNS may not move yet: a node whose recorded step is not 100, or has been 100 for less than
    the soak. node_states maps each node to what migration_state returned (step, updated_at)."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    problems = []
    for node in sorted(node_states):
        state = node_states[node] or {}
        step = state.get("step")
        if step != 100:
            problems.append("%s is at step %s on %s, not 100: DNS moves only once the cloud takes all the traffic"
                            % (label, "none recorded" if step is None else step, node))
            continue
        since = k8s.parse_time(state.get("updated_at"))
        if since is None:
            problems.append("%s on %s has no valid time for its step 100 (updated_at %r)"
                            % (label, node, state.get("updated_at")))
            continue
        held = (now - since).total_seconds()
        if held < soak_seconds:
            problems.append("%s has been at step 100 on %s for %.0f s of the %d s soak (dns.soak_seconds): "
                            "%.0f s to go" % (label, node, max(held, 0), soak_seconds, soak_seconds - held))
    return problems


def checked(spec, params, label):
    """params with the defaults of an argument spec filled in (the controller runs elb and capacity in-process)."""
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
    outcome = ArgumentSpecValidator(spec).validate(params)
    if outcome.error_messages:
        raise CloudModelError("%s: %s" % (label, "; ".join(outcome.error_messages)))
    return outcome.validated_parameters


def elb_params(app, aws, ca_file=None):
    """elb_health_info's options for an app's cloud side (its ELB, target groups and the probe)."""
    cloud = app.get("cloud") or {}
    params = dict(aws or {})
    params.update({"load_balancer": cloud["load_balancer"],
                   "load_balancer_type": cloud.get("load_balancer_type") or "auto",
                   "target_groups": cloud.get("target_groups") or [],
                   "min_healthy": cloud.get("min_healthy_targets", 1),
                   "wait": int(cloud.get("wait_timeout") or 0) > 0,
                   "wait_timeout": int(cloud.get("wait_timeout") or 0),
                   "probe": cloud_probe(app, ca_file)})
    return checked(elb.ARGUMENT_SPEC, params, "the ELB check of %s" % app.get("name"))


def capacity_params(app, aws):
    """capacity_check's options for an app's cluster (ASG, cluster-autoscaler, nodes)."""
    cluster = (app.get("cloud") or {}).get("cluster") or {}
    params = dict(aws or {})
    params.update((key, value) for key, value in cluster_params(app, cluster).items() if value is not None)
    params["fail_on_problems"] = False
    return checked(capacity.ARGUMENT_SPEC, params, "the capacity check of %s" % app.get("name"))


def needed_checks(app, check_elb, check_capacity):
    """The checks the app's cloud side has, among those asked, in the order they are judged: health before
    capacity (traffic may not go to an unhealthy side whatever its capacity)."""
    cloud = app.get("cloud") or {}
    return [name for name, asked, key in (("health", check_elb, "load_balancer"), ("lambda_health", check_elb, "lambda"),
                                          ("capacity", check_capacity, "cluster"),
                                          ("lambda_capacity", check_capacity, "lambda"))
            if asked and cloud.get(key)]


def cloud_checks(app, aws, ca_file, check_elb, check_capacity):
    """The cloud side's health and capacity (ELB and cluster, or Lambda), as asked and as the app model has them
    (I/O: AWS, a probe).

    Returns {"health", "lambda_health", "capacity", "lambda_capacity": each result or None, "errors": {check: why it
    could not be made}}; a check the app has no entry for is not made.
    """
    outcome = {"health": None, "lambda_health": None, "capacity": None, "lambda_capacity": None, "errors": {}}
    needed = needed_checks(app, check_elb, check_capacity)
    runs = {"health": (lambda: elb.run(elb_params(app, aws, ca_file)), elb.ElbError),
            "capacity": (lambda: capacity.run(capacity_params(app, aws)), capacity.CapacityError)}
    for name, (work, error) in runs.items():
        if name in needed:
            try:
                outcome[name] = work()
            except (error, CloudModelError) as exc:
                outcome["errors"][name] = str(exc)
    if "lambda_health" in needed or "lambda_capacity" in needed:
        try:
            params = dict(lambda_params(app, aws, ca_file), capacity="lambda_capacity" in needed)
            result = lambda_side.run(params)
            outcome["lambda_capacity"] = result.pop("capacity", None)
            if "lambda_health" in needed:
                outcome["lambda_health"] = result
        except (lambda_side.LambdaError, CloudModelError) as exc:
            for name in ("lambda_health", "lambda_capacity"):
                if name in needed:
                    outcome["errors"][name] = str(exc)
    return outcome


def cloud_verdict(app, checks, check_elb, check_capacity):
    """(refusal lines or None, tables) of the checks asked, from cloud_checks' outcome (pure). Health comes first:
    traffic may not go to an unhealthy cloud side whatever its capacity. Force never overrides these."""
    tables = []
    for name in needed_checks(app, check_elb, check_capacity):
        if name in checks["errors"]:
            raise CloudModelError(checks["errors"][name])
        result = checks[name]
        tables += [""] + result["table"]
        if name in ("health", "lambda_health") and not result["healthy"]:
            return ["the cloud side is not healthy: %s" % "; ".join(result["problems"])] + result["table"], tables
        if name in ("capacity", "lambda_capacity") and not result["passed"]:
            return ["the capacity check failed: %s" % "; ".join(result["problems"])] + result["table"], tables
    return None, tables
