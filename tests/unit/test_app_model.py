"""The one app model: resolve() gives every backend, its servers per side and weights, the maps and the shadow entries,
and the request checks name every bad value."""

import copy
import os

import pytest
import yaml

from ansible_collections.cloudshift.migration.plugins.module_utils.app_model import request as requests
from ansible_collections.cloudshift.migration.plugins.module_utils.app_model.model import (
    AppModelError, find_backend, resolve, target_backend)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FLEET = ["node-b", "node-a", "node-c"]


def local_apps():
    """The local inventory's app model, its Jinja ports made plain."""
    with open(os.path.join(ROOT, "inventories", "local", "group_vars", "haproxy", "apps.yml")) as handle:
        apps = yaml.safe_load(handle)["cloudshift_apps"]
    for number, app in enumerate(apps):
        for index, server in enumerate(app["servers"]):
            server["port"] = 8000 + 10 * number + index
        if app.get("shadow"):
            app["shadow"]["target"] = "https://127.0.0.1:8443"
    return apps


def test_every_app_and_route_is_a_backend_in_app_model_order():
    model = resolve(local_apps())
    assert [backend["name"] for backend in model["backends"]] == [
        "application-01", "application-02", "application-02--critical-payments", "application-02--customers",
        "application-02--v2", "application-02--v1"]
    customers = find_backend(model, "application-02--customers")
    assert customers["label"] == "application-02 route customers"
    assert (customers["step"], customers["step_source"]) == (25, "initial_step")
    assert customers["cloud_servers"] == ["aws-prod-Kubernetes-application-02"]
    assert customers["onprem_servers"] == ["onprem-prod-front-application-02"]
    assert customers["kind"] == "prefix" and customers["match"] == "/v2/customers/"


def test_recorded_steps_win_over_initial_steps_and_give_the_weights():
    recorded = {"application-02": {"app": "application-02", "step": 10, "routes": {"customers": {"step": 50}}}}
    model = resolve(local_apps(), recorded)
    assert find_backend(model, "application-02")["weights"] == {
        "onprem-prod-front-application-02": 90, "aws-prod-Kubernetes-application-02": 10}
    customers = find_backend(model, "application-02--customers")
    assert (customers["step"], customers["step_source"]) == (50, "state store")
    assert set(customers["weights"].values()) == {50}
    # The recorded app step does not move a route without its own record.
    assert find_backend(model, "application-02--v1")["step"] == 0


def test_step_100_makes_onprem_backup_with_the_backup_weight():
    v2 = find_backend(resolve(local_apps(), settings={"backup_weight": 7}), "application-02--v2")
    assert v2["onprem_backup"]
    onprem = [server for server in v2["servers"] if server["side"] == "onprem"]
    assert [(server["backup"], server["weight"]) for server in onprem] == [(True, 7)]
    cloud = [server for server in v2["servers"] if server["side"] == "cloud"]
    assert [(server["backup"], server["weight"]) for server in cloud] == [(False, 100)]


def test_cloud_servers_are_checked_hard_and_spoken_to_in_tls_by_default():
    model = resolve(local_apps(), settings={"ca_file": "/ca.crt"})
    servers = dict((server["side"], server) for server in find_backend(model, "application-01")["servers"])
    cloud, onprem = servers["cloud"], servers["onprem"]
    assert (cloud["tls"], cloud["verify"], cloud["check_sni"], cloud["ca_file"]) == (True, "required", "application-01.6play.fr", "/ca.crt")
    assert (cloud["sni"], cloud["host"], cloud["relay"]) == (None, "application-01.6play.fr", None)  # sni req.hdr(host)
    assert (cloud["inter"], cloud["fall"], cloud["rise"], cloud["observe_layer7"]) == ("1s", 1, 2, True)
    assert (onprem["tls"], onprem["inter"], onprem["observe_layer7"], onprem["ca_file"]) == (False, None, False, None)


def test_a_server_with_a_host_of_its_own_gets_one_relay_shared_by_the_apps_route_backends():
    apps = local_apps()
    lambda_host = "abc.lambda-url.eu-west-3.on.aws"
    apps[1]["servers"][1].update(host=lambda_host)
    model = resolve(apps, settings={"ca_file": "/ca.crt"})
    backends = [backend for backend in model["backends"] if backend["app"] == "application-02"]
    assert len(backends) > 1 and all(backend["has_relays"] for backend in backends)
    server = [item for item in backends[1]["servers"] if item["side"] == "cloud"][0]
    assert (server["host"], server["check_host"], server["sni"], server["check_sni"]) == (lambda_host,) * 4
    assert server["relay"] == "cloudshift-relay:application-02:aws-prod-Kubernetes-application-02"
    assert [(relay["relay"], relay["app_host"]) for relay in model["relays"]] == [
        (server["relay"], "application-02.6play.fr")]
    assert not find_backend(model, "application-01")["has_relays"]


