"""The deploy stage's pure parts: the server-state file pointed at where haproxy.cfg puts each server, the endpoint in
the state store and in the app model, the DNS packets, the endpoint's check and read back, and deploy.yml's request."""

import json
import os
import socket
import struct
import sys

import pytest

from ansible_collections.cloudshift.migration.plugins.module_utils import dns, endpoint
from ansible_collections.cloudshift.migration.plugins.module_utils.app_model.model import resolve
from ansible_collections.cloudshift.migration.plugins.module_utils.app_model.model import AppModelError
from ansible_collections.cloudshift.migration.plugins.module_utils.app_model.request import deploy_request
from ansible_collections.cloudshift.migration.plugins.module_utils.app_model.validation import app_model_problems
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy import endpoints, state
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.server_state import (
    address_fields, with_addresses, write_server_state_file)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration"))
import dns_standin  # noqa: E402  (the tests' DNS server: its answers are what the client must parse)

HEADER = ("1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight "
          "srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state "
          "srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port "
          "srv_check_addr srv_agent_addr srv_agent_port\n")
OLD_ELB = "k8s-default-app01-aaaa-1.eu-west-3.elb.amazonaws.com"
NEW_ELB = "k8s-default-app01-bbbb-2.eu-west-3.elb.amazonaws.com"
SAVED = HEADER + (
    "3 application-01 1 aws-cloud 10.0.0.7 2 0 50 0 41 6 3 4 6 0 0 0 %s 443 - 1 0 - - 0\n"
    "3 application-01 2 onprem 127.0.0.1 2 0 50 100 41 6 3 4 6 0 0 0 - 8181 - 0 0 - - 0" % OLD_ELB)


def fields_of(text, server):
    return next(line.split(" ") for line in text.split("\n") if " %s " % server in line)


# -- the server-state file ------------------------------------------------------------------------

def test_a_moved_name_gets_its_new_name_port_and_the_address_it_was_checked_at_every_other_field_kept():
    moved = with_addresses(SAVED, {"application-01": {"aws-cloud": {"address": NEW_ELB, "port": 8443,
                                                                    "resolved": "10.0.0.9"}}})
    line = fields_of(moved, "aws-cloud")
    assert (line[4], line[17], line[18]) == ("10.0.0.9", NEW_ELB, "8443")
    before = fields_of(SAVED, "aws-cloud")
    assert line[:4] + line[5:17] + line[19:] == before[:4] + before[5:17] + before[19:]
    assert fields_of(moved, "onprem") == fields_of(SAVED, "onprem")  # not listed: as saved


def test_a_new_name_never_resolved_starts_without_an_address_and_a_port_change_alone_keeps_it():
    unresolved = address_fields(fields_of(SAVED, "aws-cloud"), {"address": NEW_ELB, "port": 443, "resolved": None})
    assert (unresolved[4], unresolved[17], unresolved[18]) == ("-", NEW_ELB, "443")
    port_only = address_fields(fields_of(SAVED, "aws-cloud"), {"address": OLD_ELB.upper(), "port": 8443})
    assert (port_only[4], port_only[17], port_only[18]) == ("10.0.0.7", OLD_ELB.upper(), "8443")  # the same name


def test_a_server_already_where_the_configuration_puts_it_keeps_its_line_and_an_ip_replaces_a_name():
    same = {"application-01": {"aws-cloud": {"address": OLD_ELB, "port": 443, "resolved": "10.9.9.9"},
                               "onprem": {"address": "127.0.0.1", "port": 8181, "resolved": None}}}
    assert with_addresses(SAVED, same) == SAVED
    to_ip = address_fields(fields_of(SAVED, "aws-cloud"), {"address": "192.0.2.10", "port": 8443})
    assert (to_ip[4], to_ip[17], to_ip[18]) == ("192.0.2.10", "-", "8443")


def test_the_file_written_before_a_reload_holds_both_the_weights_and_the_addresses(tmp_path):
    path = str(tmp_path / "server-state")
    write_server_state_file(SAVED, path, weights={"application-01": {"aws-cloud": [25, 0]}},
                            addresses={"application-01": {"aws-cloud": {"address": NEW_ELB, "port": 443}}})
    line = fields_of(open(path).read(), "aws-cloud")
    assert (line[7], line[8], line[17], line[4]) == ("25", "0", NEW_ELB, "-")


