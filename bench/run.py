"""`make bench`: run the benchmarks against a local environment of their own, print a summary,
write bench/results/latest.json and the results section of docs/benchmarks.md.

    .venv/bin/python bench/run.py                        # all seven (about 20 minutes on 2 cores)
    .venv/bin/python bench/run.py --only step_cost       # one of proxy_overhead, steps_under_load, step_cost,
                                                         # cloud_kill, gate_detection, shadow_overhead,
                                                         # routing_lookup, map_replace, fleet_step

The environment of the first three (scripts/democtl upstreams + HAProxy from playbooks/site.yml)
runs in a temp dir with CLOUDSHIFT_PORT_OFFSET=40000 (frontend 127.0.0.1:48080), beside any
`make up` or test one, and is torn down at the end (stop.yml, democtl stop), on failure and on
Ctrl-C too. The routing benchmarks (bench/routing.py) need no environment: each starts and stops
its own HAProxy, with a config of its own in the same temp dir, on 127.0.0.1:47001-47010.
"""

import argparse
import datetime
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import benchmarks  # noqa: E402  pylint: disable=wrong-import-position
import fleet  # noqa: E402  pylint: disable=wrong-import-position
import gate  # noqa: E402  pylint: disable=wrong-import-position
import machine  # noqa: E402  pylint: disable=wrong-import-position
import report  # noqa: E402  pylint: disable=wrong-import-position
import routing  # noqa: E402  pylint: disable=wrong-import-position
import shadow  # noqa: E402  pylint: disable=wrong-import-position
import wrkrun  # noqa: E402  pylint: disable=wrong-import-position
from localenv_fixture import LocalEnv  # noqa: E402  pylint: disable=wrong-import-position

PORT_OFFSET = 40000
BASE_PORTS = (8080, 8099, 8181, 8182, 8443, 8444, 8543, 8544)
ENV_BENCHMARKS = ("proxy_overhead", "steps_under_load", "step_cost", "cloud_kill", "gate_detection", "shadow_overhead")
ROUTING_BENCHMARKS = ("routing_lookup", "map_replace")
# Benchmarks that bring up environments of their own (fleet_step: fleets of 1, 3 and 10 nodes).
OWN_ENV_BENCHMARKS = ("fleet_step",)
BENCHMARKS = ENV_BENCHMARKS + ROUTING_BENCHMARKS + OWN_ENV_BENCHMARKS
RESULTS_FILE = os.path.join(HERE, "results", "latest.json")
DOC_FILE = os.path.join(ROOT, "docs", "benchmarks.md")
REQUIREMENTS_FILE = os.path.join(ROOT, "requirements-bench.txt")


# HAProxy needs about 2 x maxconn file descriptors and refuses to start when the hard limit is lower
# (20000 on the reference VM, against the role's default maxconn 20000).
ROLE_DEFAULT_MAXCONN = 20000
FD_MARGIN = 200


class BenchEnv(LocalEnv):
    """LocalEnv with, when the file-descriptor limit cannot hold the role's default maxconn, a one-host
    inventory layer that lowers haproxy_maxconn to what fits (recorded in the results)."""

    def __init__(self, run_dir, port_offset):
        super().__init__(run_dir, port_offset)
        self.maxconn_override = fitting_maxconn(resource.getrlimit(resource.RLIMIT_NOFILE)[1])
        if self.maxconn_override is not None:
            layer = os.path.join(self.run_dir, "bench-inventory.yml")
            with open(layer, "w") as handle:
                handle.write("haproxy:\n  hosts:\n    haproxy-local:\n      haproxy_maxconn: %d\n"
                             % self.maxconn_override)
            self.env["ANSIBLE_INVENTORY"] = ",".join([os.path.join(ROOT, "inventories", "local", "hosts.yml"), layer])


def fitting_maxconn(fd_hard_limit):
    """None when the role's default maxconn fits the limit, else the largest maxconn that does."""
    if fd_hard_limit == resource.RLIM_INFINITY or 2 * ROLE_DEFAULT_MAXCONN + FD_MARGIN <= fd_hard_limit:
        return None
    return (fd_hard_limit - FD_MARGIN) // 2


class SetupError(RuntimeError):
    """The machine cannot run the benchmarks as it is."""


def log(message):
    print(message, flush=True)


# ---------------------------------------------------------------------------------------------
# preflight

def ensure_wrk():
    if shutil.which("wrk"):
        return
    if os.geteuid() != 0:
        raise SetupError("wrk is missing: apt-get install -y wrk (needs root)")
    log("installing wrk (apt-get)")
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "wrk"], check=True,
                   env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))


