"""TEMPORARY: delete this file with roles/haproxy/templates/preflight_problems.j2.

app_model_problems against the preflight the role runs today, on a corpus of bad inputs: the template rendered
by Ansible's Templar (its lines split on newlines, trimmed, the empty ones dropped), followed by the filters
of roles/haproxy/tasks/preflight.yml's expression (read from the file). Ansible renders in a subprocess, this
file run as a script, so its collection loader stays out of the test process.

Where the template fails today (a key missing, a loop over null or a number: the preflight then errors, or,
for an undefined value, default('', true) turns the whole template into no problem at all), there is nothing
to compare: app_model_problems must return sentences instead of raising.
"""

import copy
import os
import pickle
import random
import re
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLE = os.path.join(ROOT, "roles", "haproxy")
DELETE = "<delete this key>"


# ------------------------------------------------------------------ the renderer (this file run as a script)


def _role_defaults():
    with open(os.path.join(ROLE, "defaults", "main.yml")) as handle:
        variables = yaml.safe_load(handle)
    variables["haproxy_config_file"] = "/etc/haproxy/haproxy.cfg"
    variables["haproxy_stats_page_file"] = "/etc/haproxy/stats-page.cfg"
    return variables


def _filters_expression():
    with open(os.path.join(ROLE, "tasks", "preflight.yml")) as handle:
        expression = yaml.safe_load(handle)[0]["ansible.builtin.set_fact"]["haproxy_preflight_problems"]
    template_part, filters_part = re.split(r"\n\s*\+ ", expression, maxsplit=1)
    assert "preflight_problems.j2" in template_part and "preflight_problems.j2" not in filters_part
    return "{{ " + filters_part


def _render_corpus():
    os.environ["ANSIBLE_DEPRECATION_WARNINGS"] = "False"  # `| bool` of a value it does not know
    from ansible.parsing.dataloader import DataLoader
    from ansible.plugins.loader import init_plugin_loader
    from ansible.template import Templar, trust_as_template

    init_plugin_loader([os.path.join(ROOT, ".ansible", "collections")])

    def render(expression, variables):
        loader = DataLoader()
        loader.set_basedir(ROLE)
        templar = Templar(loader=loader, variables=dict(variables, ansible_search_path=[ROLE]))
        try:
            return "ok", templar.template(trust_as_template(expression))
        except Exception as exc:  # pylint: disable=broad-except
            return "error", "%s: %s" % (type(exc).__name__, (str(exc).splitlines() or [""])[0])

    filters = _filters_expression()
    results = []
    for settings, apps in pickle.load(sys.stdin.buffer):
        variables = _role_defaults()
        variables.update(settings)
        variables["cloudshift_apps"] = apps
        status, text = render("{{ lookup('ansible.builtin.template', 'preflight_problems.j2') }}", variables)
        if status == "ok":
            text = [line.strip() for line in (text or "").split("\n") if line.strip()]
        results.append(((status, text), render(filters, variables)))
    pickle.dump(results, sys.stdout.buffer)


# ------------------------------------------------------------------ the corpus


def local_apps():
    """inventories/local's app model, its ports and run directory rendered as Ansible would (offset 0)."""
    with open(os.path.join(ROOT, "inventories", "local", "group_vars", "haproxy", "apps.yml")) as handle:
        apps = yaml.safe_load(handle)["cloudshift_apps"]

    def rendered(value):
        if isinstance(value, dict):
            return dict((key, rendered(item)) for key, item in value.items())
        if isinstance(value, list):
            return [rendered(item) for item in value]
        if isinstance(value, str):
            whole = re.match(r"^\{\{ (\d+) \+ cloudshift_port_offset \| int \}\}$", value)
            if whole:
                return int(whole.group(1))
            value = re.sub(r"\{\{ (\d+) \+ cloudshift_port_offset \| int \}\}", lambda m: m.group(1), value)
            return value.replace("{{ cloudshift_run_dir }}", "/srv/cloudshift/.run")
        return value

    return rendered(apps)


ANY = ["", " ", "a\nb", "a\rb", 'say "hi"', "it's", "back\\slash", "é", "日本", "\u2028", "5", "05", "-1", "0", "1",
       "256", "x" * 129, 0, 1, -1, 7, 256, 99999999999, 1.5, True, False, None, [], ["x"], {}, {"a": 1}, "true",
       "yes", "No", "on", "10s", "10 s", "/ok", "/a b", "a#b", "cloudshift", "cloudshift-metrics", "..", ".", "A",
       "a", "UPPER.Case", "trailing\n", "\ttab"]
