"""The pure parts of the AWS layer: input checks, Route53 planning, the capacity checks, the ELB's
target verdicts, the app model's cloud/dns entries and the DNS soak."""

import datetime

import pytest
from botocore.exceptions import ClientError

from ansible_collections.cloudshift.migration.plugins.module_utils import aws, capacity, cloud_model, elb, route53

ELB = {"dns_name": "k8s-prod-1.eu-west-3.elb.amazonaws.com", "hosted_zone_id": "Z3Q77PNBQS71R4"}
OLD_A = {"Name": "application-02.6play.fr.", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "10.12.0.7"}]}


def cutover_params(**values):
    params = dict((key, spec.get("default")) for key, spec in route53.ARGUMENT_SPEC.items())
    params.update(region="eu-west-3", zone="6play.fr", record="application-02.6play.fr", load_balancer="k8s-prod")
    params.update(values)
    return params


# -- aws ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("params, message", [
    ({}, "no AWS region: set region (or AWS_REGION / AWS_DEFAULT_REGION)"),
    ({"region": "Paris"}, "invalid AWS region 'Paris'"),
    ({"region": "eu-west-3", "endpoint_url": "localhost:4566"}, "invalid endpoint_url 'localhost:4566'"),
    ({"region": "eu-west-3", "max_attempts": 0}, "invalid max_attempts 0: 1 to 20"),
    ({"region": "eu-west-3", "access_key": "AKIA"}, "access_key and secret_key go together"),
])
def test_aws_problems_name_the_bad_value(params, message):
    problems = aws.aws_problems(params)
    assert len(problems) == 1 and problems[0].startswith(message), problems


def test_aws_problems_accept_good_settings_and_never_show_a_secret():
    assert aws.aws_problems({"region": "eu-west-3", "endpoint_url": "http://127.0.0.1:4566",
                             "access_key": "AKIA", "secret_key": "s3cr3t", "max_attempts": 5}) == []
    assert "s3cr3t" not in " ".join(aws.aws_problems({"region": "x", "secret_key": "s3cr3t"}))


def test_throttling_is_recognised_and_described_with_its_retries():
    error = ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"},
                         "ResponseMetadata": {"RetryAttempts": 4}}, "ChangeResourceRecordSets")
    assert aws.is_throttling(error)
    assert aws.describe_error(error, "change www.6play.fr.") == \
        "cannot change www.6play.fr.: Throttling: Rate exceeded (after 4 retries)"
    other = ClientError({"Error": {"Code": "NoSuchHostedZone", "Message": "gone"}}, "GetHostedZone")
    assert not aws.is_throttling(other)


def test_client_config_counts_the_first_call_in_max_attempts():
    config = aws.client_config({"retry_mode": "adaptive", "max_attempts": 3})
    assert config.retries == {"mode": "adaptive", "total_max_attempts": 3}


# -- route53: input ----------------------------------------------------------------------------------

@pytest.mark.parametrize("values, message", [
    ({"record": "application-02.example.com"}, "record application-02.example.com. is not in zone 6play.fr."),
    ({"record": "6play.fr", "type": "cname"}, "the zone apex 6play.fr. cannot be a CNAME"),
    ({"record": "bad name.6play.fr"}, "invalid record 'bad name.6play.fr'"),
    ({"load_balancer": None}, "give the target as load_balancer (its name) or as target_dns_name, not neither"),
    ({"target_dns_name": "x.elb.amazonaws.com"}, "give the target as load_balancer (its name) or as target_dns_name, not both"),
    ({"load_balancer": None, "target_dns_name": "x.elb.amazonaws.com"}, "an alias to target_dns_name needs"),
    ({"load_balancer": "k8s;prod"}, "invalid load_balancer 'k8s;prod'"),
    ({"weight": 256}, "invalid weight 256: Route53 weights are 0 to 255"),
    ({"weight": 0, "onprem_weight": 0}, "weight and onprem_weight are both 0"),
    ({"onprem_weight": 5}, "onprem_weight goes with weight"),
    ({"ttl": -1}, "invalid ttl -1"),
    ({"type": "cname", "ipv6": True}, "ipv6 goes with type alias"),
    ({"set_identifier": "onprem"}, "set_identifier and onprem_set_identifier are both 'onprem'"),
    ({"region": None}, "no AWS region"),
])
def test_cutover_input_problems_name_the_bad_value(values, message):
    problems = route53.input_problems(cutover_params(**values))
    assert any(problem.startswith(message) for problem in problems), problems


