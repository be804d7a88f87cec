"""migrate.yml end to end: the local inventory, real HAProxy, real upstreams, real traffic."""

import json
import os
import time

import pytest

import traffic
import yaml
from localenv_fixture import ROOT, LocalEnv
from webhook_receiver import Receiver

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


def test_a_step_leaves_haproxy_cfg_to_its_one_writer_and_is_saved_for_a_reload(env):
    """A step below 100 changes the runtime weights, the state store and the server-state file, never haproxy.cfg
    (site.yml's template is its one writer); a reload of that unchanged file loads the step back."""
    env.migrate(APP, 15)
    config = open(env.config_file).read()
    worker = env.worker_pid()
    env.migrate(APP, 35)
    assert open(env.config_file).read() == config
    assert env.worker_pid() == worker
    assert env.saved_weights(APP) == {ONPREM: 65, CLOUD: 35}
    env.playbook("site.yml", "-e", "haproxy_maxconn=3998")  # a reload
    assert env.worker_pid() != worker
    assert env.weights(APP) == {ONPREM: 65, CLOUD: 35}


# ------------------------------------------------------------------ metrics and report (issue 7)

def test_exporter_answers_with_per_server_responses_of_both_sides(env):
    import urllib.request
    env.migrate(APP, 50)
    traffic.send_concurrently(env.frontend, HOST, 200, workers=4)
    metrics_url = "http://127.0.0.1:%d/metrics" % (8405 + env.port_offset)
    body = urllib.request.urlopen(metrics_url, timeout=10).read().decode()
    counts = {}
    for line in body.splitlines():
        if line.startswith("haproxy_server_http_responses_total{") and 'proxy="%s"' % APP in line and 'code="2xx"' in line:
            server = line.split('server="', 1)[1].split('"', 1)[0]
            counts[server] = float(line.rsplit(" ", 1)[1])
    assert counts.get(ONPREM, 0) > 0 and counts.get(CLOUD, 0) > 0, counts
    with pytest.raises(urllib.error.HTTPError) as not_found:
        urllib.request.urlopen(metrics_url.replace("/metrics", "/other"), timeout=10)
    assert not_found.value.code == 404


def _png_pixels(path):
    """(width, height, rows of RGB(A) bytes) of an 8-bit non-interlaced PNG (Chromium's screenshots)."""
    import struct
    import zlib
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, chunks, header = 8, [], None
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        body = data[offset + 8:offset + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
        offset += 12 + length
    width, height, depth, color_type, _c, _f, interlace = header
    assert depth == 8 and interlace == 0 and color_type in (2, 6), header
    channels = 4 if color_type == 6 else 3
    raw = zlib.decompress(b"".join(chunks))
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            left = line[x - channels] if x >= channels else 0
            up = previous[x]
            up_left = previous[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + left) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + up) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                line[x] = (line[x] + (left if pa <= pb and pa <= pc else up if pb <= pc else up_left)) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, channels, rows


def test_report_after_a_ramp_renders_its_charts_in_headless_chromium(env, tmp_path):
    import shutil
    import subprocess
    env.migrate(APP, 0)
    for step in (5, 25, 50):
        traffic.send_concurrently(env.frontend, HOST, 300, workers=4)
        env.migrate(APP, step)
    traffic.send_concurrently(env.frontend, HOST, 300, workers=4)
    env.migrate(APP, 100)
    report = tmp_path / "application-01.html"
    run = env.playbook("report.yml", "-e", "app=%s" % APP, "-e", "dest=%s" % report)
    assert "measured windows" in run.output and report.exists(), run
    html = report.read_text()
    assert "<script" not in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert html.count('<svg class="chart"') == 6 and html.count("<polyline") >= 8
    again = env.playbook("report.yml", "-e", "app=%s" % APP, "-e", "dest=%s" % report)
    assert again.changed() == 0 and "(unchanged)" in again.output
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Debian's chromium is needed (make deps installs it)"
    screenshot = tmp_path / "report.png"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--user-data-dir=%s" % (tmp_path / "chromium"), "--screenshot=%s" % screenshot,
                    "--window-size=900,2400", report.as_uri()], capture_output=True, timeout=120, check=False)
    width, height, channels, rows = _png_pixels(str(screenshot))
    colours = {"onprem": (0x1f, 0x77, 0xb4), "cloud": (0xe8, 0x59, 0x0c)}
    # Rows holding each side's line colour: the charts are stacked, so lines in several charts cover many rows.
    rows_with = dict((side, 0) for side in colours)
    for row in rows:
        pixels = set(tuple(row[x:x + 3]) for x in range(0, width * channels, channels))
        for side, colour in colours.items():
            if colour in pixels:
                rows_with[side] += 1
    assert rows_with["cloud"] > 100 and rows_with["onprem"] > 50, rows_with


