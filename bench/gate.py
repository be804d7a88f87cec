"""The gate's benchmarks: how fast ramp.yml catches a slow cloud, and what users see when the cloud dies.

Both take a LocalEnv that is up (application-01: one on-prem and one cloud server) and return a
JSON-ready dict; each is bounded in time and sends traffic over loopback only.
"""

import json
import os
import re
import subprocess
import sys
import threading
import time

import wrkrun

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import traffic  # noqa: E402  pylint: disable=wrong-import-position
from benchmarks import APP, CLOUD, HOST, BenchmarkError, timed_playbook  # noqa: E402  pylint: disable=wrong-import-position
from localenv_fixture import VENV_BIN  # noqa: E402  pylint: disable=wrong-import-position

DETECTION_TARGET_S = 30.0


def audit_records(env):
    path = os.path.join(env.run_dir, "audit", APP + ".jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _wait(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return time.monotonic()
        time.sleep(0.05)
    raise BenchmarkError("timed out after %ss waiting for %s" % (timeout, what))


def _ramp(env, interval, threshold):
    command = [os.path.join(VENV_BIN, "ansible-playbook"), "playbooks/ramp.yml", "-e", "app=%s" % APP,
               "-e", '{"steps": [25, 50]}', "-e", "interval=%d" % interval, "-e", "threshold=%d" % threshold,
               # Many passes a step: the ramp holds at 25 and keeps checking until the fault.
               "-e", "checks_per_step=1000", "-e", "max_checks=30"]
    process = subprocess.Popen(command, cwd=ROOT, env=env.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    output = []
    reader = threading.Thread(target=lambda: output.extend(process.stdout), daemon=True)
    reader.start()
    return process, output, reader


def detection_run(env, interval, threshold, offset_s, log):
    """One ramp at step 25; after its first passing check plus offset_s, the cloud gets +300 ms."""
    timed_playbook(env, "playbooks/migrate.yml", "-e", "app=%s" % APP, "-e", "step=25", "-e", "force=true")
    verdicts_before = sum(1 for record in audit_records(env) if record["action"] == "verdict")
    with traffic.BackgroundTraffic(env.frontend, HOST, workers=4, max_seconds=interval * (threshold + 6) + 60):
        process, output, reader = _ramp(env, interval, threshold)
        try:
            _wait(lambda: sum(1 for record in audit_records(env) if record["action"] == "verdict") > verdicts_before,
                  interval * 3 + 60, "the ramp's first check")
            time.sleep(offset_s)
            env.democtl("fault", APP, "cloud", "appslow", "--delay", "0.3")
            slowed_at = time.monotonic()
            rolled_back_at = _wait(lambda: env.weights(APP).get(CLOUD) == 0, interval * (threshold + 4) + 60,
                                   "the rollback to step 0")
            process.wait(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
            reader.join(timeout=10)
            env.democtl("fault", APP, "cloud", "ok")
    seconds = round(rolled_back_at - slowed_at, 2)
    text = "".join(output)
    # Each progress line once (the rollback's message repeats the last one).
    lines = list(dict.fromkeys(line.strip() for line in text.splitlines() if re.match(r"check \d+ \| ", line.strip())))
    if process.returncode == 0 or "rolled back application-01 from step 25 to 0" not in text:
        raise BenchmarkError("ramp.yml did not roll back as expected (exit %s):\n%s" % (process.returncode, text[-3000:]))
    log("  offset %4.1fs: rolled back %5.2fs after the cloud slowed (%d checks)" % (offset_s, seconds, len(lines)))
    return {"offset_s": offset_s, "detection_s": seconds, "checks": len(lines), "progress_lines": lines}


def gate_detection(env, runs=3, interval=10, threshold=2, log=print):
    """ramp.yml -e interval=10 -e threshold=2 at step 25; the cloud gets +300 ms at three offsets into
    a check's window; time from the fault to the rollback's weights on the admin socket."""
    env.wait_status(APP, CLOUD, "UP", timeout=30)
    offsets = [round(interval * index / float(runs), 1) for index in range(runs)]
    measured = []
    for offset in offsets:
        measured.append(detection_run(env, interval, threshold, offset, log))
        env.wait_status(APP, CLOUD, "UP", timeout=30)
    worst = max(run["detection_s"] for run in measured)
    return {
        "command": "ansible-playbook playbooks/ramp.yml -e app=%s -e '{\"steps\": [25, 50]}' -e interval=%d "
                   "-e threshold=%d -e checks_per_step=1000 -e max_checks=30" % (APP, interval, threshold),
        "fault": "scripts/democtl fault %s cloud appslow --delay 0.3 (health page untouched)" % APP,
        "interval_s": interval,
        "threshold": threshold,
        "runs": measured,
        "worst_detection_s": worst,
        "bound_s": interval * (threshold + 1),
        "target_s": DETECTION_TARGET_S,
        "target_met": worst <= DETECTION_TARGET_S,
    }


def cloud_kill(env, work_dir, duration_s=20, kill_after_s=5, threads=2, connections=20, log=print):
    """wrk GETs through HAProxy at step 50; the cloud upstream is killed kill_after_s into the run:
    every response counted by status, socket errors apart, and how long until HAProxy marks it DOWN."""
    timed_playbook(env, "playbooks/migrate.yml", "-e", "app=%s" % APP, "-e", "step=50", "-e", "force=true")
    env.wait_status(APP, CLOUD, "UP", timeout=30)
    command = wrkrun.wrk_command(env.frontend, HOST, threads, connections, duration_s=duration_s + 60)
    try:
        with wrkrun.BackgroundWrk(command, os.path.join(work_dir, "wrk-cloud-kill.txt")) as wrk:
            time.sleep(kill_after_s)
            env.democtl("fault", APP, "cloud", "down")
            killed_at = time.monotonic()
            down_at = _wait(lambda: env.server_status(APP, CLOUD).startswith("DOWN"), 10, "the cloud server DOWN")
            while wrk.elapsed() < duration_s:
                time.sleep(0.2)
            figures, _raw = wrk.stop()
    finally:
        env.democtl("fault", APP, "cloud", "ok")
    env.wait_status(APP, CLOUD, "UP", timeout=30)
    non_2xx = figures["non_2xx"]
    out_of_rotation_s = round(down_at - killed_at, 3)
    log("  %d GETs, %d non-2xx, socket errors %s, cloud DOWN %.2fs after the kill"
        % (figures["requests"], non_2xx, figures["socket_errors"], out_of_rotation_s))
    return {
        # -d is the safety cap: wrk is stopped with SIGINT after duration_s.
        "command": wrkrun.display_command(command),
        "duration_s": duration_s,
        "kill_after_s": kill_after_s,
        "requests": figures["requests"],
        "statuses": figures["statuses"],
        "non_2xx": non_2xx,
        "socket_errors": figures["socket_errors"],
        "out_of_rotation_s": out_of_rotation_s,
        "target_met": non_2xx == 0 and not any(figures["socket_errors"].values()) and out_of_rotation_s <= 2.0,
    }
