# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""app_model/validation.py: one sentence per problem of the app model and the role variables, word for word
what the role's preflight template said, values quoted as Ansible's to_json quotes them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import os
import re

import pytest
import yaml

from ansible_collections.cloudshift.migration.plugins.filter.app_model_problems import FilterModule
from ansible_collections.cloudshift.migration.plugins.module_utils.app_model.validation import (
    DEFAULTS, app_model_problems, apps_problems, settings_problems)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LOCAL_VARS = os.path.join(ROOT, "inventories", "local", "group_vars", "haproxy")
RUN_DIR = "/srv/cloudshift/.run"
PORT_EXPRESSION = re.compile(r"\{\{ (\d+) \+ cloudshift_port_offset \| int \}\}")
STATS_PAGE_ON = {"enabled": True, "password": "long-enough-pw"}


def rendered(value):
    """A value of inventories/local as Ansible renders it with port offset 0 and the run directory RUN_DIR."""
    if isinstance(value, dict):
        return dict((key, rendered(item)) for key, item in value.items())
    if isinstance(value, list):
        return [rendered(item) for item in value]
    if isinstance(value, str):
        if PORT_EXPRESSION.fullmatch(value):
            return int(PORT_EXPRESSION.fullmatch(value).group(1))
        return PORT_EXPRESSION.sub(lambda match: match.group(1), value).replace("{{ cloudshift_run_dir }}", RUN_DIR)
    return value


def read_local(name):
    with open(os.path.join(LOCAL_VARS, name)) as handle:
        return yaml.safe_load(handle)


def local_apps():
    return rendered(read_local("apps.yml")["cloudshift_apps"])


def local_settings():
    """The role variables inventories/local sets (those it finds with a lookup are not read by the checks)."""
    settings = dict((name, rendered(value)) for name, value in read_local("environment.yml").items()
                    if name.startswith(("haproxy_", "migration_")) and "lookup(" not in str(value))
    settings["haproxy_config_file"] = settings["haproxy_config_dir"] + "/haproxy.cfg"
    settings["haproxy_stats_page_file"] = settings["haproxy_config_dir"] + "/stats-page.cfg"
    return settings


def app_field(index, **changes):
    def change(apps):
        apps[index].update(changes)
    return change


def server_field(index, server, **changes):
    def change(apps):
        apps[index]["servers"][server].update(changes)
    return change


def without(index, key, server=None):
    def change(apps):
        (apps[index] if server is None else apps[index]["servers"][server]).pop(key)
    return change


APP1 = 'app "application-01"'
ONPREM1 = APP1 + ' server "onprem-prod-front-application-01"'
CLOUD1 = APP1 + ' server "aws-prod-Kubernetes-application-01"'
BAD_NAME = "is not valid for HAProxy (only letters, digits and '_', '.', ':', '-', at most 128)"

