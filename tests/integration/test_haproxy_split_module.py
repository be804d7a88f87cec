# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""haproxy_split and haproxy_backend_info run through ansible-playbook against a real HAProxy,
with real upstreams and real traffic. Ports 18050-18089."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from haproxy_process import (
    HAProxyProcess,
    UpstreamServer,
    count_backend_servers,
    run_ansible_module,
    run_ansible_tasks,
)

SPLIT = "cloudshift.migration.haproxy_split"
INFO = "cloudshift.migration.haproxy_backend_info"

UPSTREAM_PORTS = {
    "cloud1": 18051, "onprem1": 18052,
    "c1": 18053, "c2": 18054, "o1": 18055, "o2": 18056, "o3": 18057,
    "cloud3": 18058, "onprem3": 18059,
}
FRONTENDS = {"app1": 18060, "app2": 18061, "app3": 18062}
TCP_STATS_PORT = 18063

CONFIG = """
global
    stats socket {workdir}/admin.sock mode 600 level admin
    stats socket {workdir}/user.sock mode 600 level user
    stats socket ipv4@127.0.0.1:%(tcp)d level admin

defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    option httpchk GET /HealthCheck
    default-server check inter 200ms

frontend fe1
    bind 127.0.0.1:%(fe1)d
    default_backend app1

frontend fe2
    bind 127.0.0.1:%(fe2)d
    default_backend app2

frontend fe3
    bind 127.0.0.1:%(fe3)d
    default_backend app3

backend app1
    balance roundrobin
    http-response add-header X-Backend-Server %%s
    server cloud1 127.0.0.1:%(cloud1)d weight 1
    server onprem1 127.0.0.1:%(onprem1)d weight 99

backend app2
    balance roundrobin
    http-response add-header X-Backend-Server %%s
    server c1 127.0.0.1:%(c1)d weight 0
    server c2 127.0.0.1:%(c2)d weight 0
    server o1 127.0.0.1:%(o1)d weight 100
    server o2 127.0.0.1:%(o2)d weight 100
    server o3 127.0.0.1:%(o3)d weight 100

# step 100 as the configuration renders it: on-prem is a backup server
backend app3
    balance roundrobin
    http-response add-header X-Backend-Server %%s
    server cloud3 127.0.0.1:%(cloud3)d weight 100
    server onprem3 127.0.0.1:%(onprem3)d weight 100 backup

backend hashed
    balance uri
    server hc 127.0.0.1:%(cloud1)d weight 10
    server ho 127.0.0.1:%(onprem1)d weight 10
""" % dict(tcp=TCP_STATS_PORT, fe1=FRONTENDS["app1"], fe2=FRONTENDS["app2"], fe3=FRONTENDS["app3"],
           **UPSTREAM_PORTS)


@pytest.fixture(scope="module")
def upstreams():
    servers = [UpstreamServer(name, port).start() for name, port in UPSTREAM_PORTS.items()]
    yield servers
    for server in servers:
        server.stop()


@pytest.fixture
def haproxy(tmp_path, upstreams):
    process = HAProxyProcess(CONFIG, tmp_path)
    process.start()
    yield process
    process.stop()


def split_args(haproxy, backend="app1", cloud=("cloud1",), onprem=("onprem1",), share=25, **extra):
    args = {"socket": haproxy.admin_socket if haproxy else None, "backend": backend, "cloud_servers": list(cloud),
            "onprem_servers": list(onprem), "share": share}
    args.update(extra)
    return args


def cloud_percent(counts, cloud_names):
    total = sum(counts.values())
    return 100.0 * sum(counts[name] for name in cloud_names) / total


def test_share_25_sends_a_quarter_of_real_requests_to_the_cloud(haproxy):
    haproxy.wait_servers_up("app1", ["cloud1", "onprem1"])
    result = run_ansible_module(SPLIT, split_args(haproxy, share=25))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["weights_before"] == {"cloud1": 1, "onprem1": 99}
    assert result["weights_after"] == {"cloud1": 25, "onprem1": 75}  # like the field report
    assert result["share"] == 25.0 and result["effective_share"] == 25.0
    assert result["commands"] == ["set weight app1/cloud1 25", "set weight app1/onprem1 75"]
    assert haproxy.weights("app1") == {"cloud1": 25, "onprem1": 75}
    servers = dict((server["name"], server) for server in result["servers"])
    assert servers["cloud1"]["side"] == "cloud" and servers["onprem1"]["side"] == "onprem"
    # "* L7OK": a check is running and the last one was L7OK (seen when another test file loads the machine).
    assert servers["cloud1"]["status"] == "up" and servers["cloud1"]["check_status"].lstrip("* ") == "L7OK"

    counts = count_backend_servers(FRONTENDS["app1"], 400)
    assert sum(counts.values()) == 400 and set(counts) == {"cloud1", "onprem1"}
    assert abs(cloud_percent(counts, ["cloud1"]) - 25) <= 3, counts

    again = run_ansible_module(SPLIT, split_args(haproxy, share=25))
    assert again["changed"] is False and again["commands"] == [], again
    assert again["weights_before"] == again["weights_after"] == {"cloud1": 25, "onprem1": 75}