def test_restore_needs_a_backup_and_no_region_for_route53():
    assert route53.input_problems(cutover_params(state="restore", region=None, backup_file="/tmp/b.json")) == []
    assert route53.input_problems(cutover_params(state="restore")) == [
        "state restore needs backup_file: the record sets saved by the cutover"]


# -- route53: planning -------------------------------------------------------------------------------

def test_plain_cutover_replaces_the_a_record_with_an_alias_in_one_batch():
    desired = route53.desired_sets(cutover_params(), [OLD_A], ELB)
    assert desired == [{"Name": "application-02.6play.fr.", "Type": "A",
                        "AliasTarget": {"HostedZoneId": ELB["hosted_zone_id"], "DNSName": ELB["dns_name"],
                                        "EvaluateTargetHealth": True}}]
    changes = route53.change_batch([OLD_A], desired)
    assert [change["Action"] for change in changes] == ["UPSERT"]  # same name and type: one upsert
    assert route53.change_batch(desired, desired) == []


def test_cutover_with_ipv6_and_cname():
    assert [item["Type"] for item in route53.desired_sets(cutover_params(ipv6=True), [OLD_A], ELB)] == ["A", "AAAA"]
    (cname,) = route53.desired_sets(cutover_params(type="cname", ttl=30), [OLD_A], ELB)
    assert cname == {"Name": "application-02.6play.fr.", "Type": "CNAME", "TTL": 30,
                     "ResourceRecords": [{"Value": ELB["dns_name"]}]}
    changes = route53.change_batch([OLD_A], [cname])
    assert [(change["Action"], change["ResourceRecordSet"]["Type"]) for change in changes] == \
        [("DELETE", "A"), ("UPSERT", "CNAME")]


def test_weighted_cutover_keeps_the_old_record_with_the_rest_of_the_weight():
    desired = route53.desired_sets(cutover_params(weight=10), [OLD_A], ELB)
    by_id = dict((item["SetIdentifier"], item) for item in desired)
    assert by_id["onprem"]["Weight"] == 245 and by_id["onprem"]["ResourceRecords"] == OLD_A["ResourceRecords"]
    assert by_id["cloud"]["Weight"] == 10 and by_id["cloud"]["AliasTarget"]["DNSName"] == ELB["dns_name"]
    # The unweighted A goes and the two weighted ones come, in one batch.
    changes = route53.change_batch([OLD_A], desired)
    assert sorted((change["Action"], change["ResourceRecordSet"].get("SetIdentifier")) for change in changes) == \
        [("DELETE", None), ("UPSERT", "cloud"), ("UPSERT", "onprem")]
    # A later stage moves the weights only; the full cutover drops the on-prem record.
    later = route53.desired_sets(cutover_params(weight=200), desired, ELB)
    assert sorted(item["Weight"] for item in later) == [55, 200]
    final = route53.desired_sets(cutover_params(), desired, ELB)
    assert [item.get("SetIdentifier") for item in final] == [None]


def test_weighted_cutover_refuses_mixing_a_cname_with_alias_records():
    old_cname = {"Name": "application-02.6play.fr.", "Type": "CNAME", "TTL": 60,
                 "ResourceRecords": [{"Value": "front.6play.fr"}]}
    with pytest.raises(route53.CutoverError, match="is a CNAME today"):
        route53.desired_sets(cutover_params(weight=10), [old_cname], ELB)