# (id, role variables over inventories/local's, change of its app model, every sentence of the template's part)
CASES = [
    ("frontend-name", {"haproxy_frontend_name": 'front "end"\n'}, None,
     ["haproxy_frontend_name \"front \\\"end\\\"\\n\" is not a valid HAProxy name (letters, digits, '_', '.', ':', "
      "'-')"]),
    ("frontend-bind-string", {"haproxy_frontend_bind": "*:80"}, None,
     ['haproxy_frontend_bind "*:80" must be a non-empty list of addresses']),
    ("frontend-bind-empty", {"haproxy_frontend_bind": []}, None,
     ["haproxy_frontend_bind [] must be a non-empty list of addresses"]),
    ("frontend-bind-item", {"haproxy_frontend_bind": ["*:80 # comment", 80]}, None,
     ["haproxy_frontend_bind item \"*:80 # comment\" is not a valid bind line (no newline, no '#')",
      "haproxy_frontend_bind item 80 is not a valid bind line (no newline, no '#')"]),
    ("metrics-bind-string", {"haproxy_metrics_bind": "127.0.0.1:8405"}, None,
     ['haproxy_metrics_bind "127.0.0.1:8405" must be a list of addresses (empty: no metrics frontend)']),
    ("metrics-bind-item", {"haproxy_metrics_bind": ["127.0.0.1:8405#x", None]}, None,
     ["haproxy_metrics_bind item \"127.0.0.1:8405#x\" is not a valid bind line (no newline, no '#')",
      "haproxy_metrics_bind item null is not a valid bind line (no newline, no '#')"]),
    ("metrics-bind-shared", {"haproxy_metrics_bind": ["127.0.0.1:8080"]}, None,
     ['haproxy_metrics_bind item "127.0.0.1:8080" is also in haproxy_frontend_bind: the metrics need a listener of '
      'their own']),
    ("metrics-path", {"haproxy_metrics_path": "metrics"}, None,
     ["haproxy_metrics_path \"metrics\" is not a path (/ then letters, digits, '.', '_', '~', '-', '/')"]),
    ("metrics-frontend-name", {"haproxy_metrics_frontend_name": "cloudshift"}, None,
     ['haproxy_metrics_frontend_name "cloudshift" is not a valid HAProxy name distinct from haproxy_frontend_name']),
    ("timeouts", {"haproxy_timeouts": {"connect": "5 s", "client": True, "server": 30, "queue": None}}, None,
     ['haproxy_timeouts.connect "5 s" is not a time (like 500ms, 5s, 1m)',
      'haproxy_timeouts.client "True" is not a time (like 500ms, 5s, 1m)',
      'haproxy_timeouts.queue "None" is not a time (like 500ms, 5s, 1m)']),
    ("timeouts-unknown-key", {"haproxy_timeouts": {"conect": "5s"}}, None,
     ['haproxy_timeouts has an unknown key "conect"']),
    ("hard-stop-and-close-spread", {"haproxy_hard_stop_after": "30 s", "haproxy_close_spread_time": None}, None,
     ['haproxy_hard_stop_after "30 s" is not a time (like 500ms, 5s, 1m)',
      "haproxy_close_spread_time null is not a time (like 500ms, 5s, 1m)"]),
    ("resolvers-name-and-hold", {"haproxy_resolvers": {"name": "m6 dns", "hold_valid": "10 s"}}, None,
     ['haproxy_resolvers.name "m6 dns" is not a valid HAProxy name',
      'haproxy_resolvers.hold_valid "10 s" is not a time']),
    ("resolvers-nameserver", {"haproxy_resolvers": {"nameservers": ["8.8.8.8", "1.1.1.1:53"]}}, None,
     ['haproxy_resolvers.nameservers item "8.8.8.8" is not address:port']),
    ("resolvers-none", {"haproxy_resolvers": {"nameservers": [], "parse_resolv_conf": "no"}}, None,
     ["haproxy_resolvers needs nameservers or parse_resolv_conf: true"]),
    ("ca-file", {"haproxy_ca_file": "pki/ca.crt"}, None,
     ['haproxy_ca_file "pki/ca.crt" is not an absolute path without spaces']),
    ("socket-mode-not-octal", {"haproxy_stats_socket_mode": "rw-------"}, None,
     ['haproxy_stats_socket_mode "rw-------" is not an octal mode like "600"']),
    ("socket-mode-open", {"haproxy_stats_socket_mode": 666, "haproxy_group": "haproxy"}, None,
     ['haproxy_stats_socket_mode 666 lets every local user reach the admin socket (and take over HAProxy): use "600" '
      '(or "660" for the group "haproxy")']),
    ("stats-page-not-mapping", {"haproxy_stats_page": "on"}, None,
     ['haproxy_stats_page must be a mapping (enabled, bind, uri, user, password, refresh), got "on"']),
    ("stats-page-unknown-key", {"haproxy_stats_page": {"port": 8404}}, None,
     ['haproxy_stats_page has an unknown key "port" (enabled, bind, uri, user, password, refresh)']),
    ("stats-page-enabled", {"haproxy_stats_page": {"enabled": "on"}}, None,
     ['haproxy_stats_page.enabled "on" is not true or false']),
    ("stats-page-bind-off-loopback", {"haproxy_stats_page": dict(STATS_PAGE_ON, bind="0.0.0.0:8404")}, None,
     ['haproxy_stats_page.bind "0.0.0.0:8404" is not a loopback address:port (127.0.0.1:8404, [::1]:8404): the stats '
      'page stays on loopback (reach it through an SSH tunnel)']),
    ("stats-page-bind-shared", {"haproxy_stats_page": dict(STATS_PAGE_ON, bind="127.0.0.1:8405")}, None,
     ['haproxy_stats_page.bind "127.0.0.1:8405" is also a bind of the traffic or metrics frontend: the stats page '
      'needs a listener of its own']),
    ("stats-page-user", {"haproxy_stats_page": dict(STATS_PAGE_ON, user="stats user")}, None,
     ["haproxy_stats_page.user \"stats user\" is not a user name (letters, digits, '_', '.', '-')"]),
    ("stats-page-password", {"haproxy_stats_page": {"enabled": "yes", "password": "short"}}, None,
     ["haproxy_stats_page.password is missing, shorter than 8 characters or holds a newline (its value is not "
      "shown): the stats page is only served behind a user and password (put it in Ansible Vault)"]),
    ("stats-page-uri-and-refresh", {"haproxy_stats_page": dict(STATS_PAGE_ON, uri="stats", refresh=10.5)}, None,
     ["haproxy_stats_page.uri \"stats\" is not a path (/ then letters, digits, '.', '_', '~', '-', '/')",
      "haproxy_stats_page.refresh 10.5 is not a time (like 10s)"]),
    ("stats-page-file", {"haproxy_stats_page_file": RUN_DIR + "/haproxy/etc/haproxy.cfg"}, None,
     ['haproxy_stats_page_file "/srv/cloudshift/.run/haproxy/etc/haproxy.cfg" is not an absolute path without '
      'spaces, apart from haproxy_config_file']),
    ("user-and-group", {"haproxy_user": "ha proxy", "haproxy_group": "wheel\r"}, None,
     ['haproxy_user "ha proxy" is not a valid user or group name',
      'haproxy_group "wheel\\r" is not a valid user or group name']),
    ("log-target", {"haproxy_log_target": "stdout # raw"}, None,
     ['haproxy_log_target "stdout # raw" holds a newline or a \'#\'']),
    ("integers", {"haproxy_backup_weight": 257, "haproxy_maxconn": "0", "haproxy_nbthread": "4097",
                  "haproxy_observe_error_limit": 1.0, "haproxy_service_timeout": True}, None,
     ["haproxy_backup_weight 257 is not an integer from 0 to 256",
      'haproxy_maxconn "0" is not an integer from 1 to 10000000',
      'haproxy_nbthread "4097" is not an integer from 0 to 4096',
      "haproxy_observe_error_limit 1.0 is not an integer from 1 to 1000000",
      "haproxy_service_timeout true is not an integer from 1 to 3600"]),
    ("integers-as-strings", {"haproxy_backup_weight": "0", "haproxy_maxconn": "10000000", "haproxy_nbthread": "-0",
                             "haproxy_service_timeout": "3600"}, None, []),
    ("app-names-twice", {}, app_field(1, name="application-01"),
     ['app name "application-01" is used by more than one app']),
    ("hosts-twice", {}, app_field(1, host="APPLICATION-01.6play.fr"),
     ['host "application-01.6play.fr" is used by more than one app']),
    ("default-backend", {"haproxy_default_backend": "application-03"}, None,
     ['haproxy_default_backend "application-03" is not the name of an app of cloudshift_apps ["application-01", '
      '"application-02"]']),
    ("app-name", {}, app_field(0, name="application 01"),
     ['app "application 01": name "application 01" is not valid for HAProxy (it contains a space)']),
    ("app-name-reserved", {}, app_field(0, name="cloudshift-unknown-host"),
     ['app "cloudshift-unknown-host": name "cloudshift-unknown-host" is reserved (frontend or internal backend name)']),
    ("app-name-of-the-metrics-frontend", {}, app_field(0, name="cloudshift-metrics"),
     ['app "cloudshift-metrics": name "cloudshift-metrics" is reserved (frontend or internal backend name)']),
    ("app-host", {}, app_field(0, host="application_01.6play.fr"),
     [APP1 + ': host "application_01.6play.fr" is not a valid host name']),
    ("app-initial-step", {}, app_field(0, initial_step="101"),
     [APP1 + ': initial_step "101" is not an integer from 0 to 100']),
    ("app-health-check-path", {}, app_field(0, health_check={"path": "HealthCheck"}),
     [APP1 + ": health_check.path \"HealthCheck\" must start with '/' and hold only URL characters"]),
    ("app-health-check-status", {}, app_field(0, health_check={"path": "/", "expect_status": "2xx"}),
     [APP1 + ': health_check.expect_status "2xx" is not a status, range or list (200, 200-399, 200,204)']),
    ("server-names-twice", {}, server_field(0, 1, name="onprem-prod-front-application-01", side="onprem"),
     [APP1 + ': server name "onprem-prod-front-application-01" is used twice',
      APP1 + ": has no cloud server (at least one server per side)"]),
    ("server-name", {}, server_field(0, 0, name="onprem/01"),
     [APP1 + ' server "onprem/01": name "onprem/01" is not valid for HAProxy (only letters, digits and \'_\', \'.\', '
             '\':\', \'-\' are allowed)']),
    ("server-side", {}, server_field(0, 0, side="on-prem"),
     [APP1 + ": has no onprem server (at least one server per side)",
      ONPREM1 + ': side "on-prem" is not onprem or cloud']),
    ("server-address-and-port", {}, server_field(0, 0, address="127.0.0.1 backup", port="65536"),
     [ONPREM1 + ': address "127.0.0.1 backup" is not a host name or IP address',
      ONPREM1 + ': port "65536" is not from 1 to 65535']),
    ("server-verify", {}, server_field(0, 1, verify="optional"),
     [CLOUD1 + ': verify "optional" is not required or none']),
    ("server-verify-none", {}, server_field(0, 1, verify="none", insecure="no"),
     [CLOUD1 + ': verify "none" is refused without insecure: true (the server\'s certificate would not be checked)']),
    ("server-verify-none-insecure", {}, server_field(0, 1, verify="none", insecure="yes"), []),
    ("server-ca-file-and-inter", {}, server_field(0, 1, ca_file="ca.crt", inter="1 s"),
     [CLOUD1 + ': ca_file "ca.crt" is not an absolute path without spaces',
      CLOUD1 + ': inter "1 s" is not a time (like 500ms, 1s)']),
    ("server-fall-and-rise", {}, server_field(0, 1, fall=0, rise="2x"),
     [CLOUD1 + ": fall 0 is not a positive integer", CLOUD1 + ': rise "2x" is not a positive integer']),
    ("server-own-host", {}, server_field(0, 1, host="abc.lambda-url.eu-west-3.on.aws", check_host="health.example.test"),
     []),
    ("server-bad-hosts", {}, server_field(0, 1, host="a b", sni="x;y"),
     [CLOUD1 + ': host "a b" is not a valid host name', CLOUD1 + ': sni "x;y" is not a valid host name']),
    ("server-sni-without-tls", {}, server_field(0, 0, sni="onprem.example.test"),
     [ONPREM1 + ': sni "onprem.example.test" needs tls: true (a server without TLS sends no SNI)']),
    ("server-relayed-check-sni", {}, server_field(0, 1, host="fn.example.test", check_sni="other.example.test"),
     [CLOUD1 + ': check_sni "other.example.test" differs from the SNI "fn.example.test" its requests get: a server '
               'with its own host is checked through its relay, with the same SNI']),
    ("unicode-and-quotes", {}, app_field(0, host=u"applicati\u00f6n-01.6play.fr", initial_step='"5"'),
     [APP1 + ': host "applicati\\u00f6n-01.6play.fr" is not a valid host name',
      APP1 + ': initial_step "\\"5\\"" is not an integer from 0 to 100']),
    # Where the template failed (the preflight errored, or said nothing at all for a missing key).
    ("timeouts-not-a-mapping", {"haproxy_timeouts": None}, None,
     ["haproxy_timeouts must be a mapping (connect, client, server, check, http_request, http_keep_alive, queue), "
      "got null"]),
    ("nameservers-not-a-list", {"haproxy_resolvers": {"nameservers": 53}}, None,
     ["haproxy_resolvers.nameservers must be a list of address:port, got 53"]),
    ("frontend-bind-null", {"haproxy_frontend_bind": None}, None,
     ["haproxy_frontend_bind null must be a non-empty list of addresses"]),
    ("host-missing", {}, without(0, "host"), [APP1 + ": host null is not a valid host name"]),
    ("server-port-missing", {}, without(0, "port", server=0),
     [ONPREM1 + ": port null is not from 1 to 65535"]),
]


