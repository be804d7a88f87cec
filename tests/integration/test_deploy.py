"""deploy.yml against a real moto server and two real HAProxy nodes: the cloud server's endpoint is found in AWS (the
ELB the Kubernetes service controller tagged for the Service, a function URL), resolved through HAProxy's resolvers,
probed, recorded in each node's state store and swapped in with a hitless reload, under traffic, with no failed
request; a node that fails puts every node back.

ELB names do not resolve on this machine: a DNS stand-in on loopback (dns_standin.py, real DNS over UDP) answers for
them, as a VPC resolver would, and HAProxy's `resolvers` section asks it (haproxy_resolvers.nameservers). The ELBs'
listeners point at local HTTPS upstreams whose certificates name the app (a CA of this test's own)."""

import json
import os
import time

import pytest
import yaml

import traffic
from aws_helpers import aws_client, create_function
from dns_standin import DnsStandin
from haproxy_process import runtime
from localenv_fixture import ROOT, VENV_BIN, FleetEnv, adhoc
from test_role_haproxy import Upstream, make_ca, make_server_cert

APP = "application-01"
HOST = "application-01.6play.fr"
CLOUD = "aws-prod-Kubernetes-application-01"
SERVICE = {"namespace": "default", "name": "application-01"}
CLUSTER = "k8s.6play.fr"
# HAProxy nodes 26080 and 26090, upstreams 26181-26544, moto 22566, the DNS stand-in 23353, the ELBs' upstreams
# 26601-26603, the Kubernetes stand-in 25443 and the function URL's on 127.0.0.44:443: they clash with no other test
# environment.
PORT_OFFSET = 18000
# A function URL is always on port 443: its upstream has a loopback address of its own (one per shifted environment).
FUNCTION_ADDRESS = "127.0.0.%d" % (44 + int(os.environ.get("CLOUDSHIFT_TEST_PORT_SHIFT", "0") or 0) // 100 % 200)


class DeployEnv(FleetEnv):
    """Two nodes of the local environment, with the app model and resolvers in an extra-vars file the tests change;
    the readers (runtime, state_dir, config_file) point at node-a unless told otherwise."""

    def __init__(self, run_dir, port_offset):
        super().__init__(run_dir, port_offset, nodes=2)
        self.on("node-a")
        with open(os.path.join(ROOT, "inventories", "local", "group_vars", "haproxy", "apps.yml")) as handle:
            self.apps = yaml.safe_load(handle)["cloudshift_apps"]
        self.vars_file = os.path.join(self.run_dir, "deploy-vars.yml")
        self.dns = DnsStandin(5353 + self.port_offset)
        self.resolvers = {"name": "m6dns", "nameservers": [self.dns.address], "parse_resolv_conf": False,
                          "hold_valid": "10s", "accepted_payload_size": 8192}
        ca_key, ca_cert = make_ca("cloudshift deploy CA")
        self.ca_key, self.ca_cert = ca_key, ca_cert
        # The cloud server's CA file: the local environment's CA (its inventory address) and this test's (the ELBs').
        self.ca_bundle = os.path.join(self.run_dir, "deploy-ca-bundle.crt")

    def app_model(self, name=APP):
        return next(item for item in self.apps if item["name"] == name)

    def cloud_server(self, name=APP):
        return next(item for item in self.app_model(name)["servers"] if item["side"] == "cloud")

    def write_model(self):
        with open(self.vars_file, "w") as handle:
            yaml.safe_dump({"cloudshift_apps": self.apps, "haproxy_resolvers": self.resolvers}, handle)

    def write_ca_bundle(self):
        from cryptography.hazmat.primitives import serialization
        with open(os.path.join(self.pki_dir, "ca.crt"), "rb") as handle:
            local_ca = handle.read()
        with open(self.ca_bundle, "wb") as handle:
            handle.write(local_ca + self.ca_cert.public_bytes(serialization.Encoding.PEM))

    def playbook(self, name, *extra, **options):
        return super().playbook(name, "-e", "@" + self.vars_file, *extra, **options)

    def changed_anywhere(self, run):
        return sum(run.changed(node) for node in self.nodes)

    def deploy(self, *extra, **options):
        return self.playbook("deploy.yml", "-e", "app=%s" % APP, *extra, **options)

    def aws(self, **extra):
        return dict(dict(region="eu-west-3", endpoint_url=self.moto_url, access_key="testing", secret_key="testing"),
                    **extra)

    def upstream(self, name, port, host=HOST, address="127.0.0.1"):
        cert = make_server_cert(self.ca_key, self.ca_cert, host, self.run_dir, name)
        return Upstream(name, port, cert=cert, address=address)

    def record(self, node="node-a", app=APP):
        path = os.path.join(self.node_dir(node), "state", "apps", app + ".json")
        if not os.path.exists(path):
            return None
        with open(path) as handle:
            return json.load(handle)

    def audit(self):
        with open(os.path.join(self.audit_dir, APP + ".jsonl")) as handle:
            return [json.loads(line) for line in handle if line.strip()]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    local = DeployEnv(tmp_path_factory.mktemp("deployenv"), PORT_OFFSET)
    try:
        local.democtl("start")
        local.write_ca_bundle()
        server = local.cloud_server()
        server["ca_file"] = local.ca_bundle
        server["discover"] = {"service": SERVICE, "cluster": CLUSTER}
        local.write_model()
        local.playbook("site.yml")
        for node in local.nodes:
            local.on(node).wait_status(APP, CLOUD, "UP")
        local.on("node-a")
        yield local
    finally:
        local.down()
        local.dns.close()


class Balancers:
    """Load balancers in moto as the service controller leaves them, each listening (HTTPS) on a local upstream's
    port, its DNS name known to the DNS stand-in."""

    def __init__(self, env):
        self.env = env
        self.elbv2 = aws_client(env, "elbv2")
        ec2 = aws_client(env, "ec2")
        self.subnets = [item["SubnetId"] for item in ec2.describe_subnets()["Subnets"]][:2]
        self.certificate = aws_client(env, "acm").request_certificate(DomainName=HOST)["CertificateArn"]
        self.created = []

    def create(self, name, port, service=None, cluster=CLUSTER, resolve=True):
        service = service or SERVICE
        tags = [{"Key": "kubernetes.io/service-name", "Value": "%s/%s" % (service["namespace"], service["name"])},
                {"Key": "kubernetes.io/cluster/" + cluster, "Value": "owned"}]
        balancer = self.elbv2.create_load_balancer(Name=name, Subnets=self.subnets, Type="application",
                                                   Tags=tags)["LoadBalancers"][0]
        group = self.elbv2.create_target_group(Name=name + "-tg", Protocol="HTTPS", Port=port,
                                               VpcId=balancer["VpcId"])["TargetGroups"][0]["TargetGroupArn"]
        self.elbv2.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Port=port, Protocol="HTTPS",
                                   Certificates=[{"CertificateArn": self.certificate}],
                                   DefaultActions=[{"Type": "forward", "TargetGroupArn": group}])
        self.created.append((balancer["LoadBalancerArn"], group))
        if resolve:
            self.env.dns.set(balancer["DNSName"], "127.0.0.1")
        return balancer

    def untag(self, balancer):
        """The Service moved to another load balancer: the old one is not the Service's any more."""
        self.elbv2.remove_tags(ResourceArns=[balancer["LoadBalancerArn"]], TagKeys=["kubernetes.io/service-name"])

    def delete_all(self):
        for arn, group in self.created:
            self.elbv2.delete_load_balancer(LoadBalancerArn=arn)
            self.elbv2.delete_target_group(TargetGroupArn=group)
        self.created = []


