"""migrate.yml end to end: the local inventory, real HAProxy, real upstreams, real traffic."""

import time

import pytest

import traffic
from localenv_fixture import LocalEnv

APP = "application-01"
HOST = "application-01.6play.fr"
CLOUD = "aws-prod-Kubernetes-application-01"
ONPREM = "onprem-prod-front-application-01"
PORT_OFFSET = 14000  # ports 22080-22544, below the ephemeral range (32768+)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    local = LocalEnv(tmp_path_factory.mktemp("localenv"), PORT_OFFSET)
    try:
        local.up()
        local.wait_status(APP, CLOUD, "UP")
        local.wait_status(APP, ONPREM, "UP")
        yield local
    finally:
        local.down()


def cloud_share(result):
    return result.share(lambda name: name == CLOUD)


@pytest.mark.parametrize("step", [25, 1, 50, 99])
def test_step_sets_the_measured_cloud_share(env, step):
    env.migrate(APP, step)
    env.democtl("reset")
    result = traffic.send_concurrently(env.frontend, HOST, 2000, workers=4)
    assert result.failed == 0, result.as_dict()
    assert sum(result.by_server.values()) == 2000
    assert set(result.by_server) <= {CLOUD, ONPREM}
    assert abs(cloud_share(result) - step) <= 1.0, result.as_dict()
    # The upstreams' own counters agree with what the responses say.
    assert env.hits(APP, "cloud") == result.by_server[CLOUD]
    assert env.hits(APP, "onprem") == result.by_server[ONPREM]
    assert env.recorded_step(APP) == step


def test_step_change_has_no_reload_and_drops_no_request(env):
    env.migrate(APP, 10)
    worker_before = env.worker_pid()
    with traffic.BackgroundTraffic(env.frontend, HOST) as background:
        env.migrate(APP, 40)
        time.sleep(0.3)
    assert env.worker_pid() == worker_before, "a step below 100 must not reload HAProxy"
    assert background.result.sent > 50
    assert background.result.failed == 0, background.result.as_dict()
    assert env.weights(APP) == {ONPREM: 60, CLOUD: 40}


def test_second_identical_run_reports_no_change(env):
    env.migrate(APP, 30)
    again = env.migrate(APP, 30)
    assert again.changed() == 0, again


def test_step_survives_reload_restart_and_site_rerun(env):
    env.migrate(APP, 25)
    expected = {ONPREM: 75, CLOUD: 25}
    site = env.playbook("site.yml")
    assert site.changed() == 0, site
    assert env.weights(APP) == expected and env.recorded_step(APP) == 25

    # A reload (new worker) keeps the step.
    worker = env.worker_pid()
    env.playbook("site.yml", "-e", "haproxy_maxconn=3999")
    assert env.worker_pid() != worker
    assert env.weights(APP) == expected

    # A full restart keeps it too.
    env.playbook("stop.yml")
    env.playbook("site.yml")
    env.wait_status(APP, CLOUD, "UP")
    assert env.weights(APP) == expected and env.recorded_step(APP) == 25
    result = traffic.send_concurrently(env.frontend, HOST, 1000, workers=4)
    assert abs(cloud_share(result) - 25) <= 1.5


def test_rollback_goes_back_to_the_previous_step(env):
    env.migrate(APP, 5)
    env.migrate(APP, 20)
    env.migrate(APP, "rollback")
    assert env.recorded_step(APP) == 5
    assert env.weights(APP) == {ONPREM: 95, CLOUD: 5}


def test_step_100_makes_onprem_a_backup_that_takes_over(env):
    env.migrate(APP, 50)
    with traffic.BackgroundTraffic(env.frontend, HOST) as background:
        env.migrate(APP, 100)
        time.sleep(0.3)
    assert background.result.failed == 0, background.result.as_dict()
    env.democtl("reset")
    result = traffic.send_concurrently(env.frontend, HOST, 500, workers=4)
    assert result.by_server == {CLOUD: 500}
    try:
        env.democtl("fault", APP, "cloud", "down")
        env.wait_status(APP, CLOUD, "DOWN")
        result = traffic.send_concurrently(env.frontend, HOST, 300, workers=2)
        assert result.failed == 0, result.as_dict()
        assert result.by_server == {ONPREM: 300}
    finally:
        env.democtl("fault", APP, "cloud", "ok")
    env.wait_status(APP, CLOUD, "UP")
    # Leaving 100 removes the backup flag: traffic is split again.
    env.migrate(APP, 50)
    assert "backup" not in open(env.config_file).read().split("backend " + APP, 1)[1].split("backend ", 1)[0]
    result = traffic.send_concurrently(env.frontend, HOST, 1000, workers=4)
    assert abs(cloud_share(result) - 50) <= 1.5


