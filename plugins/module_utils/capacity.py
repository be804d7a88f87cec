# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The field report's capacity lessons as checks that fail with their numbers.

- The cluster-autoscaler's --nodes=min:max:name must match its Auto Scaling group's min and max: the
  report's ASG min 4 against the autoscaler's 3 killed the app's pods every 5 minutes.
- Ready nodes at least the ASG minimum, at most 90% of its maximum (room to scale).
- No node out of Ready for longer than a grace time: two of three nodes sat in Unknown for days.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import re

from ansible_collections.cloudshift.migration.plugins.module_utils import k8s
from ansible_collections.cloudshift.migration.plugins.module_utils.aws import AWS_ARGUMENT_SPEC, AwsError, \
    aws_client, aws_problems, call
from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError

try:
    import yaml
    HAS_YAML = True
except ImportError:  # manifests can still be JSON
    HAS_YAML = False

NODES_FLAG = re.compile(r"^--nodes=(\d+):(\d+):(.+)$")
ASG_NAME_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")

ARGUMENT_SPEC = dict(
    asg_name=dict(type="str"),
    asg_min=dict(type="int"),
    asg_max=dict(type="int"),
    asg_desired=dict(type="int"),
    autoscaler_nodes=dict(type="str"),
    autoscaler_manifest=dict(type="path"),
    nodes_file=dict(type="path"),
    ready_nodes=dict(type="int"),
    not_ready_nodes=dict(type="list", elements="str"),
    node_labels=dict(type="dict", default={}),
    max_ready_ratio=dict(type="float", default=0.9),
    not_ready_grace=dict(type="int", default=300),
    kubernetes=dict(type="dict", options=k8s.KUBERNETES_SPEC),
    max_restarts_last_hour=dict(type="int", default=3),
    fail_on_problems=dict(type="bool", default=True),
    **AWS_ARGUMENT_SPEC
)


class CapacityError(CloudshiftError):
    pass


def input_problems(params):
    problems = []
    given_asg = [key for key in ("asg_min", "asg_max") if params.get(key) is not None]
    if params.get("asg_name") is None and len(given_asg) != 2:
        problems.append("give the Auto Scaling group as asg_name (read through the autoscaling API) "
                        "or as both asg_min and asg_max")
    if params.get("asg_name") is not None:
        if not ASG_NAME_PATTERN.match(params["asg_name"]):
            problems.append("invalid asg_name %r: 1-255 printable characters, no space" % params["asg_name"])
        if given_asg or params.get("asg_desired") is not None:
            problems.append("asg_name reads min, max and desired from AWS: do not give asg_min/asg_max/asg_desired too")
        problems.extend(aws_problems(params))
    for key in ("asg_min", "asg_max", "asg_desired", "ready_nodes"):
        if params.get(key) is not None and not 0 <= params[key] <= 100000:
            problems.append("invalid %s %r: 0 to 100000" % (key, params[key]))
    if len(given_asg) == 2 and params["asg_min"] > params["asg_max"]:
        problems.append("asg_min %d is above asg_max %d" % (params["asg_min"], params["asg_max"]))
    if params.get("autoscaler_nodes") and params.get("autoscaler_manifest"):
        problems.append("give the cluster-autoscaler's node group as autoscaler_nodes or autoscaler_manifest, not both")
    if params.get("autoscaler_nodes"):
        try:
            parse_nodes_flag(params["autoscaler_nodes"])
        except CapacityError as exc:
            problems.append(str(exc))
    if params.get("nodes_file") and (params.get("ready_nodes") is not None or params.get("not_ready_nodes")):
        problems.append("give the nodes as nodes_file (kubectl get nodes -o json) or as ready_nodes/not_ready_nodes, not both")
    if params.get("node_labels") and not params.get("nodes_file") and not params.get("kubernetes"):
        problems.append("node_labels selects nodes of nodes_file or of the Kubernetes API: give nodes_file or kubernetes")
    if params.get("kubernetes"):
        problems.extend(k8s.kubernetes_problems(params["kubernetes"]))
    if not 0 <= params.get("max_restarts_last_hour", 3) <= 100000:
        problems.append("invalid max_restarts_last_hour %r: 0 to 100000" % params.get("max_restarts_last_hour"))
    if not 0 < params.get("max_ready_ratio", 0.9) <= 1:
        problems.append("invalid max_ready_ratio %r: above 0, at most 1" % params.get("max_ready_ratio"))
    if not 0 <= params.get("not_ready_grace", 300) <= 30 * 86400:
        problems.append("invalid not_ready_grace %r: 0 to 2592000 seconds" % params.get("not_ready_grace"))
    return problems


# -- parsing (pure) ---------------------------------------------------------------------------