@pytest.fixture
def balancers(env):
    made = Balancers(env)
    try:
        yield made
    finally:
        made.delete_all()
        env.migrate(APP, 0, "-e", "force=true")


def running_endpoint(env, backend=APP, server=CLOUD, node="node-a"):
    for line in runtime(env.socket_of(node), "show servers state %s" % backend).splitlines():
        fields = line.split()
        if len(fields) > 18 and not line.startswith("#") and fields[3] == server:
            return {"address": fields[4], "fqdn": fields[17], "port": int(fields[18])}
    raise AssertionError("no server %s in backend %s" % (server, backend))


def test_deploy_finds_the_services_elb_checks_it_and_swaps_it_in_under_traffic_then_a_new_elb_again(env, balancers):
    first_port, second_port = 8601 + env.port_offset, 8602 + env.port_offset
    first, second = env.upstream("elb-a", first_port), env.upstream("elb-b", second_port)
    try:
        old = balancers.create("k8s-default-app01-aaaa", first_port)
        env.migrate(APP, 50, "-e", "force=true")

        # Check mode: the endpoint is found and probed, the diff shown, nothing changes.
        config_before = open(env.config_file).read()
        checked = env.deploy("--check", "--diff")
        assert "\n+%s: %s:%d [application k8s-default-app01-aaaa]\n" % (CLOUD, old["DNSName"], first_port) in checked.output, \
            checked
        assert "endpoints" not in env.record() and open(env.config_file).read() == config_before
        assert first.health_checks(), "the check-mode probe did not reach the ELB's upstream"

        with traffic.BackgroundTraffic(env.frontend, HOST, path="/req/deploy", workers=2) as running:
            swapped = env.deploy()
            time.sleep(1.5)
        assert running.result.failed == 0, running.result.as_dict()
        assert running.result.sent > 100
        assert "resolved by nameserver %s: 127.0.0.1" % env.dns.address in swapped.output, swapped
        for node in env.nodes:
            endpoint = env.record(node)["endpoints"][CLOUD]
            assert (endpoint["address"], endpoint["port"], endpoint["kind"], endpoint["name"]) == (
                old["DNSName"], first_port, "application", "k8s-default-app01-aaaa")
            assert endpoint["previous"] is None
            assert running_endpoint(env, node=node) == {"address": "127.0.0.1", "fqdn": old["DNSName"],
                                                        "port": first_port}
        assert "server %s %s:%d check ssl" % (CLOUD, old["DNSName"], first_port) in open(env.config_file).read()
        assert env.recorded_step(APP) == 50
        proxied_first = len(first.proxied())
        assert proxied_first > 20, "the new endpoint took no traffic after the swap"
        assert all(item["host"] == HOST for item in first.snapshot()[0])
        assert first.snapshot()[1] and set(first.snapshot()[1]) == {HOST} and first.snapshot()[2] == []

        # Again with nothing new in AWS: nothing changes, no reload.
        pid = env.worker_pid()
        again = env.deploy()
        assert env.changed_anywhere(again) == 0 and env.worker_pid() == pid, again

        # A new ELB replaces the old one (the Service was recreated): the same run swaps it in, no request fails
        # and none reaches the old endpoint once the new worker runs.
        new = balancers.create("k8s-default-app01-bbbb", second_port)
        balancers.untag(old)
        with traffic.BackgroundTraffic(env.frontend, HOST, path="/req/deploy", workers=2) as running:
            env.deploy()
            at_swap = len(first.proxied())
            time.sleep(1.5)
        assert running.result.failed == 0, running.result.as_dict()
        # At most one request per keep-alive client connection is still served by the old worker.
        assert len(first.proxied()) - at_swap <= 4, "the old ELB kept taking traffic after the reload"
        assert len(second.proxied()) > 20
        for node in env.nodes:
            endpoint = env.record(node)["endpoints"][CLOUD]
            assert (endpoint["address"], endpoint["port"]) == (new["DNSName"], second_port)
            assert (endpoint["previous"]["address"], endpoint["previous"]["port"]) == (old["DNSName"], first_port)
            assert running_endpoint(env, node=node) == {"address": "127.0.0.1", "fqdn": new["DNSName"],
                                                        "port": second_port}
        swaps = [item for item in env.audit() if item["action"] == "endpoint"]
        assert len(swaps) == 4 and all(new["DNSName"] in item["note"] and old["DNSName"] in item["note"]
                                       for item in swaps[2:])
        assert sorted(item["note"].split(":")[0] for item in swaps[2:]) == ["node-a", "node-b"]

        status = env.playbook("status.yml", "-e", "app=%s" % APP)
        text = " ".join(status.output.split())
        for node in env.nodes:
            assert ("%s: %s server %s at %s:%d [application k8s-default-app01-bbbb]" % (
                node, APP, CLOUD, new["DNSName"], second_port)) in text, status
        assert "every node is at its recorded state and they agree" in text, status
    finally:
        first.close()
        second.close()