@pytest.mark.parametrize("case, settings, change, expected", CASES, ids=[case[0] for case in CASES])
def test_one_sentence_per_problem_naming_the_value(case, settings, change, expected):
    apps = local_apps()
    if change:
        change(apps)
    settings = dict(local_settings(), **settings)
    assert settings_problems(settings) + apps_problems(apps, settings) == expected


def test_the_local_app_model_is_good():
    assert app_model_problems(local_apps(), local_settings()) == []
    # The role's defaults, but for migration_aws (no region: its apps use AWS).
    assert app_model_problems(local_apps(), {"migration_aws": local_settings()["migration_aws"]}) == []


@pytest.mark.parametrize("apps, expected", [
    ("application-01", ['cloudshift_apps must be a list of apps, got "application-01"']),
    ({"name": "application-01"}, ['cloudshift_apps must be a list of apps, got {"name": "application-01"}']),
    (None, ["cloudshift_apps must be a list of apps, got null"]),
    ([], []),
])
def test_an_app_model_that_is_not_a_list_is_named(apps, expected):
    assert app_model_problems(apps, {}) == expected


def test_problems_come_in_the_preflights_order():
    apps = local_apps()
    apps[0]["name"] = "application 01"
    apps[1]["routes"][1]["match"] = {"prefix": "v2/customers/"}
    apps[1]["retry"] = {"retries": 11}
    apps[1]["gate"] = {"alpha": 3}
    apps[1]["dns"]["soak_seconds"] = -1
    apps[1]["shadow"] = {"timeout_ms": 0, "target": "https://127.0.0.1:8444"}
    problems = app_model_problems(apps, dict(local_settings(), haproxy_maxconn=0))
    kinds = ["maxconn" if "haproxy_maxconn" in problem else "app" if "application 01" in problem
             else "route" if "route" in problem else "retr" if "retr" in problem
             else "gate" if "gate" in problem else "dns" if "dns" in problem
             else "shadow" if "shadow" in problem else problem for problem in problems]
    assert [kind for index, kind in enumerate(kinds) if kind not in kinds[:index]] == [
        "maxconn", "app", "route", "retr", "gate", "dns", "shadow"], problems
    assert settings_problems({"haproxy_maxconn": 0}) == ["haproxy_maxconn 0 is not an integer from 1 to 10000000"]
    assert apps_problems(apps, {}) == ['app "application 01": name "application 01" is not valid for HAProxy (it '
                                       'contains a space)']


