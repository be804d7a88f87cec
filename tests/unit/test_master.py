# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure parts of the master-worker control (no HAProxy): parsing and decisions."""

from __future__ import absolute_import, division, print_function

import os
import re
import time

import pytest

from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.master import (
    MasterError, MasterWorker, configs_of_command_line, is_haproxy_process, master_command, new_workers, parse_pid,
    parse_show_proc, process_command_line, read_pid_file, reload_outcome, start_command)
from ansible_collections.cloudshift.migration.plugins.modules.haproxy_service import planned_action

# Verbatim answers of HAProxy 2.6.12's master CLI.
SHOW_PROC_STARTED = (
    "#<PID>          <type>          <reloads>       <uptime>        <version>      \n"
    "5257            master          0 [failed: 0]   0d00h10m03s     2.6.12-1+deb12u4\n"
    "# workers\n"
    "5258            worker          0               0d00h10m03s     2.6.12-1+deb12u4\n"
    "# programs\n\n")
SHOW_PROC_RELOADED = (
    "#<PID>          <type>          <reloads>       <uptime>        <version>      \n"
    "5257            master          1 [failed: 0]   0d00h10m19s     2.6.12-1+deb12u4\n"
    "# workers\n"
    "11046           worker          0               0d00h00m01s     2.6.12-1+deb12u4\n"
    "5258            worker          1               0d00h10m19s     2.6.12-1+deb12u4\n"
    "# programs\n\n")
SHOW_PROC_FAILED = (
    "#<PID>          <type>          <reloads>       <uptime>        <version>      \n"
    "5257            master          1 [failed: 1]   0d00h10m20s     2.6.12-1+deb12u4\n"
    "# workers\n"
    "5258            worker          1               0d00h00m02s     2.6.12-1+deb12u4\n"
    "# programs\n\n")


def test_parse_show_proc():
    parsed = parse_show_proc(SHOW_PROC_RELOADED)
    assert parsed["master"] == {"pid": 5257, "reloads": 1, "failed": 0}
    assert parsed["workers"] == [{"pid": 11046, "reloads": 0}, {"pid": 5258, "reloads": 1}]


def test_parse_show_proc_refuses_garbage():
    with pytest.raises(MasterError, match="unexpected answer"):
        parse_show_proc("Unknown command\n")


def test_reload_outcome():
    before = parse_show_proc(SHOW_PROC_STARTED)
    assert reload_outcome(before, before) == "pending"
    assert reload_outcome(before, parse_show_proc(SHOW_PROC_RELOADED)) == "done"
    assert reload_outcome(before, parse_show_proc(SHOW_PROC_FAILED)) == "failed"
    assert new_workers(before, parse_show_proc(SHOW_PROC_RELOADED)) == [{"pid": 11046, "reloads": 0}]
    assert new_workers(before, parse_show_proc(SHOW_PROC_FAILED)) == []


@pytest.mark.parametrize("text, pid", [("1234\n", 1234), ("", None), ("0\n", None), ("abc", None),
                                       ("-5", None), ("42\n43\n", 42)])
def test_parse_pid(text, pid):
    assert parse_pid(text) == pid


def test_read_pid_file(tmp_path):
    assert read_pid_file(str(tmp_path / "absent.pid")) is None
    path = tmp_path / "haproxy.pid"
    path.write_text("%d\n" % os.getpid())
    assert read_pid_file(str(path)) == os.getpid()


def test_stale_pid_file_is_not_a_running_master(tmp_path):
    path = tmp_path / "haproxy.pid"
    path.write_text("%d\n" % os.getpid())  # pytest is alive but it is not HAProxy
    controller = MasterWorker(str(tmp_path / "haproxy.cfg"), str(path), str(tmp_path / "master.sock"))
    assert not is_haproxy_process(os.getpid())
    assert controller.master_pid() is None
    assert controller.stale_pid_file()
    assert controller.status() == {"running": False, "master_pid": None, "workers": [], "reloads": None}
    assert controller.remove_stale_pid_file() and not path.exists()
    assert controller.stop() is None


def test_master_command_refuses_injection(tmp_path):
    for command in ("show proc;reload", "show proc\nreload"):
        with pytest.raises(MasterError, match="refusing"):
            master_command(str(tmp_path / "master.sock"), command)


def test_master_command_without_master(tmp_path):
    with pytest.raises(MasterError, match="did not answer"):
        master_command(str(tmp_path / "master.sock"), "show proc")


def test_start_command():
    assert start_command("haproxy", ["/etc/haproxy/haproxy.cfg"], "/run/haproxy/haproxy.pid", "/run/haproxy/m.sock") == [
        "haproxy", "-W", "-D", "-f", "/etc/haproxy/haproxy.cfg", "-p", "/run/haproxy/haproxy.pid",
        "-S", "/run/haproxy/m.sock,mode,600"]


