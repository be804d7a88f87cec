"""Path-by-path migration end to end: routes of application-02 (the field report's routing map), real
HAProxy, real upstreams, real requests to the local env's frontend."""

import json
import os
import time

import pytest
import yaml

import traffic
from localenv_fixture import ROOT, LocalEnv

APP = "application-02"
HOST = "application-02.6play.fr"
CLOUD = "aws-prod-Kubernetes-application-02"
ONPREM = "onprem-prod-front-application-02"
PORT_OFFSET = 16000  # ports 24080-24544, below the ephemeral range (32768+)
CRITICAL = "/v2/critical/sensible_datas/payments/"
ROUTES = ["critical-payments", "customers", "v2", "v1"]
# The field report's five examples: path -> (backend that must serve it, cloud share in percent).
REPORT_EXAMPLES = {
    CRITICAL: (APP + "--critical-payments", 1),
    "/v2/customers/": (APP + "--customers", 25),
    "/v2/": (APP + "--v2", 100),
    "/v1/": (APP + "--v1", 0),
    "/admin/": (APP, 0),
}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    local = LocalEnv(tmp_path_factory.mktemp("localenv-routes"), PORT_OFFSET)
    try:
        local.up()
        for backend in [APP] + ["%s--%s" % (APP, route) for route in ROUTES]:
            local.wait_status(backend, CLOUD, "UP")
            local.wait_status(backend, ONPREM, "UP")
        yield local
    finally:
        local.down()


def backend_totals(env):
    """{backend: total sessions} from `show stat`, to see which backend served the requests."""
    lines = env.runtime("show stat").splitlines()
    header = lines[0].lstrip("# ").split(",")
    totals = {}
    for line in lines[1:]:
        row = dict(zip(header, line.split(",")))
        if row.get("svname") == "BACKEND":
            totals[row["pxname"]] = int(row["stot"])
    return totals


def measure(env, path, count=1000):
    """(cloud share in percent, {backend: requests served}) of `count` real requests for path."""
    before = backend_totals(env)
    result = traffic.send_concurrently(env.frontend, HOST, count, workers=4, path=path)
    after = backend_totals(env)
    assert result.failed == 0, result.as_dict()
    assert sum(result.by_server.values()) == count and set(result.by_server) <= {CLOUD, ONPREM}, result.as_dict()
    served = {name: after[name] - before.get(name, 0) for name in after if after[name] != before.get(name, 0)}
    return 100.0 * result.by_server.get(CLOUD, 0) / count, served


def route_state(env):
    with open(os.path.join(env.state_dir, "apps", APP + ".json")) as handle:
        return json.load(handle)


def all_weights(env):
    return {backend: env.weights(backend) for backend in [APP, "application-01"] + ["%s--%s" % (APP, r) for r in ROUTES]}


def test_the_reports_five_routing_examples(env):
    # 3000 requests on the 1% route: 30 expected on the cloud; +-15 tells 1% from 0% and from 2%.
    share, served = measure(env, CRITICAL, 3000)
    assert served == {APP + "--critical-payments": 3000}
    assert abs(share * 30 - 30) <= 15, share
    share, served = measure(env, "/v2/customers/", 2000)
    assert served == {APP + "--customers": 2000}
    assert abs(share - 25) <= 2, share
    for path in ("/v2/", "/v1/", "/admin/"):
        backend, expected = REPORT_EXAMPLES[path]
        share, served = measure(env, path, 500)
        assert served == {backend: 500}, (path, served)
        assert share == expected, (path, share)
    # A regex route only sees its own app: application-01 with the same path goes to application-01.
    result = traffic.send_concurrently(env.frontend, "application-01.6play.fr", 100, workers=2, path=CRITICAL)
    assert set(result.by_server) == {"onprem-prod-front-application-01"}


def test_a_step_on_one_route_changes_only_that_route(env):
    worker = env.worker_pid()
    before = all_weights(env)
    env.migrate(APP, 50, "-e", "route=customers")
    assert env.worker_pid() == worker, "a route step below 100 must not reload HAProxy"
    after = all_weights(env)
    assert after.pop(APP + "--customers") == {ONPREM: 50, CLOUD: 50}
    before.pop(APP + "--customers")
    assert after == before
    share, served = measure(env, "/v2/customers/", 2000)
    assert served == {APP + "--customers": 2000} and abs(share - 50) <= 2, share
    # The other routes, measured again, are where they were.
    share, _counts = measure(env, CRITICAL, 3000)
    assert abs(share * 30 - 30) <= 15, share
    for path in ("/v2/", "/v1/", "/admin/"):
        assert measure(env, path, 300)[0] == REPORT_EXAMPLES[path][1], path
    state = route_state(env)
    # Recorded under the route (nothing was recorded before: the route was at its initial_step).
    assert state["routes"]["customers"]["step"] == 50 and state["routes"]["customers"]["previous_step"] is None
    assert "step" not in state, "the app's own step is not touched by a route step"
    # haproxy.cfg has one writer (site.yml's template): the route's section keeps its initial_step's weights, and the
    # step is kept where a reload or a start loads it, the server-state file.
    section = open(env.config_file).read().split("backend application-02--customers\n", 1)[1].split("\nbackend ", 1)[0]
    assert " weight 75\n" in section and " weight 25\n" in section
    assert env.saved_weights(APP + "--customers") == {ONPREM: 50, CLOUD: 50}