def test_record_sets_compare_as_route53_means_them():
    listed = {"Name": "Application-02.6play.fr", "Type": "A",
              "AliasTarget": {"HostedZoneId": "/hostedzone/" + ELB["hosted_zone_id"],
                              "DNSName": "dualstack." + ELB["dns_name"].upper() + ".", "EvaluateTargetHealth": True}}
    (desired,) = route53.desired_sets(cutover_params(), [OLD_A], ELB)
    assert route53.same_record_set(listed, desired)
    assert route53.points_at(listed, ELB) and not route53.points_at(OLD_A, ELB)


def test_sets_text_and_table_show_before_after_and_the_change():
    desired = route53.desired_sets(cutover_params(weight=10), [OLD_A], ELB)
    text = route53.sets_text(desired)
    assert text.splitlines() == [
        "application-02.6play.fr. A [cloud weight 10] ALIAS %s (zone %s, evaluate target health yes)"
        % (ELB["dns_name"], ELB["hosted_zone_id"]),
        "application-02.6play.fr. A [onprem weight 245] TTL 60 10.12.0.7"]
    lines = route53.table({"record": "application-02.6play.fr.", "zone_id": "Z1", "state": "cutover",
                           "before": [OLD_A], "after": desired, "changed": True, "changes": [1, 2, 3],
                           "change_id": "C9", "status": "INSYNC", "waited_seconds": 1.5,
                           "backup_file": "/audit/application-02.dns-backup.json"})
    assert lines[0] == "application-02.6play.fr. in zone Z1 (cutover)"
    assert lines[1] == "  before  application-02.6play.fr. A TTL 60 10.12.0.7"
    assert lines[2].startswith("  after   ") and lines[3].startswith("          ")
    assert "  change C9 INSYNC after 1.5 s" in lines
    assert lines[-1] == "  previous record kept in /audit/application-02.dns-backup.json"


def test_wait_insync_polls_until_insync_or_times_out():
    class FakeRoute53:  # the one stand-in here: a pure polling loop, no AWS behaviour
        def __init__(self, statuses):
            self.statuses = list(statuses)

        def get_change(self, Id):
            return {"ChangeInfo": {"Id": Id, "Status": self.statuses.pop(0)}}

    clock = [0.0]
    status, waited = route53.wait_insync(FakeRoute53(["PENDING", "PENDING", "INSYNC"]), {"Id": "C1", "Status": "PENDING"},
                                         60, sleep=lambda s: clock.__setitem__(0, clock[0] + s), clock=lambda: clock[0])
    assert status == "INSYNC" and waited > 0
    clock = [0.0]
    with pytest.raises(route53.CutoverError, match="C1"):
        route53.wait_insync(FakeRoute53(["PENDING"] * 100), {"Id": "C1", "Status": "PENDING"}, 10,
                            sleep=lambda s: clock.__setitem__(0, clock[0] + s), clock=lambda: clock[0])


# -- capacity ----------------------------------------------------------------------------------------

NOW = datetime.datetime(2026, 12, 3, 12, 0, 0, tzinfo=datetime.timezone.utc)


