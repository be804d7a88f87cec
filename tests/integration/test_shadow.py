"""Shadow traffic inside HAProxy (the role's Lua action) against real HAProxy, real upstreams and real
traffic: application-01 of the local inventory copies to its cloud upstream (allow ^/, deny /payments/,
^/admin\b and ^/v1/(?#legacy): a backslash and a '#' that haproxy.cfg must keep verbatim).
The app stays at step 0, so every request the cloud upstream counts is a copy."""

import http.client
import json
import os
import signal
import subprocess
import time

import pytest

import traffic
from localenv_fixture import ROOT, VENV_BIN, LocalEnv

# Time bounds: run on their own (make test), not beside another file.
pytestmark = pytest.mark.serial

APP = "application-01"
HOST = "application-01.6play.fr"
CLOUD = "aws-prod-Kubernetes-application-01"
ONPREM = "onprem-prod-front-application-01"
PORT_OFFSET = 24000  # HAProxy and upstreams 32080-32544 (below 32768), moto 28566: clashes with no other environment


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    local = LocalEnv(tmp_path_factory.mktemp("shadowenv"), PORT_OFFSET)
    try:
        local.up()
        local.wait_status(APP, ONPREM, "UP")
        local.wait_status(APP, CLOUD, "UP")
        local.migrate(APP, 0, "-e", "force=true")
        yield local
    finally:
        local.down()


def shadow(env, check=False, diff=False, **args):
    return env.shadow(args.pop("app", APP), check=check, diff=diff, **args)


def live_map(env):
    return env.runtime("show map %s" % env.shadow_map)


@pytest.fixture
def off(env):
    """Each test starts and ends with no copies and a healthy cloud upstream."""
    shadow(env, state="present", percent=0)
    env.democtl("fault", APP, "cloud", "ok")
    yield
    shadow(env, state="present", percent=0)
    env.democtl("fault", APP, "cloud", "ok")
    env.wait_status(APP, CLOUD, "UP")


def copies_after(env, count, path="/", share=None):
    env.democtl("reset")
    result = traffic.send_concurrently(env.frontend, HOST, count, workers=4, path=path)
    assert result.failed == 0, result.as_dict()
    assert dict(result.by_server) == {ONPREM: count}  # the users' answers all come from on-prem (step 0)
    deadline = time.time() + 10
    while time.time() < deadline and shadow(env)["counters"]["inflight"] > 0:
        time.sleep(0.2)
    return env.hits(APP, "cloud")


def test_ten_percent_of_5000_requests_reach_the_shadow_and_none_at_0(env, off):
    assert copies_after(env, 2000) == 0
    set_ten = shadow(env, state="present", percent=10, diff=True)
    assert set_ten["changed"] and set_ten["previous_percent"] == 0
    assert "+application-01: 10% of the allowed requests copied to the shadow" in set_ten.output, set_ten.output
    copies = copies_after(env, 5000)
    assert abs(copies - 500) <= 50, copies  # 10% +- 1 point; the sampling is systematic, so about exactly 500
    counters = shadow(env)["counters"]
    assert counters["sent"] >= copies and counters["failed"] == 0 and counters["dropped"] == 0
    again = shadow(env, state="present", percent=10)
    assert again["changed"] is False


def test_denied_paths_never_reach_the_shadow_even_at_100(env, off):
    shadow(env, state="present", percent=100)
    assert copies_after(env, 300, path="/v2/critical/sensible_datas/payments/") == 0
    assert copies_after(env, 300, path="/payments/refund") == 0
    assert copies_after(env, 300, path="/v2/customers/") == 300


def test_deny_regexes_holding_a_backslash_or_a_hash_exclude_what_they_say(env, off):
    # Unquoted in haproxy.cfg, '^/admin\b' read as '^/adminb' and '(?#legacy)' started a comment (issue 18 #10).
    shadow(env, state="present", percent=100)
    assert copies_after(env, 200, path="/admin/users") == 0
    assert copies_after(env, 200, path="/v1/orders") == 0
    assert copies_after(env, 200, path="/administrators") == 200  # \b: a word boundary, not the letter b
    assert copies_after(env, 200, path="/v2/v1/orders") == 200


def test_the_share_changes_mid_run_without_a_reload(env, off):
    worker = env.worker_pid()
    shadow(env, state="present", percent=10)
    with traffic.BackgroundTraffic(env.frontend, HOST, workers=2, max_seconds=60) as users:
        time.sleep(1.0)
        shadow(env, state="present", percent=50)
        env.democtl("reset")
        time.sleep(2.0)
        counted_from = users.result.sent
        time.sleep(2.0)
        counted_to = users.result.sent
        copies = env.hits(APP, "cloud")
    assert env.worker_pid() == worker, "a share change must not reload HAProxy"
    assert users.result.failed == 0
    # At 50% about half of the requests sent over those seconds were copied (wide bounds: the counters and the
    # reset are not taken at the same instant as the users' count).
    assert copies > 0.3 * (counted_to - counted_from), (copies, counted_from, counted_to)


