"""The three benchmarks. Each takes a LocalEnv that is up (tests/integration/localenv_fixture.py)
and returns a JSON-ready dict; each is bounded in time and sends traffic over loopback only."""

import os
import re
import statistics
import subprocess
import sys
import time

import wrkrun

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

from localenv_fixture import VENV_BIN, PlaybookRun  # noqa: E402  pylint: disable=wrong-import-position

APP = "application-01"
HOST = "application-01.6play.fr"
ONPREM = "onprem-prod-front-application-01"
CLOUD = "aws-prod-Kubernetes-application-01"
ONPREM_PORT = 8181
COMMUNITY_PLAYBOOK = os.path.join(HERE, "community_haproxy_weights.yml")


class BenchmarkError(RuntimeError):
    """A benchmark could not measure what it is meant to (a playbook failed, a check did not hold)."""


# ---------------------------------------------------------------------------------------------
# helpers

def cloud_share(weights):
    """Cloud share in percent realised by {server: weight}; None when every weight is 0."""
    total = weights.get(ONPREM, 0) + weights.get(CLOUD, 0)
    return None if total == 0 else 100.0 * weights.get(CLOUD, 0) / total


def check_share(env, step):
    weights = env.weights(APP)
    share = cloud_share(weights)
    expected_ok = weights.get(CLOUD) == 0 if step == 0 else share is not None and abs(share - step) <= 0.5
    if not expected_ok:
        raise BenchmarkError("after step %s the weights of %s are %s (cloud share %s)" % (step, APP, weights, share))
    return weights


def timed_playbook(env, playbook, *extra, extra_env=None):
    """Run ansible-playbook as an operator would; return (seconds, PlaybookRun). Fails loudly."""
    command = [os.path.join(VENV_BIN, "ansible-playbook"), playbook] + list(extra)
    started = time.monotonic()
    completed = subprocess.run(command, cwd=ROOT, env=dict(env.env, **(extra_env or {})), capture_output=True,
                               text=True, timeout=600, check=False)
    seconds = time.monotonic() - started
    run = PlaybookRun(completed)
    if run.returncode:
        raise BenchmarkError("%s failed (exit %d):\n%s" % (" ".join(command[1:]), run.returncode, run.output[-4000:]))
    return seconds, run


def config_directives(config_file, names=("close-spread-time", "hard-stop-after", "nbthread", "maxconn",
                                          "timeout http-keep-alive", "timeout client", "timeout server")):
    """{directive: value} from the global and defaults sections of haproxy.cfg (first occurrence)."""
    found = {}
    section = None
    with open(config_file) as handle:
        for raw in handle:
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            if not raw[0].isspace():
                section = line.split()[0]
                continue
            if section not in ("global", "defaults"):
                continue
            for name in names:
                if (line == name or line.startswith(name + " ")) and name not in found:
                    found[name] = line[len(name):].strip()
    return found


def _median(values, decimals=3):
    return round(statistics.median(values), decimals)


def summarize_rounds(runs, count_key, decimals=3):
    """{config: {requests_per_s, p50_us, p99_us, requests, <count_key>, socket_errors}} from
    {config: [wrk figures, one per round]}: medians of the rounds, sums of the counts."""
    summary = {}
    for name, figures_list in runs.items():
        summary[name] = {
            "requests_per_s": _median([f["requests_per_s"] for f in figures_list], decimals),
            "p50_us": _median([f["latency_us"]["p50"] for f in figures_list], decimals),
            "p99_us": _median([f["latency_us"]["p99"] for f in figures_list], decimals),
            "requests": sum(f["requests"] for f in figures_list),
            count_key: sum(f[count_key] for f in figures_list),
            "socket_errors": {kind: sum(f["socket_errors"][kind] for f in figures_list)
                              for kind in ("connect", "read", "write", "timeout")},
        }
    return summary


# ---------------------------------------------------------------------------------------------
# 1. proxy overhead