def node(name, status="True", hours_ago=24, group="nodes"):
    since = (NOW - datetime.timedelta(hours=hours_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"metadata": {"name": name, "labels": {"kops.k8s.io/instancegroup": group}},
            "status": {"conditions": [{"type": "MemoryPressure", "status": "False"},
                                      {"type": "Ready", "status": status, "lastTransitionTime": since}]}}


@pytest.mark.parametrize("text, expected", [
    ("--nodes=3:10:nodes.k8s.6play.fr", {"min": 3, "max": 10, "name": "nodes.k8s.6play.fr"}),
    ("4:4:nodes", {"min": 4, "max": 4, "name": "nodes"}),
])
def test_parse_nodes_flag(text, expected):
    assert capacity.parse_nodes_flag(text) == expected


@pytest.mark.parametrize("text, message", [("3-10", "expected --nodes=MIN:MAX:NAME"), ("10:3:n", "min 10 above max 3")])
def test_parse_nodes_flag_refuses_naming_the_value(text, message):
    with pytest.raises(capacity.CapacityError, match=message) as raised:
        capacity.parse_nodes_flag(text)
    assert repr(text) in str(raised.value)


def test_autoscaler_groups_from_a_deployment_and_picking_the_asg():
    deployment = {"kind": "Deployment", "spec": {"template": {"spec": {"containers": [
        {"name": "cluster-autoscaler", "command": ["./cluster-autoscaler", "--nodes=3:10:nodes.a"],
         "args": ["--nodes=1:2:spot.a"]}]}}}}
    groups = capacity.autoscaler_groups([deployment])
    assert groups == [{"min": 3, "max": 10, "name": "nodes.a"}, {"min": 1, "max": 2, "name": "spot.a"}]
    assert capacity.pick_group(groups, "spot.a", "m.yaml")["max"] == 2
    with pytest.raises(capacity.CapacityError, match="names Auto Scaling group other"):
        capacity.pick_group(groups, "other", "m.yaml")
    with pytest.raises(capacity.CapacityError, match="give asg_name"):
        capacity.pick_group(groups, None, "m.yaml")


def test_node_readiness_reads_kubectl_json_with_labels():
    nodes = capacity.node_readiness({"items": [node("a"), node("b", "Unknown", 48), node("c", "False", 0.01),
                                               node("d", group="spot")]},
                                    labels={"kops.k8s.io/instancegroup": "nodes"}, now=NOW)
    assert [(item["name"], item["ready"], item["status"]) for item in nodes] == \
        [("a", True, "Ready"), ("b", False, "Unknown"), ("c", False, "NotReady")]
    assert nodes[1]["seconds"] == 48 * 3600
    with pytest.raises(capacity.CapacityError, match="kubectl get nodes -o json"):
        capacity.node_readiness({"kind": "Node"})


def verdicts(checks):
    return dict((item["check"], item["status"]) for item in checks)


def test_the_reports_asg_min_4_against_autoscaler_min_3_fails_with_both_numbers():
    checks = capacity.evaluate({"name": "nodes.k8s", "min": 4, "max": 10, "desired": 4},
                               {"min": 3, "max": 10, "name": "nodes.k8s"}, None)
    assert verdicts(checks)["autoscaler_min"] == "fail"
    (message,) = [item["message"] for item in checks if item["check"] == "autoscaler_min"]
    assert message.startswith("cluster-autoscaler min 3 != ASG nodes.k8s min 4")
    assert verdicts(checks)["autoscaler_max"] == "pass"


def test_consistent_values_pass_every_check():
    nodes = capacity.node_readiness({"items": [node("a"), node("b"), node("c")]}, now=NOW)
    checks = capacity.evaluate({"name": "nodes.k8s", "min": 3, "max": 10, "desired": 3},
                               {"min": 3, "max": 10, "name": "nodes.k8s"}, nodes)
    assert set(verdicts(checks).values()) == {"pass"}, checks


def test_ready_nodes_against_the_asg_bounds_and_nodes_stuck_not_ready():
    asg = {"name": None, "min": 3, "max": 10, "desired": None}
    full = capacity.node_readiness({"items": [node(str(index)) for index in range(10)]}, now=NOW)
    checks = capacity.evaluate(asg, None, full)
    assert verdicts(checks)["ready_max"] == "fail"
    assert [item["message"] for item in checks if item["check"] == "ready_max"] == [
        "10 Ready nodes > 90% of ASG max 10 (9.0): no room left to scale out"]
    # The report: two of three nodes in Unknown for days; one just now is given the grace.
    mixed = capacity.node_readiness({"items": [node("a"), node("b", "Unknown", 72), node("c", "Unknown", 0.01)]},
                                    now=NOW)
    checks = capacity.evaluate(asg, None, mixed, not_ready_grace=300)
    (stuck,) = [item for item in checks if item["check"] == "not_ready"]
    assert stuck["status"] == "fail" and "b Unknown for 259200 s" in stuck["message"]
    assert "not Ready for less: c" in stuck["message"]
    assert verdicts(checks)["ready_min"] == "fail"


def test_asg_without_a_name_reads_cleanly():
    checks = capacity.evaluate({"name": None, "min": 4, "max": 10}, {"min": 3, "max": 10, "name": "x"}, None)
    assert checks[0]["message"].startswith("cluster-autoscaler min 3 != ASG min 4")


def test_capacity_input_problems():
    base = dict((key, spec.get("default")) for key, spec in capacity.ARGUMENT_SPEC.items())
    assert any("asg_name" in problem for problem in capacity.input_problems(dict(base, region="eu-west-3")))
    problems = capacity.input_problems(dict(base, asg_min=3, asg_max=10, autoscaler_nodes="x"))
    assert any("'x'" in problem for problem in problems), problems


# -- elb ---------------------------------------------------------------------------------------------

def target(target_id, state="healthy", reason=None, description=None):
    return {"id": target_id, "port": 443, "state": state, "reason": reason, "description": description}


def test_group_problems_name_every_target_that_is_not_healthy():
    slow = target("i-2", "unhealthy", "Target.Timeout", "Request timed out")
    groups = [{"name": "application-02", "targets": [target("i-1"), slow]},
              {"name": "empty", "targets": []}]
    problems = elb.group_problems(groups, min_healthy=2)
    assert problems == ["target group application-02: 1 of 2 targets healthy, need 2: "
                        "i-2:443 unhealthy (Target.Timeout: Request timed out)",
                        "target group empty has no registered targets"]
    assert groups[0]["healthy"] == 1 and groups[0]["total"] == 2
    assert elb.group_problems([{"name": "g", "targets": [target("i-1")]}], 1) == []


@pytest.mark.parametrize("values, message", [
    ({"load_balancer": "-bad"}, "invalid load_balancer '-bad'"),
    ({"target_groups": ["a b"]}, "invalid target group 'a b'"),
    ({"probe": {"port": 0}}, "invalid probe port 0"),
    ({"probe": {"path": "HealthCheck"}}, "invalid probe path 'HealthCheck'"),
    ({"probe": {"host": "bad host"}}, "invalid probe host 'bad host'"),
    ({"probe": {"expect_status": [700]}}, "invalid probe expect_status 700"),
])
def test_elb_input_problems_name_the_bad_value(values, message):
    params = dict((key, spec.get("default")) for key, spec in elb.ARGUMENT_SPEC.items())
    params.update(region="eu-west-3", load_balancer="k8s-prod")
    probe = values.pop("probe", None)
    if probe is not None:
        params["probe"] = dict(dict((key, spec.get("default")) for key, spec in elb.PROBE_SPEC.items()), **probe)
    params.update(values)
    problems = elb.input_problems(params)
    assert any(problem.startswith(message) for problem in problems), problems


# -- the app model's cloud and dns, and the DNS soak ------------------------------------------------

APP = {"name": "application-02", "host": "application-02.6play.fr", "health_check": {"path": "/HealthCheck"},
       "cloud": {"load_balancer": "k8s-prod", "target_groups": ["application-02"],
                 "cluster": {"asg_name": "nodes.k8s", "autoscaler_nodes": "3:10:nodes.k8s", "ready_nodes": 3}},
       "dns": {"zone": "6play.fr", "soak_seconds": 3600}}
AWS = {"region": "eu-west-3"}


def with_changes(**changes):
    app = dict(APP, cloud=dict(APP["cloud"]), dns=dict(APP["dns"]))
    for key, value in changes.items():
        section, name = key.split("__")
        app[section][name] = value
    return app


def test_a_good_cloud_side_has_no_problem():
    assert cloud_model.cloud_problems([APP], AWS, "/etc/haproxy/ca.crt") == []


@pytest.mark.parametrize("app, message", [
    (with_changes(cloud__loadbalancer="typo"), "app application-02 cloud: it has unknown key loadbalancer"),
    (with_changes(dns__zone=None), "app application-02 dns: zone (the Route53 hosted zone, e.g. 6play.fr) is required"),
    (with_changes(dns__soak_seconds=-5), "app application-02 dns: invalid soak_seconds -5"),
    (with_changes(dns__record="www.example.com"), "app application-02 dns: record www.example.com. is not in zone 6play.fr."),
    (with_changes(dns__type="txt"), "app application-02 dns: invalid type 'txt'"),
    (with_changes(cloud__load_balancer_type="alb"), "app application-02 cloud: invalid load_balancer_type 'alb'"),
    (with_changes(cloud__cluster={"asg_name": "n", "autoscaler_nodes": "3-10"}),
     "app application-02 cloud: cluster: invalid cluster-autoscaler node group '3-10'"),
    (with_changes(cloud__cluster={"asg_name": "n", "kubernetes": "~/.kube/config"}),
     "app application-02 cloud: cluster: kubernetes must be a dict (kubeconfig or in_cluster...), got '~/.kube/config'"),
    (with_changes(cloud__cluster={"asg_name": "n", "kubernetes": {"kubeconfig": "/nonexistent/kube"}}),
     "app application-02 cloud: cluster: kubernetes.kubeconfig /nonexistent/kube is not a file"),
    (with_changes(cloud__cluster={"asg_name": "n", "kubernetes": {"in_cluster": True, "timeout": 3}}),
     "app application-02 cloud: cluster: kubernetes has unknown key timeout (known: kubeconfig, context, in_cluster"),
])
def test_cloud_problems_name_the_app_and_the_value(app, message):
    problems = cloud_model.cloud_problems([app], AWS)
    assert any(problem.startswith(message) for problem in problems), problems


def test_cloud_problems_check_the_aws_settings_only_when_an_app_uses_aws():
    assert cloud_model.cloud_problems([{"name": "on-prem-only"}], {}) == []
    assert cloud_model.cloud_problems([APP], {}) == [
        "migration_aws: no AWS region: set region (or AWS_REGION / AWS_DEFAULT_REGION)"]
    assert cloud_model.cloud_problems([APP], {"region": "eu-west-3", "regoin": "x"}) == [
        "migration_aws has unknown key regoin (known: %s)" % ", ".join(cloud_model.AWS_KEYS)]


def test_the_probe_mirrors_haproxys_check():
    probe = cloud_model.cloud_probe(APP, "/etc/haproxy/ca.crt")
    assert (probe["path"], probe["host"], probe["ca_file"], probe["port"], probe["scheme"]) == \
        ("/HealthCheck", "application-02.6play.fr", "/etc/haproxy/ca.crt", 443, "https")


def test_dns_soak_problems():
    at = "2026-12-03T11:00:00+00:00"
    ready = {"node-a": {"step": 100, "updated_at": at}, "node-b": {"step": 100, "updated_at": at}}
    assert cloud_model.dns_soak_problems(ready, 3600, "application-02", now=NOW) == []
    early = cloud_model.dns_soak_problems(ready, 7200, "application-02", now=NOW)
    assert early == ["application-02 has been at step 100 on %s for 3600 s of the 7200 s soak (dns.soak_seconds): "
                     "3600 s to go" % name for name in ("node-a", "node-b")]
    behind = dict(ready, **{"node-b": {"step": 75, "updated_at": at}, "node-c": {"step": None}})
    problems = cloud_model.dns_soak_problems(behind, 60, "application-02", now=NOW)
    assert problems == ["application-02 is at step 75 on node-b, not 100: DNS moves only once the cloud takes all the traffic",
                        "application-02 is at step none recorded on node-c, not 100: DNS moves only once the cloud "
                        "takes all the traffic"]
    assert "no valid time" in cloud_model.dns_soak_problems({"n": {"step": 100, "updated_at": "yesterday"}}, 1, "a")[0]


def test_the_example_inventory_has_a_valid_cloud_side():
    import os
    import yaml
    root = os.path.join(os.path.dirname(__file__), "..", "..", "inventories", "example", "group_vars", "haproxy")
    apps = []
    for number in ("01", "02"):
        with open(os.path.join(root, "application-%s.yml" % number)) as handle:
            apps.append(yaml.safe_load(handle)["cloudshift_app_application_%s" % number])
    with open(os.path.join(root, "haproxy.yml")) as handle:
        settings = yaml.safe_load(handle)
    assert all(app.get("cloud") and app.get("dns") for app in apps)
    assert cloud_model.cloud_problems(apps, settings["migration_aws"], settings["haproxy_ca_file"]) == []


def saved_backup(record="application-02.6play.fr.", record_sets=None, zone_id="Z123"):
    sets = record_sets if record_sets is not None else [
        {"Name": "application-02.6play.fr.", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "192.0.2.10"}]}]
    data = {"format": route53.BACKUP_FORMAT, "zone_id": zone_id, "record": record, "record_sets": sets}
    data["digest"] = route53.backup_digest(data)
    return data