def test_what_the_template_let_through_is_refused():
    """The template's quirks the port mends (the others are in test_a_newline_never_passes_a_pattern)."""
    apps = local_apps()
    # Names are compared as HAProxy does, case counting: "a" twice is a duplicate whatever comes first.
    three = [dict(apps[0], name=name, host="%s.example.com" % index) for index, name in enumerate(["A", "a", "a"])]
    assert ['app name "a" is used by more than one app'] == [
        problem for problem in apps_problems(three, {}) if "more than one app" in problem]
    # A health_check that is not a mapping is named.
    assert apps_problems([dict(apps[0], health_check="/HealthCheck")], {}) == [
        'app "application-01": health_check must be a mapping (path, expect_status), got "/HealthCheck"']
    # Timeouts given as a string are not gone through character by character.
    assert settings_problems({"haproxy_timeouts": "5s"}) == [
        'haproxy_timeouts must be a mapping (connect, client, server, check, http_request, http_keep_alive, queue), '
        'got "5s"']


def test_the_defaults_are_the_roles():
    with open(os.path.join(ROOT, "roles", "haproxy", "defaults", "main.yml")) as handle:
        defaults = yaml.safe_load(handle)
    with open(os.path.join(ROOT, "roles", "migration", "defaults", "main.yml")) as handle:
        migration = yaml.safe_load(handle)
    # The migration role's defaults read the names older inventories set, else these.
    assert "default({})" in migration["migration_gate_thresholds"] and "default({})" in migration["migration_aws"]
    defaults.update(migration_gate_thresholds={}, migration_aws={},
                    migration_notify_webhooks=migration["migration_notify_webhooks"])
    config_dir = defaults["haproxy_config_dir"]
    for name, value in DEFAULTS.items():
        expected = defaults[name]
        if isinstance(expected, str):
            expected = expected.replace("{{ haproxy_config_dir }}", config_dir)
        assert value == expected, name