@pytest.mark.parametrize("value, message", [
    ({"application-01": [1]}, "server_addresses[application-01] must be a mapping of server names"),
    ({"b": {"s": {"address": "x y", "port": 1}}}, "server_addresses[b][s] must be {address"),
    ({"b": {"s": {"address": "x", "port": 0}}}, "got {'address': 'x', 'port': 0}"),
    ({"b": {"s": {"address": "x", "port": 80, "resolved": 7}}}, "resolved: an IP or null"),
])
def test_bad_server_addresses_are_refused_naming_the_entry(value, message):
    from ansible_collections.cloudshift.migration.plugins.modules.haproxy_service import server_addresses
    with pytest.raises(ValueError) as raised:
        server_addresses(value)
    assert message in str(raised.value)


# -- the endpoint in the state store and in the app model --------------------------------------------

ELB = {"address": OLD_ELB, "port": 443, "kind": "application", "name": "k8s-default-app01-aaaa",
       "found_by": "tagged kubernetes.io/service-name=default/application-01", "resolved": "10.0.0.7"}


def test_each_swap_keeps_the_endpoint_it_replaced_and_previous_puts_it_back_exactly():
    first = state.with_endpoint(None, "application-01", "aws-cloud", ELB, by="alice", at="t1")
    assert state.record_problem(first) is None
    assert first["endpoints"]["aws-cloud"]["previous"] is None and first["endpoints"]["aws-cloud"]["by"] == "alice"
    second = state.with_endpoint(first, "application-01", "aws-cloud", dict(ELB, address=NEW_ELB), at="t2")
    assert second["endpoints"]["aws-cloud"]["previous"]["address"] == OLD_ELB
    assert "previous" not in second["endpoints"]["aws-cloud"]["previous"]  # one level: no chain grows
    back = state.with_endpoint(second, "application-01", "aws-cloud", None)
    assert back["endpoints"]["aws-cloud"]["address"] == OLD_ELB and back["endpoints"]["aws-cloud"]["previous"] is None
    assert "endpoints" not in state.with_endpoint(back, "application-01", "aws-cloud", None)  # the inventory's again
    assert first["endpoints"]["aws-cloud"]["address"] == OLD_ELB  # pure: nothing given was changed


@pytest.mark.parametrize("endpoint_entry, problem", [
    (dict(ELB, port=70000), "endpoints.aws-cloud.port is 70000, not a port 1-65535"),
    (dict(ELB, address="a;b"), 'endpoints.aws-cloud.address is "a;b", not a host name or an IP address'),
    (dict(ELB, host="a b"), 'endpoints.aws-cloud.host is "a b", not a name or an address'),
    (dict(ELB, address="elb.example.com:443"), 'endpoints.aws-cloud.address is "elb.example.com:443", not a host name'),
    (dict(ELB, resolved="elb.example.com"), 'endpoints.aws-cloud.resolved is "elb.example.com", not an IP address'),
    (dict(ELB, weight=3), "endpoints.aws-cloud.weight is not a field of an endpoint"),
    (dict(ELB, previous=dict(ELB, previous=ELB)), "endpoints.aws-cloud.previous.previous holds a previous"),
])
def test_a_damaged_endpoint_in_the_record_is_named(endpoint_entry, problem):
    record = {"app": "application-01", "step": 0, "endpoints": {"aws-cloud": endpoint_entry}}
    assert state.record_problem(record).startswith(problem.split(" holds")[0])


APPS = [{"name": "application-01", "host": "application-01.6play.fr", "servers": [
    {"name": "onprem", "side": "onprem", "address": "127.0.0.1", "port": 8181},
    {"name": "aws-cloud", "side": "cloud", "address": "placeholder.elb.amazonaws.com", "port": 443,
     "discover": {"service": {"name": "application-01"}, "cluster": "k8s.6play.fr"}}],
    "routes": [{"name": "v2", "match": {"prefix": "/v2/"}}]}]