def proxy_overhead(env, rounds=3, duration_s=10, threads=2, connections=50, log=print):
    """wrk through HAProxy's frontend (step 0: every request on-prem) vs straight to the on-prem
    upstream, alternated over `rounds` rounds; medians per target. Runs first, on the fresh
    environment, whose initial_step 0 is checked on the admin socket."""
    check_share(env, 0)
    targets = {
        "direct": "http://127.0.0.1:%d/" % (ONPREM_PORT + env.port_offset),
        "haproxy": env.frontend,
    }
    commands = {name: wrkrun.wrk_command(url, HOST, threads, connections, duration_s) for name, url in targets.items()}
    for name, url in targets.items():  # warm-up: connections, caches, HAProxy's first health checks
        wrkrun.run_wrk(wrkrun.wrk_command(url, HOST, threads, connections, 2))
    env.democtl("reset")
    runs = {name: [] for name in targets}
    for round_number in range(1, rounds + 1):
        for name in targets:
            figures = wrkrun.run_wrk(commands[name])[0]
            runs[name].append(figures)
            log("  round %d %-7s %9.0f req/s  p50 %6.0f us  p99 %6.0f us  http errors %d  socket errors %s"
                % (round_number, name, figures["requests_per_s"], figures["latency_us"]["p50"],
                   figures["latency_us"]["p99"], figures["http_errors"], figures["socket_errors"]))
    cloud_hits = env.hits(APP, "cloud")
    onprem_hits = env.hits(APP, "onprem")
    summary = summarize_rounds(runs, "http_errors")
    direct, proxied = summary["direct"], summary["haproxy"]
    total_requests = direct["requests"] + proxied["requests"]
    return {
        "commands": {name: wrkrun.display_command(command) for name, command in commands.items()},
        "rounds": rounds,
        "duration_s": duration_s,
        "runs": runs,
        "summary": summary,
        "throughput_ratio": round(proxied["requests_per_s"] / direct["requests_per_s"], 3),
        "added_p50_us": round(proxied["p50_us"] - direct["p50_us"], 1),
        "added_p99_us": round(proxied["p99_us"] - direct["p99_us"], 1),
        # Every request of both targets must have reached the on-prem upstream (step 0).
        "upstream_hits": {"onprem": onprem_hits, "cloud": cloud_hits, "requests_sent": total_requests},
        "target_met": (cloud_hits == 0 and onprem_hits >= total_requests
                       and all(s["http_errors"] == 0 and not any(s["socket_errors"].values())
                               for s in summary.values())),
    }


# ---------------------------------------------------------------------------------------------
# 2. steps under load

STEP_SEQUENCE = (1, 5, 10, 25, 50, 75, 99, 50, 25, 10, 5, 1, 10, 50, 99, 75, 25, 5, 50, 1)
RELOAD_EVERY = 4  # a reload after every 4th step change: 20 steps, 5 reloads


def steps_under_load(env, work_dir, min_duration_s=60, steps=len(STEP_SEQUENCE), threads=2, connections=50,
                     log=print):
    """One wrk run through HAProxy (keep-alive) during 20 step changes (migrate.yml) and 5 reloads
    (site.yml with a different haproxy_maxconn each time); counts statuses and socket errors."""
    if env.weights(APP).get(CLOUD) != 0:
        timed_playbook(env, "playbooks/migrate.yml", "-e", "app=%s" % APP, "-e", "step=0")
    check_share(env, 0)
    # wrk runs niced so that ansible-playbook gets CPU on a 2-core box: the load is lighter while a
    # playbook runs, but every response is still counted.
    command = ["nice", "-n", "10"] + wrkrun.wrk_command(env.frontend, HOST, threads, connections, duration_s=900)
    # Each reload lowers the global maxconn by one: a real config change that keeps HAProxy within
    # the file-descriptor limit it started with.
    configured_maxconn = int(config_directives(env.config_file, names=("maxconn",))["maxconn"])
    operations = []
    reloads = 0
    with wrkrun.BackgroundWrk(command, os.path.join(work_dir, "wrk-steps-under-load.txt")) as wrk:
        time.sleep(3)
        for index, step in enumerate(STEP_SEQUENCE[:steps], start=1):
            operations.append(_timed_step(env, wrk, step, log))
            if index % RELOAD_EVERY == 0:
                reloads += 1
                operations.append(_timed_reload(env, wrk, configured_maxconn - reloads, step, log))
        while wrk.elapsed() < min_duration_s:
            time.sleep(0.5)
        time.sleep(3)
        figures, raw = wrk.stop()
    socket_errors = figures["socket_errors"]
    return {
        # -d is the safety cap: wrk is stopped with SIGINT once the changes are done (at least min_duration_s).
        "command": wrkrun.display_command(command),
        "min_duration_s": min_duration_s,
        "connections": connections,
        "steps": steps,
        "reloads": reloads,
        "operations": operations,
        "wrk": figures,
        "wrk_output": raw,
        "haproxy_settings": config_directives(env.config_file),
        "non_2xx": figures["non_2xx"],
        "target_met": (figures["non_2xx"] == 0 and socket_errors["connect"] == 0 and socket_errors["write"] == 0
                       and socket_errors["timeout"] == 0),
    }