def test_a_node_that_fails_its_read_back_puts_every_node_back_at_the_previous_endpoint(env, balancers):
    """One transaction over the fleet: node-b's running server is moved elsewhere over its runtime API just before
    the read back (a deterministic fault at that task); node-a had swapped fine, and both end at the old endpoint."""
    first_port, second_port = 8601 + env.port_offset, 8602 + env.port_offset
    first, second = env.upstream("elb-a", first_port), env.upstream("elb-b", second_port)
    try:
        old = balancers.create("k8s-default-app01-dddd", first_port)
        env.deploy()
        new = balancers.create("k8s-default-app01-eeee", second_port)
        balancers.untag(old)
        breaking = [os.path.join(VENV_BIN, "python"), "-c",
                    "import sys; sys.path.insert(0, %r); from haproxy_process import runtime; "
                    "print(runtime(%r, 'set server %s/%s addr 127.0.0.1 port 9'))" % (
                        os.path.dirname(os.path.abspath(__file__)), env.socket_of("node-b"), APP, CLOUD)]
        failed = env.deploy("-e", "migration_deploy_resolve_wait=2", check=False, hooks=[
            {"event": "task_start", "task": "Read the running HAProxy back at the new endpoints", "run": breaking}])
        assert failed.returncode != 0
        text = " ".join(failed.output.split())
        assert ("the new endpoints of %s failed on node-b at 'Read the running HAProxy back at the new endpoints "
                "(their names resolved by its resolvers)'" % APP) in text, failed
        assert "%s/%s runs at %s:9, not %s:%d" % (APP, CLOUD, new["DNSName"].lower(), new["DNSName"], second_port) in text
        assert "every node is back at its previous endpoints" in text
        for node in env.nodes:
            endpoint = env.record(node)["endpoints"][CLOUD]
            assert (endpoint["address"], endpoint["port"]) == (old["DNSName"], first_port), node
            assert running_endpoint(env, node=node)["port"] == first_port and \
                running_endpoint(env, node=node)["fqdn"] == old["DNSName"], node
    finally:
        first.close()
        second.close()