def test_the_app_model_renders_a_server_at_its_recorded_endpoint_in_every_backend_of_the_app():
    recorded = {"application-01": state.with_endpoint(None, "application-01", "aws-cloud", ELB)}
    model = resolve(APPS, recorded)
    for backend in model["backends"]:
        cloud = next(server for server in backend["servers"] if server["name"] == "aws-cloud")
        assert (cloud["address"], cloud["port"], cloud["relay"]) == (OLD_ELB, 443, None)
        assert cloud["endpoint"]["inventory_address"] == "placeholder.elb.amazonaws.com"
    assert model["server_state_addresses"]["application-01--v2"]["aws-cloud"] == {
        "address": OLD_ELB, "port": 443, "resolved": "10.0.0.7"}
    unrecorded = resolve(APPS, {})
    assert unrecorded["server_state_addresses"]["application-01"]["aws-cloud"]["address"] == "placeholder.elb.amazonaws.com"


def test_a_function_url_gives_the_server_its_own_host_so_it_goes_through_a_relay():
    url = {"address": "abc.lambda-url.eu-west-3.on.aws", "port": 443, "host": "abc.lambda-url.eu-west-3.on.aws",
           "kind": "function_url"}
    model = resolve(APPS, {"application-01": state.with_endpoint(None, "application-01", "aws-cloud", url)})
    (relay,) = model["relays"]
    assert (relay["host"], relay["sni"], relay["address"]) == (url["host"], url["host"], url["address"])
    assert model["server_state_addresses"][relay["relay"]]["aws-cloud"]["address"] == url["address"]
    assert "aws-cloud" not in model["server_state_addresses"]["application-01"]  # abns@: reached through the relay


# -- the request and the app model's discover entry ---------------------------------------------------

def test_the_deploy_request_plans_each_discovered_server_with_the_probe_haproxys_check_makes():
    request, plan = deploy_request({"app": "application-01", "by": "alice"}, APPS, ["node-a"])
    assert (request["verb"], request["lock_node"], request["server"]) == ("deploy", "node-a", None)
    assert plan == [{"server": "aws-cloud",
                     "discover": {"service": {"namespace": "default", "name": "application-01"},
                                  "cluster": "k8s.6play.fr", "function": None, "qualifier": None},
                     "probe": {"scheme": "https", "path": "/", "host": "application-01.6play.fr", "sni": None,
                               "ca_file": "/etc/ssl/certs/ca-certificates.crt", "expect_status": [200]}}]


@pytest.mark.parametrize("request_args, message", [
    ({"app": "application-01", "server": "onprem"},
     'invalid server "onprem": the cloud servers of application-01 with a discover entry are aws-cloud'),
    ({"app": "nothing"}, 'unknown app "nothing"; known apps: application-01'),
    ({"app": "application-01", "lock_node": "node-z"}, 'invalid lock_node "node-z"'),
])
def test_a_bad_deploy_request_is_refused_naming_the_value(request_args, message):
    with pytest.raises(AppModelError) as raised:
        deploy_request(request_args, APPS, ["node-a"])
    assert message in str(raised.value)


def test_a_discover_entry_is_checked_by_the_one_validation():
    apps = json.loads(json.dumps(APPS))
    apps[0]["servers"][0]["discover"] = {"function": "fn"}
    apps[0]["servers"][1]["discover"] = {"service": {"name": "a"}, "function": "fn", "zone": "x"}
    problems = app_model_problems(apps)
    assert 'app "application-01" server "onprem": discover is for a cloud server (deploy.yml finds its endpoint in AWS)' in problems
    assert 'app "application-01" server "aws-cloud": discover has unknown key zone (known: service, cluster, function, qualifier)' in problems
    apps[0]["servers"][1]["discover"] = {"service": {"name": "a"}, "function": "fn"}
    assert any("discover: give the Kubernetes service (service: {namespace, name}) or the Lambda function" in problem
               for problem in app_model_problems(apps))


# -- DNS -------------------------------------------------------------------------------------------

def test_an_a_query_is_built_and_an_answer_with_a_compressed_name_parsed():
    packet = dns.query_packet("elb.example.com", 0x1234)
    ident, flags, name, qtype, _end = dns_standin.parse_question(packet)
    assert (ident, flags & 0x0100, name, qtype) == (0x1234, 0x0100, "elb.example.com", 1)
    reply, _name, _qtype = dns_standin.answer(packet, {"elb.example.com": "10.1.2.3"})
    assert dns.parse_answer(reply, 0x1234) == ["10.1.2.3"]
    with pytest.raises(dns.DnsError, match="NXDOMAIN"):
        dns.parse_answer(dns_standin.answer(packet, {})[0], 0x1234)
    with pytest.raises(dns.DnsError, match="not the one"):
        dns.parse_answer(reply, 0x9999)
    with pytest.raises(dns.DnsError, match="malformed"):
        dns.parse_answer(reply[:20], 0x1234)
    with pytest.raises(dns.DnsError, match="1 to 63"):
        dns.query_packet("a..b", 1)