def pinned_version(requirements_text, package):
    """The version pinned with `package==X` in a requirements file's text, or None."""
    for line in requirements_text.splitlines():
        line = line.split("#", 1)[0].strip()
        name, separator, version = line.partition("==")
        if separator and name.strip().lower() == package:
            return version.strip()
    return None


def ensure_bench_requirements():
    """Install requirements-bench.txt (the `ansible` package, for community.general) into this venv
    when the pinned version is not the installed one."""
    with open(REQUIREMENTS_FILE) as handle:
        wanted = pinned_version(handle.read(), "ansible")
    installed = machine.package_version("ansible")
    if wanted and installed == wanted:
        return
    log("installing %s into %s (ansible %s wanted, %s installed)"
        % (os.path.relpath(REQUIREMENTS_FILE, ROOT), sys.prefix, wanted, installed))
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-r", REQUIREMENTS_FILE], check=True, cwd=ROOT)
    subprocess.run([sys.executable, "-m", "pip", "check"], check=True)


def ensure_ports_free(ports):
    busy = []
    for port in ports:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                busy.append(port)
    if busy:
        raise SetupError("ports %s already listen on 127.0.0.1: another bench run (or a leftover one) is up"
                         % ", ".join(map(str, busy)))


# ---------------------------------------------------------------------------------------------
# environment lifecycle

def _raise_interrupt(signum, _frame):
    raise KeyboardInterrupt("signal %d" % signum)