def test_the_maps_and_their_paths_come_from_the_model():
    model = resolve(local_apps(), settings={"hosts_map": "/h/hosts.map", "routes_dir": "/r"})
    by_kind = dict((item["kind"], item) for item in model["maps"])
    assert by_kind["hosts"]["path"] == "/h/hosts.map"
    assert by_kind["hosts"]["entries"] == [{"key": "application-01.6play.fr", "value": "application-01"},
                                           {"key": "application-02.6play.fr", "value": "application-02"}]
    assert by_kind["prefix"]["path"] == "/r/prefix.map" and by_kind["prefix"]["match"] == "beg"
    assert by_kind["regex"]["path"] == "/r/application-02.regex.map"
    assert by_kind["regex"]["entries"][0]["value"] == "application-02--critical-payments"
    assert model["regex_apps"] == ["application-02"] and model["has_prefix_routes"]


def test_shadow_entries_get_their_defaults_once():
    shadow = resolve(local_apps())["shadow"]
    assert len(shadow) == 1
    assert shadow[0]["app"] == "application-01" and shadow[0]["methods"] == ["GET", "HEAD"]
    deny = ["/payments/", "^/admin\\b", "^/v1/(?#legacy)"]
    assert (shadow[0]["timeout_ms"], shadow[0]["max_inflight"], shadow[0]["deny"]) == (2000, 100, deny)
    assert shadow[0]["deny_cfg"] == ["'%s'" % regex for regex in deny] and shadow[0]["allow_cfg"] == ["'^/'"]


def test_thresholds_are_the_roles_then_the_apps_then_the_routes():
    apps = local_apps()
    apps[1]["gate"] = {"min_requests": 50}
    apps[1]["routes"][1]["gate"] = {"max_diff_ms": 5}
    settings = {"gate_thresholds": {"alpha": 0.05, "min_requests": 9}}
    backend = target_backend(apps, "application-02", "customers", settings=settings)
    assert backend["thresholds"] == {"alpha": 0.05, "min_requests": 50, "max_diff_ms": 5}


def test_a_target_names_an_unknown_app_or_route():
    with pytest.raises(AppModelError, match="unknown route nope of app application-02"):
        target_backend(local_apps(), "application-02", "nope")
    with pytest.raises(AppModelError, match="the app model .* must be a list"):
        resolve({"name": "x"})


@pytest.mark.parametrize("request_values, message", [
    ({"app": "application-01;show info", "step": 50},
     'unknown app "application-01;show info"; known apps: application-01, application-02'),
    ({"step": 50}, "no app given: pass -e app=NAME; known apps: application-01, application-02"),
    ({"app": "application-01", "step": "101"}, 'invalid step "101": a step is an integer from 0'),
    ({"app": "application-01", "step": 25.5}, "invalid step 25.5"),
    ({"app": "application-01"}, "no step given"),
    ({"app": "application-01", "route": "v2", "step": 5}, 'app application-01 has no routes, so route "v2" cannot be moved'),
    ({"app": "application-02", "route": "nope", "step": 5}, 'unknown route "nope" for app application-02; routes of '
                                                            'application-02: critical-payments, customers, v2, v1'),
    ({"app": "application-01", "step": 5, "force": "perhaps"}, 'invalid force "perhaps"'),
    ({"app": "application-01", "step": 5, "gate_window": "99999"}, 'invalid gate_window "99999"'),
    ({"app": "application-01", "step": 5, "dns_weight": 10}, "dns_weight applies to step=dns only, got step 5"),
    ({"app": "application-01", "step": "dns", "dns_weight": 300}, "invalid dns_weight 300"),
    ({"app": "application-02", "route": "customers", "step": "dns"},
     'step=dns moves the DNS record of the whole app application-02, not of route "customers"'),
    ({"app": "application-01", "step": 25, "reconcile": True}, 'reconcile applies to step=status (or status.yml), not '
                                                               'step 25'),
    ({"app": "application-01", "step": "status", "force": True}, "force, gate_window, dns_weight and route do not apply"),
    ({"app": "application-01", "step": 5, "on_node_failure": "sometimes"}, 'invalid on_node_failure "sometimes"'),
    ({"app": "application-01", "step": 5, "break_lock": "maybe"}, 'invalid break_lock "maybe"'),
    ({"app": "application-01", "step": 5, "lock_node": "node-z"},
     'invalid lock_node "node-z": the locks live on one node of the inventory group haproxy (node-a, node-b, node-c)'),
])
def test_migrate_requests_are_refused_naming_the_value(request_values, message):
    with pytest.raises(AppModelError) as caught:
        requests.migrate_request(request_values, local_apps(), FLEET)
    assert message in str(caught.value)