TARGETED = {
    "name": ["cloudshift-unknown-host", "ok-name", "bad/name", "x" * 128, "a:b_c.d-e", "cloudshift\n", "..."],
    "host": ["EXAMPLE.com", "a-.com", "-a.com", "a..b", "x" * 64 + ".com", "x" * 63, "a.b.c", "a_b.com", "é.com"],
    "bind": ["*:80", "127.0.0.1:8405", "127.0.0.1:8404", "a b", "a  b", " a", "a\n", "a#", "ipv4@127.0.0.1:80"],
    "time": ["0", "10", "10us", "1.5s", "1 s", "5m", "2h", "1d", "10S", "10s\n", 10, "ms"],
    "path": ["/", "/metrics", "/a~b", "/a?b=c&d", "/a%20", "relative", "/a b", "//", "/é", "/stats\n", "/x#"],
    "file": ["/etc/x", "/a b", "/a#", "relative", '/a"b', "/a'b", "/a\\b", "/", "/x\n", "/tmp/é"],
    "mode": ["600", "660", "640", "777", "0600", "6000", "0660", "0606", 600, 660, 640, "600\n", "6", "8888", "60a"],
    "status": ["200", "200-399", "200,204", "600", "200-", 200, "099", "200,", "2OO", "200-399,404"],
    "port": ["65535", "65536", 0, 65535, 65536, "0080", "80\n", -80, "1e3", 80.0],
    "step": [0, 100, 101, "100", "101", "-0", "050", -1, 50.5, "50\n", "1_0"],
    "nameservers": [["1.1.1.1:53"], ["[::1]:53"], ["host:99999"], ["1.1.1.1"], "1.1.1.1:53", [53], None, 5,
                    ["a b:53"], ["x:53", "y"]],
    "verify": ["required", "none", "None", "REQUIRED", "", None, False, 0],
    "positive": [1, 2, "3", 0, "0", -1, "01", "1\n", 1.0, "x"],
    "integer": ["0", "1", "256", "257", "4096", "4097", "10000000", "10000001", "3600", "3601", "-0", "1\n",
                "1.0", 0, 256, 257, -1, 10000001],
    "account": ["", "haproxy", "ha proxy", "ha-proxy.1_", "ha:proxy", "root\n", 0],
    "loopback": ["127.0.0.1:8404", "[::1]:8404", "localhost:8404", "ipv4@127.0.0.1:8404", "ipv6@::1:8404",
                 "0.0.0.0:8404", "127.0.0.1", "127.0.0.1:8405", "127.0.0.1:8404\n", 8404],
    "password": ["long-enough-pw", "short", "12345678", "with\nnewline", "with\rreturn", 12345678, None, ""],
    "enabled": [True, False, "true", "yes", "no", "1", "0", "on", "off", "maybe", 1, 0, 2, None, "TRUE"],
    "log": ["stdout format raw local0", "/dev/log local0", "a#b", "a\nb", "a\rb", "a\n", ""],
}


def settings_paths():
    """(path, pool) of every role variable the template reads and of the keys inside the mappings."""
    paths = [(("haproxy_frontend_name",), "name"), (("haproxy_frontend_bind",), "bind"),
             (("haproxy_frontend_bind", 0), "bind"), (("haproxy_metrics_bind",), "bind"),
             (("haproxy_metrics_bind", 0), "bind"), (("haproxy_metrics_path",), "path"),
             (("haproxy_metrics_frontend_name",), "name"), (("haproxy_timeouts",), "time"),
             (("haproxy_hard_stop_after",), "time"), (("haproxy_close_spread_time",), "time"),
             (("haproxy_resolvers",), "name"), (("haproxy_resolvers", "name"), "name"),
             (("haproxy_resolvers", "hold_valid"), "time"), (("haproxy_resolvers", "nameservers"), "nameservers"),
             (("haproxy_resolvers", "parse_resolv_conf"), "enabled"), (("haproxy_ca_file",), "file"),
             (("haproxy_stats_socket_mode",), "mode"), (("haproxy_stats_page",), "enabled"),
             (("haproxy_stats_page", "enabled"), "enabled"), (("haproxy_stats_page", "bind"), "loopback"),
             (("haproxy_stats_page", "user"), "account"), (("haproxy_stats_page", "password"), "password"),
             (("haproxy_stats_page", "uri"), "path"), (("haproxy_stats_page", "refresh"), "time"),
             (("haproxy_stats_page", "colour"), "name"), (("haproxy_stats_page_file",), "file"),
             (("haproxy_user",), "account"), (("haproxy_group",), "account"), (("haproxy_log_target",), "log"),
             (("haproxy_default_backend",), "name")]
    paths += [(("haproxy_timeouts", key), "time") for key in
              ("connect", "client", "server", "check", "http_request", "http_keep_alive", "queue", "bogus")]
    paths += [(("haproxy_%s" % name,), "integer") for name in
              ("backup_weight", "maxconn", "nbthread", "observe_error_limit", "service_timeout")]
    return paths