@pytest.mark.parametrize("share", [25, 33])
def test_two_cloud_three_onprem_servers(haproxy, share):
    cloud, onprem = ["c1", "c2"], ["o1", "o2", "o3"]
    haproxy.wait_servers_up("app2", cloud + onprem)
    result = run_ansible_module(SPLIT, split_args(haproxy, "app2", cloud, onprem, share, timeout=3))
    assert not result.get("failed"), result
    assert abs(result["share"] - share) <= 0.5
    weights = haproxy.weights("app2")
    assert weights == result["weights_after"]
    assert all(0 <= weight <= 256 for weight in weights.values())
    counts = count_backend_servers(FRONTENDS["app2"], 400)
    assert sum(counts.values()) == 400
    assert abs(cloud_percent(counts, cloud) - share) <= 3, counts


def test_check_mode_sends_no_set_and_diff_shows_weights(haproxy):
    result = run_ansible_module(SPLIT, split_args(haproxy, share=50), check=True, diff=True)
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["commands"] == ["set weight app1/cloud1 50", "set weight app1/onprem1 50"]
    assert result["weights_after"] == {"cloud1": 50, "onprem1": 50}
    assert "cloud1: {side: cloud, weight: 1}" in result["diff"]["before"]
    assert "cloud1: {side: cloud, weight: 50}" in result["diff"]["after"]
    assert haproxy.weights("app1") == {"cloud1": 1, "onprem1": 99}


def test_unknown_names_fail_naming_them_and_change_nothing(haproxy):
    results = run_ansible_tasks([
        (SPLIT, split_args(haproxy, backend="nosuch")),
        (SPLIT, split_args(haproxy, cloud=["cloud1", "ghost"])),
        (SPLIT, split_args(haproxy, cloud=["cloud1"], onprem=["onprem1", "bad name"])),
    ])
    expected = ["HAProxy has no backend named nosuch", "backend app1 has no server named ghost",
                "invalid server name 'bad name'"]
    for result, message in zip(results, expected):
        assert result.get("failed") is True, result
        assert message in result["msg"], result["msg"]
    assert haproxy.weights("app1") == {"cloud1": 1, "onprem1": 99}


BAD_INPUTS = [
    ({"backend": "app1;shutdown sessions"}, "invalid backend name 'app1;shutdown sessions': it contains a ';'"),
    ({"cloud": ["cloud 1"]}, "invalid server name 'cloud 1': it contains a space"),
    ({"onprem": ["onprem1\nset weight app1/cloud1 0"]}, "it contains a newline"),
    ({"onprem": ["on\\prem1"]}, "'on\\\\prem1': it contains a backslash"),
    ({"onprem": ["onprem1", "cloud1"]}, "server(s) cloud1 listed in both cloud_servers and onprem_servers"),
    ({"onprem": ["onprem1", "onprem1"]}, "onprem_servers lists server onprem1 twice"),
    ({"cloud": []}, "cloud_servers is empty"),
    ({"share": 101}, "share must be between 0 and 100 (percent of requests sent to the cloud), got 101"),
    ({"share": -1}, "got -1"),
    ({"timeout": 0}, "timeout must be a positive number of seconds, got 0"),
]


def test_bad_input_fails_before_any_socket_command(tmp_path):
    # The socket does not exist: any attempt to reach it would fail with a socket error instead,
    # so the validation message proves nothing was sent.
    missing_socket = str(tmp_path / "no-haproxy-here.sock")
    results = run_ansible_tasks([(SPLIT, split_args(None, socket=missing_socket, **args)) for args, _message in BAD_INPUTS])
    for (args, expected), result in zip(BAD_INPUTS, results):
        assert result.get("failed") is True, (args, result)
        assert expected in result["msg"], (args, result["msg"])
        assert "does not exist" not in result["msg"]