def test_an_endpoint_that_does_not_resolve_or_answer_is_refused_and_nothing_changes(env, balancers):
    port = 8603 + env.port_offset
    before = json.dumps([env.record(node) for node in env.nodes], sort_keys=True)
    config_before = open(env.config_file).read()
    unknown = balancers.create("k8s-default-app01-cccc", port, resolve=False)
    refused = env.deploy(check=False)
    assert refused.returncode != 0
    assert ("refused: %s keeps its endpoints, nothing was changed on any node: %s: %s does not resolve (%s: NXDOMAIN)"
            % (APP, CLOUD, unknown["DNSName"], env.dns.address)) in refused.output, refused
    env.dns.set(unknown["DNSName"], "127.0.0.1")  # resolves, but nothing listens there
    silent = env.deploy(check=False)
    assert silent.returncode != 0
    assert "the probe of %s:%d failed: ConnectionRefusedError" % (unknown["DNSName"], port) in silent.output, silent
    after = json.dumps([env.record(node) for node in env.nodes], sort_keys=True)
    assert after == before and open(env.config_file).read() == config_before


def test_bad_requests_and_discover_entries_are_refused_naming_them(env):
    unknown = env.deploy("-e", "server=nothing", check=False)
    assert unknown.returncode != 0
    assert "invalid server \"nothing\": the cloud servers of %s with a discover entry are %s" % (APP, CLOUD) in unknown.output
    other = env.playbook("deploy.yml", "-e", "app=application-02", check=False)
    assert "app application-02 has no cloud server with a discover entry and no manifests" in other.output, other
    server = env.cloud_server()
    saved = dict(server["discover"])
    server["discover"] = {"service": {"name": "Application_01"}, "cluster": "k8s 6play"}
    env.write_model()
    try:
        bad = env.deploy(check=False)
        assert ("app \"application-01\" server \"%s\": discover: invalid service.name 'Application_01'" % CLOUD) in bad.output
        assert "invalid cluster 'k8s 6play'" in bad.output
    finally:
        server["discover"] = saved
        env.write_model()


def test_a_function_url_is_found_and_its_server_answers_under_the_functions_own_host(env):
    """application-02's cloud server made a Lambda: discover by function; its URL's host becomes the server's Host and
    SNI (a relay), the on-prem side keeps the app's Host."""
    name = "application-02-%s" % os.urandom(3).hex()
    host = create_function(env, name)
    env.dns.set(host, FUNCTION_ADDRESS)
    function = env.upstream("function", 443, host=host, address=FUNCTION_ADDRESS)
    app = env.app_model("application-02")
    server = env.cloud_server("application-02")
    saved = dict(server)
    server.update(discover={"function": name, "qualifier": "live"}, ca_file=env.ca_bundle)
    env.write_model()
    try:
        deployed = env.playbook("deploy.yml", "-e", "app=application-02")  # its reload renders the new ca_file too
        assert "function_url" in deployed.output, deployed
        for node in env.nodes:
            endpoint = env.record(node, "application-02")["endpoints"][server["name"]]
            assert (endpoint["address"], endpoint["port"], endpoint["host"]) == (host, 443, host)
        config = open(env.config_file).read()
        assert "listen cloudshift-relay:application-02:%s" % server["name"] in config
        assert "http-request set-header Host %s" % host in config
        env.migrate("application-02", 50, "-e", "force=true")  # over the runtime API: no reload
        result = traffic.send_concurrently(env.frontend, app["host"], 80, workers=2, path="/req/1")
        assert result.failed == 0, result.as_dict()
        seen = function.proxied()
        assert seen and {item["host"] for item in seen} == {host}
        assert set(function.snapshot()[1]) == {host}
    finally:
        env.migrate("application-02", 0, "-e", "force=true")
        server.clear()
        server.update(saved)
        env.write_model()
        for node in env.nodes:
            put_back = adhoc(env, "cloudshift.migration.migration_endpoint", {
                "state_dir": os.path.join(env.node_dir(node), "state"), "app": "application-02",
                "server": saved["name"], "state": "previous"})
            assert not put_back.failed and put_back["endpoint"] is None, put_back.output
        env.playbook("site.yml")
        function.close()
        aws_client(env, "lambda").delete_function(FunctionName=name)


