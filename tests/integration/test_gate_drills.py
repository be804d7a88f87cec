"""The field report's staging drills against real HAProxy, real upstreams and real traffic.

application-01 runs here with two cloud servers (the daemon's spare cloud2 upstream as the second,
"one of two pods"), so the drills can kill or slow one of them. Every playbook run gets the same
extra-vars file, so site.yml, migrate.yml and ramp.yml all see that app model.
"""

import http.client
import json
import os
import re
import subprocess
import threading
import time
from urllib.parse import urlsplit

import pytest
import yaml

import traffic
from localenv_fixture import ROOT, VENV_BIN, LocalEnv

# Time bounds: run on their own (make test), not beside another file.
pytestmark = pytest.mark.serial

APP = "application-01"
HOST = "application-01.6play.fr"
ONPREM = "onprem-prod-front-application-01"
CLOUD = "aws-prod-Kubernetes-application-01"
CLOUD_B = "aws-prod-Kubernetes-application-01-b"
PORT_OFFSET = 22000  # ports 30080-30544: below the ephemeral range (32768+), no clash with outgoing connections


class DrillEnv(LocalEnv):
    """The local environment with a second cloud server for application-01 and its own audit dir."""

    def __init__(self, run_dir, port_offset):
        super().__init__(run_dir, port_offset)
        with open(os.path.join(ROOT, "inventories", "local", "group_vars", "haproxy", "apps.yml")) as handle:
            apps = yaml.safe_load(handle)["cloudshift_apps"]
        app = next(item for item in apps if item["name"] == APP)
        second = dict(next(server for server in app["servers"] if server["side"] == "cloud"))
        second.update(name=CLOUD_B, port="{{ 8543 + cloudshift_port_offset | int }}")
        app["servers"].append(second)
        self.audit_dir = os.path.join(self.run_dir, "audit")
        self.vars_file = os.path.join(self.run_dir, "drill-vars.yml")
        with open(self.vars_file, "w") as handle:
            yaml.safe_dump({"cloudshift_apps": apps, "migration_audit_dir": self.audit_dir}, handle)

    def playbook(self, name, *extra, **options):
        return super().playbook(name, "-e", "@" + self.vars_file, *extra, **options)

    def down(self):
        subprocess.run([os.path.join(VENV_BIN, "ansible-playbook"), "playbooks/stop.yml", "-e", "@" + self.vars_file],
                       cwd=ROOT, env=self.env, capture_output=True, timeout=300, check=False)
        super().down()

    def audit(self):
        path = os.path.join(self.audit_dir, APP + ".jsonl")
        if not os.path.exists(path):
            return []
        with open(path) as handle:
            return [json.loads(line) for line in handle if line.strip()]

    def set_step(self, step):
        """Set up a drill's starting step, whatever the figures since the last step (a drill may have left slow ones)."""
        return self.migrate(APP, step, "-e", "force=true")

    def healthy(self):
        for side in ("cloud", "cloud2", "onprem"):
            self.democtl("fault", APP, side, "ok")
        for server in (CLOUD, CLOUD_B, ONPREM):
            self.wait_status(APP, server, "UP")


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    local = DrillEnv(tmp_path_factory.mktemp("drills"), PORT_OFFSET)
    try:
        local.up()
        local.healthy()
        yield local
    finally:
        local.down()


@pytest.fixture
def healthy(env):
    env.healthy()
    yield env
    env.healthy()


def cloud_share(result):
    return result.share(lambda name: name.startswith("aws-"))


def failed_gets(result):
    return result.failed


# ------------------------------------------------------------------- no user-visible errors


def test_cloud_killed_at_step_50_under_load_leaves_rotation_within_2s_with_no_failed_get(healthy):
    env = healthy
    env.set_step(50)
    with traffic.BackgroundTraffic(env.frontend, HOST, workers=4) as background:
        time.sleep(1.0)
        killed_at = time.monotonic()
        env.democtl("fault", APP, "cloud", "down")
        env.democtl("fault", APP, "cloud2", "down")
        env.wait_status(APP, CLOUD, "DOWN", timeout=5)
        env.wait_status(APP, CLOUD_B, "DOWN", timeout=5)
        out_after = time.monotonic() - killed_at
        time.sleep(2.0)
    assert out_after <= 2.0, "cloud still in rotation %.2f s after it was killed" % out_after
    assert background.result.sent > 1000, background.result.as_dict()
    assert background.result.failed == 0, background.result.as_dict()
    # Out of rotation: every request now goes on-prem.
    result = traffic.send_concurrently(env.frontend, HOST, 500, workers=4)
    assert result.by_server == {ONPREM: 500}, result.as_dict()


