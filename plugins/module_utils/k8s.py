# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster read from the Kubernetes API (the `kubernetes` Python client, a kubeconfig or in-cluster auth):
its nodes, the cluster-autoscaler's node groups (its status ConfigMap, else its Deployment's --nodes flags), and an
app's Deployment with its pods and HorizontalPodAutoscaler. read_cluster() is the only I/O; everything it returns
is parsed by the pure functions below from the API's own objects (plain dicts, as the API sends them)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import os
import re

from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError

try:
    from kubernetes import client as kube_client
    from kubernetes import config as kube_config
    from kubernetes.client.exceptions import ApiException
    from kubernetes.config.config_exception import ConfigException
    HAS_KUBERNETES = True
except ImportError:  # reported by kubernetes_problems when the options ask for the API
    HAS_KUBERNETES = False

try:
    import yaml
    HAS_YAML = True
except ImportError:
    HAS_YAML = False

KUBERNETES_SPEC = dict(
    kubeconfig=dict(type="path"),
    context=dict(type="str"),
    in_cluster=dict(type="bool", default=False),
    request_timeout=dict(type="int", default=10),
    autoscaler_namespace=dict(type="str", default="kube-system"),
    autoscaler_deployment=dict(type="str", default="cluster-autoscaler"),
    autoscaler_status_configmap=dict(type="str", default="cluster-autoscaler-status"),
    deployment=dict(type="dict", options=dict(namespace=dict(type="str", default="default"),
                                              name=dict(type="str", required=True))),
)
NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
NAMESPACE_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
HOUR = datetime.timedelta(hours=1)
# The legacy text status: "Name: <group>" then its "Health: ... (minSize=3, maxSize=10))".
_TEXT_GROUP_RE = re.compile(r"^\s*Name:\s*(\S+)\s*\n\s*Health:[^\n]*?minSize=(\d+),\s*maxSize=(\d+)", re.MULTILINE)


class KubernetesError(CloudshiftError):
    pass


def kubernetes_problems(options):
    """Problems of the capacity check's `kubernetes` options (already typed by the argument spec)."""
    problems = []
    if bool(options.get("kubeconfig")) == bool(options.get("in_cluster")):
        problems.append("kubernetes needs kubeconfig (a path) or in_cluster: true, one of the two (got kubeconfig %r, "
                        "in_cluster %r)" % (options.get("kubeconfig"), options.get("in_cluster")))
    if options.get("kubeconfig") and not os.path.isfile(options["kubeconfig"]):
        problems.append("kubernetes.kubeconfig %s is not a file" % options["kubeconfig"])
    if options.get("context") and not options.get("kubeconfig"):
        problems.append("kubernetes.context %r selects a context of kubeconfig: give kubeconfig too" % options["context"])
    if not 1 <= (options.get("request_timeout") or 0) <= 300:
        problems.append("kubernetes.request_timeout %r is not 1 to 300 seconds" % options.get("request_timeout"))
    for key in ("autoscaler_deployment", "autoscaler_status_configmap"):
        value = options.get(key)
        if not isinstance(value, str) or not NAME_RE.match(value):
            problems.append("kubernetes.%s %r is not a Kubernetes name" % (key, value))
    namespaces = [("autoscaler_namespace", options.get("autoscaler_namespace"))]
    deployment = options.get("deployment")
    if deployment:
        namespaces.append(("deployment.namespace", deployment.get("namespace")))
        if not isinstance(deployment.get("name"), str) or not NAME_RE.match(deployment["name"]):
            problems.append("kubernetes.deployment.name %r is not a Kubernetes name" % (deployment.get("name"),))
    for key, value in namespaces:
        if not isinstance(value, str) or not NAMESPACE_RE.match(value):
            problems.append("kubernetes.%s %r is not a Kubernetes namespace" % (key, value))
    if not problems and not HAS_KUBERNETES:
        problems.append("kubernetes needs the kubernetes Python package on the node that runs the check "
                        "(pip install kubernetes)")
    return problems


# -- parsing (pure) ---------------------------------------------------------------------------