def test_route_rollback_goes_back_to_the_routes_previous_step(env):
    env.migrate(APP, 30, "-e", "route=customers")
    env.migrate(APP, 10, "-e", "route=customers")
    env.migrate(APP, "rollback", "-e", "route=customers")
    assert route_state(env)["routes"]["customers"]["step"] == 30
    assert env.weights(APP + "--customers") == {ONPREM: 70, CLOUD: 30}
    assert env.weights(APP + "--v1") == {ONPREM: 100, CLOUD: 0}


def test_route_step_survives_site_rerun_reload_and_restart(env):
    env.migrate(APP, 40, "-e", "route=customers")
    expected = {ONPREM: 60, CLOUD: 40}
    site = env.playbook("site.yml")
    assert site.changed() == 0, site
    assert env.weights(APP + "--customers") == expected
    worker = env.worker_pid()
    env.playbook("site.yml", "-e", "haproxy_maxconn=3999")  # a reload
    assert env.worker_pid() != worker
    assert env.weights(APP + "--customers") == expected
    env.playbook("stop.yml")
    env.playbook("site.yml")
    env.wait_status(APP + "--customers", CLOUD, "UP")
    assert env.weights(APP + "--customers") == expected
    assert env.weights(APP + "--v2")[CLOUD] == 100 and env.weights(APP + "--critical-payments") == {ONPREM: 99, CLOUD: 1}
    share, _counts = measure(env, "/v2/customers/", 1000)
    assert abs(share - 40) <= 2, share


def test_a_route_reaches_and_leaves_100_with_a_hitless_reload(env):
    with traffic.BackgroundTraffic(env.frontend, HOST, path="/v1/") as background:
        env.migrate(APP, 100, "-e", "route=v1")
        time.sleep(0.3)
    assert background.result.failed == 0, background.result.as_dict()
    section = open(env.config_file).read().split("backend %s--v1\n" % APP, 1)[1].split("\nbackend ", 1)[0]
    assert "weight 100 backup" in section
    assert measure(env, "/v1/", 300)[0] == 100
    assert measure(env, "/admin/", 300)[0] == 0
    env.migrate(APP, 0, "-e", "route=v1")
    section = open(env.config_file).read().split("backend %s--v1\n" % APP, 1)[1].split("\nbackend ", 1)[0]
    assert "backup" not in section
    assert measure(env, "/v1/", 300)[0] == 0
    assert env.playbook("site.yml").changed() == 0


def test_adding_a_route_is_an_app_model_change_and_a_site_run(env):
    apps = local_apps(env)
    apps[1]["routes"].append({"name": "v3", "match": {"prefix": "/v3/"}, "initial_step": 100})
    worker = env.worker_pid()
    assert measure(env, "/v3/", 200)[0] == 0  # before: the app's default route, on-prem
    with traffic.BackgroundTraffic(env.frontend, HOST, path="/v2/customers/") as background:
        env.playbook("site.yml", "-e", json.dumps({"cloudshift_apps": apps}))
        time.sleep(0.3)
    assert background.result.failed == 0, background.result.as_dict()
    assert env.worker_pid() != worker, "a new backend needs a (hitless) reload"
    env.wait_status(APP + "--v3", CLOUD, "UP")
    share, served = measure(env, "/v3/", 300)
    assert share == 100 and served == {APP + "--v3": 300}
    prefix_map = os.path.join(os.path.dirname(env.config_file), "routes", "prefix.map")
    assert "application-02.6play.fr/v3/ application-02--v3\n" in open(prefix_map).read()
    # Removing it again (back to the inventory) sends /v3/ to the app's default route.
    env.playbook("site.yml")
    assert measure(env, "/v3/", 200)[0] == 0
    assert "/v3/" not in open(prefix_map).read()