def test_one_of_two_cloud_servers_killed_fails_no_get(healthy):
    env = healthy
    env.set_step(50)
    with traffic.BackgroundTraffic(env.frontend, HOST, workers=4) as background:
        time.sleep(1.0)
        env.democtl("fault", APP, "cloud2", "down")
        env.wait_status(APP, CLOUD_B, "DOWN", timeout=5)
        time.sleep(2.0)
    assert background.result.sent > 1000
    assert background.result.failed == 0, background.result.as_dict()
    result = traffic.send_concurrently(env.frontend, HOST, 1000, workers=4)
    assert result.failed == 0 and CLOUD_B not in result.by_server
    # The weights stay as set for 50% (each cloud server half of on-prem's): the survivor takes a third.
    weights = env.weights(APP)
    assert weights[CLOUD] == weights[CLOUD_B] and weights[CLOUD] + weights[CLOUD_B] == weights[ONPREM], weights
    assert abs(cloud_share(result) - 100 / 3.0) <= 3, result.as_dict()


def post_statuses(env, host, count):
    """count POSTs on fresh connections: {status: [X-Backend-Server, ...]}."""
    target = urlsplit(env.frontend)
    statuses = {}
    for _index in range(count):
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=5)
        connection.request("POST", "/orders", body=b'{"amount": 1}', headers={"Host": host, "Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        statuses.setdefault(response.status, []).append(response.getheader("X-Backend-Server"))
        connection.close()
    return statuses


def test_cloud_answering_5xx_is_retried_on_prem_for_gets_but_never_for_posts(healthy):
    # application-02 has one cloud server (an ELB in production): a retry always lands on-prem.
    env, app, host = healthy, "application-02", "application-02.6play.fr"
    env.migrate(app, 50, "-e", "force=true")
    try:
        env.democtl("fault", app, "cloud", "apperror")
        env.democtl("reset")
        gets = traffic.send_concurrently(env.frontend, host, 400, workers=4)
        assert gets.failed == 0, gets.as_dict()
        assert gets.by_server == {"onprem-prod-front-application-02": 400}, gets.as_dict()
        # Every cloud attempt was retried once on-prem: on-prem saw all 400, the cloud its share of attempts.
        assert env.hits(app, "onprem") == 400 and env.hits(app, "cloud") > 100

        env.democtl("reset")
        statuses = post_statuses(env, host, 60)
        # A POST that reached the failing cloud gets its 503: it is never sent a second time.
        assert 503 in statuses, statuses
        assert set(statuses[503]) == {"aws-prod-Kubernetes-application-02"}
        assert env.hits(app, "cloud") == len(statuses[503])
        assert env.hits(app, "onprem") == len(statuses.get(200, [])) == 60 - len(statuses[503])
    finally:
        env.democtl("fault", app, "cloud", "ok")
        env.migrate(app, 0)


def test_one_of_two_cloud_servers_answering_5xx_fails_no_get(healthy):
    env = healthy
    env.set_step(50)
    env.democtl("fault", APP, "cloud2", "apperror")
    env.democtl("reset")
    gets = traffic.send_concurrently(env.frontend, HOST, 600, workers=4)
    assert gets.failed == 0, gets.as_dict()
    assert CLOUD_B not in gets.by_server and env.hits(APP, "cloud2") > 50
    assert sum(gets.by_server.values()) == 600


# ------------------------------------------------------------------- the gate in migrate.yml


def gate_run(env, step, *extra, check=False, seconds=3.0, workers=8):
    """migrate.yml with a gate window of `seconds` under background traffic."""
    with traffic.BackgroundTraffic(env.frontend, HOST, workers=workers, max_seconds=120) as background:
        run = env.migrate(APP, step, "-e", "gate_window=%d" % seconds, *extra, check=check)
    return run, background.result


def test_cloud_slow_past_1s_behind_a_healthy_health_page_fails_the_gate_with_the_numbers(healthy):
    env = healthy
    env.set_step(10)
    env.democtl("fault", APP, "cloud", "appslow", "--delay", "1.2")
    env.democtl("fault", APP, "cloud2", "appslow", "--delay", "1.2")
    before = env.weights(APP), env.recorded_step(APP)
    run, users = gate_run(env, 25, workers=16)
    assert run.returncode != 0, run
    assert "refused: application-01 stays at step 10, the gate failed for step 25" in run.output, run
    assert "verdict: FAIL" in run.output and "p95_latency     fail" in run.output, run
    assert "cloud_p95_ms=12" in run.output, run  # 1.2 s and more, next to its threshold
    assert "max_diff_ms=50" in run.output
    # Health checks never saw it: the cloud servers stayed UP, their last check L7OK.
    assert env.server_status(APP, CLOUD) == "UP" and env.server_status(APP, CLOUD_B) == "UP"
    assert (env.weights(APP), env.recorded_step(APP)) == before
    assert users.failed == 0


def test_only_one_of_two_cloud_servers_slowed_is_detected(healthy):
    env = healthy
    env.set_step(25)
    env.democtl("fault", APP, "cloud2", "appslow", "--delay", "1.2")
    run, _users = gate_run(env, 50, workers=16)
    assert run.returncode != 0 and "verdict: FAIL" in run.output, run
    assert "p95_latency     fail" in run.output, run
    assert env.recorded_step(APP) == 25


def test_cloud_5xx_hidden_by_retries_fails_the_gate_on_its_failed_attempts(healthy):
    env = healthy
    env.set_step(25)
    env.democtl("fault", APP, "cloud", "apperror")
    env.democtl("fault", APP, "cloud2", "apperror")
    # With both cloud servers failing, a retry may land on the other one: users can see a few 503s here,
    # which is why the gate must see the cloud's failed attempts.
    run, _users = gate_run(env, 50)
    assert run.returncode != 0 and "verdict: FAIL" in run.output, run
    assert "error_rate      fail" in run.output, run
    # The cloud answered nothing itself (every 503 was retried on-prem): its failed attempts are its errors.
    figures = [line for line in run.output.splitlines() if "haproxy-local  cloud " in line]
    assert figures and "100.00%" in figures[-1], figures
    assert env.recorded_step(APP) == 25


def test_a_cloud_answering_404_behind_a_healthy_health_page_fails_the_gate_on_its_4xx_share(healthy):
    """A rewrite that lost a route: no 5xx, no slow answer, no failed check; only the 4xx shares differ."""
    env = healthy
    env.set_step(25)
    env.democtl("fault", APP, "cloud", "app404")
    env.democtl("fault", APP, "cloud2", "app404")
    run, _users = gate_run(env, 50)
    assert run.returncode != 0 and "verdict: FAIL" in run.output, run
    rows = [line.split() for line in run.output.splitlines() if line.strip().startswith("4xx_rate")]
    assert rows and rows[-1][1] == "fail" and "cloud_pct=100" in rows[-1], rows
    assert [line.split()[1] for line in run.output.splitlines() if line.strip().startswith("error_rate")][-1] == "pass"
    assert env.server_status(APP, CLOUD) == "UP" and env.recorded_step(APP) == 25


def test_healthy_cloud_a_few_ms_slower_passes_and_too_few_requests_is_inconclusive(healthy):
    env = healthy
    env.set_step(25)
    env.democtl("fault", APP, "cloud", "appslow", "--delay", "0.003")
    env.democtl("fault", APP, "cloud2", "appslow", "--delay", "0.003")
    run, _users = gate_run(env, 50, check=True, workers=8)
    assert "verdict: PASS" in run.output, run
    assert env.recorded_step(APP) == 50
    # No traffic at all in the window: too few requests, inconclusive, and the step up goes ahead.
    run = env.migrate(APP, 60, "-e", "gate_window=2")
    assert "verdict: INCONCLUSIVE" in run.output and "too few requests" in run.output, run
    assert env.recorded_step(APP) == 60


def test_a_step_down_never_waits_for_its_gate_window(healthy):
    """Issue 18 #11: -e gate_window=3600 on a step that does not go up applies at once (the playbook's own
    600 s timeout would stop a run that waited), reporting the figures since the current step was set."""
    env = healthy
    env.set_step(60)
    run = env.migrate(APP, 40, "-e", "gate_window=3600")
    assert "gate (information only: going down is not gated)" in run.output, run
    assert "since the previous step was set" in run.output and "since the gate window started" not in run.output
    weights = env.weights(APP)
    assert env.recorded_step(APP) == 40, run
    assert (weights[CLOUD] + weights[CLOUD_B]) * 60 == weights[ONPREM] * 40, weights
    # Staying where it is does not wait either.
    again = env.migrate(APP, 40, "-e", "gate_window=3600")
    assert env.recorded_step(APP) == 40, again


def test_force_goes_up_against_a_failed_gate_and_is_recorded(healthy):
    env = healthy
    env.set_step(10)
    env.democtl("fault", APP, "cloud", "apperror")
    env.democtl("fault", APP, "cloud2", "apperror")
    run, _users = gate_run(env, 20, "-e", "force=true", check=True)
    assert "verdict: FAIL" in run.output, run
    assert env.recorded_step(APP) == 20
    record = env.audit()[-1]
    assert record["action"] == "step" and record["from"] == 10 and record["to"] == 20
    assert record["verdict"] == "fail" and record["forced"] is True
    assert record["figures"]["cloud"]["failed_attempts"] > 0
    state = json.load(open(os.path.join(env.state_dir, "apps", APP + ".json")))
    assert state["history"][-1]["note"] == "forced past a failed gate"


def test_going_down_is_never_gated(healthy):
    env = healthy
    env.set_step(30)
    env.democtl("fault", APP, "cloud", "apperror")
    env.democtl("fault", APP, "cloud2", "apperror")
    run, _users = gate_run(env, 10, check=True)
    assert "verdict: FAIL" in run.output and "information only: going down is not gated" in run.output, run
    assert env.recorded_step(APP) == 10
    env.migrate(APP, 20, "-e", "force=true")
    run = env.migrate(APP, "rollback")
    assert env.recorded_step(APP) == 10
    assert env.audit()[-1]["action"] == "rollback"


@pytest.mark.parametrize("extra, message", [
    (["-e", "force=maybe"], "invalid force \"maybe\""),
    (["-e", "gate_window=abc"], "invalid gate_window \"abc\""),
    (["-e", "gate_window=7200"], "invalid gate_window \"7200\""),
    (["-e", '{"migration_gate_thresholds": {"max_p95_ms": 10}}'], "unknown threshold(s) 'max_p95_ms'"),
    (["-e", '{"migration_gate_thresholds": {"alpha": 2}}'], "threshold alpha must be between 0 and 1"),
])
def test_bad_gate_inputs_are_refused_and_change_nothing(healthy, extra, message):
    env = healthy
    env.set_step(15)
    before = env.weights(APP), env.recorded_step(APP), len(env.audit())
    run = env.migrate(APP, 40, *extra, check=False)
    assert run.returncode != 0 and message in run.output, run
    assert (env.weights(APP), env.recorded_step(APP), len(env.audit())) == before


# ------------------------------------------------------------------- ramp.yml


class Ramp:
    """ramp.yml running in the background, with the time each step was first seen on the node."""

    def __init__(self, env, *extra):
        self.env = env
        command = [os.path.join(VENV_BIN, "ansible-playbook"), "playbooks/ramp.yml", "-e", "@" + env.vars_file,
                   "-e", "app=" + APP] + list(extra)
        self.process = subprocess.Popen(command, cwd=ROOT, env=env.env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        self.output = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.output += line

    def wait_for_step(self, step, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.env.weights(APP).get(CLOUD) is not None and self.env.recorded_step(APP) == step:
                return time.monotonic()
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError("ramp never reached step %s:\n%s" % (step, self.output[-4000:]))

    def finish(self, timeout=300):
        self.process.wait(timeout=timeout)
        self._reader.join(timeout=10)
        return self.process.returncode


def progress_lines(output):
    return [line.strip() for line in output.splitlines() if re.match(r"check \d+ \| ", line.strip())]


def test_ramp_walks_every_step_with_one_progress_line_per_check(healthy):
    env = healthy
    env.set_step(0)
    records_before = len(env.audit())
    with traffic.BackgroundTraffic(env.frontend, HOST, workers=4, max_seconds=200):
        ramp = Ramp(env, "-e", '{"steps": [5, 50, 100]}', "-e", "interval=2", "-e", "threshold=2")
        assert ramp.finish() == 0, ramp.output
    lines = progress_lines(ramp.output)
    assert len(lines) == 4, ramp.output
    assert lines[0].startswith("check 1 | step 0 | INCONCLUSIVE") and lines[0].endswith("raise to 5")
    assert lines[1].startswith("check 2 | step 5 | PASS") and lines[1].endswith("raise to 50")
    assert lines[2].startswith("check 3 | step 50 | PASS") and lines[2].endswith("raise to 100")
    assert lines[3].startswith("check 4 | step 100 | PASS") and lines[3].endswith("done at 100"), lines
    assert "ramp of application-01 done at step 100 after 4 checks" in ramp.output
    assert env.recorded_step(APP) == 100
    actions = [record["action"] for record in env.audit()[records_before:]]
    assert actions == ["ramp-start", "verdict", "step", "verdict", "step", "verdict", "step", "verdict", "ramp-done"]


def test_ramp_rolls_back_a_slowed_cloud_within_interval_times_threshold_plus_one(healthy):
    env = healthy
    env.set_step(0)
    interval, threshold = 5, 2
    with traffic.BackgroundTraffic(env.frontend, HOST, workers=16, max_seconds=200) as users:
        ramp = Ramp(env, "-e", '{"steps": [25, 50, 100]}', "-e", "interval=%d" % interval,
                    "-e", "threshold=%d" % threshold)
        ramp.wait_for_step(25)
        env.democtl("fault", APP, "cloud", "appslow", "--delay", "1.2")
        env.democtl("fault", APP, "cloud2", "appslow", "--delay", "1.2")
        slowed_at = time.monotonic()
        deadline = slowed_at + 120
        while time.monotonic() < deadline and env.weights(APP)[CLOUD] != 0:
            time.sleep(0.05)
        rolled_back_after = time.monotonic() - slowed_at
        returncode = ramp.finish()
    assert returncode != 0, ramp.output
    assert rolled_back_after <= interval * threshold + interval, \
        "rolled back %.1f s after the cloud slowed (bound %d s)\n%s" % (rolled_back_after, interval * (threshold + 1), ramp.output)
    assert env.recorded_step(APP) == 0 and env.weights(APP) == {ONPREM: 100, CLOUD: 0, CLOUD_B: 0}
    assert "rolled back application-01 from step" in ramp.output and "after 2 failed checks in a row" in ramp.output
    assert "p95_latency" in ramp.output and "cloud_p95_ms=" in ramp.output, ramp.output
    assert users.result.failed == 0
    assert env.audit()[-1]["action"] == "ramp-rollback" and env.audit()[-1]["to"] == 0


def test_ramp_resumes_from_the_recorded_step(healthy):
    env = healthy
    env.set_step(50)
    with traffic.BackgroundTraffic(env.frontend, HOST, workers=4, max_seconds=120):
        ramp = Ramp(env, "-e", '{"steps": [5, 25, 50, 75]}', "-e", "interval=2")
        assert ramp.finish() == 0, ramp.output
    lines = progress_lines(ramp.output)
    assert "ramp of application-01 from step 50 to 75" in ramp.output.replace("\n", " ").replace("  ", " ")
    assert lines[0].startswith("check 1 | step 50 | PASS") and lines[-1].endswith("done at 75"), lines
    assert env.recorded_step(APP) == 75


def test_ramp_dry_run_measures_and_changes_nothing(healthy):
    env = healthy
    env.set_step(10)
    before = env.weights(APP), env.recorded_step(APP), len(env.audit())
    with traffic.BackgroundTraffic(env.frontend, HOST, workers=4, max_seconds=120):
        ramp = Ramp(env, "-e", "dry_run=true", "-e", "interval=2")
        assert ramp.finish() == 0, ramp.output
    assert "dry run: the gate passes at step 10, the ramp would raise to 25" in ramp.output, ramp.output
    assert progress_lines(ramp.output)[0].endswith("would raise to 25")
    assert (env.weights(APP), env.recorded_step(APP), len(env.audit())) == before


@pytest.mark.parametrize("extra, message", [
    (["-e", '{"steps": [50, 25]}'], "steps must go up, each once, got [50, 25]"),
    (["-e", '{"steps": [0, 50]}'], "steps must be integers from 1 to 100, got 0"),
    (["-e", '{"steps": [25, 101]}'], "got 101"),
    (["-e", "interval=0"], "interval must be a number of seconds above 0"),
    (["-e", "interval=soon"], "got 'soon'"),
    (["-e", "threshold=0"], "threshold must be an integer from 1"),
    (["-e", "dry_run=perhaps"], "dry_run must be true or false, got \"perhaps\""),
    (["-e", "route=customers"], "app application-01 has no routes"),
])
def test_bad_ramp_parameters_are_refused_and_change_nothing(healthy, extra, message):
    env = healthy
    env.set_step(10)
    before = env.weights(APP), env.recorded_step(APP), len(env.audit())
    ramp = Ramp(env, *extra)
    assert ramp.finish() != 0
    assert message in ramp.output, ramp.output
    assert (env.weights(APP), env.recorded_step(APP), len(env.audit())) == before
