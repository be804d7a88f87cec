# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""haproxy_stats_info, migration_gate and migration_audit run through ansible-playbook against a real
HAProxy with a timings ring, real upstreams and real traffic. Ports 18090-18099."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.timings import LOG_FORMAT
from haproxy_process import HAProxyProcess, UpstreamServer, count_backend_servers, run_ansible_module, run_ansible_tasks

STATS = "cloudshift.migration.haproxy_stats_info"
GATE = "cloudshift.migration.migration_gate"
AUDIT = "cloudshift.migration.migration_audit"
UPSTREAM_PORTS = {"cloud": 18091, "onprem": 18092}
FRONTEND_PORT = 18093

CONFIG = """
global
    stats socket {workdir}/admin.sock mode 600 level admin

ring cloudshift-timings
    format raw
    maxlen 1024
    size 1048576

defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    log-format "%(log_format)s"

frontend fe
    bind 127.0.0.1:%(frontend)d
    log ring@cloudshift-timings local0 info
    default_backend app

backend app
    balance roundrobin
    http-response add-header X-Backend-Server %%s
    option httpchk GET /HealthCheck
    server cloud 127.0.0.1:%(cloud)d check inter 200ms weight 50
    server onprem 127.0.0.1:%(onprem)d check inter 200ms weight 50

backend quiet
    server q 127.0.0.1:%(onprem)d weight 1
""" % dict(log_format=LOG_FORMAT, frontend=FRONTEND_PORT, **UPSTREAM_PORTS)


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
    process.wait_servers_up("app", ["cloud", "onprem"])
    yield process
    process.stop()


def stats_args(haproxy, **extra):
    args = {"socket": haproxy.admin_socket, "backend": "app", "cloud_servers": ["cloud"], "onprem_servers": ["onprem"]}
    args.update(extra)
    return args


def test_a_window_between_two_snapshots_counts_real_requests_per_side(haproxy):
    first = run_ansible_module(STATS, stats_args(haproxy))
    assert not first.get("failed"), first
    assert first["changed"] is False and first["window"]["source"] == "worker_start"
    assert count_backend_servers(FRONTEND_PORT, 200) == {"cloud": 100, "onprem": 100}
    second = run_ansible_module(STATS, stats_args(haproxy, since=first["snapshot"]))
    assert not second.get("failed"), second
    window = second["window"]
    assert window["source"] == "since" and window["same_worker"] and window["samples_complete"]
    for side in ("cloud", "onprem"):
        figures = window["sides"][side]
        assert figures["requests"] == 100 and figures["responses"]["2xx"] == 100, figures
        assert figures["shares_pct"]["2xx"] == 100.0 and figures["error_rate_pct"] == 0.0
        # One latency sample per request, read back from the ring.
        assert figures["timings"]["samples"] == 100 and len(window["samples"][side]) == 100
    assert window["servers"]["cloud"]["last_check"].startswith("L7OK/200")
    assert window["servers"]["cloud"]["counters"]["req_tot"] == 100


def test_a_duration_window_sees_only_its_own_traffic_and_the_reload_resets_nothing_silently(haproxy):
    count_backend_servers(FRONTEND_PORT, 50)
    result = run_ansible_module(STATS, stats_args(haproxy, duration=0.5))
    assert not result.get("failed"), result
    assert result["window"]["source"] == "duration" and result["window"]["seconds"] >= 0.5
    assert result["window"]["sides"]["cloud"]["requests"] == 0
    assert result["window"]["sides"]["cloud"]["timings"]["samples"] == 0


def test_check_mode_and_a_missing_since_file_still_measure(haproxy, tmp_path):
    count_backend_servers(FRONTEND_PORT, 20)
    result = run_ansible_module(STATS, stats_args(haproxy, since_file=str(tmp_path / "windows" / "app.json")), check=True)
    assert not result.get("failed"), result
    assert result["window"]["source"] == "worker_start" and result["window"]["sides"]["onprem"]["requests"] >= 10


