"""The Kubernetes side's parsing (pure), on objects shaped as the API sends them (kube_standin builds them): the
cluster-autoscaler's status in both of its formats, the app's Deployment with its pods and HPA, the checks."""

import datetime
import time

import pytest

import kube_standin
from ansible_collections.cloudshift.migration.plugins.module_utils import capacity, k8s

NOW = 1796644800.0  # 2026-12-07 12:00 UTC
NOW_DT = datetime.datetime.fromtimestamp(NOW, datetime.timezone.utc)


@pytest.mark.parametrize("text_format", [False, True], ids=["yaml-1.30+", "text-before-1.30"])
def test_the_autoscaler_status_gives_each_node_groups_min_and_max(text_format):
    configmap = kube_standin.status_configmap([("nodes.a", 3, 10, 3), ("spot.b", 0, 25, 2)], text_format, NOW)
    assert k8s.autoscaler_status_groups(configmap) == [{"name": "nodes.a", "min": 3, "max": 10},
                                                       {"name": "spot.b", "min": 0, "max": 25}]


def test_a_status_without_groups_or_sizes_is_refused_or_empty():
    with pytest.raises(k8s.KubernetesError, match="has no data.status"):
        k8s.autoscaler_status_groups({"data": {}})
    broken = kube_standin.status_configmap([("nodes.a", 3, 10, 3)], False, NOW)
    broken["data"]["status"] = broken["data"]["status"].replace("minSize: 3", "minSize: three")
    with pytest.raises(k8s.KubernetesError, match="node group 'nodes.a' .* no name, minSize and maxSize"):
        k8s.autoscaler_status_groups(broken)
    # Auto-discovery before its first loop: no node group yet; the caller falls back to the Deployment.
    assert k8s.autoscaler_status_groups({"data": {"status": "Cluster-autoscaler status at ...:\nNodeGroups:\n"}}) == []


def test_deployment_health_counts_ready_replicas_restarts_and_pods_of_the_last_hour_only_of_its_own_pods():
    deployment = kube_standin.app_deployment("application-01", replicas=3, ready=2)
    pods = {"items": [
        kube_standin.pod("application-01", "aaaaa", NOW - 86400, restarts=4, restarted_at=NOW - 600),
        kube_standin.pod("application-01", "bbbbb", NOW - 86400, restarts=1, restarted_at=NOW - 7200),
        kube_standin.pod("application-01", "ccccc", NOW - 300),
        kube_standin.pod("application-01x", "ddddd", NOW - 60),  # another Deployment's pod with a longer name
    ]}
    pods["items"][3]["metadata"]["labels"]["app"] = "application-01"
    hpas = {"items": [kube_standin.hpa("other", 1, 2, 10), kube_standin.hpa("application-01", 10, 10, 92)]}
    health = k8s.deployment_health(deployment, pods, k8s.hpa_of(hpas, "application-01"), NOW_DT)
    assert health == {"namespace": "default", "name": "application-01", "replicas": 3, "ready_replicas": 2, "pods": 3,
                      "restarts_last_hour": 1, "restarts_total": 5, "pods_created_last_hour": 1,
                      "hpa": {"name": "application-01", "min": 2, "max": 10, "current": 10, "desired": 10,
                              "cpu_target_pct": 70, "cpu_current_pct": 92}}
    checks = dict((item["check"], item) for item in capacity.deployment_checks(health, max_restarts_last_hour=0))
    assert checks["deployment_ready"]["status"] == "fail"
    assert checks["deployment_ready"]["message"] == "Deployment default/application-01: 2 of 3 replicas Ready"
    assert checks["pod_restarts"]["status"] == "fail" and checks["pod_churn"]["status"] == "pass"
    assert checks["hpa_room"]["message"] == ("HPA application-01: 10 of at most 10 replicas, CPU 92% of requests "
                                             "(target 70%): at its maximum, no room to take more traffic")


def test_pods_re_created_every_5_minutes_fail_the_churn_check():
    deployment = kube_standin.app_deployment("application-01", replicas=3, ready=3)
    pods = {"items": [kube_standin.pod("application-01", "p%04d" % index, NOW - 300 * index) for index in range(12)]}
    health = k8s.deployment_health(deployment, pods, None, NOW_DT)
    assert health["pods_created_last_hour"] == 12 and health["hpa"] is None
    churn = [item for item in capacity.deployment_checks(health) if item["check"] == "pod_churn"][0]
    assert churn["status"] == "fail" and "12 pod(s) created in the last hour for 3 replicas, at most 6" in churn["message"]


def test_node_readiness_reads_the_apis_node_list_with_unknown_since_when():
    nodes = {"kind": "NodeList", "items": [kube_standin.node("n1", since=NOW - 86400), kube_standin.node("n2", "Unknown", NOW - 7200),
                                           kube_standin.node("m1", group="master")]}
    read = capacity.node_readiness(nodes, {"kops.k8s.io/instancegroup": "nodes"}, NOW_DT)
    assert [(item["name"], item["status"], item["seconds"]) for item in read] == [
        ("n1", "Ready", 86400), ("n2", "Unknown", 7200)]
    assert read[1]["reason"] == "NodeStatusUnknown" and read[1]["since"] == time.strftime(
        "%Y-%m-%dT%H:%M:%SZ", time.gmtime(NOW - 7200))


@pytest.mark.parametrize("options, message", [
    ({}, "kubernetes needs kubeconfig (a path) or in_cluster: true, one of the two"),
    ({"kubeconfig": "/nonexistent/kubeconfig"}, "kubernetes.kubeconfig /nonexistent/kubeconfig is not a file"),
    ({"in_cluster": True, "context": "prod"}, "kubernetes.context 'prod' selects a context of kubeconfig"),
    ({"in_cluster": True, "request_timeout": 0}, "kubernetes.request_timeout 0 is not 1 to 300 seconds"),
    ({"in_cluster": True, "autoscaler_namespace": "Kube System"}, "kubernetes.autoscaler_namespace 'Kube System' is not"),
    ({"in_cluster": True, "deployment": {"namespace": "default", "name": "App_01"}},
     "kubernetes.deployment.name 'App_01' is not a Kubernetes name"),
])
def test_kubernetes_options_are_refused_naming_the_value(options, message):
    typed = dict(dict((key, spec.get("default")) for key, spec in k8s.KUBERNETES_SPEC.items()), **options)
    problems = k8s.kubernetes_problems(typed)
    assert any(message in problem for problem in problems), problems