def app_paths(apps):
    paths = [((), "name")]
    for index, app in enumerate(apps):
        paths += [((index,), "name"), ((index, "name"), "name"), ((index, "host"), "host"),
                  ((index, "initial_step"), "step"), ((index, "health_check"), "path"),
                  ((index, "health_check", "path"), "path"), ((index, "health_check", "expect_status"), "status"),
                  ((index, "servers"), "name")]
        for server in range(len(app["servers"])):
            paths += [((index, "servers", server, key), pool) for key, pool in
                      (("name", "name"), ("side", "name"), ("address", "host"), ("port", "port"),
                       ("verify", "verify"), ("insecure", "enabled"), ("ca_file", "file"), ("inter", "time"),
                       ("fall", "positive"), ("rise", "positive"))]
    return paths


def set_path(data, path, value):
    """data with the value at path (DELETE: without the key); False when the path is not there any more."""
    for key in path[:-1]:
        if isinstance(data, dict) and key in data or isinstance(data, list) and isinstance(key, int) and key < len(data):
            data = data[key]
        elif isinstance(data, dict):
            data[key] = {}
            data = data[key]
        else:
            return False
    key = path[-1]
    if isinstance(data, dict):
        if value == DELETE:
            data.pop(key, None)
        else:
            data[key] = value
        return True
    if isinstance(data, list) and isinstance(key, int) and key < len(data) and value != DELETE:
        data[key] = value
        return True
    return False