@pytest.mark.parametrize("extra, message", [
    ({"backend": "nosuch"}, "HAProxy has no backend named nosuch"),
    ({"backend": "app;show info"}, "invalid backend name 'app;show info'"),
    ({"cloud_servers": ["cloud", "ghost"]}, "backend app has no server named ghost"),
    ({"cloud_servers": ["bad name"]}, "invalid server name 'bad name'"),
    ({"duration": 7200}, "duration must be from 0 to 3600 seconds, got 7200"),
    ({"duration": -1}, "duration must be from 0 to 3600 seconds, got -1"),
    ({"ring": "nosuchring"}, "HAProxy has no ring named nosuchring"),
    ({"ring": "ring\nshow info"}, "invalid ring name"),
    ({"since": {"format": 1, "backend": "quiet", "taken_at": 1, "worker": {}, "servers": {}}},
     "snapshot of backend 'quiet', not of app"),
    ({"since_file": "/tmp/x.json", "since": {}}, "parameters are mutually exclusive: since|since_file"),
    ({"max_samples": -5}, "max_samples must be 0 or more, got -5"),
])
def test_bad_stats_requests_name_the_value(haproxy, extra, message):
    result = run_ansible_module(STATS, stats_args(haproxy, **extra))
    assert result.get("failed"), result
    assert message in result["msg"], result["msg"]


def test_socket_errors_are_clear(tmp_path):
    result = run_ansible_module(STATS, {"socket": str(tmp_path / "none.sock"), "backend": "app",
                                        "cloud_servers": ["cloud"], "onprem_servers": ["onprem"]})
    assert result.get("failed") and "does not exist: is HAProxy running" in result["msg"], result


def test_gate_and_audit_on_real_windows_check_mode_writes_nothing(haproxy, tmp_path):
    first = run_ansible_module(STATS, stats_args(haproxy))
    count_backend_servers(FRONTEND_PORT, 600)
    window = run_ansible_module(STATS, stats_args(haproxy, since=first["snapshot"]))["window"]
    reference = str(tmp_path / "audit" / "app.onprem-reference.json")
    audit_dir = str(tmp_path / "audit")
    gate_args = {"windows": {"node-a": window, "node-b": window}, "reference_file": reference, "label": "app",
                 "thresholds": {"min_requests": 300}}
    checked = run_ansible_module(GATE, gate_args, check=True)
    assert not checked.get("failed"), checked
    # Two nodes' windows add up: 300 + 300 a side, enough for min_requests 300.
    assert checked["verdict"] == "pass" and checked["window"]["sides"]["cloud"]["requests"] == 600
    assert checked["reference_updated"] and not os.path.exists(reference)
    assert "samples" not in checked["window"]
    assert checked["figures"][0].split()[:2] == ["node", "side"] and any(line.startswith("all nodes") for line in checked["figures"])
    assert checked["table"][0] == "verdict: PASS"

    audit_args = {"audit_dir": audit_dir, "app": "app", "action": "step", "from_step": 25, "to_step": 50,
                  "verdict": checked["verdict"], "window": checked["window"], "checks": checked["checks"], "by": "tester"}
    dry = run_ansible_module(AUDIT, audit_args, check=True, diff=True)
    assert dry["changed"] and not os.path.exists(os.path.join(audit_dir, "app.jsonl")), dry
    assert dry["diff"]["after"].startswith("{") and dry["record"]["figures"]["cloud"]["requests"] == 600

    results = run_ansible_tasks([(GATE, gate_args), (AUDIT, audit_args)])
    assert not any(result.get("failed") for result in results), results
    assert json.load(open(reference))["requests"] == 600
    lines = open(os.path.join(audit_dir, "app.jsonl")).read().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["by"] == "tester" and json.loads(lines[0])["to"] == 50


@pytest.mark.parametrize("module, args, message", [
    (GATE, {"windows": {}}, "windows must be a non-empty dict"),
    (GATE, {"windows": {"a": {"sides": {}}}}, "the window of node a is not one returned by haproxy_stats_info"),
    (GATE, {"windows": {"a": {"x": 1}}, "thresholds": {"alpha": 5}}, "threshold alpha must be between 0 and 1"),
    (AUDIT, {"audit_dir": "/tmp", "app": "app;x", "action": "step"}, "invalid app name 'app;x'"),
    (AUDIT, {"audit_dir": "/tmp", "app": "app", "action": "step", "to_step": 150}, "to_step must be a step from 0 to 100"),
    (AUDIT, {"audit_dir": "/tmp", "app": "app", "action": "jump"}, "value of action must be one of"),
])
def test_bad_gate_and_audit_inputs_name_the_value(module, args, message):
    result = run_ansible_module(module, args)
    assert result.get("failed"), result
    assert message in result["msg"], result["msg"]
