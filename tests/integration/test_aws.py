"""The AWS side against a real moto server (the local environment's, started by democtl) and, for
throttling, a real HTTP proxy in front of it: ELB health, the capacity checks, the Route53 cutover
and migrate.yml's step=dns / dns-rollback, with real HAProxy, upstreams and traffic behind them."""

import json
import os
import re
import time

import pytest
import yaml

import kube_standin
import traffic
from test_role_haproxy import Upstream, make_ca, make_server_cert, write_ca
from aws_helpers import ThrottlingProxy, address_records, aws_client, create_function, is_change_batch
from localenv_fixture import ROOT, LocalEnv, adhoc

APP = "application-01"
HOST = "application-01.6play.fr"
RECORD = HOST + "."
CLOUD = "aws-prod-Kubernetes-application-01"
ONPREM = "onprem-prod-front-application-01"
ORIGINAL = [{"Name": RECORD, "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "127.0.0.1"}]}]
ELB_DNS = "cloudshift-local-1.eu-west-3.elb.amazonaws.com"
# HAProxy and upstreams 20080-20544, moto 16566, the Kubernetes stand-in 19443 and a Lambda endpoint 19444: they
# clash with no other test environment.
PORT_OFFSET = 12000
SECRET = "cloudshift-test-Secret-4f9b1c"  # moto takes any key: this one must never reach any output


class AwsEnv(LocalEnv):
    """The local environment with its app model in an extra-vars file the tests can change (the soak)."""

    def __init__(self, run_dir, port_offset):
        super().__init__(run_dir, port_offset)
        with open(os.path.join(ROOT, "inventories", "local", "group_vars", "haproxy", "apps.yml")) as handle:
            self.apps = yaml.safe_load(handle)["cloudshift_apps"]
        self.vars_file = os.path.join(self.run_dir, "aws-vars.yml")
        self.set_soak(2)

    def app_model(self, name=APP):
        return next(item for item in self.apps if item["name"] == name)

    def set_soak(self, seconds):
        self.app_model()["dns"]["soak_seconds"] = seconds
        self.write_model()

    def write_model(self):
        with open(self.vars_file, "w") as handle:
            yaml.safe_dump({"cloudshift_apps": self.apps}, handle)

    def playbook(self, name, *extra, **options):
        return super().playbook(name, "-e", "@" + self.vars_file, *extra, **options)

    def aws(self, **extra):
        """The module options of the local AWS (what haproxy_aws holds in the local inventory)."""
        return dict(dict(region="eu-west-3", endpoint_url=self.moto_url, access_key="testing", secret_key="testing"),
                    **extra)

    def audit(self):
        path = os.path.join(self.audit_dir, APP + ".jsonl")
        if not os.path.exists(path):
            return []
        with open(path) as handle:
            return [json.loads(line) for line in handle if line.strip()]

    @property
    def backup_file(self):
        return os.path.join(self.audit_dir, APP + ".dns-backup.json")

    def traffic(self, count=600):
        result = traffic.send_concurrently(self.frontend, HOST, count, workers=4)
        assert result.failed == 0, result.as_dict()
        return result

    def at_100_after_healthy_traffic(self):
        """Step 100 with an on-prem reference (taken at 50) and healthy cloud traffic since."""
        self.democtl("fault", APP, "cloud", "ok")
        self.democtl("elb", APP, "healthy")
        self.migrate(APP, 50, "-e", "force=true")
        self.traffic()
        self.migrate(APP, 100)
        self.traffic()


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    local = AwsEnv(tmp_path_factory.mktemp("awsenv"), PORT_OFFSET)
    try:
        local.up()
        local.wait_status(APP, CLOUD, "UP")
        local.wait_status(APP, ONPREM, "UP")
        yield local
    finally:
        local.down()


@pytest.fixture
def proxy(env):
    with ThrottlingProxy(4566 + env.port_offset) as running:
        yield running


@pytest.fixture
def original_dns(env):
    """Each test that moves DNS starts and ends with the seed's record (and no backup)."""
    if address_records(env, RECORD) != ORIGINAL:
        env.migrate(APP, "dns-rollback")
    if os.path.exists(env.backup_file):
        os.unlink(env.backup_file)
    assert address_records(env, RECORD) == ORIGINAL
    yield
    env.democtl("elb", APP, "healthy")
    env.democtl("fault", APP, "cloud", "ok")
    env.set_soak(2)


def elb_args(env, **extra):
    cloud = env.app_model()["cloud"]
    probe = {"address": "127.0.0.1", "port": 8443 + env.port_offset, "path": "/HealthCheck", "host": HOST,
             "ca_file": os.path.join(env.pki_dir, "ca.crt")}
    probe.update(extra.pop("probe", {}))
    return env.aws(**dict(dict(load_balancer=cloud["load_balancer"], target_groups=cloud["target_groups"], probe=probe),
                          **extra))


# -- ELB health ------------------------------------------------------------------------------------

def test_elb_healthy_passes_with_its_targets_and_the_probe(env):
    env.democtl("elb", APP, "healthy")
    result = adhoc(env, "cloudshift.migration.elb_health_info", elb_args(env))
    assert not result.failed, result.output
    assert result["healthy"] is True and result["problems"] == []
    (group,) = result["target_groups"]
    assert group["name"] == APP and group["healthy"] == 2 and len(group["targets"]) == 2
    assert result["probe"]["ok"] and result["probe"]["status"] == 200
    assert result["probe"]["sni"] == HOST and result["probe"]["host"] == HOST
    assert any("2/2" in line for line in result["table"]), result["table"]


@pytest.mark.parametrize("mode, expected", [("unhealthy", "0 of 2 targets healthy"),
                                            ("empty", "has no registered targets")])
def test_elb_unhealthy_or_empty_fails_with_the_target_list(env, mode, expected):
    env.democtl("elb", APP, mode)
    try:
        result = adhoc(env, "cloudshift.migration.elb_health_info", elb_args(env))
        assert result["healthy"] is False, result
        assert any(expected in problem for problem in result["problems"]), result["problems"]
        targets = result["target_groups"][0]["targets"]
        if mode == "unhealthy":
            assert len(targets) == 2
            for target in targets:
                assert target["id"] in " ".join(result["problems"]), (target, result["problems"])
        else:
            assert targets == []
        waited = adhoc(env, "cloudshift.migration.elb_health_info",
                       elb_args(env, wait=True, wait_timeout=3, wait_interval=1.0))
        assert waited.failed and "not healthy after" in waited["msg"], waited
        assert waited["looks"] >= 2
    finally:
        env.democtl("elb", APP, "healthy")


def test_probe_with_a_wrong_ca_fails(env):
    result = adhoc(env, "cloudshift.migration.elb_health_info",
                   elb_args(env, probe={"ca_file": os.path.join(env.pki_dir, "rogue-ca.crt")}))
    assert result["healthy"] is False
    assert result["target_groups"][0]["healthy"] == 2  # the targets are fine: only the probe fails
    assert "TLS verification failed" in result["probe"]["error"], result["probe"]
    assert any("probe https://127.0.0.1:%d/HealthCheck" % (8443 + env.port_offset) in problem
               for problem in result["problems"]), result["problems"]


def test_unknown_elb_fails_naming_it(env):
    result = adhoc(env, "cloudshift.migration.elb_health_info", elb_args(env, load_balancer="no-such-elb"))
    assert result.failed and "no-such-elb" in result["msg"], result


# -- bad input never reaches AWS, throttling is retried or reported ---------------------------------

@pytest.mark.parametrize("module, args, message", [
    ("cloudshift.migration.elb_health_info", {"load_balancer": "cloudshift-local", "region": None},
     "no AWS region"),
    ("cloudshift.migration.elb_health_info", {"load_balancer": "bad;name"}, "invalid load_balancer 'bad;name'"),
    ("cloudshift.migration.route53_cutover", {"zone": "6play.fr", "record": "application-01.example.com",
                                              "load_balancer": "cloudshift-local"},
     "record application-01.example.com. is not in zone 6play.fr."),
    ("cloudshift.migration.route53_cutover", {"zone": "6play.fr", "record": HOST, "load_balancer": "cloudshift-local",
                                              "weight": 300}, "invalid weight 300"),
    ("cloudshift.migration.route53_cutover", {"zone": "6play.fr", "record": HOST, "load_balancer": "cloudshift-local",
                                              "region": "moon-1"}, "invalid AWS region 'moon-1'"),
    ("cloudshift.migration.capacity_check", {"asg_name": "nodes.cloudshift.local", "autoscaler_nodes": "3-10"},
     "3-10"),
    ("cloudshift.migration.lambda_health_info", {"function": "app;rm -rf"}, "invalid function 'app;rm -rf'"),
    ("cloudshift.migration.lambda_health_info", {"function": "application-03", "endpoint": "custom"},
     "endpoint custom (an API Gateway domain, an ALB) needs probe.address"),
])
def test_bad_input_fails_naming_the_value_and_sends_nothing(env, proxy, module, args, message):
    proxy.reset()
    full = env.aws(endpoint_url=proxy.url)
    full.update(args)
    if full.get("region") is None:
        full.pop("region")
    run_env_region = env.env.pop("AWS_REGION", None), env.env.pop("AWS_DEFAULT_REGION", None)
    try:
        result = adhoc(env, module, full)
    finally:
        for key, value in zip(("AWS_REGION", "AWS_DEFAULT_REGION"), run_env_region):
            if value is not None:
                env.env[key] = value
    assert result.failed and message in result["msg"], result
    assert proxy.seen == [], "bad input reached AWS: %r" % proxy.seen


def test_unknown_zone_and_a_name_without_record_are_refused(env):
    unknown = adhoc(env, "cloudshift.migration.route53_cutover",
                    env.aws(zone="example.org", record="www.example.org", load_balancer="cloudshift-local"))
    assert unknown.failed and "no public hosted zone example.org." in unknown["msg"], unknown
    missing = adhoc(env, "cloudshift.migration.route53_cutover",
                    env.aws(zone="6play.fr", record="nothing-here.6play.fr", load_balancer="cloudshift-local"))
    assert missing.failed and "holds no A, AAAA or CNAME record for nothing-here.6play.fr." in missing["msg"], missing
    no_elb = adhoc(env, "cloudshift.migration.route53_cutover",
                   env.aws(zone="6play.fr", record=HOST, load_balancer="no-such-elb"))
    assert no_elb.failed and "target ELB does not exist" in no_elb["msg"] and "no-such-elb" in no_elb["msg"], no_elb
    assert address_records(env, RECORD) == ORIGINAL


def test_throttled_calls_are_retried(env, proxy, original_dns):
    proxy.reset(throttle_first=2)
    result = adhoc(env, "cloudshift.migration.route53_cutover",
                   env.aws(endpoint_url=proxy.url, zone="6play.fr", record=HOST, load_balancer="cloudshift-local",
                           backup_file=env.backup_file, max_attempts=4))
    assert not result.failed, result.output
    assert len(proxy.throttled()) == 2 and len(proxy.seen) > 2
    assert result["status"] == "INSYNC"
    assert [item["AliasTarget"]["DNSName"] for item in address_records(env, RECORD)] == [ELB_DNS]
    restored = adhoc(env, "cloudshift.migration.route53_cutover",
                     env.aws(state="restore", zone="6play.fr", record=HOST, backup_file=env.backup_file))
    assert restored["restored_exactly"] is True
    assert address_records(env, RECORD) == ORIGINAL


def test_a_change_throttled_every_time_fails_clearly_and_changes_nothing(env, proxy, original_dns):
    proxy.reset(throttle_rule=is_change_batch)
    result = adhoc(env, "cloudshift.migration.route53_cutover",
                   env.aws(endpoint_url=proxy.url, zone="6play.fr", record=HOST, load_balancer="cloudshift-local",
                           backup_file=env.backup_file, max_attempts=3))
    assert result.failed
    assert "Throttling" in result["msg"] and RECORD in result["msg"] and "after 2 retries" in result["msg"], result
    assert len([item for item in proxy.seen if is_change_batch(item[0], item[1])]) == 3
    assert address_records(env, RECORD) == ORIGINAL


# -- capacity -----------------------------------------------------------------------------------------

def capacity_args(env, **extra):
    cluster = env.app_model()["cloud"]["cluster"]
    return env.aws(**dict(dict(asg_name=cluster["asg_name"],
                               autoscaler_manifest=os.path.join(env.run_dir, "aws", "cluster-autoscaler.yaml"),
                               nodes_file=os.path.join(env.run_dir, "aws", "nodes.json"),
                               node_labels=cluster["node_labels"]), **extra))


def test_capacity_passes_when_asg_autoscaler_and_nodes_agree(env):
    result = adhoc(env, "cloudshift.migration.capacity_check", capacity_args(env))
    assert not result.failed, result.output
    assert result["passed"] is True
    assert result["asg"]["min"] == 3 and result["asg"]["max"] == 10
    assert result["autoscaler"]["min"] == 3 and result["autoscaler"]["max"] == 10


def test_the_reports_asg_min_4_against_autoscaler_min_3_fails_with_both(env):
    autoscaling = aws_client(env, "autoscaling")
    autoscaling.update_auto_scaling_group(AutoScalingGroupName="nodes.cloudshift.local", MinSize=4, DesiredCapacity=4)
    try:
        result = adhoc(env, "cloudshift.migration.capacity_check", capacity_args(env))
        assert result.failed
        mismatch = [problem for problem in result["problems"] if "cluster-autoscaler min 3" in problem]
        assert mismatch and "ASG nodes.cloudshift.local min 4" in mismatch[0], result["problems"]
        # 3 Ready nodes are below the ASG's new minimum too.
        assert any("3 Ready nodes" in problem and "min 4" in problem for problem in result["problems"])
    finally:
        autoscaling.update_auto_scaling_group(AutoScalingGroupName="nodes.cloudshift.local", MinSize=3,
                                              DesiredCapacity=3)


def test_nodes_not_ready_past_the_grace_fail_naming_them(env, tmp_path):
    with open(os.path.join(env.run_dir, "aws", "nodes.json")) as handle:
        nodes = json.load(handle)
    for node in nodes["items"][1:]:
        node["status"]["conditions"][0].update(status="Unknown", reason="NodeStatusUnknown")
    path = tmp_path / "nodes.json"
    path.write_text(json.dumps(nodes))
    result = adhoc(env, "cloudshift.migration.capacity_check", capacity_args(env, nodes_file=str(path)))
    assert result.failed
    text = "; ".join(result["problems"])
    for node in nodes["items"][1:]:
        assert node["metadata"]["name"] in text, text
    assert "1 Ready nodes" in text or "1 Ready node" in text, text


# -- capacity read from the Kubernetes API (a stand-in: no kube-apiserver can be installed here) ------------

KUBE_TOKEN = "cloudshift-kube-Token-93ad1e"  # the kubeconfig's bearer token: must never reach any output


@pytest.fixture
def kube_api(env, tmp_path):
    """kube_standin's API over TLS (a certificate of the environment's CA for 127.0.0.1) and a kubeconfig for it."""
    cert, key = (os.path.join(env.pki_dir, APP + suffix) for suffix in (".crt", ".key"))
    with kube_standin.KubeApiStandIn(7443 + env.port_offset, cert, key, KUBE_TOKEN) as api:
        api.kubeconfig = kube_standin.write_kubeconfig(str(tmp_path / "kubeconfig"), api.url,
                                                       os.path.join(env.pki_dir, "ca.crt"), KUBE_TOKEN)
        yield api


def kube_args(env, api, **extra):
    cluster = env.app_model()["cloud"]["cluster"]
    return env.aws(**dict(dict(asg_name=cluster["asg_name"], node_labels=cluster["node_labels"],
                               kubernetes={"kubeconfig": api.kubeconfig,
                                           "deployment": {"namespace": "default", "name": APP}}), **extra))


def test_capacity_reads_nodes_the_autoscaler_and_the_deployment_through_the_kubernetes_api(env, kube_api):
    result = adhoc(env, "cloudshift.migration.capacity_check", kube_args(env, kube_api), verbosity=3)
    assert not result.failed, result.output
    assert result["passed"] is True
    assert [node["status"] for node in result["nodes"]] == ["Ready"] * 3  # the master is not of the ASG
    assert result["autoscaler"] == {"name": "nodes.cloudshift.local", "min": 3, "max": 10, "source":
                                    "ConfigMap kube-system/cluster-autoscaler-status at %s" % kube_api.url}
    deployment = result["deployment"]
    assert (deployment["ready_replicas"], deployment["replicas"], deployment["pods"]) == (3, 3, 3)
    assert deployment["hpa"]["current"] == 3 and deployment["hpa"]["max"] == 10
    assert "HPA application-01: 3 of at most 10 replicas, CPU 35% of requests (target 70%)" in "\n".join(result["table"])
    assert {"/api/v1/nodes", "/api/v1/namespaces/kube-system/configmaps/cluster-autoscaler-status",
            "/apis/apps/v1/namespaces/default/deployments/application-01", "/api/v1/namespaces/default/pods",
            "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers"} == set(kube_api.requests)
    assert KUBE_TOKEN not in result.output


def test_the_reports_drift_and_unknown_nodes_read_from_the_api_fail_with_their_figures(env, kube_api):
    cluster = kube_api.cluster
    cluster["configmaps"][("kube-system", "cluster-autoscaler-status")] = kube_standin.status_configmap(
        [("nodes.cloudshift.local", 4, 10, 1)], text_format=True)
    for node in cluster["nodes"][1:3]:
        node.update(kube_standin.node(node["metadata"]["name"], "Unknown", time.time() - 7200))
    result = adhoc(env, "cloudshift.migration.capacity_check", kube_args(env, kube_api))
    assert result.failed
    text = "; ".join(result["problems"])
    assert "cluster-autoscaler min 4 != ASG nodes.cloudshift.local min 3" in text, text
    assert "1 Ready nodes < ASG min 3" in text, text
    for node in cluster["nodes"][1:3]:
        assert re.search(r"%s Unknown for 72\d\d s" % re.escape(node["metadata"]["name"]), text), text


def test_without_the_status_configmap_the_autoscalers_deployment_flags_are_read(env, kube_api):
    cluster = kube_api.cluster
    del cluster["configmaps"][("kube-system", "cluster-autoscaler-status")]
    cluster["deployments"][("kube-system", "cluster-autoscaler")] = kube_standin.autoscaler_deployment(
        "--nodes=3:12:nodes.cloudshift.local")
    result = adhoc(env, "cloudshift.migration.capacity_check", kube_args(env, kube_api))
    assert result.failed and result["autoscaler"]["source"].startswith("Deployment kube-system/cluster-autoscaler")
    assert result["problems"] == ["cluster-autoscaler max 12 != ASG nodes.cloudshift.local max 10"]
    del cluster["deployments"][("kube-system", "cluster-autoscaler")]
    missing = adhoc(env, "cloudshift.migration.capacity_check", kube_args(env, kube_api))
    assert missing.failed and ("no cluster-autoscaler in %s: neither ConfigMap kube-system/cluster-autoscaler-status "
                               "nor Deployment kube-system/cluster-autoscaler" % kube_api.url) in missing["msg"]


def test_a_wrong_token_or_an_unreachable_api_fails_clearly_without_the_token(env, kube_api, tmp_path):
    wrong = kube_standin.write_kubeconfig(str(tmp_path / "wrong"), kube_api.url, os.path.join(env.pki_dir, "ca.crt"),
                                          "not-the-token")
    result = adhoc(env, "cloudshift.migration.capacity_check",
                   kube_args(env, kube_api, kubernetes={"kubeconfig": wrong}), verbosity=3)
    assert result.failed and "Kubernetes API: reading the nodes answered 401 Unauthorized" in result["msg"], result.output
    rogue = kube_standin.write_kubeconfig(str(tmp_path / "rogue"), kube_api.url,
                                          os.path.join(env.pki_dir, "rogue-ca.crt"), KUBE_TOKEN)
    result = adhoc(env, "cloudshift.migration.capacity_check",
                   kube_args(env, kube_api, kubernetes={"kubeconfig": rogue}), verbosity=3)
    assert result.failed and "reading the nodes failed" in result["msg"] and "CERTIFICATE_VERIFY_FAILED" in result["msg"]
    assert KUBE_TOKEN not in result.output


def test_a_step_up_is_refused_on_the_autoscaler_drift_the_api_shows(env, kube_api):
    """The app model's cloud.cluster.kubernetes, as an operator sets it: migrate.yml reads the cluster through the
    API before traffic goes up; force does not override a failed capacity check."""
    env.migrate(APP, 0, "-e", "force=true")
    cluster = env.app_model()["cloud"]["cluster"]
    saved = dict(cluster)
    for key in ("autoscaler_manifest", "nodes_file"):
        cluster.pop(key)
    cluster["kubernetes"] = {"kubeconfig": kube_api.kubeconfig}
    env.write_model()
    kube_api.cluster["configmaps"][("kube-system", "cluster-autoscaler-status")] = kube_standin.status_configmap(
        [("nodes.cloudshift.local", 4, 10, 3)])
    try:
        refused = env.migrate(APP, 5, "-e", "force=true", check=False)
        assert refused.returncode != 0, refused
        assert "the capacity check failed: cluster-autoscaler min 4 != ASG nodes.cloudshift.local min 3" in refused.output
        assert env.recorded_step(APP) == 0 and env.weights(APP)[CLOUD] == 0
        kube_api.cluster["configmaps"][("kube-system", "cluster-autoscaler-status")] = kube_standin.status_configmap(
            [("nodes.cloudshift.local", 3, 10, 3)])
        env.migrate(APP, 5, "-e", "force=true")
        assert env.recorded_step(APP) == 5
        assert "/apis/apps/v1/namespaces/default/deployments/application-01" in kube_api.requests
    finally:
        cluster.clear()
        cluster.update(saved)
        env.write_model()
        env.migrate(APP, 0, "-e", "force=true")
    assert KUBE_TOKEN not in refused.output


# -- a Lambda side: the function and its URL in moto, its endpoint a TLS upstream under the URL's host ------------

def put_lambda_metrics(env, name, **sums):
    aws_client(env, "cloudwatch").put_metric_data(Namespace="AWS/Lambda", MetricData=[
        {"MetricName": metric, "Dimensions": [{"Name": "FunctionName", "Value": name},
                                              {"Name": "Resource", "Value": name + ":live"}], "Value": value}
        for metric, value in sums.items()])


@pytest.fixture
def lambda_endpoint(env, tmp_path):
    """A function in moto and its endpoint: an HTTPS upstream whose certificate names the function URL's host."""
    name = "application-03-%s" % os.urandom(3).hex()
    host = create_function(env, name)
    ca_key, ca_cert = make_ca("cloudshift lambda CA")
    ca_file = write_ca(ca_cert, str(tmp_path / "lambda-ca.crt"))
    upstream = Upstream("lambda", 7444 + env.port_offset, cert=make_server_cert(ca_key, ca_cert, host, str(tmp_path), "fn"))
    try:
        yield {"name": name, "host": host, "ca_file": ca_file, "upstream": upstream}
    finally:
        upstream.close()
        aws_client(env, "lambda").delete_function(FunctionName=name)


def lambda_args(env, endpoint, **extra):
    return env.aws(**dict(dict(function=endpoint["name"], qualifier="live", host=endpoint["host"],
                               expected_concurrency=50,
                               probe={"address": "127.0.0.1", "port": endpoint["upstream"].port, "path": "/HealthCheck",
                                      "ca_file": endpoint["ca_file"]}), **extra))


def test_a_lambda_side_is_healthy_with_its_url_probed_under_its_own_host_and_enough_concurrency(env, lambda_endpoint):
    result = adhoc(env, "cloudshift.migration.lambda_health_info", lambda_args(env, lambda_endpoint), check=True)
    assert not result.failed and result["healthy"] is True, result.output
    assert result["url"] == "https://%s" % lambda_endpoint["host"] and result["function"]["state"] == "Active"
    assert (result["probe"]["host"], result["probe"]["sni"], result["probe"]["status"]) == (
        lambda_endpoint["host"], lambda_endpoint["host"], 200)
    requests, sni_names, tls_errors = lambda_endpoint["upstream"].snapshot()
    assert [(item["path"], item["host"]) for item in requests] == [("/HealthCheck", lambda_endpoint["host"])]
    assert sni_names == [lambda_endpoint["host"]] and tls_errors == []
    capacity = result["capacity"]
    assert capacity["passed"] is True and capacity["concurrency"] == {"available": 100, "source": "reserved"}
    assert "concurrency 100 (reserved) >= the 50 expected at peak" in "\n".join(capacity["table"])


def test_throttles_errors_short_concurrency_a_foreign_url_and_iam_auth_are_named(env, lambda_endpoint):
    name = lambda_endpoint["name"]
    put_lambda_metrics(env, name, Throttles=7, Errors=5, Invocations=100)
    aws_client(env, "lambda").update_function_url_config(FunctionName=name, Qualifier="live", AuthType="AWS_IAM")
    result = adhoc(env, "cloudshift.migration.lambda_health_info",
                   lambda_args(env, lambda_endpoint, expected_concurrency=150))
    assert result["healthy"] is False
    assert result["problems"] == ["the function URL of %s:live needs AWS_IAM signatures: HAProxy's requests are not "
                                  "signed (AuthType NONE, or an API Gateway in front)" % name]
    assert result["capacity"]["problems"] == [
        "concurrency 100 (reserved) < the 150 expected at peak",
        "7 throttled invocation(s) in the last 300 s, at most 0",
        "5 error(s) in 100 invocation(s) in the last 300 s: 5.00%, at most 1.00%"]
    foreign = adhoc(env, "cloudshift.migration.lambda_health_info",
                    lambda_args(env, lambda_endpoint, host="other.lambda-url.eu-west-3.on.aws", capacity=False))
    assert ("the function URL of %s:live is %s, not the cloud server's host other.lambda-url.eu-west-3.on.aws"
            % (name, lambda_endpoint["host"])) in foreign["problems"]
    assert "capacity" not in foreign


def test_a_step_of_a_lambda_app_is_judged_on_the_functions_health_and_capacity(env, lambda_endpoint):
    """application-01's cloud side made a Lambda in the app model (its cloud server under the function URL's host):
    migrate.yml checks the function, its URL and its capacity before traffic goes up, force or not."""
    env.migrate(APP, 0, "-e", "force=true")
    app = env.app_model()
    saved_cloud, saved_server, saved_dns = dict(app["cloud"]), dict(app["servers"][1]), app.pop("dns")
    app["cloud"] = {"lambda": {"function": lambda_endpoint["name"], "qualifier": "live", "expected_concurrency": 50},
                    "probe": {"address": "127.0.0.1", "port": lambda_endpoint["upstream"].port,
                              "ca_file": lambda_endpoint["ca_file"]}}
    app["servers"][1]["host"] = lambda_endpoint["host"]
    env.write_model()
    try:
        moved = env.migrate(APP, 5, "-e", "force=true")
        assert "concurrency 100 (reserved) >= the 50 expected at peak" in moved.output, moved
        assert env.recorded_step(APP) == 5
        assert any(item["host"] == lambda_endpoint["host"] for item in lambda_endpoint["upstream"].snapshot()[0])
        put_lambda_metrics(env, lambda_endpoint["name"], Throttles=3)
        refused = env.migrate(APP, 10, "-e", "force=true", check=False)
        assert refused.returncode != 0
        assert ("refused: application-01 stays at step 5, the capacity check failed: 3 throttled invocation(s) in the "
                "last 300 s, at most 0") in refused.output, refused
        assert env.recorded_step(APP) == 5
    finally:
        app["cloud"], app["servers"][1], app["dns"] = saved_cloud, saved_server, saved_dns
        env.write_model()
        env.migrate(APP, 0, "-e", "force=true")


# -- the cloud endpoint found in AWS: the ELB the service controller tagged, a function URL ---------------------

@pytest.fixture
def service_balancers(env):
    """What the Kubernetes service controller leaves in AWS for Service default/application-01 in two clusters (an
    ALB in k8s.6play.fr, listening on 80 and 443, and an NLB in k8s-staging) and a classic ELB of another Service."""
    elbv2, classic = aws_client(env, "elbv2"), aws_client(env, "elb")
    ec2 = aws_client(env, "ec2")
    subnets = [item["SubnetId"] for item in ec2.describe_subnets()["Subnets"]][:2]
    certificate = aws_client(env, "acm").request_certificate(DomainName=HOST)["CertificateArn"]

    def tags(cluster, service):
        return [{"Key": "kubernetes.io/service-name", "Value": service},
                {"Key": "kubernetes.io/cluster/" + cluster, "Value": "owned"}]
    alb = elbv2.create_load_balancer(Name="k8s-default-app01-1a2b3c", Subnets=subnets, Type="application",
                                     Tags=tags("k8s.6play.fr", "default/application-01"))["LoadBalancers"][0]
    target = elbv2.create_target_group(Name="k8s-default-app01-tg", Protocol="HTTP", Port=80,
                                       VpcId=alb["VpcId"])["TargetGroups"][0]["TargetGroupArn"]
    for port, protocol in ((80, "HTTP"), (443, "HTTPS")):
        extra = {"Certificates": [{"CertificateArn": certificate}]} if protocol == "HTTPS" else {}
        elbv2.create_listener(LoadBalancerArn=alb["LoadBalancerArn"], Port=port, Protocol=protocol,
                              DefaultActions=[{"Type": "forward", "TargetGroupArn": target}], **extra)
    nlb = elbv2.create_load_balancer(Name="k8s-default-app01-9z8y7x", Subnets=subnets, Type="network",
                                     Tags=tags("k8s-staging", "default/application-01"))["LoadBalancers"][0]
    classic.create_load_balancer(LoadBalancerName="a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6", AvailabilityZones=["eu-west-3a"],
                                 Listeners=[{"Protocol": "tcp", "LoadBalancerPort": 443, "InstancePort": 30443}],
                                 Tags=tags("k8s.6play.fr", "web/application-02"))
    try:
        yield {"alb": alb, "nlb": nlb}
    finally:
        for balancer in (alb, nlb):
            elbv2.delete_load_balancer(LoadBalancerArn=balancer["LoadBalancerArn"])
        elbv2.delete_target_group(TargetGroupArn=target)
        classic.delete_load_balancer(LoadBalancerName="a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6")


def test_the_services_elb_is_found_by_its_kubernetes_tags_with_its_tls_port(env, service_balancers):
    service = {"namespace": "default", "name": "application-01"}
    found = adhoc(env, "cloudshift.migration.cloud_endpoint_info", env.aws(service=service, cluster="k8s.6play.fr"),
                  check=True)
    assert not found.failed, found.output
    endpoint = found["endpoint"]
    assert (endpoint["kind"], endpoint["name"], endpoint["address"], endpoint["port"], endpoint["protocol"]) == (
        "application", "k8s-default-app01-1a2b3c", service_balancers["alb"]["DNSName"], 443, "HTTPS")
    assert endpoint["found_by"] == ("tagged kubernetes.io/service-name=default/application-01 and "
                                    "kubernetes.io/cluster/k8s.6play.fr")
    classic = adhoc(env, "cloudshift.migration.cloud_endpoint_info",
                    env.aws(service={"namespace": "web", "name": "application-02"}))
    assert (classic["endpoint"]["kind"], classic["endpoint"]["port"]) == ("classic", 443), classic.output
    both = adhoc(env, "cloudshift.migration.cloud_endpoint_info", env.aws(service=service))
    assert both.failed and ("2 load balancers are tagged kubernetes.io/service-name=default/application-01 "
                            "(k8s-default-app01-1a2b3c, k8s-default-app01-9z8y7x): give cluster") in both["msg"]
    none = adhoc(env, "cloudshift.migration.cloud_endpoint_info",
                 env.aws(service={"namespace": "default", "name": "nothing"}))
    assert none.failed and "no load balancer is tagged kubernetes.io/service-name=default/nothing" in none["msg"]


def test_a_functions_url_is_found_with_the_host_it_needs(env, lambda_endpoint):
    found = adhoc(env, "cloudshift.migration.cloud_endpoint_info",
                  env.aws(function=lambda_endpoint["name"], qualifier="live"))
    assert found["endpoint"]["address"] == found["endpoint"]["host"] == lambda_endpoint["host"], found.output
    assert (found["endpoint"]["kind"], found["endpoint"]["port"]) == ("function_url", 443)
    bad = adhoc(env, "cloudshift.migration.cloud_endpoint_info",
                env.aws(function=lambda_endpoint["name"], service={"name": "application-01"}))
    assert bad.failed and "give the Kubernetes service (service: {namespace, name}) or the Lambda function" in bad["msg"]


# -- the Route53 module: check mode, idempotence, exact restore, weights, no secret in output --------

def test_cutover_check_mode_changes_nothing_then_the_flip_is_idempotent_and_restored_exactly(env, original_dns):
    args = env.aws(zone="6play.fr", record=HOST, load_balancer="cloudshift-local", backup_file=env.backup_file,
                   secret_key=SECRET)
    checked = adhoc(env, "cloudshift.migration.route53_cutover", args, check=True, diff=True, verbosity=3)
    assert checked["changed"] is True and checked["change_id"] is None
    assert "127.0.0.1" in checked["diff"]["before"] and ELB_DNS in checked["diff"]["after"]
    assert address_records(env, RECORD) == ORIGINAL and not os.path.exists(env.backup_file)

    flipped = adhoc(env, "cloudshift.migration.route53_cutover", args, verbosity=3)
    assert flipped["changed"] is True and flipped["status"] == "INSYNC"
    (record,) = address_records(env, RECORD)
    assert record["AliasTarget"] == {"HostedZoneId": "Z2P70J7EXAMPLE", "DNSName": ELB_DNS, "EvaluateTargetHealth": True}
    with open(env.backup_file) as handle:
        assert json.load(handle)["record_sets"] == ORIGINAL
    assert oct(os.stat(env.backup_file).st_mode & 0o777) == "0o600"

    again = adhoc(env, "cloudshift.migration.route53_cutover", args)
    assert again["changed"] is False and again["changes"] == []

    restored = adhoc(env, "cloudshift.migration.route53_cutover", dict(args, state="restore", load_balancer=None))
    assert restored["changed"] is True and restored["restored_exactly"] is True
    assert address_records(env, RECORD) == ORIGINAL
    for run in (checked, flipped, again, restored):
        assert SECRET not in run.output


def test_a_tampered_backup_is_refused_before_any_aws_call_and_changes_nothing(env, proxy, original_dns):
    """Issue 18 #5: a backup edited to name evil.6play.fr. made the restore delete the app's record and create the
    other name. The restore checks the backup's digest, zone, name and types first, and touches nothing else."""
    args = env.aws(zone="6play.fr", record=HOST, load_balancer="cloudshift-local", backup_file=env.backup_file)
    adhoc(env, "cloudshift.migration.route53_cutover", args)
    (cut_over,) = address_records(env, RECORD)
    with open(env.backup_file) as handle:
        saved = json.load(handle)
    assert len(saved["digest"]) == 64
    evil = json.loads(json.dumps(saved))
    evil["record_sets"][0]["Name"] = "evil.6play.fr."
    forged = json.loads(json.dumps(evil))
    forged["digest"] = None
    restore = dict(args, state="restore", load_balancer=None, endpoint_url=proxy.url)
    try:
        for damaged, messages in ((evil, ["its digest does not match its content",
                                          "record set 1 names evil.6play.fr., not the app's record %s" % RECORD]),
                                  (forged, ["(no digest)"])):
            with open(env.backup_file, "w") as handle:
                json.dump(damaged, handle)
            proxy.reset()
            refused = adhoc(env, "cloudshift.migration.route53_cutover", restore)
            assert refused.failed, refused
            assert ("DNS backup %s is refused, nothing was changed" % env.backup_file) in refused["msg"]
            assert all(message in refused["msg"] for message in messages), refused["msg"]
            assert proxy.seen == [], "a refused backup reached AWS: %r" % proxy.seen
            assert address_records(env, RECORD) == [cut_over]
            assert address_records(env, "evil.6play.fr.") == []
    finally:
        with open(env.backup_file, "w") as handle:
            json.dump(saved, handle)
    restored = adhoc(env, "cloudshift.migration.route53_cutover", dict(args, state="restore", load_balancer=None))
    assert restored["restored_exactly"] is True and address_records(env, RECORD) == ORIGINAL


def test_weighted_cutover_keeps_the_old_record_beside_the_elb(env, original_dns):
    args = env.aws(zone="6play.fr", record=HOST, load_balancer="cloudshift-local", backup_file=env.backup_file)
    adhoc(env, "cloudshift.migration.route53_cutover", dict(args, weight=10))
    weighted = dict((item["SetIdentifier"], item) for item in address_records(env, RECORD))
    assert weighted["cloud"]["Weight"] == 10 and weighted["cloud"]["AliasTarget"]["DNSName"] == ELB_DNS
    assert weighted["onprem"]["Weight"] == 245 and weighted["onprem"]["ResourceRecords"] == [{"Value": "127.0.0.1"}]
    adhoc(env, "cloudshift.migration.route53_cutover", dict(args, weight=100))
    assert sorted(item["Weight"] for item in address_records(env, RECORD)) == [100, 155]
    adhoc(env, "cloudshift.migration.route53_cutover", args)
    assert [item.get("SetIdentifier") for item in address_records(env, RECORD)] == [None]
    # The backup is the record before the first weighted stage, so the restore gives the seed's record.
    adhoc(env, "cloudshift.migration.route53_cutover", dict(args, state="restore", load_balancer=None))
    assert address_records(env, RECORD) == ORIGINAL


# -- migrate.yml -------------------------------------------------------------------------------------

def test_first_step_above_0_is_refused_while_the_elb_is_unhealthy(env):
    env.migrate(APP, 0, "-e", "force=true")
    env.democtl("elb", APP, "unhealthy")
    try:
        refused = env.migrate(APP, 1, check=False)
        assert refused.returncode != 0
        assert "refused: application-01 stays at step 0, the cloud side is not healthy" in refused.output, refused
        assert "unused" in refused.output
        assert env.recorded_step(APP) == 0 and env.weights(APP)[CLOUD] == 0
        # force overrides the gate, never the cloud side's health.
        forced = env.migrate(APP, 1, "-e", "force=true", check=False)
        assert forced.returncode != 0 and env.recorded_step(APP) == 0
    finally:
        env.democtl("elb", APP, "healthy")
    env.migrate(APP, 1)
    assert env.recorded_step(APP) == 1


def test_dns_is_refused_before_step_100_and_before_the_soak(env, original_dns):
    env.migrate(APP, 50, "-e", "force=true")
    early = env.migrate(APP, "dns", check=False)
    assert early.returncode != 0
    assert "application-01 is at step 50 on haproxy-local, not 100" in early.output, early
    env.set_soak(3600)
    env.migrate(APP, 100, "-e", "force=true")
    soaking = env.migrate(APP, "dns", "-e", "force=true", check=False)
    assert soaking.returncode != 0
    assert "of the 3600 s soak (dns.soak_seconds)" in soaking.output, soaking
    assert address_records(env, RECORD) == ORIGINAL


def test_dns_is_refused_after_a_failed_gate_unless_forced(env, original_dns):
    env.at_100_after_healthy_traffic()
    env.democtl("fault", APP, "cloud", "appslow", "--delay", "0.2")
    env.migrate(APP, 100)  # re-recording 100 is no change: the window still starts at the step
    result = traffic.send_concurrently(env.frontend, HOST, 300, workers=10)
    assert result.failed == 0
    refused = env.migrate(APP, "dns", check=False)
    assert refused.returncode != 0
    assert "refused: the DNS of application-01 stays where it is, the gate over the" in refused.output, refused
    assert "is fail" in refused.output and "p95_latency" in refused.output
    assert address_records(env, RECORD) == ORIGINAL
    assert not any(line["action"] == "dns" for line in env.audit())

    forced = env.migrate(APP, "dns", "-e", "force=true")
    assert [item["AliasTarget"]["DNSName"] for item in address_records(env, RECORD)] == [ELB_DNS]
    last = env.audit()[-1]
    assert last["action"] == "dns" and last["forced"] is True and last["verdict"] == "fail", last
    assert "change " in forced.output


def test_dns_flip_after_the_soak_then_rollback_restores_exactly(env, original_dns):
    env.at_100_after_healthy_traffic()
    before_audit = len(env.audit())

    checked = env.playbook("migrate.yml", "-e", "app=" + APP, "-e", "step=dns", "--check", "--diff")
    assert "check mode: 1 change(s) not submitted" in checked.output, checked
    assert address_records(env, RECORD) == ORIGINAL and not os.path.exists(env.backup_file)
    assert len(env.audit()) == before_audit

    flipped = env.migrate(APP, "dns")
    (record,) = address_records(env, RECORD)
    assert record["AliasTarget"]["DNSName"] == ELB_DNS and record["AliasTarget"]["EvaluateTargetHealth"] is True
    assert "INSYNC" in flipped.output and "verdict: PASS" in flipped.output, flipped
    line = env.audit()[-1]
    assert line["action"] == "dns" and line["verdict"] == "pass" and line["forced"] is False
    assert line["dns"]["status"] == "INSYNC" and line["dns"]["before"] == ORIGINAL
    assert line["dns"]["after"][0]["AliasTarget"]["DNSName"] == ELB_DNS

    again = env.migrate(APP, "dns")
    assert again.changed() == 0, again
    assert "nothing to change" in again.output

    rolled_back = env.migrate(APP, "dns-rollback")
    assert address_records(env, RECORD) == ORIGINAL
    assert "restored from " + env.backup_file in rolled_back.output
    assert env.audit()[-1]["action"] == "dns-rollback"
    # The HAProxy side did not move: the app is still at 100.
    assert env.recorded_step(APP) == 100


def test_dns_weight_and_route_are_checked(env):
    bad_weight = env.migrate(APP, "dns", "-e", "dns_weight=256", check=False)
    assert bad_weight.returncode != 0 and "invalid dns_weight 256" in bad_weight.output, bad_weight
    weight_on_a_step = env.migrate(APP, 50, "-e", "dns_weight=10", check=False)
    assert weight_on_a_step.returncode != 0 and "dns_weight applies to step=dns only" in weight_on_a_step.output
    with_route = env.playbook("migrate.yml", "-e", "app=application-02", "-e", "route=v1", "-e", "step=dns",
                              check=False)
    assert with_route.returncode != 0 and "omit -e route" in with_route.output, with_route


def test_the_standard_environment_variables_reach_aws_without_options(env):
    """AWS_ENDPOINT_URL, AWS_REGION and the key pair from the environment, as boto3's chain takes them."""
    saved = dict(env.env)
    env.env.update(AWS_ENDPOINT_URL=env.moto_url, AWS_REGION="eu-west-3", AWS_ACCESS_KEY_ID="testing",
                   AWS_SECRET_ACCESS_KEY=SECRET)
    try:
        args = capacity_args(env)
        for key in ("region", "endpoint_url", "access_key", "secret_key"):
            args.pop(key)
        result = adhoc(env, "cloudshift.migration.capacity_check", args, verbosity=3)
    finally:
        env.env.clear()
        env.env.update(saved)
    assert not result.failed, result.output
    assert result["passed"] is True and result["asg"]["name"] == "nodes.cloudshift.local"
    assert SECRET not in result.output


def test_ramp_stops_at_0_while_the_elb_is_unhealthy(env):
    env.migrate(APP, 0, "-e", "force=true")
    env.democtl("elb", APP, "unhealthy")
    try:
        ramp = env.playbook("ramp.yml", "-e", "app=" + APP, "-e", '{"steps": [5, 10]}', "-e", "interval=2",
                            "-e", "threshold=2", check=False)
    finally:
        env.democtl("elb", APP, "healthy")
    assert ramp.returncode != 0
    assert "ramp stopped: application-01 stays at step 0, the cloud side is not healthy" in ramp.output, ramp
    assert env.recorded_step(APP) == 0 and env.weights(APP)[CLOUD] == 0
