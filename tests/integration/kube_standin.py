"""A stand-in for the Kubernetes API server (no kube-apiserver can be installed on this machine).

It answers the real API paths the collection reads (/api/v1/nodes, /api/v1/namespaces/N/configmaps/NAME,
/apis/apps/v1/namespaces/N/deployments/NAME, /api/v1/namespaces/N/pods, /apis/autoscaling/v2/namespaces/N/
horizontalpodautoscalers) with bodies shaped as the API sends them (apiVersion, kind, metadata, spec, status; a
Status object with its code for 401 and 404), over TLS with a certificate of the tests' CA, and refuses a request
without the kubeconfig's bearer token. The objects are plain dicts the tests change between requests.
"""

import json
import ssl
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml

ASG = "nodes.cloudshift.local"


def stamp(moment):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))


def node(name, ready="True", since=None, group="nodes"):
    since = time.time() - 86400 if since is None else since
    return {"metadata": {"name": name, "uid": "uid-" + name, "creationTimestamp": stamp(since - 3600),
                         "labels": {"kops.k8s.io/instancegroup": group, "kubernetes.io/hostname": name}},
            "spec": {"providerID": "aws:///eu-west-3a/i-0%s" % name[-6:].replace(".", "")},
            "status": {"conditions": [
                {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory",
                 "lastTransitionTime": stamp(since)},
                {"type": "Ready", "status": ready,
                 "reason": {"True": "KubeletReady", "False": "KubeletNotReady"}.get(ready, "NodeStatusUnknown"),
                 "message": "Kubelet stopped posting node status." if ready == "Unknown" else "kubelet is posting ready status",
                 "lastHeartbeatTime": stamp(since), "lastTransitionTime": stamp(since)}]}}


def status_configmap(groups, text_format=False, now=None):
    """The cluster-autoscaler's status ConfigMap; groups: [(name, min, max, ready)]."""
    now = time.time() if now is None else now
    if text_format:  # cluster-autoscaler before 1.30
        lines = ["Cluster-autoscaler status at %s:" % time.strftime("%Y-%m-%d %H:%M:%S.000000000 +0000 UTC", time.gmtime(now)),
                 "Cluster-wide:", "  Health:      Healthy (ready=3 unready=0 notStarted=0 longNotStarted=0 registered=3)",
                 "", "NodeGroups:"]
        for name, low, high, ready in groups:
            lines += ["  Name:        %s" % name,
                      "  Health:      Healthy (ready=%d unready=0 (resourceUnready=0) notStarted=0 longNotStarted=0 "
                      "registered=%d longUnregistered=0 cloudProviderTarget=%d (minSize=%d, maxSize=%d))"
                      % (ready, ready, ready, low, high),
                      "               LastProbeTime:      %s" % stamp(now), ""]
        text = "\n".join(lines)
    else:
        text = yaml.safe_dump({
            "time": time.strftime("%Y-%m-%d %H:%M:%S.000000000 +0000 UTC", time.gmtime(now)),
            "autoscalerStatus": "Running",
            "clusterWide": {"health": {"status": "Healthy", "nodeCounts": {"registered": {"total": 3, "ready": 3}}}},
            "nodeGroups": [{"name": name, "health": {"status": "Healthy",
                                                     "nodeCounts": {"registered": {"total": ready, "ready": ready}},
                                                     "cloudProviderTarget": ready, "minSize": low, "maxSize": high}}
                           for name, low, high, ready in groups]}, sort_keys=False)
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "cluster-autoscaler-status", "namespace": "kube-system",
                         "annotations": {"cluster-autoscaler.kubernetes.io/last-updated": stamp(now)}},
            "data": {"status": text}}


def autoscaler_deployment(nodes_flag):
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "cluster-autoscaler", "namespace": "kube-system", "labels": {"app": "cluster-autoscaler"}},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "cluster-autoscaler"}},
                     "template": {"metadata": {"labels": {"app": "cluster-autoscaler"}}, "spec": {"containers": [
                         {"name": "cluster-autoscaler", "image": "registry.k8s.io/autoscaling/cluster-autoscaler:v1.28.2",
                          "command": ["./cluster-autoscaler", "--cloud-provider=aws", nodes_flag]}]}}},
            "status": {"replicas": 1, "readyReplicas": 1}}