def test_changing_a_routes_match_replaces_the_map_live_without_reload(env):
    apps = local_apps(env)
    apps[1]["routes"][1]["match"] = {"prefix": "/v2/clients/"}
    worker = env.worker_pid()
    customers_share = measure(env, "/v2/customers/", 200)[0]
    with traffic.BackgroundTraffic(env.frontend, HOST, path="/v2/clients/") as background:
        run = env.playbook("site.yml", "-e", json.dumps({"cloudshift_apps": apps}))
        time.sleep(0.3)
    assert background.result.failed == 0, background.result.as_dict()
    assert "Replace changed routing maps live" in run.output and "changed: [haproxy-local] => (item=" in run.output
    assert env.worker_pid() == worker, "a map-only change must not reload HAProxy"
    assert measure(env, "/v2/clients/", 200)[1] == {APP + "--customers": 200}
    assert measure(env, "/v2/customers/", 200) == (100.0, {APP + "--v2": 200})
    again = env.playbook("site.yml", "-e", json.dumps({"cloudshift_apps": apps}))
    assert again.changed() == 0, again
    env.playbook("site.yml")  # back to the inventory, live again
    assert env.worker_pid() == worker
    share, served = measure(env, "/v2/customers/", 200)
    assert served == {APP + "--customers": 200} and share == customers_share


@pytest.mark.parametrize("extra, message", [
    (["-e", "route=nope"], 'unknown route "nope" for app application-02; routes of application-02: '
                           "critical-payments, customers, v2, v1"),
    (["-e", '{"route": "customers;show info"}'], 'unknown route "customers;show info"'),
    (["-e", '{"route": ""}'], 'unknown route ""'),
])
def test_bad_route_requests_fail_clearly_and_change_nothing(env, extra, message):
    before = all_weights(env), route_state(env)
    run = env.playbook("migrate.yml", "-e", "app=" + APP, "-e", "step=60", *extra, check=False)
    assert run.returncode != 0 and message in run.output, run
    assert (all_weights(env), route_state(env)) == before


def test_a_route_on_an_app_without_routes_is_refused(env):
    before = all_weights(env)
    run = env.playbook("migrate.yml", "-e", "app=application-01", "-e", "route=customers", "-e", "step=60",
                       check=False)
    assert run.returncode != 0, run
    assert 'app application-01 has no routes, so route "customers" cannot be moved' in run.output, run
    assert all_weights(env) == before


def local_apps(env):
    """The local inventory's app model as the inventory holds it (ports still templated from
    cloudshift_port_offset), for -e cloudshift_apps overrides that change one thing only."""
    with open(os.path.join(ROOT, "inventories", "local", "group_vars", "haproxy", "apps.yml")) as handle:
        apps = yaml.safe_load(handle)["cloudshift_apps"]
    assert [app["name"] for app in apps] == ["application-01", APP]
    return apps


def _with_route_change(env, change):
    apps = local_apps(env)
    change(apps[1]["routes"])
    return apps


@pytest.mark.parametrize("change, message", [
    (lambda routes: routes.append({"name": "customers", "match": {"prefix": "/v9/"}}),
     'route name "customers" is used by more than one route (routes[1], routes[4])'),
    (lambda routes: routes[0]["match"].update(regex="application-02\\.6play\\.fr\\/v2\\/(\\w{1,45}\\/"),
     'regex "application-02\\\\.6play\\\\.fr\\\\/v2\\\\/(\\\\w{1,45}\\\\/" is refused: PCRE2'),
    (lambda routes: routes[1].update(name="customer routes"),
     'route "customer routes": name "customer routes" is not valid for HAProxy (it contains a space)'),
    (lambda routes: routes[3]["match"].update(prefix="v1/"), 'prefix "v1/" is refused: it must start with \'/\''),
    (lambda routes: routes.append({"name": "late", "match": {"regex": "x"}}),
     'route "late": this regex route comes after the prefix route "customers"'),
    (lambda routes: routes[2]["match"].update(regex="x"),
     'route "v2": match {\'prefix\': \'/v2/\', \'regex\': \'x\'} must hold exactly one of prefix (a path like /v2/) '
     'or regex'),
])
def test_bad_routes_in_the_app_model_fail_the_preflight_and_change_nothing(env, change, message):
    config_before = open(env.config_file).read()
    weights_before = all_weights(env)
    apps = _with_route_change(env, change)
    run = env.playbook("site.yml", "-e", json.dumps({"cloudshift_apps": apps}), check=False)
    assert run.returncode != 0, run
    assert message in run.output, run
    assert "preflight" in run.output
    assert open(env.config_file).read() == config_before
    assert all_weights(env) == weights_before