def test_cloud_certificate_from_another_ca_takes_the_cloud_server_down(env):
    env.migrate(APP, 50)
    try:
        env.democtl("fault", APP, "cloud", "badcert")
        env.wait_status(APP, CLOUD, "DOWN")
        env.democtl("reset")
        result = traffic.send_concurrently(env.frontend, HOST, 300, workers=2)
        assert result.failed == 0
        assert result.by_server == {ONPREM: 300}
        assert env.hits(APP, "cloud") == 0
    finally:
        env.democtl("fault", APP, "cloud", "ok")
    env.wait_status(APP, CLOUD, "UP")


@pytest.mark.parametrize("extra, message", [
    (["-e", "app=application-99", "-e", "step=25"], "unknown app \"application-99\""),
    (["-e", "app=application-01", "-e", "step=150"], "invalid step \"150\""),
    (["-e", "app=application-01", "-e", "step=abc"], "invalid step \"abc\""),
    (["-e", "app=application-01", "-e", "step=-5"], "invalid step \"-5\""),
    (["-e", "app=application-01"], "no step given"),
    (["-e", "step=25"], "no app given"),
    (["-e", '{"app": "application-01;show info"}', "-e", "step=25"], "unknown app \"application-01;show info\""),
    (["-e", "app=application-01", "-e", '{"step": 25.5}'], "invalid step 25.5"),
    (["-e", "app=application-01", "-e", "step=rollbak"], "invalid step \"rollbak\""),
])
def test_bad_requests_fail_clearly_and_change_nothing(env, extra, message):
    env.migrate(APP, 20)
    before = env.weights(APP), env.weights("application-02"), env.recorded_step(APP)
    run = env.playbook("migrate.yml", *extra, check=False)
    assert run.returncode != 0
    assert message in run.output, run
    assert "known apps: application-01, application-02" in run.output or "step" in message
    assert (env.weights(APP), env.weights("application-02"), env.recorded_step(APP)) == before


def test_server_name_that_would_inject_a_command_is_refused(env):
    env.migrate(APP, 20)
    before = env.weights(APP), env.recorded_step(APP)
    bad_apps = ('{"cloudshift_apps": [{"name": "application-01", "host": "application-01.6play.fr", '
                '"servers": [{"name": "onprem-prod-front-application-01", "side": "onprem", "address": "127.0.0.1", '
                '"port": 1}, {"name": "aws;set weight application-01/onprem-prod-front-application-01 0", '
                '"side": "cloud", "address": "127.0.0.1", "port": 2}]}]}')
    run = env.playbook("migrate.yml", "-e", "app=application-01", "-e", "step=60", "-e", bad_apps, check=False)
    assert run.returncode != 0
    assert "aws;set weight" in run.output and "';'" in run.output, run
    assert (env.weights(APP), env.recorded_step(APP)) == before


def test_check_mode_shows_the_change_and_changes_nothing(env):
    env.migrate(APP, 20)
    config_before = open(env.config_file).read()
    run = env.migrate(APP, 70, "--check", "--diff")
    assert "-aws-prod-Kubernetes-application-01: {side: cloud, weight: 20}" in run.output.replace("  ", "") or \
        "weight: 20" in run.output, run
    assert "weight: 70" in run.output, run
    assert env.weights(APP) == {ONPREM: 80, CLOUD: 20}
    assert env.recorded_step(APP) == 20
    assert open(env.config_file).read() == config_before


def test_config_on_disk_follows_the_step_without_reload(env):
    env.migrate(APP, 15)
    worker = env.worker_pid()
    env.migrate(APP, 35)
    text = open(env.config_file).read()
    backend = text.split("backend " + APP + "\n", 1)[1].split("\nbackend ", 1)[0]
    assert "server %s " % ONPREM in backend and " weight 65" in backend
    assert " weight 35" in backend
    assert env.worker_pid() == worker
