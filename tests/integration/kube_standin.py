"""A stand-in for the Kubernetes API server (no kube-apiserver can be installed on this machine).

It answers the real API paths the collection reads (/api/v1/nodes, /api/v1/namespaces/N/configmaps/NAME,
/apis/apps/v1/namespaces/N/deployments/NAME, /api/v1/namespaces/N/pods, /apis/autoscaling/v2/namespaces/N/
horizontalpodautoscalers) with bodies shaped as the API sends them (apiVersion, kind, metadata, spec, status; a
Status object with its code for 401 and 404), over TLS with a certificate of the tests' CA, and refuses a request
without the kubeconfig's bearer token. The objects are plain dicts the tests change between requests.

For deploy.yml's kubernetes.core.k8s it also answers what that client needs: /version and the discovery documents
(/api, /apis, /api/v1, /apis/apps/v1: APIVersions, APIGroupList, APIResourceList), and writes: POST creates a
Deployment or a Service, PATCH (merge, strategic merge or JSON patch bodies, as kubectl and the client send them)
and PUT change one, each a new generation. A Deployment's rollout then takes `rollout_reads` reads of it before its
status says every replica is updated and available (the controller's work, simulated), or, with `rollout_stuck`, its
Progressing condition says ProgressDeadlineExceeded with no replica available.
"""

import copy
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


VERSION = {"major": "1", "minor": "30", "gitVersion": "v1.30.4", "gitCommit": "a51b3b711150f57ffc1f526a640ec058514ed",
           "gitTreeState": "clean", "buildDate": "2024-08-14T19:04:42Z", "goVersion": "go1.22.5",
           "compiler": "gc", "platform": "linux/amd64"}


def _resource(name, kind, namespaced=True, short=None):
    verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
    entry = {"name": name, "singularName": kind.lower(), "namespaced": namespaced, "kind": kind, "verbs": verbs}
    if short:
        entry["shortNames"] = short
    return entry


DISCOVERY = {
    "api": {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "10.0.0.1:443"}]},
    "apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
        {"name": "apps", "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
         "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"}},
        {"name": "autoscaling", "versions": [{"groupVersion": "autoscaling/v2", "version": "v2"}],
         "preferredVersion": {"groupVersion": "autoscaling/v2", "version": "v2"}}]},
    "api/v1": {"kind": "APIResourceList", "groupVersion": "v1", "resources": [
        _resource("configmaps", "ConfigMap", short=["cm"]), _resource("namespaces", "Namespace", False, ["ns"]),
        _resource("nodes", "Node", False, ["no"]), _resource("pods", "Pod", short=["po"]),
        _resource("services", "Service", short=["svc"])]},
    "apis/apps/v1": {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "apps/v1", "resources": [
        _resource("deployments", "Deployment", short=["deploy"]), _resource("replicasets", "ReplicaSet", short=["rs"])]},
    "apis/autoscaling/v2": {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "autoscaling/v2",
                            "resources": [_resource("horizontalpodautoscalers", "HorizontalPodAutoscaler",
                                                    short=["hpa"])]},
}
# path prefix of a namespaced collection -> (the cluster's store, apiVersion, kind)
WRITABLE = {("apis", "apps", "v1", "deployments"): ("deployments", "apps/v1", "Deployment"),
            ("api", "v1", "services"): ("services", "v1", "Service")}