def handwritten_cases(apps):
    """One case or more for every sentence of the template."""
    stats_on = {"enabled": True, "password": "long-enough-pw"}

    def app_with(index, **changes):
        model = copy.deepcopy(apps)
        model[index].update(changes)
        return model

    def server_with(index, server, **changes):
        model = copy.deepcopy(apps)
        model[index]["servers"][server].update(changes)
        return model

    settings_cases = [
        {"haproxy_frontend_name": "front end"}, {"haproxy_frontend_name": 5}, {"haproxy_frontend_name": ".."},
        {"haproxy_frontend_bind": "*:80"}, {"haproxy_frontend_bind": []}, {"haproxy_frontend_bind": ["*:80 # x", 80]},
        {"haproxy_frontend_bind": {"*:80": 1}}, {"haproxy_metrics_bind": "127.0.0.1:8405"},
        {"haproxy_metrics_bind": ["a\nb", {"x": 1}]}, {"haproxy_metrics_bind": ["*:80"]}, {"haproxy_metrics_bind": []},
        {"haproxy_frontend_bind": "*:80", "haproxy_metrics_bind": ["*:8", "80"]},
        {"haproxy_metrics_path": "metrics"}, {"haproxy_metrics_path": "/met rics"},
        {"haproxy_metrics_frontend_name": "cloudshift"}, {"haproxy_metrics_frontend_name": ["x"]},
        {"haproxy_timeouts": {"connect": "5 s", "client": True, "server": None, "check": 1.5, "queue": {"a": "é"}}},
        {"haproxy_timeouts": {"bogus": "1s", 7: "1s"}}, {"haproxy_timeouts": "5s"}, {"haproxy_timeouts": ["connect"]},
        {"haproxy_hard_stop_after": "30 s"}, {"haproxy_close_spread_time": None}, {"haproxy_hard_stop_after": 30},
        {"haproxy_resolvers": {"name": "m6 dns", "hold_valid": "10"}}, {"haproxy_resolvers": {"name": None}},
        {"haproxy_resolvers": {"hold_valid": None}}, {"haproxy_resolvers": {"nameservers": ["8.8.8.8", "1.1.1.1:53"]}},
        {"haproxy_resolvers": {"nameservers": [], "parse_resolv_conf": False}},
        {"haproxy_resolvers": {"parse_resolv_conf": "no"}}, {"haproxy_resolvers": {"parse_resolv_conf": "maybe"}},
        {"haproxy_resolvers": "m6dns"}, {"haproxy_resolvers": {"nameservers": "8.8.8.8:53"}},
        {"haproxy_ca_file": "relative.crt"}, {"haproxy_ca_file": "/a b"}, {"haproxy_ca_file": None},
        {"haproxy_stats_socket_mode": "666"}, {"haproxy_stats_socket_mode": 644}, {"haproxy_stats_socket_mode": "0644"},
        {"haproxy_stats_socket_mode": "rw"}, {"haproxy_stats_socket_mode": "600\n"},
        {"haproxy_stats_socket_mode": "606", "haproxy_group": 'g"x'},
        {"haproxy_stats_page": "on"}, {"haproxy_stats_page": None}, {"haproxy_stats_page": {"colour": 1, "enabled": 1}},
        {"haproxy_stats_page": {"enabled": "sometimes"}}, {"haproxy_stats_page": {"enabled": True}},
        {"haproxy_stats_page": dict(stats_on, bind="0.0.0.0:8404")}, {"haproxy_stats_page": dict(stats_on, bind=None)},
        {"haproxy_stats_page": dict(stats_on, bind="127.0.0.1:8405")},
        {"haproxy_stats_page": dict(stats_on, bind="127.0.0.1:80"), "haproxy_frontend_bind": ["127.0.0.1:80"]},
        {"haproxy_stats_page": dict(stats_on, user="a b", uri="stats", refresh="10 s")},
        {"haproxy_stats_page": dict(stats_on, user=None, uri="", refresh=0)},
        {"haproxy_stats_page": dict(stats_on, password="short")},
        {"haproxy_stats_page": dict(stats_on, password="long-enough\n")},
        {"haproxy_stats_page": dict(stats_on, password=123456789)},
        {"haproxy_stats_page": dict(stats_on, enabled="yes", uri=5)},
        {"haproxy_stats_page_file": "/etc/haproxy/haproxy.cfg"}, {"haproxy_stats_page_file": "stats.cfg"},
        {"haproxy_user": "ha proxy", "haproxy_group": "wheel\n"}, {"haproxy_user": None}, {"haproxy_group": ""},
        {"haproxy_log_target": "a # b"}, {"haproxy_log_target": "a\nb"}, {"haproxy_log_target": "ok\n"},
        {"haproxy_backup_weight": 257}, {"haproxy_maxconn": "0"}, {"haproxy_nbthread": "4097"},
        {"haproxy_observe_error_limit": 1.5}, {"haproxy_service_timeout": True}, {"haproxy_service_timeout": "30\n"},
        {"haproxy_maxconn": "-5"}, {"haproxy_backup_weight": "1" * 30},
        {"haproxy_default_backend": "application-03"}, {"haproxy_default_backend": 1},
        {"haproxy_default_backend": "application-01"},
    ]
    cases = [(settings, copy.deepcopy(apps)) for settings in settings_cases]
    cases += [({}, model) for model in [
        "application-01", {"name": "application-01"}, [],
        app_with(1, name="application-01"), app_with(1, host="APPLICATION-01.6play.fr"),
        app_with(1, name="Application-01"), [app_with(0)[0]] * 3,
        [dict(apps[0], name="A"), dict(apps[0], name="a"), dict(apps[0], name="a")],
        app_with(0, name="bad name"), app_with(0, name=5), app_with(0, name=None), app_with(0, name="cloudshift"),
        app_with(0, name="cloudshift-metrics"), app_with(0, name="cloudshift-unknown-host"), app_with(0, name='"q"'),
        app_with(0, host="bad_host.fr"), app_with(0, host=None), app_with(0, host="é.fr"),
        app_with(0, initial_step=101), app_with(0, initial_step="50"), app_with(0, initial_step=None),
        app_with(0, initial_step=True), app_with(0, health_check={"path": "HealthCheck"}),
        app_with(0, health_check={"path": "/a b", "expect_status": "2xx"}), app_with(0, health_check="/x"),
        app_with(0, health_check={"expect_status": 200}), app_with(0, health_check={"expect_status": None}),
        app_with(0, health_check={"expect_status": "200-399,404"}), app_with(0, servers=[]),
        app_with(0, servers=""), app_with(0, servers={}),
        app_with(0, servers=[dict(apps[0]["servers"][0]), dict(apps[0]["servers"][0])]),
        server_with(0, 0, name="bad name", side="aws", address="a b", port=0),
        server_with(0, 0, name=None, side=None, address=None, port=None),
        server_with(0, 1, port="65536", verify="optional", ca_file="ca.crt", inter="1 s", fall=0, rise="x"),
        server_with(0, 1, verify="none"), server_with(0, 1, verify="none", insecure=True),
        server_with(0, 1, verify="none", insecure="yes"), server_with(0, 1, verify="none", insecure="maybe"),
        server_with(0, 1, verify="", insecure=False), server_with(0, 1, address="[::1]", port="8443"),
        server_with(0, 1, address="[zz]"), server_with(0, 1, fall=None, rise=None, inter=None, ca_file=None),
        server_with(0, 1, name="é", side="CLOUD"),
    ]]
    return cases