def test_an_answer_skips_records_that_are_not_ipv4_addresses():
    packet = dns.query_packet("x.example", 7)
    question = packet[12:]
    cname = b"\xc0\x0c" + struct.pack(">HHIH", 5, 1, 60, 2) + b"\xc0\x0c"
    address = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton("192.0.2.1")
    reply = struct.pack(">HHHHHH", 7, 0x8180, 1, 2, 0, 0) + question + cname + address
    assert dns.parse_answer(reply, 7) == ["192.0.2.1"]


@pytest.mark.parametrize("nameserver, expected", [("10.0.0.2:53", ("10.0.0.2", 53)), ("10.0.0.2", ("10.0.0.2", 53))])
def test_a_nameserver_is_written_as_haproxy_takes_it(nameserver, expected):
    assert dns.split_nameserver(nameserver) == expected


def test_a_real_query_to_the_dns_standin_and_one_nobody_answers():
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    server = dns_standin.DnsStandin(port, {"elb.example.com": "10.1.2.3"})
    try:
        assert dns.resolve("elb.example.com", ["127.0.0.1:%d" % port]) == (["10.1.2.3"], "nameserver 127.0.0.1:%d" % port)
        with pytest.raises(dns.DnsError) as raised:
            dns.resolve("other.example.com", ["127.0.0.1:%d" % port])
        assert str(raised.value) == "other.example.com does not resolve (127.0.0.1:%d: NXDOMAIN)" % port
    finally:
        server.close()
    with pytest.raises(dns.DnsError, match="no answer within 0.2 s"):
        dns.resolve("elb.example.com", ["127.0.0.1:%d" % port], timeout=0.2)


# -- the endpoint's check and the read back -------------------------------------------------------------

def test_the_check_probes_the_address_the_name_resolved_to_under_the_functions_own_host():
    sent = []

    def send(request, address):
        sent.append(dict(request))
        return {"url": "https://%s:%d/" % (address, request["port"]), "host": request["host"], "sni": request["sni"],
                "ok": True, "status": 200, "error": None, "elapsed_ms": 1.0}
    found = {"address": "abc.lambda-url.eu-west-3.on.aws", "port": 443, "host": "abc.lambda-url.eu-west-3.on.aws"}
    checked = endpoint.check_endpoint(found, {"host": "application-01.6play.fr", "nameservers": ["10.0.0.2:53"]},
                                      resolve=lambda name, servers: (["10.1.1.1"], "nameserver %s" % servers[0]), send=send)
    assert checked["healthy"] and checked["resolved"] == ["10.1.1.1"]
    assert (sent[0]["address"], sent[0]["host"], sent[0]["sni"], sent[0]["port"]) == (
        "10.1.1.1", found["host"], found["host"], 443)

    def no_name(name, servers):
        raise dns.DnsError("%s does not resolve (the system's resolver)" % name)
    unresolved = endpoint.check_endpoint({"address": OLD_ELB, "port": 443}, {}, resolve=no_name, send=send)
    assert unresolved["problems"] == ["%s does not resolve (the system's resolver)" % OLD_ELB] and len(sent) == 1


def test_the_read_back_names_a_server_running_elsewhere_or_not_resolved_yet():
    rows = [{"be_name": "application-01", "srv_name": "aws-cloud", "srv_addr": "-", "srv_fqdn": NEW_ELB,
             "srv_port": 443},
            {"be_name": "application-01", "srv_name": "other", "srv_addr": "10.0.0.1", "srv_fqdn": "-",
             "srv_port": 80}]
    running = endpoints.running_endpoints(rows)
    wanted = {"application-01": {"aws-cloud": {"address": NEW_ELB, "port": 443}}}
    assert endpoints.read_back_problems(running, wanted) == [
        "application-01/aws-cloud: %s has not resolved to an address yet" % NEW_ELB]
    assert endpoints.read_back_problems(running, {"application-01": {"other": {"address": "10.0.0.2", "port": 80}}}) == [
        "application-01/other runs at 10.0.0.1:80, not 10.0.0.2:80"]
    assert endpoints.read_back_problems(running, {"x": {"y": {"address": "a", "port": 1}}}) == ["x/y is not in the running HAProxy"]
    assert endpoints.read_back_problems(running, wanted, require_address=False) == []  # status: there, resolving
    assert endpoints.expected_of({"a": {"s": 1, "t": 2}, "b": {"t": 3}}, ["s"]) == {"a": {"s": 1}}