def parse_nodes_flag(text):
    """'--nodes=3:10:nodes.k8s' or '3:10:nodes.k8s' -> {min, max, name}."""
    value = text.strip()
    if not value.startswith("--nodes="):
        value = "--nodes=" + value
    match = NODES_FLAG.match(value)
    if not match:
        raise CapacityError("invalid cluster-autoscaler node group %r: expected --nodes=MIN:MAX:NAME" % text)
    low, high, name = int(match.group(1)), int(match.group(2)), match.group(3)
    if low > high:
        raise CapacityError("cluster-autoscaler node group %r has min %d above max %d" % (text, low, high))
    return {"min": low, "max": high, "name": name}


def autoscaler_groups(documents):
    """Every --nodes flag in the containers of the manifests' pod templates (Deployment, Pod...)."""
    groups = []
    for document in documents:
        for container in _containers(document):
            for arg in list(container.get("command") or []) + list(container.get("args") or []):
                if isinstance(arg, str) and arg.startswith("--nodes="):
                    groups.append(parse_nodes_flag(arg))
    return groups


def _containers(document):
    if not isinstance(document, dict):
        return []
    if document.get("kind") == "List":
        return [container for item in document.get("items", []) for container in _containers(item)]
    spec = document.get("spec") or {}
    pod_spec = (spec.get("template") or {}).get("spec") or spec
    return [container for container in pod_spec.get("containers", []) if isinstance(container, dict)]


def load_manifest(path):
    try:
        with open(path) as handle:
            text = handle.read()
    except (IOError, OSError) as exc:
        raise CapacityError("cannot read the cluster-autoscaler manifest %s: %s" % (path, exc))
    try:
        return [json.loads(text)]
    except ValueError:
        pass
    if not HAS_YAML:
        raise CapacityError("%s is not JSON and PyYAML is missing to read it as YAML" % path)
    try:
        return [document for document in yaml.safe_load_all(text) if document]
    except yaml.YAMLError as exc:
        raise CapacityError("the cluster-autoscaler manifest %s is neither JSON nor YAML: %s" % (path, exc))


def pick_group(groups, asg_name, source):
    if not groups:
        raise CapacityError("no --nodes=MIN:MAX:NAME flag in %s" % source)
    if asg_name:
        named = [group for group in groups if group["name"] == asg_name]
        if named:
            return named[0]
        if len(groups) > 1:
            raise CapacityError("no --nodes flag of %s names Auto Scaling group %s (it names %s)"
                                % (source, asg_name, ", ".join(group["name"] for group in groups)))
    elif len(groups) > 1:
        raise CapacityError("%s has %d node groups (%s): give asg_name to pick one"
                            % (source, len(groups), ", ".join(group["name"] for group in groups)))
    return groups[0]


def node_readiness(nodes_json, labels=None, now=None):
    """[{name, ready, status, reason, since, seconds}] of the nodes carrying every one of labels."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if not isinstance(nodes_json, dict) or not isinstance(nodes_json.get("items"), list):
        raise CapacityError("the nodes are not a NodeList (kubectl get nodes -o json, the API's /api/v1/nodes): "
                            "no items list")
    nodes = []
    for item in nodes_json["items"]:
        metadata = item.get("metadata") or {}
        node_labels = metadata.get("labels") or {}
        if any(node_labels.get(key) != str(value) for key, value in (labels or {}).items()):
            continue
        conditions = (item.get("status") or {}).get("conditions") or []
        ready = [condition for condition in conditions if condition.get("type") == "Ready"]
        condition = ready[0] if ready else {}
        since = k8s.parse_time(condition.get("lastTransitionTime"))
        nodes.append({"name": metadata.get("name", "?"), "ready": condition.get("status") == "True",
                      "status": {"True": "Ready", "False": "NotReady"}.get(condition.get("status"), "Unknown"),
                      "reason": condition.get("reason"), "since": condition.get("lastTransitionTime"),
                      "seconds": int((now - since).total_seconds()) if since else None})
    return nodes


# -- the checks (pure) ----------------------------------------------------------------------

def check(name, ok, measured, expected, message):
    return {"check": name, "status": "pass" if ok else "fail", "measured": measured, "expected": expected,
            "message": message}


def checks_table(checks):
    """The checks as lines an operator reads (the cluster's, and a Lambda side's in the same shape)."""
    return (["%-17s %-5s %s" % ("check", "", "figures")]
            + ["%-17s %-5s %s" % (item["check"], item["status"].upper(), item["message"]) for item in checks])


def deployment_checks(deployment, max_restarts_last_hour=3):
    """The app's Deployment (k8s.deployment_health): Ready replicas, restarts and churn in the last hour, HPA room."""
    label = "Deployment %s/%s" % (deployment["namespace"], deployment["name"])
    ready, wanted = deployment["ready_replicas"], deployment["replicas"]
    checks = [check("deployment_ready", wanted > 0 and ready >= wanted, ready, wanted,
                    "%s: %d of %d replicas Ready" % (label, ready, wanted)),
              check("pod_restarts", deployment["restarts_last_hour"] <= max_restarts_last_hour,
                    deployment["restarts_last_hour"], max_restarts_last_hour,
                    "%s: %d container(s) restarted in the last hour (%d restarts in all), at most %d"
                    % (label, deployment["restarts_last_hour"], deployment["restarts_total"], max_restarts_last_hour))]
    churn_limit = 2 * max(wanted, 1)  # one rollout creates as many pods as the Deployment runs
    checks.append(check("pod_churn", deployment["pods_created_last_hour"] <= churn_limit,
                        deployment["pods_created_last_hour"], churn_limit,
                        "%s: %d pod(s) created in the last hour for %d replicas, at most %d%s"
                        % (label, deployment["pods_created_last_hour"], wanted, churn_limit,
                           "" if deployment["pods_created_last_hour"] <= churn_limit else
                           ": pods are killed and re-created (compare the ASG's and the autoscaler's min/max)")))
    hpa = deployment.get("hpa")
    if hpa and hpa.get("max") is not None and hpa.get("current") is not None:
        cpu = ""
        if hpa.get("cpu_current_pct") is not None:
            cpu = ", CPU %s%% of requests (target %s%%)" % (hpa["cpu_current_pct"], hpa.get("cpu_target_pct"))
        room = hpa["current"] < hpa["max"]
        checks.append(check("hpa_room", room, hpa["current"], hpa["max"],
                            "HPA %s: %d of at most %d replicas%s%s" % (
                                hpa["name"], hpa["current"], hpa["max"], cpu,
                                "" if room else ": at its maximum, no room to take more traffic")))
    return checks


