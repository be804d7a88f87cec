import copy

import pytest

from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy import state
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.maps import parse_map_file
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.routes import (
    prefix_map_entries, prefix_map_file, regex_map_entries, regex_map_file, route_backend, route_problems,
    routes_with_steps)
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.step import StepError, plan_step
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.validation import ValidationError

REGEX = "application-02\\.6play\\.fr\\/v2\\/critical\\/(\\w{1,45})\\/payments\\/"
APP_02 = {
    "name": "application-02", "host": "Application-02.6play.fr", "initial_step": 0,
    "health_check": {"path": "/HealthCheck"},
    "servers": [{"name": "onprem", "side": "onprem", "address": "10.0.0.1", "port": 80},
                {"name": "aws", "side": "cloud", "address": "elb", "port": 443}],
    "routes": [
        {"name": "critical-payments", "match": {"regex": REGEX}, "initial_step": 1},
        {"name": "customers", "match": {"prefix": "/v2/customers/"}, "initial_step": 25,
         "health_check": {"path": "/v2/customers/health"}},
        {"name": "v2", "match": {"prefix": "/v2/"}, "initial_step": 100},
        {"name": "v1", "match": {"prefix": "/v1/"}},
    ],
}
APP_01 = {"name": "application-01", "host": "application-01.6play.fr", "servers": []}


def apps_with(change=None):
    apps = [copy.deepcopy(APP_01), copy.deepcopy(APP_02)]
    if change:
        change(apps[1]["routes"])
    return apps


def test_route_backend_name_is_app_dash_dash_route():
    assert route_backend("application-02", "customers") == "application-02--customers"
    with pytest.raises(ValidationError, match="invalid route name 'bad route'"):
        route_backend("application-02", "bad route")
    with pytest.raises(ValidationError, match="route backend"):
        route_backend("a" * 100, "b" * 30)


def test_the_reports_routes_have_no_problem():
    assert route_problems(apps_with()) == []
    assert route_problems([APP_01]) == []
    assert route_problems("not a list") == []


@pytest.mark.parametrize("change, expected", [
    (lambda r: r.append({"name": "customers", "match": {"prefix": "/v9/"}}),
     'app "application-02": route name "customers" is used by more than one route (routes[1], routes[4])'),
    (lambda r: r[1].update(name="my route"),
     'app "application-02" route "my route": name "my route" is not valid for HAProxy (it contains a space)'),
    (lambda r: r[1].update(name="a;show info"), "it contains a ';' (command separator)"),
    (lambda r: r[0]["match"].update(regex="application-02\\.6play\\.fr\\/(\\w{1,45}\\/"),
     "is refused: PCRE2 (as HAProxy compiles map_reg) refuses it: missing closing parenthesis at offset"),
    (lambda r: r[0]["match"].update(regex="a b"), "is refused: it contains a space"),
    (lambda r: r[3]["match"].update(prefix="v1/"), 'prefix "v1/" is refused: it must start with \'/\''),
    (lambda r: r[3]["match"].update(prefix="/v1 /"), 'prefix "/v1 /" is refused: it holds " "'),
    (lambda r: r[3]["match"].update(prefix="/v1/#x"), 'it holds "#"'),
    (lambda r: r[3].update(match={"prefix": "/v1/", "regex": "x"}), "must hold exactly one of prefix"),
    (lambda r: r[3].update(match={}), "must hold exactly one of prefix"),
    (lambda r: r.append({"name": "late", "match": {"regex": "x"}}),
     'route "late": this regex route comes after the prefix route "customers"'),
    (lambda r: r[3]["match"].update(prefix="/v2/"), 'routes "v2", "v1" have the same prefix'),
    (lambda r: r[3].update(initial_step=101), 'route "v1": initial_step 101 is not an integer from 0 to 100'),
    (lambda r: r[3].update(initial_step=True), "initial_step True is not an integer"),
    (lambda r: r[3].update(health_check="/x"), "health_check must be a dict"),
    (lambda r: r[3].update(name="x" * 120), "is longer than 128 characters"),
    (lambda r: r.append("v3"), "routes[4] must be a dict"),
])
def test_route_problems_name_the_bad_value(change, expected):
    problems = route_problems(apps_with(change))
    assert any(expected in problem for problem in problems), problems


def test_a_route_backend_may_not_be_an_apps_name():
    apps = apps_with()
    apps.append(dict(APP_01, name="application-02--v1"))
    assert any('its backend name "application-02--v1" is already the name of an app' in problem
               for problem in route_problems(apps))


def test_routes_not_a_list_is_a_problem():
    apps = [dict(APP_01, routes={"name": "x"})]
    assert route_problems(apps) == ["app \"application-01\": routes must be a list of routes, got {'name': 'x'}"]


def test_route_steps_come_from_the_state_store_else_initial_step():
    routes = routes_with_steps(apps_with(), {"application-02": {"customers": 50}})
    assert [(r["backend"], r["kind"], r["step"]) for r in routes] == [
        ("application-02--critical-payments", "regex", 1),
        ("application-02--customers", "prefix", 50),
        ("application-02--v2", "prefix", 100),
        ("application-02--v1", "prefix", 0),
    ]
    assert routes[1]["source"] == "state store" and routes[0]["source"].startswith("initial_step")
    assert routes[1]["health_check"] == {"path": "/v2/customers/health"}
    assert routes[0]["health_check"] == {"path": "/HealthCheck"}
    assert routes_with_steps([APP_01]) == []


def test_prefix_map_has_lower_case_host_plus_prefix_keys():
    assert prefix_map_entries(apps_with()) == [
        ("application-02.6play.fr/v1/", "application-02--v1"),
        ("application-02.6play.fr/v2/", "application-02--v2"),
        ("application-02.6play.fr/v2/customers/", "application-02--customers"),
    ]
    text = prefix_map_file(apps_with())
    assert "Used by HAProxy as: beg." in text and "the longest" in text
    assert parse_map_file(text) == prefix_map_entries(apps_with())


def test_regex_map_keeps_the_app_model_order_and_says_first_match_wins():
    app = apps_with(lambda r: r.insert(1, {"name": "any-payments", "match": {"regex": "\\/payments\\/"}}))[1]
    assert regex_map_entries(app) == [(REGEX, "application-02--critical-payments"),
                                      ("\\/payments\\/", "application-02--any-payments")]
    text = regex_map_file(app)
    assert "Used by HAProxy as: reg." in text and "the FIRST\n# matching line wins" in text
    assert parse_map_file(text) == regex_map_entries(app)


def test_plan_of_a_route_uses_the_routes_recorded_step():
    data = state.with_step(None, "application-02", 10)
    assert plan_step(data, "application-02", 50, 25, route="customers")["current"] == 25
    data = state.with_step(data, "application-02", 40, route="customers")
    plan = plan_step(data, "application-02", 100, 25, route="customers")
    assert plan["current"] == 40 and plan["reaching_100"]
    data = state.with_step(data, "application-02", 60, route="customers")
    assert plan_step(data, "application-02", "rollback", 25, route="customers")["target"] == 40
    assert plan_step(data, "application-02", 30, 0)["current"] == 10  # the app keeps its own step
    with pytest.raises(StepError, match="cannot roll back application-02 route v1: no previous step"):
        plan_step(state.with_step(data, "application-02", 5, route="v1"), "application-02", "rollback", 0, route="v1")