KUBE_TOKEN = "cloudshift-deploy-Token-5c2e70"  # the kubeconfig's bearer token: must never reach any output
MANIFEST = """apiVersion: apps/v1
kind: Deployment
metadata: {name: application-01, namespace: default, labels: {app: application-01}}
spec:
  replicas: 3
  selector: {matchLabels: {app: application-01}}
  template:
    metadata: {labels: {app: application-01}}
    spec:
      containers: [{name: application-01, image: "registry.example/application-01:%s"}]
---
apiVersion: v1
kind: Service
metadata: {name: application-01, namespace: default}
spec:
  type: LoadBalancer
  selector: {app: application-01}
  ports: [{port: 443, targetPort: 8443}]
"""


def test_the_apps_manifests_are_applied_with_kubernetes_core_and_a_stuck_rollout_stops_the_deploy(env, tmp_path):
    """kubernetes.core.k8s against kube_standin's API (no kube-apiserver here: the stand-in answers its discovery,
    create, patch and read requests and plays the Deployment controller's rollout)."""
    import kube_standin
    cert, key = (os.path.join(env.pki_dir, APP + suffix) for suffix in (".crt", ".key"))
    manifest = tmp_path / "application-01.yaml"
    manifest.write_text(MANIFEST % "2.1.0")
    app, server = env.app_model(), env.cloud_server()
    saved_cloud, saved_discover = json.loads(json.dumps(app["cloud"])), server.pop("discover")
    with kube_standin.KubeApiStandIn(7443 + env.port_offset, cert, key, KUBE_TOKEN) as api:
        del api.cluster["deployments"][("default", APP)]  # a first deploy: the cluster has no such Deployment yet
        kubeconfig = kube_standin.write_kubeconfig(str(tmp_path / "kubeconfig"), api.url,
                                                   os.path.join(env.pki_dir, "ca.crt"), KUBE_TOKEN)
        app["cloud"]["cluster"]["kubernetes"] = {"kubeconfig": kubeconfig}
        app["cloud"].update(manifests=[str(manifest)], rollout_timeout=20)
        env.write_model()
        try:
            checked = env.deploy("--check")
            assert api.writes == [] and ("default", APP) not in api.cluster["services"], checked
            assert [method for method, _path, _type in api.dry_runs] == ["POST", "POST"]  # server-side dry runs
            applied = env.deploy()
            assert [(method, path) for method, path, _type in api.writes] == [
                ("POST", "/apis/apps/v1/namespaces/default/deployments"),
                ("POST", "/api/v1/namespaces/default/services")], applied
            deployment = api.cluster["deployments"][("default", "application-01")]
            assert deployment["status"]["availableReplicas"] == 3, "deploy.yml did not wait for the rollout"
            assert KUBE_TOKEN not in applied.output

            manifest.write_text(MANIFEST % "2.2.0")
            api.rollout_stuck = True
            app["cloud"]["rollout_timeout"] = 3
            env.write_model()
            stuck = env.deploy(check=False)
            assert stuck.returncode != 0
            assert ("PATCH", "/apis/apps/v1/namespaces/default/deployments/application-01") in [
                (method, path) for method, path, _type in api.writes]
            message = " ".join(stuck.output.split())
            assert ("refused: the endpoints of application-01 were not looked for and HAProxy was not touched on any "
                    "node, because %s failed:" % manifest) in message, stuck
            assert "timed out" in message.lower() and "cloud.rollout_timeout, 3 s" in message, stuck
            assert KUBE_TOKEN not in stuck.output
        finally:
            app["cloud"] = saved_cloud
            server["discover"] = saved_discover
            env.write_model()
