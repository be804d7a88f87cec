# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure parts of the split service: input validation, planning, shares."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.split import (
    SplitError,
    plan_weights,
    shares,
    validate_server_lists,
    validate_share,
    weights_text,
)


def server(status="UP", backup=False, weight=1):
    return {"haproxy_status": status, "backup": backup, "weight": weight}


def test_plan_one_plus_one():
    servers = {"c": server(), "o": server()}
    assert plan_weights("b", servers, ["c"], ["o"], 25) == {"c": 25, "o": 75}


def test_plan_leaves_backup_servers_out():
    servers = {"c": server(), "o1": server(backup=True), "o2": server()}
    assert plan_weights("b", servers, ["c"], ["o1", "o2"], 25) == {"c": 25, "o2": 75}
    servers["o2"]["backup"] = True
    assert plan_weights("b", servers, ["c"], ["o1", "o2"], 100) == {"c": 100}
    with pytest.raises(SplitError) as info:
        plan_weights("b", servers, ["c"], ["o1", "o2"], 75)
    assert "share 75 needs on-prem servers" in str(info.value) and "o1, o2" in str(info.value)


def test_plan_with_only_backup_cloud_servers():
    servers = {"c": server(backup=True), "o": server()}
    assert plan_weights("b", servers, ["c"], ["o"], 0) == {"o": 100}
    with pytest.raises(SplitError) as info:
        plan_weights("b", servers, ["c"], ["o"], 1)
    assert "share 1 needs cloud servers" in str(info.value)


def test_shares_realised_and_effective():
    servers = {"c": server("MAINT"), "o": server("UP 1/3")}
    realised, effective = shares(servers, ["c"], ["o"], {"c": 50, "o": 50})
    assert realised == 50.0 and effective == 0.0
    servers = {"c": server("no check"), "o": server("DOWN")}
    assert shares(servers, ["c"], ["o"], {"c": 50, "o": 50}) == (50.0, 100.0)


def test_effective_share_falls_back_to_backup_servers():
    servers = {"c": server("DOWN"), "o": server("UP", backup=True)}
    assert shares(servers, ["c"], ["o"], {"c": 100, "o": 1}) == (100.0, 0.0)
    servers["o"]["haproxy_status"] = "DOWN"
    assert shares(servers, ["c"], ["o"], {"c": 100, "o": 1}) == (100.0, None)


@pytest.mark.parametrize("cloud, onprem, message", [
    ([], ["o"], "cloud_servers is empty"),
    (["c"], None, "onprem_servers is empty"),
    (["c", "c"], ["o"], "cloud_servers lists server c twice"),
    (["c"], ["c"], "server(s) c listed in both"),
    (["c;x"], ["o"], "invalid server name 'c;x'"),
    ("c", ["o"], "cloud_servers must be a list"),
])
def test_server_lists_refused(cloud, onprem, message):
    with pytest.raises(SplitError) as info:
        validate_server_lists(cloud, onprem)
    assert message in str(info.value)


def test_server_lists_report_every_problem_at_once():
    with pytest.raises(SplitError) as info:
        validate_server_lists(["a b"], ["c\\d"])
    assert "'a b'" in str(info.value) and "'c\\\\d'" in str(info.value)


@pytest.mark.parametrize("share", [-1, 100.5, 101, float("nan"), "25", None, True])
def test_bad_shares_named(share):
    with pytest.raises(SplitError) as info:
        validate_share(share)
    assert repr(share) in str(info.value)


def test_weights_text_for_diff():
    servers = {"c": server(), "o": server(backup=True)}
    text = weights_text("b", {"c": 25, "o": 1}, servers, ["c"], ["o"])
    assert text == "backend: b\nservers:\n  c: {side: cloud, weight: 25}\n  o: {side: onprem, weight: 1} # backup\n"


def test_plan_gives_a_zero_weight_backup_its_full_weight_so_it_can_take_over():
    servers = {"c": server(weight=100), "o": server(backup=True, weight=0)}
    assert plan_weights("b", servers, ["c"], ["o"], 100) == {"c": 100, "o": 100}
    servers["o"]["weight"] = 37
    assert plan_weights("b", servers, ["c"], ["o"], 100) == {"c": 100}