def test_missing_settings_take_the_defaults_and_nothing_is_changed():
    settings = {"haproxy_timeouts": {"connect": "5s"}, "migration_aws": {"region": "eu-west-3"}}
    apps = local_apps()
    before = (copy.deepcopy(settings), copy.deepcopy(apps))
    assert app_model_problems(apps, settings) == []
    assert app_model_problems([], None) == []
    assert (settings, apps) == before


def test_the_filter_is_the_function():
    assert FilterModule().filters() == {"app_model_problems": app_model_problems}


@pytest.mark.parametrize("settings, expected", [
    ({"haproxy_frontend_bind": ["127.0.0.1:80\nbind *:1"]},
     'haproxy_frontend_bind item "127.0.0.1:80\\nbind *:1" is not a valid bind line (no newline, no \'#\')'),
    ({"haproxy_metrics_bind": ["127.0.0.1:8405\n"]},
     'haproxy_metrics_bind item "127.0.0.1:8405\\n" is not a valid bind line (no newline, no \'#\')'),
    ({"haproxy_stats_socket_mode": "600\n"}, 'haproxy_stats_socket_mode "600\\n" is not an octal mode like "600"'),
    ({"haproxy_hard_stop_after": "30s\n"}, 'haproxy_hard_stop_after "30s\\n" is not a time (like 500ms, 5s, 1m)'),
    ({"haproxy_frontend_name": "cloudshift\n"}, 'haproxy_frontend_name "cloudshift\\n" is not a valid HAProxy name'),
])
def test_a_newline_never_passes_a_pattern(settings, expected):
    """Jinja's `$` let a value end with a newline, and `\\s` let one into a bind line: a second configuration line."""
    assert any(problem.startswith(expected) for problem in settings_problems(settings)), settings_problems(settings)


def test_a_trailing_newline_in_an_app_name_or_host_is_refused():
    apps = local_apps()
    apps[0]["name"] = "application-01\n"
    apps[1]["host"] = "application-02.6play.fr\n"
    problems = app_model_problems(apps, local_settings())
    assert 'app "application-01\\n": name "application-01\\n" is not valid for HAProxy' in " ".join(problems)
    assert 'app "application-02": host "application-02.6play.fr\\n" is not a valid host name' in problems