def timed_requests(env, count, path="/"):
    """Sequential GETs through HAProxy; (failures, worst seconds)."""
    failures, worst = 0, 0.0
    connection = http.client.HTTPConnection("127.0.0.1", 8080 + env.port_offset, timeout=5)
    for index in range(count):
        started = time.monotonic()
        try:
            connection.request("GET", "%s?n=%d" % (path, index), headers={"Host": HOST})
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                failures += 1
        except (OSError, http.client.HTTPException):
            failures += 1
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", 8080 + env.port_offset, timeout=5)
        worst = max(worst, time.monotonic() - started)
    connection.close()
    return failures, worst


@pytest.mark.parametrize("fault", ["down", "slow"])
def test_a_dead_or_slow_shadow_costs_users_nothing(env, off, fault):
    if fault == "slow":
        env.democtl("fault", APP, "cloud", "slow", "--delay", "2")
    else:
        env.democtl("fault", APP, "cloud", "down")
    before = shadow(env, state="present", percent=100)["counters"]
    failures, worst = timed_requests(env, 400)
    after = shadow(env)["counters"]
    counters = dict((name, after[name] - before[name]) for name in after if name != "inflight")
    assert failures == 0
    assert worst < 0.5, "a user waited %.3f s behind a %s shadow" % (worst, fault)
    assert counters["sampled"] == 400, counters
    if fault == "down":
        assert counters["2xx"] == 0, counters
    # At most max_inflight (100) copies wait for the shadow; the others are dropped and counted.
    assert after["inflight"] <= 100
    assert counters["dropped"] + counters["failed"] + counters["5xx"] + after["inflight"] >= 300, (counters, after)


def test_the_share_survives_a_reload_and_site_yml(env, off):
    shadow(env, state="present", percent=20)
    worker = env.worker_pid()
    env.playbook("site.yml", "-e", "haproxy_maxconn=3999")
    assert env.worker_pid() != worker
    assert "application-01 20@0" in live_map(env)
    assert copies_after(env, 1000) == 200
    shadow(env, state="present", percent=0)
    assert "application-01" not in live_map(env)


def test_replicate_walks_its_schedule_with_one_line_a_stage_and_ends_at_0(env, off):
    with traffic.BackgroundTraffic(env.frontend, HOST, workers=2, max_seconds=60) as users:
        run = env.playbook("replicate.yml", "-e", "app=" + APP, "-e", '{"schedule": [[10, 3], [50, 3]]}')
    lines = [line.strip() for line in run.output.splitlines() if "msg: stage " in line]
    assert len(lines) == 2, run
    assert "stage 1/2 | application-01 | 10% for 3 s" in lines[0] and "stage 2/2 | application-01 | 50% for 3 s" in lines[1]
    assert users.result.failed == 0
    assert "application-01" not in live_map(env)
    with open(os.path.join(env.state_dir, "shadow", APP + ".json")) as handle:
        assert json.load(handle)["percent"] == 0


def test_ctrl_c_sets_the_share_back_to_0(env, off):
    command = [os.path.join(VENV_BIN, "ansible-playbook"), "playbooks/replicate.yml", "-e", "app=" + APP,
               "-e", '{"schedule": [[30, 300]]}']
    process = subprocess.Popen(command, cwd=ROOT, env=env.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline and "application-01 30@" not in live_map(env):
        time.sleep(0.3)
    assert "application-01 30@" in live_map(env)
    os.killpg(process.pid, signal.SIGINT)
    process.communicate(timeout=60)
    assert "application-01" not in live_map(env)
    with open(os.path.join(env.state_dir, "shadow", APP + ".json")) as handle:
        assert json.load(handle)["percent"] == 0


def test_a_lease_stops_the_copies_by_itself(env, off):
    shadow(env, state="present", percent=100, lease_seconds=2)
    assert copies_after(env, 50) == 50
    time.sleep(3)
    assert copies_after(env, 50) == 0


@pytest.mark.parametrize("args, message", [
    ({"state": "present", "percent": 101}, "invalid percent 101"),
    ({"state": "present", "percent": 10, "app": "application-01;shutdown"}, "application-01;shutdown"),
    ({"state": "present", "percent": 10, "lease_seconds": -1}, "invalid lease_seconds -1"),
])
def test_bad_module_input_changes_nothing(env, off, args, message):
    result = shadow(env, **args)
    assert result.failed and message in result["msg"], result
    assert "application-01" not in live_map(env)


@pytest.mark.parametrize("extra, message", [
    (["-e", "app=application-02"], "app application-02 has no shadow entry"),
    (["-e", "app=nope"], "unknown app \"nope\""),
    (["-e", "app=" + APP, "-e", '{"schedule": [[101, 5]]}'], "stage 1 of the schedule has percent 101"),
    (["-e", "app=" + APP, "-e", '{"schedule": [[10, 0]]}'], "stage 1 of the schedule lasts 0 s"),
])
def test_bad_replicate_input_is_refused_naming_it(env, off, extra, message):
    run = env.playbook("replicate.yml", *extra, check=False)
    assert run.returncode != 0 and message in run.output, run
    assert "application-01" not in live_map(env)