def test_steps_and_rollbacks_are_posted_to_the_webhooks_and_their_secrets_stay_out_of_the_output(env, tmp_path):
    """A real local receiver for a JSON webhook (answering 503 once: retried) and a Slack one; a third webhook points
    at a closed port: its failure is a warning, the step stands."""
    json_hook, slack_hook = Receiver([503]), Receiver()
    dead = Receiver()
    dead.close()
    webhooks = [{"url": json_hook.url, "headers": {"Authorization": "Bearer cloudshift-Hook-Secret-5150"}},
                {"url": slack_hook.url, "format": "slack", "events": ["rollback"]},
                {"url": dead.url, "retries": 0, "timeout": 1}]
    extra = tmp_path / "webhooks.json"
    extra.write_text(json.dumps({"migration_notify_webhooks": webhooks}))
    try:
        env.migrate(APP, 10, "-e", "force=true")
        moved = env.migrate(APP, 20, "-e", "force=true", "-e", "@%s" % extra, "-vvv")
        back = env.migrate(APP, "rollback", "-e", "@%s" % extra)
    finally:
        json_hook.close()
        slack_hook.close()
    events = [item["body"] for item in json_hook.received]
    assert [(event["action"], event["from_step"], event["to_step"]) for event in events][-2:] == [
        ("step", 10, 20), ("rollback", 20, 10)], events
    assert len(json_hook.received) == 3  # the 503 was retried
    assert json_hook.received[-1]["headers"]["Authorization"] == "Bearer cloudshift-Hook-Secret-5150"
    assert events[-2]["app"] == APP and events[-2]["source"] == "cloudshift.migration" and "verdict" in events[-2]
    expected = ":rotating_light: cloudshift: application-01 rollback 20 -> 10; by %s" % events[-1]["by"]
    assert [item["body"]["text"] for item in slack_hook.received] == [expected]
    for run in (moved, back):
        assert run.returncode == 0
        assert "the step event of application-01 was not delivered" in run.output or \
            "the rollback event of application-01 was not delivered" in run.output, run
        assert "Secret-Token" not in run.output and "cloudshift-Hook-Secret-5150" not in run.output, run
    assert env.recorded_step(APP) == 10


def test_a_step_up_to_the_approval_step_waits_for_an_approver_and_records_who(env, tmp_path):
    with open(os.path.join(ROOT, "inventories", "local", "group_vars", "haproxy", "apps.yml")) as handle:
        apps = yaml.safe_load(handle)["cloudshift_apps"]
    next(app for app in apps if app["name"] == APP)["approval"] = {"from_step": 50, "approvers": ["alice"]}
    model = tmp_path / "approval.json"
    model.write_text(json.dumps({"cloudshift_apps": apps}))
    env.migrate(APP, 25, "-e", "force=true")
    before = env.weights(APP)
    unapproved = env.migrate(APP, 50, "-e", "@%s" % model, "-e", "force=true", check=False)
    assert unapproved.returncode != 0 and ("refused: application-01 stays at step 25, step 50 needs an approval from "
                                           "step 50 on (-e approve=NAME, one of alice)") in unapproved.output, unapproved
    stranger = env.migrate(APP, 50, "-e", "@%s" % model, "-e", "approve=mallory", "-e", "force=true", check=False)
    assert stranger.returncode != 0 and "mallory may not approve step 50 (approvers: alice)" in stranger.output
    assert env.weights(APP) == before and env.recorded_step(APP) == 25
    ramp = env.playbook("ramp.yml", "-e", "app=" + APP, "-e", "@%s" % model, "-e", '{"steps": [30, 50]}',
                        "-e", "interval=2", check=False)
    assert ramp.returncode != 0 and "stages 50 of the ramp of application-01" not in ramp.output
    assert "stage 50 of the ramp of application-01 needs an approval (-e approve=NAME, one of alice)" in ramp.output
    env.migrate(APP, 50, "-e", "@%s" % model, "-e", "approve=alice", "-e", "force=true")
    assert env.recorded_step(APP) == 50
    with open(os.path.join(env.audit_dir, APP + ".jsonl")) as handle:
        last = [json.loads(line) for line in handle if line.strip()][-1]
    assert (last["action"], last["to"]) == ("step", 50) and "approved by alice" in last["note"], last
    env.migrate(APP, 25, "-e", "@%s" % model)  # going down needs no approval
    assert env.recorded_step(APP) == 25