def test_start_command_loads_every_configuration_file_in_order():
    command = start_command("haproxy", ["/etc/haproxy/haproxy.cfg", "/etc/haproxy/stats-page.cfg"],
                            "/run/haproxy/haproxy.pid", "/run/haproxy/m.sock")
    assert command[3:7] == ["-f", "/etc/haproxy/haproxy.cfg", "-f", "/etc/haproxy/stats-page.cfg"]
    assert configs_of_command_line(command + ["-x", "/run/haproxy/admin.sock", "-sf", "42"]) == [
        "/etc/haproxy/haproxy.cfg", "/etc/haproxy/stats-page.cfg"]


def test_a_reload_is_refused_when_the_master_runs_other_configuration_files(tmp_path):
    import subprocess
    import sys
    # A live process whose command line names one configuration file stands for a master started before the
    # stats page file existed.
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", "-f", "/etc/haproxy/haproxy.cfg"])
    try:
        deadline = time.monotonic() + 10
        while "-f" not in process_command_line(sleeper.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        worker = MasterWorker("/etc/haproxy/haproxy.cfg", str(tmp_path / "pid"), str(tmp_path / "m.sock"),
                              extra_configs=["/etc/haproxy/stats-page.cfg"])
        with pytest.raises(MasterError) as error:
            worker.check_master_configs(sleeper.pid)
        assert "started with the configuration files /etc/haproxy/haproxy.cfg, not" in str(error.value)
        assert "/etc/haproxy/stats-page.cfg" in str(error.value) and "restart" in str(error.value)
        MasterWorker("/etc/haproxy/haproxy.cfg", str(tmp_path / "pid"), str(tmp_path / "m.sock")).check_master_configs(
            sleeper.pid)
    finally:
        sleeper.kill()
        sleeper.wait()


@pytest.mark.parametrize("state, running, stale, action", [
    ("started", True, False, "none"),
    ("started", False, True, "start"),
    ("reloaded", True, False, "reload"),
    ("reloaded", False, False, "start"),
    ("restarted", True, False, "restart"),
    ("restarted", False, False, "start"),
    ("stopped", True, False, "stop"),
    ("stopped", False, True, "remove stale pid file"),
    ("stopped", False, False, "none"),
])
def test_planned_action(state, running, stale, action):
    assert planned_action(state, running, stale) == action


# HAProxy 2.6.12's `show servers state` at step 100 (on-prem backup), as the master saves it before a reload.
SERVERS_STATE_AT_100 = (
    "1\n"
    "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight "
    "srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state "
    "bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr "
    "srv_agent_addr srv_agent_port\n"
    "3 application-01 1 aws-prod-Kubernetes-application-01 127.0.0.1 2 0 100 100 41 6 3 4 6 0 0 0 - 8443 - 1 0 - - 0\n"
    "3 application-01 2 onprem-prod-front-application-01 127.0.0.1 2 4 100 100 41 6 3 4 6 0 0 0 - 8001 - 0 0 - - 0\n"
    "4 application-02 1 aws-prod-Kubernetes-application-02 127.0.0.1 2 0 25 0 9 6 3 4 6 0 0 0 - 8444 - 1 0 - - 0\n")


def test_the_saved_server_state_carries_the_weights_the_next_worker_must_start_with():
    from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.server_state import with_weights
    weights = {"application-01": {"aws-prod-Kubernetes-application-01": [50, 0],
                                  "onprem-prod-front-application-01": [50, 100]}}
    lines = with_weights(SERVERS_STATE_AT_100, weights).split("\n")
    assert lines[:2] == SERVERS_STATE_AT_100.split("\n")[:2]
    assert lines[2].split(" ")[7:9] == ["50", "0"] and lines[3].split(" ")[7:9] == ["50", "100"]
    # every other field kept (the on-prem admin state 4 too), and a server not listed left as saved
    assert lines[3].split(" ")[:7] + lines[3].split(" ")[9:] == (
        SERVERS_STATE_AT_100.split("\n")[3].split(" ")[:7] + SERVERS_STATE_AT_100.split("\n")[3].split(" ")[9:])
    assert lines[4] == SERVERS_STATE_AT_100.split("\n")[4]
    assert with_weights(SERVERS_STATE_AT_100, {}) == SERVERS_STATE_AT_100


@pytest.mark.parametrize("value, message", [
    ({"application-01": [1, 2]}, "server_weights[application-01] must be a mapping of server names"),
    ({"application-01": {"s": [300, 0]}}, "server_weights[application-01][s] must be [weight, configured weight]"),
    ({"application-01": {"s": [True, 0]}}, "got [True, 0]"),
    ({"application-01": {"s": [5]}}, "got [5]"),
])
def test_bad_server_weights_are_refused_naming_the_entry(value, message):
    from ansible_collections.cloudshift.migration.plugins.modules.haproxy_service import server_weights
    with pytest.raises(ValueError, match=re.escape(message)):
        server_weights(value)