def evaluate(asg, autoscaler, nodes, max_ready_ratio=0.9, not_ready_grace=300, deployment=None,
             max_restarts_last_hour=3):
    """The checks, each with its measured value and what it is held against."""
    checks = []
    asg_label = "ASG %s" % asg["name"] if asg["name"] else "ASG"
    if autoscaler is not None:
        checks.append(check(
            "autoscaler_min", autoscaler["min"] == asg["min"], autoscaler["min"], asg["min"],
            "cluster-autoscaler min %d %s %s min %d%s" % (
                autoscaler["min"], "=" if autoscaler["min"] == asg["min"] else "!=", asg_label, asg["min"],
                "" if autoscaler["min"] == asg["min"] else
                ": the autoscaler drains nodes the ASG refuses to remove, pods are re-created again and again")))
        checks.append(check(
            "autoscaler_max", autoscaler["max"] == asg["max"], autoscaler["max"], asg["max"],
            "cluster-autoscaler max %d %s %s max %d" % (
                autoscaler["max"], "=" if autoscaler["max"] == asg["max"] else "!=", asg_label, asg["max"])))
        if asg["name"]:
            checks.append(check("autoscaler_group", autoscaler["name"] == asg["name"], autoscaler["name"], asg["name"],
                                "cluster-autoscaler node group %s %s ASG %s" % (
                                    autoscaler["name"], "is" if autoscaler["name"] == asg["name"] else "is not",
                                    asg["name"])))
    if nodes is not None:
        ready = [node for node in nodes if node["ready"]]
        ceiling = asg["max"] * max_ready_ratio
        checks.append(check("ready_min", len(ready) >= asg["min"], len(ready), asg["min"],
                            "%d Ready nodes %s ASG min %d" % (
                                len(ready), ">=" if len(ready) >= asg["min"] else "<", asg["min"])))
        checks.append(check("ready_max", len(ready) <= ceiling, len(ready), round(ceiling, 1),
                            "%d Ready nodes %s %d%% of ASG max %d (%.1f)%s" % (
                                len(ready), "<=" if len(ready) <= ceiling else ">", round(max_ready_ratio * 100),
                                asg["max"], ceiling, "" if len(ready) <= ceiling else ": no room left to scale out")))
        stuck = [node for node in nodes if not node["ready"]
                 and (node["seconds"] is None or node["seconds"] >= not_ready_grace)]
        recent = [node for node in nodes if not node["ready"] and node not in stuck]
        checks.append(check("not_ready", not stuck, len(stuck), 0,
                            "nodes not Ready for %d s or more: %s" % (not_ready_grace, ", ".join(
                                "%s %s%s" % (node["name"], node["status"],
                                             " for %s s" % node["seconds"] if node["seconds"] is not None else "")
                                for node in stuck) or "none")
                            + ("; not Ready for less: %s" % ", ".join(node["name"] for node in recent) if recent else "")))
    if deployment is not None:
        checks.extend(deployment_checks(deployment, max_restarts_last_hour))
    if asg.get("desired") is not None:
        inside = asg["min"] <= asg["desired"] <= asg["max"]
        checks.append(check("asg_desired", inside, asg["desired"], "%d-%d" % (asg["min"], asg["max"]),
                            "ASG desired %d %s min %d and max %d" % (asg["desired"], "within" if inside else "outside",
                                                                     asg["min"], asg["max"])))
    return checks