def merge_patch(target, patch):
    """RFC 7386 (a strategic merge patch of the fields deploy.yml's manifests use behaves the same)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    merged = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def json_patch(target, operations):
    """RFC 6902, the add/replace/remove operations."""
    document = copy.deepcopy(target)
    for operation in operations:
        keys = [key.replace("~1", "/").replace("~0", "~") for key in operation["path"].lstrip("/").split("/")]
        parent = document
        for key in keys[:-1]:
            parent = parent[int(key)] if isinstance(parent, list) else parent.setdefault(key, {})
        last = keys[-1]
        if operation["op"] == "remove":
            del parent[int(last) if isinstance(parent, list) else last]
        elif isinstance(parent, list):
            parent.insert(len(parent) if last == "-" else int(last), operation["value"]) if operation["op"] == "add" \
                else parent.__setitem__(int(last), operation["value"])
        else:
            parent[last] = operation["value"]
    return document


def _status(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}


class KubeApiStandIn:
    """The stand-in on 127.0.0.1:port over TLS; `cluster` holds the objects (healthy_cluster's shape)."""

    def __init__(self, port, cert_file, key_file, token, cluster=None):
        self.port, self.token = port, token
        self.cluster = cluster or healthy_cluster()
        self.cluster.setdefault("services", {})
        self.requests = []
        self.writes = []
        self.dry_runs = []
        self.rollout_reads = 2
        self.rollout_stuck = False
        self.lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                parsed = urllib.parse.urlsplit(self.path)
                standin.requests.append(parsed.path)
                if self.headers.get("Authorization") != "Bearer " + standin.token:
                    return self._send(401, _status(401, "Unauthorized", "Unauthorized"))
                with standin.lock:
                    code, body = standin.answer(parsed.path, urllib.parse.parse_qs(parsed.query))
                self._send(code, body)

            def _write(self):
                parsed = urllib.parse.urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                standin.requests.append(parsed.path)
                if self.headers.get("Authorization") != "Bearer " + standin.token:
                    return self._send(401, _status(401, "Unauthorized", "Unauthorized"))
                try:
                    body = json.loads(raw or b"null")
                except ValueError:
                    body = yaml.safe_load(raw)
                with standin.lock:
                    code, answer = standin.write(self.command, parsed.path, self.headers.get("Content-Type") or "",
                                                 body, dry_run="dryRun" in urllib.parse.parse_qs(parsed.query))
                self._send(code, answer)

            do_POST = do_PATCH = do_PUT = _write

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

    def _store_of(self, parts):
        """(store, apiVersion, kind, namespace, name or None) of a namespaced path of a writable kind, or None."""
        for prefix, (store, api_version, kind) in WRITABLE.items():
            head = list(prefix[:-1])
            if parts[:len(head) + 1] == head + ["namespaces"] and len(parts) in (len(head) + 3, len(head) + 4) \
                    and parts[len(head) + 2] == prefix[-1]:
                name = parts[len(head) + 3] if len(parts) == len(head) + 4 else None
                return store, api_version, kind, parts[len(head) + 1], name
        return None

    def write(self, method, path, content_type, body, dry_run=False):
        """A create or a change; with dry_run (?dryRun=All, what check mode sends) answered but not kept."""
        found = self._store_of(path.strip("/").split("/"))
        if found is None:
            return 404, _status(404, "NotFound", "the server could not find the requested resource")
        store, api_version, kind, namespace, name = found
        objects = self.cluster[store] if not dry_run else copy.deepcopy(self.cluster[store])
        (self.dry_runs if dry_run else self.writes).append((method, path, content_type))
        if method == "POST":
            name = body["metadata"]["name"]
            if (namespace, name) in objects:
                return 409, _status(409, "AlreadyExists", '%s "%s" already exists' % (store, name))
            created = dict(copy.deepcopy(body), apiVersion=api_version, kind=kind)
            created["metadata"] = dict(created["metadata"], namespace=namespace, uid="uid-%s-%s" % (store, name),
                                       generation=1, resourceVersion="1", creationTimestamp=stamp(time.time()))
            objects[(namespace, name)] = self._rolling(created)
            return 201, objects[(namespace, name)]
        current = objects.get((namespace, name))
        if current is None:
            return 404, _status(404, "NotFound", '%s "%s" not found' % (store, name))
        if method == "PUT":
            changed = copy.deepcopy(body)
        elif "json-patch" in content_type:
            changed = json_patch(current, body)
        else:
            changed = merge_patch(current, body)
        changed["metadata"] = dict(changed.get("metadata") or {}, uid=current["metadata"].get("uid") or "uid-%s" % name)
        spec_changed = changed.get("spec") != current.get("spec")
        changed["metadata"]["generation"] = current["metadata"].get("generation", 1) + (1 if spec_changed else 0)
        changed["metadata"]["resourceVersion"] = str(int(current["metadata"].get("resourceVersion") or 1) + 1)
        objects[(namespace, name)] = self._rolling(changed) if spec_changed else changed
        return 200, objects[(namespace, name)]

    def _rolling(self, deployment):
        """A Deployment whose new generation is being rolled out (nothing available yet)."""
        if deployment.get("kind") != "Deployment":
            return deployment
        deployment["status"] = {"observedGeneration": deployment["metadata"]["generation"], "replicas": 0,
                                "conditions": [{"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated"}]}
        deployment["_reads_left"] = self.rollout_reads
        return deployment

    def _read(self, deployment):
        """A Deployment as read now: its rollout moved on by one read (stuck: never available)."""
        if "_reads_left" not in deployment:
            return deployment
        replicas = deployment["spec"].get("replicas", 1)
        if self.rollout_stuck:
            deployment["status"] = {"observedGeneration": deployment["metadata"]["generation"], "replicas": replicas,
                                    "updatedReplicas": replicas, "unavailableReplicas": replicas,
                                    "conditions": [{"type": "Progressing", "status": "False",
                                                    "reason": "ProgressDeadlineExceeded"},
                                                   {"type": "Available", "status": "False",
                                                    "reason": "MinimumReplicasUnavailable"}]}
        elif deployment["_reads_left"] > 0:
            deployment["_reads_left"] -= 1
        else:
            deployment["status"] = {"observedGeneration": deployment["metadata"]["generation"], "replicas": replicas,
                                    "updatedReplicas": replicas, "readyReplicas": replicas,
                                    "availableReplicas": replicas,
                                    "conditions": [{"type": "Available", "status": "True",
                                                    "reason": "MinimumReplicasAvailable"},
                                                   {"type": "Progressing", "status": "True",
                                                    "reason": "NewReplicaSetAvailable"}]}
        return dict((key, value) for key, value in deployment.items() if key != "_reads_left")

    def answer(self, path, query):
        parts = path.strip("/").split("/")
        cluster = self.cluster
        if path.strip("/") == "version":
            return 200, VERSION
        if path.strip("/") in DISCOVERY:
            return 200, DISCOVERY[path.strip("/")]
        found = self._store_of(parts)
        if found is not None and found[4] is not None:
            item = cluster[found[0]].get((found[3], found[4]))
            if item is None:
                return 404, _status(404, "NotFound", '%s.%s "%s" not found' % (
                    found[0], "apps" if found[0] == "deployments" else "", found[4]) if found[0] == "deployments"
                    else '%s "%s" not found' % (found[0], found[4]))
            return 200, self._read(item)
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