def _timed_step(env, wrk, step, log):
    worker = env.worker_pid()
    at = wrk.elapsed()
    seconds = timed_playbook(env, "playbooks/migrate.yml", "-e", "app=%s" % APP, "-e", "step=%d" % step)[0]
    weights = check_share(env, step)
    if env.worker_pid() != worker:
        raise BenchmarkError("step %d reloaded HAProxy (worker %d -> %d)" % (step, worker, env.worker_pid()))
    log("  %6.1fs step %-3d %5.2fs  weights %s" % (at, step, seconds, weights))
    return {"kind": "step", "value": step, "at_s": round(at, 2), "seconds": round(seconds, 2)}


def _timed_reload(env, wrk, maxconn, step, log):
    worker = env.worker_pid()
    at = wrk.elapsed()
    seconds = timed_playbook(env, "playbooks/site.yml", "-e", "haproxy_maxconn=%d" % maxconn)[0]
    new_worker = env.worker_pid()
    if new_worker == worker:
        raise BenchmarkError("site.yml -e haproxy_maxconn=%d did not reload HAProxy (worker still %d)"
                             % (maxconn, worker))
    check_share(env, step)  # the step survives the reload
    log("  %6.1fs reload (maxconn %d) %5.2fs  worker %d -> %d" % (at, maxconn, seconds, worker, new_worker))
    return {"kind": "reload", "value": maxconn, "at_s": round(at, 2), "seconds": round(seconds, 2)}


# ---------------------------------------------------------------------------------------------
# 3. step cost

COST_STEPS = (5, 15, 25, 35, 45, 55, 65, 75, 85, 95, 20, 40, 60, 80)
# Issue 17: one gated step on one node in at most 1.5x community.general.haproxy's two weights (the goal beyond: 1.0x).
STEP_COST_TARGET = 1.5


def step_cost(env, runs=5, log=print):
    """Wall time of migrate.yml for one app on one node vs bench/community_haproxy_weights.yml
    (the same two weights with community.general.haproxy), interleaved, one warm-up each;
    every run moves to a step different from the one before, so each run changes something."""
    commands = {
        "migrate": lambda step: ("playbooks/migrate.yml", "-e", "app=%s" % APP, "-e", "step=%d" % step),
        "community": lambda step: (os.path.relpath(COMMUNITY_PLAYBOOK, ROOT), "-e", "bench_socket=%s" % env.admin_socket,
                                   "-e", "bench_step=%d" % step),
    }
    steps = iter(COST_STEPS)
    times = {name: [] for name in commands}
    for run_number in range(runs + 1):
        for name, build in commands.items():
            step = next(steps)
            seconds, run = timed_playbook(env, *build(step))
            if run.changed() < 1:
                raise BenchmarkError("%s to step %d changed nothing:\n%r" % (name, step, run))
            check_share(env, step)
            label = "warm-up" if run_number == 0 else "run %d" % run_number
            log("  %-7s %-9s step %-3d %5.2fs" % (label, name, step, seconds))
            if run_number:
                times[name].append(round(seconds, 3))
    profile = profile_migrate(env, next(steps))
    medians = {name: _median(values) for name, values in times.items()}
    ratio = round(medians["migrate"] / medians["community"], 3)
    return {
        "commands": {
            "migrate": "ansible-playbook playbooks/migrate.yml -e app=%s -e step=N" % APP,
            "community": "ansible-playbook bench/community_haproxy_weights.yml -e bench_socket=<run dir>/haproxy/run/"
                         "admin.sock -e bench_step=N",
        },
        "runs": runs,
        "seconds": times,
        "median_s": medians,
        "ratio": ratio,
        "migrate_profile": profile,
        "target": STEP_COST_TARGET,
        "target_met": ratio <= STEP_COST_TARGET,
    }


_PROFILE_LINE = re.compile(r"^(?P<task>\S.*?)\s+-{3,}\s+(?P<seconds>\d+\.\d+)s\s*$", re.MULTILINE)


def parse_profile_tasks(output, top=8):
    """The slowest tasks from ansible.posix.profile_tasks' closing summary: [(task, seconds)], slowest first."""
    tasks = [(match.group("task").strip(), float(match.group("seconds"))) for match in _PROFILE_LINE.finditer(output)]
    return sorted(tasks, key=lambda item: -item[1])[:top]


def profile_migrate(env, step):
    """One untimed migrate.yml run with ansible.posix.profile_tasks: where its wall time goes."""
    seconds, run = timed_playbook(env, "playbooks/migrate.yml", "-e", "app=%s" % APP, "-e", "step=%d" % step,
                                  extra_env={"ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks",
                                             "PROFILE_TASKS_TASK_OUTPUT_LIMIT": "100"})
    every_task = parse_profile_tasks(run.output, top=1000)
    return {"seconds": round(seconds, 2), "tasks": len(every_task),
            "tasks_seconds": round(sum(task_seconds for task, task_seconds in every_task), 2),
            "slowest_tasks": [{"task": task, "seconds": task_seconds} for task, task_seconds in every_task[:8]]}