def test_the_read_back_waits_for_the_resolvers_and_stops_at_the_deadline():
    answers = [[{"be_name": "b", "srv_name": "s", "srv_addr": "-", "srv_fqdn": "n.example", "srv_port": 443}],
               [{"be_name": "b", "srv_name": "s", "srv_addr": "10.0.0.3", "srv_fqdn": "n.example", "srv_port": 443}]]

    class Client(object):
        def show_servers_state(self):
            return answers.pop(0) if len(answers) > 1 else answers[0]
    clock = iter(range(100))
    result = endpoints.read_back(Client(), {"b": {"s": {"address": "n.example", "port": 443}}}, wait=10,
                                 sleep=lambda seconds: None, clock=lambda: next(clock))
    assert result["problems"] == [] and result["running"]["b/s"]["address"] == "10.0.0.3"


def test_manifests_need_files_a_cluster_to_apply_them_to_and_a_sane_rollout_timeout(tmp_path):
    manifest = tmp_path / "app.yaml"
    manifest.write_text("apiVersion: v1\nkind: Service\n")
    apps = json.loads(json.dumps(APPS))
    apps[0]["cloud"] = {"manifests": [str(manifest), "relative.yaml"], "rollout_timeout": 0}
    problems = app_model_problems(apps)
    assert any("manifests: 'relative.yaml' is not an absolute path to a file" in problem for problem in problems)
    assert any("manifests need cluster.kubernetes (kubeconfig or in_cluster)" in problem for problem in problems)
    assert any("rollout_timeout 0 is not a number of seconds from 1 to 3600" in problem for problem in problems)
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\n")
    apps[0]["cloud"] = {"manifests": [str(manifest)], "cluster": {"asg_min": 1, "asg_max": 3, "kubernetes": {
        "kubeconfig": str(kubeconfig), "context": "prod"}}}
    assert not [problem for problem in app_model_problems(apps) if "manifests" in problem or "rollout" in problem]
    request, _plan = deploy_request({"app": "application-01"}, apps, ["node-a"])
    assert request["manifests"] == {"manifests": [str(manifest)], "kubeconfig": str(kubeconfig), "context": "prod",
                                    "rollout_timeout": 300}
    apps[0]["servers"][1].pop("discover")
    request, plan = deploy_request({"app": "application-01"}, apps, ["node-a"])
    assert plan == [] and request["manifests"]["manifests"] == [str(manifest)]  # manifests only: nothing to find
    apps[0].pop("cloud")
    with pytest.raises(AppModelError, match="no cloud server with a discover entry and no manifests"):
        deploy_request({"app": "application-01"}, apps, ["node-a"])


def test_status_flags_a_cloud_server_running_elsewhere_but_not_one_whose_name_is_still_resolving():
    from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.drift import endpoint_rows
    model = resolve(APPS, {"application-01": state.with_endpoint(None, "application-01", "aws-cloud", ELB)})
    resolving = {("application-01", "aws-cloud"): {"address": None, "fqdn": OLD_ELB, "port": 443}}
    (row,) = endpoint_rows(resolving, model)
    assert (row["problem"], row["running"], row["wanted"]) == (None, "%s:443 (not resolved yet)" % OLD_ELB,
                                                               "%s:443" % OLD_ELB)
    assert row["recorded"] == "%s:443 [application k8s-default-app01-aaaa]" % OLD_ELB
    elsewhere = {("application-01", "aws-cloud"): {"address": "10.0.0.7", "fqdn": NEW_ELB, "port": 443}}
    (row,) = endpoint_rows(elsewhere, model)
    assert row["problem"].startswith("app application-01: application-01/aws-cloud runs at %s:443, not %s:443"
                                     % (NEW_ELB, OLD_ELB))