def app_deployment(name, replicas=3, ready=3, namespace="default"):
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace, "labels": labels, "generation": 4},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [
                         {"name": name, "image": "registry.example/%s:2.1.0" % name,
                          "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}}}]}}},
            "status": {"observedGeneration": 4, "replicas": replicas, "updatedReplicas": replicas,
                       "readyReplicas": ready, "availableReplicas": ready}}


def pod(deployment_name, suffix, created, restarts=0, restarted_at=None, ready=True, namespace="default"):
    state = {}
    if restarted_at is not None:
        state = {"terminated": {"exitCode": 137, "reason": "OOMKilled", "startedAt": stamp(restarted_at - 600),
                                "finishedAt": stamp(restarted_at)}}
    return {"metadata": {"name": "%s-7c9d8f6b5-%s" % (deployment_name, suffix), "namespace": namespace,
                         "labels": {"app": deployment_name, "pod-template-hash": "7c9d8f6b5"},
                         "creationTimestamp": stamp(created),
                         "ownerReferences": [{"kind": "ReplicaSet", "name": "%s-7c9d8f6b5" % deployment_name}]},
            "status": {"phase": "Running", "containerStatuses": [
                {"name": deployment_name, "ready": ready, "restartCount": restarts, "lastState": state,
                 "state": {"running": {"startedAt": stamp(restarted_at or created)}}}]}}


def hpa(deployment_name, current, maximum, cpu_current, cpu_target=70, minimum=2, namespace="default"):
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": deployment_name, "namespace": namespace},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment_name},
                     "minReplicas": minimum, "maxReplicas": maximum,
                     "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                         "type": "Utilization", "averageUtilization": cpu_target}}}]},
            "status": {"currentReplicas": current, "desiredReplicas": current,
                       "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {
                           "averageUtilization": cpu_current, "averageValue": "%dm" % (250 * cpu_current // 100)}}}]}}


def healthy_cluster(now=None):
    """The local environment's cluster: three Ready nodes of nodes.cloudshift.local (3:10), a master, the
    cluster-autoscaler agreeing with the ASG, application-01's Deployment of 3 pods a day old and its HPA."""
    now = time.time() if now is None else now
    nodes = [node("ip-10-42-1-%d.eu-west-3.compute.internal" % (10 + index)) for index in range(3)]
    nodes.append(node("ip-10-42-0-5.eu-west-3.compute.internal", group="master-eu-west-3a"))
    return {
        "nodes": nodes,
        "configmaps": {("kube-system", "cluster-autoscaler-status"): status_configmap([(ASG, 3, 10, 3)], now=now)},
        "deployments": {("kube-system", "cluster-autoscaler"): autoscaler_deployment("--nodes=3:10:%s" % ASG),
                        ("default", "application-01"): app_deployment("application-01")},
        "pods": {"default": [pod("application-01", suffix, now - 86400) for suffix in ("x2x4q", "m8kzt", "p4d7w")]
                 + [pod("application-02", "aaaaa", now - 60)]},
        "hpas": {"default": [hpa("application-01", 3, 10, 35)]},
    }


def _status(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}


class KubeApiStandIn:
    """The stand-in on 127.0.0.1:port over TLS; `cluster` holds the objects (healthy_cluster's shape)."""

    def __init__(self, port, cert_file, key_file, token, cluster=None):
        self.port, self.token = port, token
        self.cluster = cluster or healthy_cluster()
        self.requests = []
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                parsed = urllib.parse.urlsplit(self.path)
                standin.requests.append(parsed.path)
                if self.headers.get("Authorization") != "Bearer " + standin.token:
                    return self._send(401, _status(401, "Unauthorized", "Unauthorized"))
                code, body = standin.answer(parsed.path, urllib.parse.parse_qs(parsed.query))
                self._send(code, body)

            def _send(self, code, body):
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        return "https://127.0.0.1:%d" % self.port

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def answer(self, path, query):
        parts = path.strip("/").split("/")
        cluster = self.cluster
        if parts == ["api", "v1", "nodes"]:
            return 200, {"kind": "NodeList", "apiVersion": "v1", "metadata": {"resourceVersion": "4711"},
                         "items": cluster["nodes"]}
        if len(parts) == 6 and parts[:3] == ["api", "v1", "namespaces"] and parts[4] == "configmaps":
            found = cluster["configmaps"].get((parts[3], parts[5]))
            return (200, found) if found else (404, _status(404, "NotFound", 'configmaps "%s" not found' % parts[5]))
        if len(parts) == 7 and parts[:4] == ["apis", "apps", "v1", "namespaces"] and parts[5] == "deployments":
            found = cluster["deployments"].get((parts[4], parts[6]))
            return (200, found) if found else (404, _status(404, "NotFound", 'deployments.apps "%s" not found' % parts[6]))
        if len(parts) == 5 and parts[:3] == ["api", "v1", "namespaces"] and parts[4] == "pods":
            wanted = dict(item.split("=", 1) for item in (query.get("labelSelector") or [""])[0].split(",") if item)
            items = [item for item in cluster["pods"].get(parts[3], [])
                     if all(item["metadata"]["labels"].get(key) == value for key, value in wanted.items())]
            return 200, {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": items}
        if len(parts) == 6 and parts[:4] == ["apis", "autoscaling", "v2", "namespaces"] \
                and parts[5] == "horizontalpodautoscalers":
            return 200, {"kind": "HorizontalPodAutoscalerList", "apiVersion": "autoscaling/v2", "metadata": {},
                         "items": cluster["hpas"].get(parts[4], [])}
        return 404, _status(404, "NotFound", "the server could not find the requested resource")


def write_kubeconfig(path, server, ca_file, token, context="cloudshift-local"):
    config = {"apiVersion": "v1", "kind": "Config", "current-context": context,
              "clusters": [{"name": "local", "cluster": {"server": server, "certificate-authority": ca_file}}],
              "users": [{"name": "cloudshift", "user": {"token": token}}],
              "contexts": [{"name": context, "context": {"cluster": "local", "user": "cloudshift"}}]}
    with open(path, "w") as handle:
        yaml.safe_dump(config, handle)
    return path