def test_every_problem_of_a_request_is_named_at_once():
    with pytest.raises(AppModelError) as caught:
        requests.migrate_request({"app": "application-01", "step": "x", "force": "perhaps", "gate_window": -1}, local_apps(), FLEET)
    text = str(caught.value)
    assert 'invalid step "x"' in text and 'invalid force "perhaps"' in text and "invalid gate_window -1" in text


def test_a_good_request_gives_the_normalized_request_and_its_target():
    request, target = requests.migrate_request(
        {"app": "application-02", "route": "customers", "step": "50", "force": "yes", "gate_window": "30",
         "lock_node": ""}, local_apps(), FLEET)
    assert (request["step"], request["force"], request["gate_window"], request["lock_node"]) == (50, True, 30, "node-a")
    assert target["backend"] == "application-02--customers" and target["initial_step"] == 25
    assert target["app_entry"]["cloud"]["load_balancer"] == "cloudshift-local"
    request, target = requests.migrate_request({"app": "application-01", "step": "status", "reconcile": "true"},
                                               local_apps(), FLEET)
    assert request["verb"] == "status" and request["reconcile"] and target is None


def test_ramp_requests_keep_their_messages():
    with pytest.raises(AppModelError, match=r"ramp of application-01 refused: steps must go up, each once, got \[50, 25\]"):
        requests.ramp_request({"app": "application-01", "steps": [50, 25]}, local_apps(), FLEET)
    with pytest.raises(AppModelError, match="interval must be a number of seconds above 0 and at most 3600, got '0'"):
        requests.ramp_request({"app": "application-01", "interval": "0"}, local_apps(), FLEET)
    request, target = requests.ramp_request({"app": "application-01", "steps": ["1", 50], "interval": "10"},
                                            local_apps(), FLEET)
    assert request["steps"] == [1, 50] and request["interval"] == 10.0 and request["max_checks"] == 12
    assert target["backend"] == "application-01"


def test_shadow_status_report_and_restore_requests():
    with pytest.raises(AppModelError, match='app application-02 has no shadow entry in the app model'):
        requests.shadow_request({"app": "application-02", "schedule": [[1, 5]]}, local_apps(), FLEET)
    with pytest.raises(AppModelError, match="stage 1 of the schedule has percent 150"):
        requests.shadow_request({"app": "application-01", "schedule": [[150, 5]]}, local_apps(), FLEET)
    with pytest.raises(AppModelError, match='unknown app "nope"'):
        requests.status_request({"app": "nope"}, local_apps(), FLEET)
    with pytest.raises(AppModelError, match='invalid reconcile "perhaps"'):
        requests.status_request({"reconcile": "perhaps"}, local_apps(), FLEET)
    with pytest.raises(AppModelError, match='unknown route "x" for app application-01|has no routes'):
        requests.report_request({"app": "application-01", "route": "x"}, local_apps())
    assert requests.restore_request({}, local_apps(), FLEET)["lock_node"] == "node-a"
    site = requests.restore_request({"break_lock": "true"}, local_apps(), FLEET, "site")
    assert (site["verb"], site["lock_node"], site["break_lock"]) == ("site", "node-a", True)
    with pytest.raises(AppModelError, match='lock_node "nope"'):
        requests.restore_request({"lock_node": "nope"}, local_apps(), FLEET, "site")


def test_the_model_does_not_change_the_app_model_it_reads():
    apps = local_apps()
    before = copy.deepcopy(apps)
    resolve(apps, {"application-01": {"app": "application-01", "step": 30}})
    assert apps == before


def test_the_server_state_weights_start_a_reloaded_worker_at_the_recorded_step():
    """Issue 18 #2: leaving 100, haproxy.cfg renders the initial step's weights (cloud 0) while the previous worker
    saved the step-100 configuration's; the server-state file must hold the step's weights beside the weights the
    new configuration gives each server, or HAProxy starts the worker at cloud 0 / on-prem 100."""
    at_50 = resolve(local_apps(), {"application-01": {"step": 50}})["server_state_weights"]["application-01"]
    assert at_50 == {"aws-prod-Kubernetes-application-01": [50, 0], "onprem-prod-front-application-01": [50, 100]}
    at_100 = resolve(local_apps(), {"application-01": {"step": 100}})["server_state_weights"]["application-01"]
    assert at_100 == {"aws-prod-Kubernetes-application-01": [100, 100], "onprem-prod-front-application-01": [100, 100]}