def test_a_backup_as_the_cutover_wrote_it_is_restorable():
    assert route53.backup_problems(saved_backup(), "Z123", "application-02.6play.fr.") == []
    assert route53.backup_problems(saved_backup(), None, "application-02.6play.fr.") == []


def test_an_edited_backup_is_refused_naming_what_is_wrong():
    # Issue 18 #5: a backup edited to name evil.6play.fr. deleted the app's record and created the other one.
    edited = saved_backup()
    edited["record_sets"][0]["Name"] = "evil.6play.fr."
    problems = route53.backup_problems(edited, "Z123", "application-02.6play.fr.")
    assert problems[0].startswith("its digest does not match its content (digest ")
    assert "record set 1 names evil.6play.fr., not the app's record application-02.6play.fr." in problems
    # Even with its digest recomputed, a backup can only put back the app's own name and address types.
    forged = saved_backup(record_sets=[{"Name": "evil.6play.fr.", "Type": "A", "ResourceRecords": [{"Value": "x"}]},
                                       {"Name": "application-02.6play.fr.", "Type": "TXT", "ResourceRecords": [{"Value": "x"}]}])
    problems = route53.backup_problems(forged, "Z123", "application-02.6play.fr.")
    assert problems == ["record set 1 names evil.6play.fr., not the app's record application-02.6play.fr.",
                        "record set 2 of application-02.6play.fr. has type 'TXT': a restore puts back only A/AAAA/CNAME"]
    other_zone = route53.backup_problems(saved_backup(zone_id="Z999"), "Z123", "application-02.6play.fr.")
    assert other_zone == ["it was saved from zone Z999, the app's zone is Z123"]
    other_record = route53.backup_problems(saved_backup(), "Z123", "application-01.6play.fr.")
    assert "it holds application-02.6play.fr., not the app's record application-01.6play.fr." in other_record
    unsigned = saved_backup()
    del unsigned["digest"]
    assert route53.backup_problems(unsigned, "Z123", "application-02.6play.fr.") == [
        "its digest does not match its content (no digest): it was changed after the cutover wrote it"]
    assert route53.backup_problems(saved_backup(record_sets=[]), "Z123", "application-02.6play.fr.") == [
        "it holds no record set"]


def test_the_clusters_api_reads_the_deployment_the_apps_alerts_watch_unless_it_names_its_own():
    app = with_changes(cloud__cluster={"asg_name": "n", "kubernetes": {"in_cluster": True}})
    app["alerts"] = {"deployment": {"name": "application-02"}}
    params = cloud_model.capacity_params(app, AWS)
    assert params["kubernetes"]["deployment"] == {"namespace": "default", "name": "application-02"}
    assert params["kubernetes"]["autoscaler_status_configmap"] == "cluster-autoscaler-status"
    app["cloud"]["cluster"]["kubernetes"]["deployment"] = {"namespace": "web", "name": "api"}
    assert cloud_model.capacity_params(app, AWS)["kubernetes"]["deployment"] == {"namespace": "web", "name": "api"}