# -- the module's run -------------------------------------------------------------------------

def read_asg(params):
    autoscaling = aws_client(params, "autoscaling")
    found = call("describe Auto Scaling group %s" % params["asg_name"], autoscaling.describe_auto_scaling_groups,
                 AutoScalingGroupNames=[params["asg_name"]]).get("AutoScalingGroups", [])
    if not found:
        raise CapacityError("no Auto Scaling group named %s in %s" % (params["asg_name"], params.get("region")))
    group = found[0]
    return {"name": group["AutoScalingGroupName"], "min": group["MinSize"], "max": group["MaxSize"],
            "desired": group.get("DesiredCapacity"),
            "instances": len(group.get("Instances", []))}


def read_nodes(params):
    if params.get("nodes_file"):
        try:
            with open(params["nodes_file"]) as handle:
                data = json.load(handle)
        except (IOError, OSError) as exc:
            raise CapacityError("cannot read nodes_file %s: %s" % (params["nodes_file"], exc))
        except ValueError as exc:
            raise CapacityError("nodes_file %s is not JSON (kubectl get nodes -o json): %s" % (params["nodes_file"], exc))
        return node_readiness(data, params.get("node_labels"))
    if params.get("ready_nodes") is None and not params.get("not_ready_nodes"):
        return None
    nodes = [{"name": "ready-%d" % index, "ready": True, "status": "Ready", "reason": None, "since": None,
              "seconds": None} for index in range(params.get("ready_nodes") or 0)]
    nodes += [{"name": name, "ready": False, "status": "NotReady", "reason": None, "since": None, "seconds": None}
              for name in params.get("not_ready_nodes") or []]
    return nodes


def read_kubernetes(params, asg, autoscaler, nodes):
    """What the API gives that the explicit options did not: the nodes, the autoscaler's node group, the app's
    Deployment (nodes_file/ready_nodes and autoscaler_nodes/autoscaler_manifest win over the API)."""
    options = params["kubernetes"]
    try:
        cluster = k8s.read_cluster(options, want_nodes=nodes is None, want_autoscaler=autoscaler is None)
        if cluster["nodes"] is not None:
            nodes = node_readiness(cluster["nodes"], params.get("node_labels"))
        if cluster["autoscaler"] is not None:
            found = cluster["autoscaler"]
            source = "%s at %s" % (found["source"], cluster["api"])
            groups = found["groups"] if "groups" in found else autoscaler_groups([found["document"]])
            autoscaler = dict(pick_group(groups, asg["name"], source), source=source)
        deployment = None
        if cluster["deployment"] is not None:
            read = cluster["deployment"]
            deployment = k8s.deployment_health(read["deployment"], read["pods"], read["hpa"])
    except k8s.KubernetesError as exc:
        raise CapacityError(str(exc))
    return autoscaler, nodes, deployment


def run(params):
    problems = input_problems(params)
    if problems:
        raise CapacityError("; ".join(problems))
    try:
        asg = read_asg(params) if params.get("asg_name") else {
            "name": None, "min": params["asg_min"], "max": params["asg_max"], "desired": params.get("asg_desired")}
    except AwsError as exc:
        raise CapacityError(str(exc))
    autoscaler = None
    if params.get("autoscaler_nodes"):
        autoscaler = parse_nodes_flag(params["autoscaler_nodes"])
    elif params.get("autoscaler_manifest"):
        autoscaler = pick_group(autoscaler_groups(load_manifest(params["autoscaler_manifest"])), asg["name"],
                                params["autoscaler_manifest"])
    nodes = read_nodes(params)
    deployment = None
    if params.get("kubernetes"):
        autoscaler, nodes, deployment = read_kubernetes(params, asg, autoscaler, nodes)
    checks = evaluate(asg, autoscaler, nodes, params["max_ready_ratio"], params["not_ready_grace"], deployment,
                      params.get("max_restarts_last_hour", 3))
    failed = [item for item in checks if item["status"] == "fail"]
    result = {"asg": asg, "autoscaler": autoscaler, "nodes": nodes, "deployment": deployment, "checks": checks,
              "passed": not failed, "problems": [item["message"] for item in failed],
              "table": checks_table(checks)}
    if failed and params.get("fail_on_problems"):
        result["msg"] = "capacity check failed: " + "; ".join(result["problems"])
    return result