def random_cases(apps, count, seed):
    generator = random.Random(seed)
    paths = [("settings", path, pool) for path, pool in settings_paths()]
    paths += [("apps", path, pool) for path, pool in app_paths(apps)]
    cases = []
    while len(cases) < count:
        settings, model = {}, copy.deepcopy(apps)
        for _change in range(generator.randint(1, 3)):
            where, path, pool = generator.choice(paths)
            value = generator.choice(TARGETED[pool] + ANY + ([DELETE] if where == "apps" else []))
            if where == "settings":
                if path[0] not in settings:
                    settings[path[0]] = copy.deepcopy(_role_defaults()[path[0]])
                if len(path) == 1:
                    settings[path[0]] = copy.deepcopy(value)
                else:
                    set_path(settings, path, copy.deepcopy(value))
            elif path == ():
                model = copy.deepcopy(value)
            else:
                set_path(model, path, copy.deepcopy(value))
        if generator.random() < 0.2:  # the checks of an enabled stats page
            settings.setdefault("haproxy_stats_page", {"enabled": True, "password": "long-enough-pw"})
        cases.append((settings, model))
    return cases


def corpus(random_count=150, seed=20240607):
    apps = local_apps()
    return [({}, copy.deepcopy(apps))] + handwritten_cases(apps) + random_cases(apps, random_count, seed)


# ------------------------------------------------------------------ the test


def render(cases):
    run = subprocess.run([sys.executable, os.path.abspath(__file__)], input=pickle.dumps(cases),
                         capture_output=True, check=False, cwd=ROOT)
    assert run.returncode == 0, run.stderr.decode()[-3000:]
    return pickle.loads(run.stdout)


def compare(cases):
    """(differences, counts): the cases where app_model_problems does not say what the preflight says today."""
    from ansible_collections.cloudshift.migration.plugins.module_utils.app_model.validation import (
        app_model_problems, apps_problems, settings_problems)

    differences, counts = [], {"cases": len(cases), "compared": 0, "template fails": 0, "filters fail": 0}
    for (settings, apps), (template, filters) in zip(cases, render(cases)):
        ours = settings_problems(settings) + apps_problems(apps, settings)
        if filters[0] == "ok":
            assert app_model_problems(apps, settings) == ours + filters[1], (settings, apps)
        else:  # app_model_problems fails as the preflight does (a filter's error)
            counts["filters fail"] += 1
        if template[0] != "ok":
            counts["template fails"] += 1
        elif ours != template[1]:
            differences.append((settings, [line for line in ours if line not in template[1]],
                                [line for line in template[1] if line not in ours], ours, template[1]))
        else:
            counts["compared"] += 1
    return differences, counts


def test_app_model_problems_says_what_the_preflight_says_today():
    cases = corpus()
    differences, counts = compare(cases)
    print(counts)
    assert not differences, "%d differences\n" % len(differences) + "\n\n".join(
        "settings %r\nonly ours   %r\nonly theirs %r\nours   %r\ntheirs %r" % difference for difference in differences[:5])
    assert counts["compared"] >= 60


if __name__ == "__main__":
    _render_corpus()