def parse_time(text):
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.datetime.strptime(text.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None


def autoscaler_status_groups(configmap):
    """[{name, min, max}] of the cluster-autoscaler's status ConfigMap: its `status` is YAML (nodeGroups[].health
    .minSize/maxSize, cluster-autoscaler 1.30 and later) or the older text (Name:/Health: ... minSize=, maxSize=)."""
    text = ((configmap or {}).get("data") or {}).get("status")
    if not isinstance(text, str) or not text.strip():
        raise KubernetesError("the cluster-autoscaler status ConfigMap has no data.status")
    document = None
    if HAS_YAML:
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError:
            document = None
    if isinstance(document, dict) and isinstance(document.get("nodeGroups"), list):
        groups = []
        for group in document["nodeGroups"]:
            health = (group or {}).get("health") or {}
            if not isinstance(group.get("name"), str) or not all(
                    isinstance(health.get(key), int) and not isinstance(health.get(key), bool)
                    for key in ("minSize", "maxSize")):
                raise KubernetesError("node group %r of the cluster-autoscaler status has no name, minSize and "
                                      "maxSize" % (group.get("name"),))
            groups.append({"name": group["name"], "min": health["minSize"], "max": health["maxSize"]})
        return groups
    return [{"name": name, "min": int(low), "max": int(high)} for name, low, high in _TEXT_GROUP_RE.findall(text)]


def _pod_of_deployment(pod, deployment_name, selector):
    labels = (pod.get("metadata") or {}).get("labels") or {}
    return all(labels.get(key) == value for key, value in selector.items()) and (
        (pod.get("metadata") or {}).get("name", "").startswith(deployment_name + "-"))


def deployment_health(deployment, pods, hpa, now=None):
    """The app's Deployment as the step needs it: replicas wanted and Ready, its pods' container restarts in the
    last hour and the pods created in it (the field report's 5-minute churn), and its HPA's current/max replicas
    with the CPU utilisation against its target (both in % of the pods' requests)."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    metadata = deployment.get("metadata") or {}
    spec = deployment.get("spec") or {}
    status = deployment.get("status") or {}
    selector = (spec.get("selector") or {}).get("matchLabels") or {}
    own_pods = [pod for pod in (pods or {}).get("items") or [] if _pod_of_deployment(pod, metadata.get("name", ""), selector)]
    restarts_last_hour = restarts_total = created_last_hour = 0
    for pod in own_pods:
        created = parse_time((pod.get("metadata") or {}).get("creationTimestamp"))
        if created and now - created <= HOUR:
            created_last_hour += 1
        for container in ((pod.get("status") or {}).get("containerStatuses") or []):
            restarts_total += int(container.get("restartCount") or 0)
            finished = parse_time((((container.get("lastState") or {}).get("terminated")) or {}).get("finishedAt"))
            # The API keeps the last termination only: a container counts once if it restarted within the hour.
            if finished and now - finished <= HOUR and container.get("restartCount"):
                restarts_last_hour += 1
    result = {"namespace": metadata.get("namespace", "default"), "name": metadata.get("name"),
              "replicas": spec.get("replicas", 1), "ready_replicas": status.get("readyReplicas") or 0,
              "pods": len(own_pods), "restarts_last_hour": restarts_last_hour, "restarts_total": restarts_total,
              "pods_created_last_hour": created_last_hour, "hpa": None}
    if hpa:
        hpa_spec, hpa_status = hpa.get("spec") or {}, hpa.get("status") or {}
        cpu_target = cpu_current = None
        for metric in hpa_spec.get("metrics") or []:
            resource = metric.get("resource") or {}
            if metric.get("type") == "Resource" and resource.get("name") == "cpu":
                cpu_target = (resource.get("target") or {}).get("averageUtilization")
        for metric in hpa_status.get("currentMetrics") or []:
            resource = metric.get("resource") or {}
            if metric.get("type") == "Resource" and resource.get("name") == "cpu":
                cpu_current = (resource.get("current") or {}).get("averageUtilization")
        result["hpa"] = {"name": (hpa.get("metadata") or {}).get("name"), "min": hpa_spec.get("minReplicas", 1),
                         "max": hpa_spec.get("maxReplicas"), "current": hpa_status.get("currentReplicas"),
                         "desired": hpa_status.get("desiredReplicas"), "cpu_target_pct": cpu_target,
                         "cpu_current_pct": cpu_current}
    return result


def hpa_of(hpas, deployment_name):
    """The HorizontalPodAutoscaler whose scaleTargetRef is the Deployment, or None."""
    for hpa in (hpas or {}).get("items") or []:
        target = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
        if target.get("kind") == "Deployment" and target.get("name") == deployment_name:
            return hpa
    return None


# -- the API (I/O) ----------------------------------------------------------------------------

def api_client(options):
    configuration = kube_client.Configuration()
    try:
        if options.get("in_cluster"):
            kube_config.load_incluster_config(client_configuration=configuration)
        else:
            kube_config.load_kube_config(config_file=options["kubeconfig"], context=options.get("context"),
                                         client_configuration=configuration, persist_config=False)
    except (ConfigException, IOError, OSError, ValueError, TypeError) as exc:
        where = "in-cluster" if options.get("in_cluster") else "kubeconfig %s" % options["kubeconfig"]
        raise KubernetesError("cannot load the Kubernetes %s: %s" % (where, exc))
    configuration.retries = 2
    return kube_client.ApiClient(configuration), configuration.host


def _get(what, function, timeout, *args, **kwargs):
    """The API object as the API sent it (a dict), None when it does not exist; KubernetesError otherwise."""
    try:
        response = function(*args, _preload_content=False, _request_timeout=timeout, **kwargs)
    except ApiException as exc:
        if exc.status == 404:
            return None
        reason = exc.reason
        try:
            reason = json.loads(exc.body).get("message") or reason
        except (TypeError, ValueError, AttributeError):
            pass
        raise KubernetesError("Kubernetes API: reading %s answered %s %s" % (what, exc.status, reason))
    except Exception as exc:  # urllib3's connection, TLS and timeout errors
        raise KubernetesError("Kubernetes API: reading %s failed: %s" % (what, exc))
    try:
        return json.loads(response.data)
    except ValueError as exc:
        raise KubernetesError("Kubernetes API: %s is not JSON: %s" % (what, exc))


def read_cluster(options, want_nodes=True, want_autoscaler=True):
    """{"api": host, "nodes": NodeList or None, "autoscaler": {source, groups} or None, "deployment": {deployment,
    pods, hpa} or None} read from the API as the options ask."""
    api, host = api_client(options)
    timeout = options.get("request_timeout") or 10
    core, apps = kube_client.CoreV1Api(api), kube_client.AppsV1Api(api)
    outcome = {"api": host, "nodes": None, "autoscaler": None, "deployment": None}
    if want_nodes:
        outcome["nodes"] = _get("the nodes", core.list_node, timeout)
        if outcome["nodes"] is None:
            raise KubernetesError("Kubernetes API at %s: no nodes list (404)" % host)
    if want_autoscaler:
        namespace = options.get("autoscaler_namespace") or "kube-system"
        configmap_name = options.get("autoscaler_status_configmap") or "cluster-autoscaler-status"
        configmap = _get("ConfigMap %s/%s" % (namespace, configmap_name), core.read_namespaced_config_map, timeout,
                         configmap_name, namespace)
        groups = autoscaler_status_groups(configmap) if configmap else []
        if groups:
            outcome["autoscaler"] = {"source": "ConfigMap %s/%s" % (namespace, configmap_name), "groups": groups}
        else:
            name = options.get("autoscaler_deployment") or "cluster-autoscaler"
            deployment = _get("Deployment %s/%s" % (namespace, name), apps.read_namespaced_deployment, timeout,
                              name, namespace)
            if deployment is None:
                raise KubernetesError("no cluster-autoscaler in %s: neither ConfigMap %s/%s nor Deployment %s/%s"
                                      % (host, namespace, configmap_name, namespace, name))
            outcome["autoscaler"] = {"source": "Deployment %s/%s" % (namespace, name), "document": deployment}
    wanted = options.get("deployment")
    if wanted:
        namespace, name = wanted.get("namespace") or "default", wanted["name"]
        deployment = _get("Deployment %s/%s" % (namespace, name), apps.read_namespaced_deployment, timeout, name,
                          namespace)
        if deployment is None:
            raise KubernetesError("the app's Deployment %s/%s is not in the cluster at %s" % (namespace, name, host))
        selector = ((deployment.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        pods = _get("the pods of %s/%s" % (namespace, name), core.list_namespaced_pod, timeout, namespace,
                    label_selector=",".join("%s=%s" % item for item in sorted(selector.items())))
        hpas = _get("the HorizontalPodAutoscalers of %s" % namespace,
                    kube_client.AutoscalingV2Api(api).list_namespaced_horizontal_pod_autoscaler, timeout, namespace)
        outcome["deployment"] = {"deployment": deployment, "pods": pods, "hpa": hpa_of(hpas, name)}
    return outcome
