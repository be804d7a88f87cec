"""fleet_step: the wall time of one migrate.yml step on a fleet of 1, 3 and 10 real HAProxy nodes.

Each size brings up its own fleet (FleetEnv: one HAProxy master-worker per node on this machine, in front of
the same local upstreams and moto), takes a warm-up step, then times `runs` steps of application-01, each to a
step different from the one before (below 100: runtime API, no reload), checks every node's weights after each,
and tears the fleet down. Target: 10 nodes in at most twice the time of 1 node.
"""

import os
import statistics
import time

import benchmarks
from localenv_fixture import FleetEnv

# Below 32768 (no ephemeral port can take one) and apart from every test environment (docs/local-environment.md).
PORT_OFFSET = 4000
SIZES = (1, 3, 10)
STEPS = (5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60)


def _check_fleet(env, step):
    for node in env.nodes:
        weights = env.node_weights(node)
        share = benchmarks.cloud_share(weights)
        if share is None or abs(share - step) > 0.5:
            raise benchmarks.BenchmarkError("after step %d node %s has the weights %s" % (step, node, weights))


def _time_steps(env, runs, log):
    times = []
    steps = iter(STEPS)
    for run_number in range(runs + 1):
        step = next(steps)
        seconds, run = benchmarks.timed_playbook(env, "playbooks/migrate.yml", "-i", env.inventory,
                                                 "-e", "app=%s" % benchmarks.APP, "-e", "step=%d" % step)
        _check_fleet(env, step)
        label = "warm-up" if run_number == 0 else "run %d" % run_number
        log("  %2d node(s) %-7s step %-3d %5.2fs" % (len(env.nodes), label, step, seconds))
        if run_number:
            times.append(round(seconds, 3))
    return times


def fleet_step(work_dir, runs=5, sizes=SIZES, log=print):
    per_size = {}
    for count in sizes:
        env = FleetEnv(os.path.join(work_dir, "fleet-%d" % count), PORT_OFFSET, nodes=count)
        started = time.monotonic()
        try:
            env.up()
            for node in env.nodes:
                env.on(node).wait_status(benchmarks.APP, benchmarks.CLOUD, "UP", timeout=30)
            log("  %d node(s) up in %.1fs" % (count, time.monotonic() - started))
            times = _time_steps(env, runs, log)
        finally:
            env.down()
        per_size[str(count)] = {"seconds": times, "median_s": round(statistics.median(times), 3),
                                "min_s": min(times), "max_s": max(times)}
    ratio = None
    if "1" in per_size and str(max(sizes)) in per_size:
        ratio = round(per_size[str(max(sizes))]["median_s"] / per_size["1"]["median_s"], 3)
    return {
        "command": "ansible-playbook playbooks/migrate.yml -i <fleet of N nodes> -e app=%s -e step=N" % benchmarks.APP,
        "runs": runs,
        "nodes": per_size,
        "ratio_largest_to_one": ratio,
        "target": "%d nodes <= 2x one node" % max(sizes),
        "target_met": ratio is not None and ratio <= 2.0,
    }