def test_haproxy_error_reply_surfaces_with_haproxys_words(haproxy):
    result = run_ansible_module(SPLIT, split_args(haproxy, "hashed", ["hc"], ["ho"], 25))
    assert result.get("failed") is True, result
    assert "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'." in result["msg"]
    assert "set weight hashed/" in result["msg"]


def test_server_in_maint_stays_in_maint(haproxy):
    haproxy.wait_servers_up("app1", ["cloud1", "onprem1"])
    assert haproxy.runtime("set server app1/cloud1 state maint").strip() == ""
    result = run_ansible_module(SPLIT, split_args(haproxy, share=50))
    assert not result.get("failed"), result
    assert haproxy.weights("app1") == {"cloud1": 50, "onprem1": 50}
    assert haproxy.stat_rows("app1")["cloud1"]["status"] == "MAINT"
    servers = dict((server["name"], server) for server in result["servers"])
    assert servers["cloud1"]["status"] == "maint" and servers["cloud1"]["serving"] is False
    assert "forced maintenance" in servers["cloud1"]["admin_state"]
    assert result["share"] == 50.0 and result["effective_share"] == 0.0
    counts = count_backend_servers(FRONTENDS["app1"], 50)
    assert counts == {"onprem1": 50}


def test_user_level_socket_gives_admin_level_error(haproxy, tmp_path):
    result = run_ansible_module(SPLIT, split_args(haproxy, socket=str(tmp_path / "user.sock")))
    assert result.get("failed") is True, result
    assert "Permission denied" in result["msg"] and "admin level" in result["msg"]
    assert "user.sock" in result["msg"]
    assert haproxy.weights("app1") == {"cloud1": 1, "onprem1": 99}


def test_tcp_socket_and_backup_onprem_at_100(haproxy):
    haproxy.wait_servers_up("app3", ["cloud3", "onprem3"])
    args = split_args(haproxy, "app3", ["cloud3"], ["onprem3"], 100, socket="tcp:127.0.0.1:%d" % TCP_STATS_PORT)
    result = run_ansible_module(SPLIT, args)
    assert not result.get("failed"), result
    assert result["changed"] is False and result["commands"] == []
    assert result["backup_servers"] == ["onprem3"]
    assert result["share"] == 100.0 and result["effective_share"] == 100.0
    assert count_backend_servers(FRONTENDS["app3"], 40) == {"cloud3": 40}

    args["share"] = 50
    result = run_ansible_module(SPLIT, args)
    assert result.get("failed") is True
    assert "backup" in result["msg"] and "onprem3" in result["msg"]
    assert haproxy.weights("app3") == {"cloud3": 100, "onprem3": 100}

    # the cloud fails: HAProxy falls back to the on-prem backup, and the effective share says so
    assert haproxy.runtime("set server app3/cloud3 state maint").strip() == ""
    info = run_ansible_module(INFO, {"socket": haproxy.admin_socket, "backends": ["app3"],
                                     "cloud_servers": ["cloud3"], "onprem_servers": ["onprem3"]})
    assert info["backends"]["app3"]["share"] == 100.0
    assert info["backends"]["app3"]["effective_share"] == 0.0
    assert count_backend_servers(FRONTENDS["app3"], 20) == {"onprem3": 20}


def test_backend_info_is_read_only_and_reports_servers(haproxy, tmp_path):
    haproxy.wait_servers_up("app2", ["c1", "c2", "o1", "o2", "o3"])
    count_backend_servers(FRONTENDS["app1"], 10)
    args = {"socket": str(tmp_path / "user.sock"), "backends": ["app1", "app2"],
            "cloud_servers": ["cloud1", "c1", "c2"], "onprem_servers": ["onprem1", "o1", "o2", "o3"]}
    for check in (False, True):
        result = run_ansible_module(INFO, args, check=check)
        assert not result.get("failed"), result
        assert result["changed"] is False
        app1 = result["backends"]["app1"]
        assert app1["weights"] == {"cloud1": 1, "onprem1": 99}
        assert app1["share"] == 1.0
        assert app1["missing_servers"] == ["c1", "c2", "o1", "o2", "o3"]
        servers = dict((server["name"], server) for server in app1["servers"])
        assert servers["onprem1"]["side"] == "onprem" and servers["onprem1"]["backup"] is False
        assert servers["onprem1"]["check_code"] == 200
        assert servers["onprem1"]["last_check"].startswith("L7OK/200 in ")
        assert sum(server["total_sessions"] for server in app1["servers"]) >= 10
        assert result["backends"]["app2"]["share"] == 0.0

    result = run_ansible_module(INFO, dict(args, backends=["app1", "nosuch"]))
    assert result.get("failed") is True and "nosuch" in result["msg"]