def processes_using(run_dir):
    """Pids of processes whose command line names run_dir (HAProxy, the upstream daemon)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(os.path.join("/proc", entry, "cmdline"), "rb") as handle:
                command_line = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if run_dir in command_line:
            pids.append(int(entry))
    return pids


def tear_down(env):
    log("tearing down the bench environment (stop.yml, democtl stop)")
    env.down()
    leftovers = processes_using(env.run_dir)
    for pid in leftovers:  # only processes this run started: their command line names its temp dir
        log("  process %d still uses %s after stop.yml: SIGTERM" % (pid, env.run_dir))
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 5
    while leftovers and time.monotonic() < deadline:
        leftovers = [pid for pid in leftovers if os.path.exists("/proc/%d" % pid)]
        time.sleep(0.1)
    for pid in leftovers:
        os.kill(pid, signal.SIGKILL)


def bring_up(env):
    log("bringing up the bench environment in %s (port offset %d)" % (env.run_dir, PORT_OFFSET))
    env.up()
    env.wait_status(benchmarks.APP, benchmarks.ONPREM, "UP", timeout=30)
    env.wait_status(benchmarks.APP, benchmarks.CLOUD, "UP", timeout=30)


# --quick: the same code paths at a fraction of the size, to check the harness; nothing is recorded.
FULL_SIZES = {"proxy_overhead": {"rounds": 3, "duration_s": 10},
              "steps_under_load": {"min_duration_s": 60, "steps": len(benchmarks.STEP_SEQUENCE)},
              "step_cost": {"runs": 5},
              "cloud_kill": {"duration_s": 20},
              "gate_detection": {"runs": 3, "interval": 10},
              "shadow_overhead": {"duration_s": 10},
              "routing_lookup": {"rounds": 3, "duration_s": 6},
              "map_replace": {"runs": 3},
              "fleet_step": {"runs": 5}}
QUICK_SIZES = {"proxy_overhead": {"rounds": 1, "duration_s": 2},
               "steps_under_load": {"min_duration_s": 5, "steps": benchmarks.RELOAD_EVERY},
               "step_cost": {"runs": 1},
               "cloud_kill": {"duration_s": 8},
               "gate_detection": {"runs": 1, "interval": 3},
               "shadow_overhead": {"duration_s": 2},
               "routing_lookup": {"rounds": 1, "duration_s": 1},
               "map_replace": {"runs": 1},
               "fleet_step": {"runs": 1, "sizes": (1, 3)}}


def run_selected(env, selected, work_dir, sizes):
    """Run the selected benchmarks in order; env is the LocalEnv that is up (None when only
    routing benchmarks are selected: they bring their own HAProxy)."""
    results = {}
    for name in selected:
        log("\n== %s" % name)
        started = time.monotonic()
        if name == "proxy_overhead":
            result = benchmarks.proxy_overhead(env, log=log, **sizes[name])
        elif name == "steps_under_load":
            result = benchmarks.steps_under_load(env, work_dir, log=log, **sizes[name])
        elif name == "step_cost":
            result = benchmarks.step_cost(env, log=log, **sizes[name])
        elif name == "cloud_kill":
            result = gate.cloud_kill(env, work_dir, log=log, **sizes[name])
        elif name == "gate_detection":
            result = gate.gate_detection(env, log=log, **sizes[name])
        elif name == "shadow_overhead":
            result = shadow.shadow_overhead(env, log=log, **sizes[name])
        elif name == "routing_lookup":
            result = routing.routing_lookup(work_dir, log=log, **sizes[name])
        elif name == "fleet_step":
            result = fleet.fleet_step(work_dir, log=log, **sizes[name])
        else:
            result = routing.map_replace(work_dir, log=log, **sizes[name])
        result["measured_at"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        result["nproc"] = os.cpu_count()
        result["wall_time_s"] = round(time.monotonic() - started, 1)
        result["haproxy_maxconn_override"] = env.maxconn_override if name in ENV_BENCHMARKS else None
        results[name] = result
    return results


# ---------------------------------------------------------------------------------------------
# results

def load_previous():
    try:
        with open(RESULTS_FILE) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return {"benchmarks": {}}


def save(results):
    os.makedirs(os.path.dirname(RESULTS_FILE), exist_ok=True)
    temporary = RESULTS_FILE + ".tmp"
    with open(temporary, "w") as handle:
        json.dump(results, handle, indent=2, sort_keys=True)
        handle.write("\n")
    os.replace(temporary, RESULTS_FILE)
    with open(DOC_FILE) as handle:
        document = handle.read()
    # A benchmark this machine's latest.json does not hold keeps what the document recorded (--only, a fresh clone).
    section = report.render_results(results, report.recorded_sections(document))
    with open(DOC_FILE, "w") as handle:
        handle.write(report.replace_results_section(document, section))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=BENCHMARKS, action="append",
                        help="run only this benchmark (repeatable); default: all of them")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a benchmark misses its target")
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes to check the harness (a few seconds each); records nothing")
    parser.add_argument("--keep-run-dir", action="store_true", help="keep the temp run dir (logs, haproxy.cfg)")
    args = parser.parse_args(argv)
    selected = [name for name in BENCHMARKS if not args.only or name in args.only]
    needs_env = any(name in ENV_BENCHMARKS for name in selected)

    try:
        ensure_wrk()
        if "step_cost" in selected:
            ensure_bench_requirements()
        ensure_ports_free(([base + PORT_OFFSET for base in BASE_PORTS] if needs_env else [])
                          + (list(routing.PORTS) if set(selected) & set(ROUTING_BENCHMARKS) else []))
    except (SetupError, subprocess.CalledProcessError) as exc:
        log("bench: cannot start: %s" % exc)
        return 2

    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored (`cmd &`)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGHUP, _raise_interrupt)
    run_dir = tempfile.mkdtemp(prefix="cloudshift-bench-")
    env = BenchEnv(run_dir, PORT_OFFSET) if needs_env else None
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    started_env = None
    try:
        # The routing benchmarks run first, before the environment exists: nothing else then
        # competes for the CPU with their HAProxy and wrk. The fleets (10 HAProxy nodes health-checking
        # every second) run last, once the environment is gone: their thousands of outgoing connections
        # took an ephemeral port the environment's upstreams then needed (48444) when they ran first.
        measured = run_selected(None, [name for name in selected if name in ROUTING_BENCHMARKS], run_dir, sizes)
        if env is not None:
            started_env = env  # torn down even when bring_up fails half way
            bring_up(env)
            measured.update(run_selected(env, [name for name in selected if name in ENV_BENCHMARKS], run_dir, sizes))
            tear_down(env)
            started_env = None
        measured.update(run_selected(None, [name for name in selected if name in OWN_ENV_BENCHMARKS], run_dir, sizes))
    except KeyboardInterrupt:
        log("\nbench: interrupted, nothing recorded")
        return 130
    except (benchmarks.BenchmarkError, wrkrun.WrkOutputError, AssertionError) as exc:
        log("\nbench: FAILED: %s" % exc)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the teardown short
        try:
            if started_env is not None:
                tear_down(started_env)
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            if args.keep_run_dir:
                log("run dir kept: %s" % run_dir)
            else:
                shutil.rmtree(run_dir, ignore_errors=True)

    if args.quick:
        log("\n" + report.render_results({"benchmarks": measured}))
        log("--quick: nothing recorded")
        return 0
    results = load_previous()
    results.setdefault("benchmarks", {}).update(measured)
    results["machine"] = machine.describe()
    results["updated_at"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    save(results)
    log("\n" + report.render_results({"benchmarks": measured}))
    log("written: %s and the results section of %s" % (os.path.relpath(RESULTS_FILE, ROOT),
                                                       os.path.relpath(DOC_FILE, ROOT)))
    missed = [name for name, result in measured.items() if not result["target_met"]]
    if missed:
        log("target NOT met: %s" % ", ".join(missed))
    return 1 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
