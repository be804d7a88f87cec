# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Testinfra checks of the molecule scenario `migration`: the step reached HAProxy, the state store and the audit log."""

import json

import pytest


@pytest.fixture(scope="module")
def paths(host):
    root = host.ansible.get_variables()["molecule_haproxy_root"]
    return {"root": root, "config": root + "/etc/haproxy.cfg", "admin_socket": root + "/run/admin.sock",
            "state": root + "/state/apps/molecule-app.json", "audit": root + "/audit/molecule-app.jsonl",
            "locks": root + "/state/locks"}


def runtime(host, paths, command):
    return host.check_output("echo '%s' | socat stdio unix-connect:%s" % (command, paths["admin_socket"]))


def test_the_live_weights_are_the_steps(host, paths):
    assert runtime(host, paths, "get weight molecule-app/cloud-molecule-app").startswith("30 ")
    assert runtime(host, paths, "get weight molecule-app/onprem-molecule-app").startswith("70 ")


def test_the_step_is_recorded_once_and_saved_for_a_reload(host, paths):
    state = json.loads(host.file(paths["state"]).content_string)
    assert state["step"] == 30 and state["previous_step"] is None
    assert [entry["step"] for entry in state["history"]] == [30]
    # haproxy.cfg keeps the initial step's weights; the step is in the server-state file a reload or a start loads.
    config = host.file(paths["config"]).content_string
    assert "server cloud-molecule-app 127.0.0.1:19602" in config and " weight 10\n" in config
    saved = [line.split() for line in host.file(paths["root"] + "/state/server-state").content_string.splitlines()
             if " cloud-molecule-app " in line]
    assert saved and saved[0][7] == "30", saved


def test_the_audit_log_has_one_step_and_the_lock_was_given_back(host, paths):
    records = [json.loads(line) for line in host.file(paths["audit"]).content_string.splitlines()]
    assert [(record["action"], record["from"], record["to"], record["verdict"], record["forced"])
            for record in records] == [("step", 10, 30, "fail", True)]
    assert host.check_output("ls -A %s" % paths["locks"]) == ""
