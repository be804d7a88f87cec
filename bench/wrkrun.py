"""Run wrk with bench/lua/stats.lua and read its figures.

parse_wrk_output() is pure: it reads the "BENCH_JSON" line the Lua script prints (exact integers,
latencies in microseconds) and cross-checks it against wrk's own text (--latency distribution,
"Socket errors", "Non-2xx or 3xx responses"), so a script that did not run is noticed.
"""

import json
import os
import re
import shlex
import signal
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
STATS_SCRIPT = os.path.join(HERE, "lua", "stats.lua")

_UNITS_US = {"us": 1.0, "ms": 1000.0, "s": 1000000.0, "m": 60000000.0, "h": 3600000000.0}
_PERCENTILE = re.compile(r"^\s*(?P<pct>\d+(?:\.\d+)?)%\s+(?P<value>[\d.]+)(?P<unit>us|ms|s|m|h)\s*$", re.MULTILINE)
_REQUESTS = re.compile(r"^\s*(?P<requests>\d+) requests in (?P<duration>[\d.]+)(?P<unit>us|ms|s|m|h)", re.MULTILINE)
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (?P<connect>\d+), read (?P<read>\d+), write (?P<write>\d+), "
                            r"timeout (?P<timeout>\d+)")
_NON_2XX = re.compile(r"Non-2xx or 3xx responses: (?P<count>\d+)")
_RPS = re.compile(r"^Requests/sec:\s+(?P<rps>[\d.]+)", re.MULTILINE)


class WrkOutputError(ValueError):
    """wrk's output lacks a figure the benchmarks need."""


def wrk_command(url, host, threads=2, connections=50, duration_s=10, timeout_s=5, script=STATS_SCRIPT):
    """The wrk command line: keep-alive connections, latency distribution, Host header set.
    script must print the BENCH_JSON line of bench/lua/stats.lua (another script loads that one)."""
    return ["wrk", "-t%d" % threads, "-c%d" % connections, "-d%ds" % duration_s, "--timeout", "%ds" % timeout_s,
            "--latency", "-s", script, "-H", "Host: %s" % host, url]


def display_command(command):
    """The command as an operator types it from the checkout root (bench/ script paths relative, quoted)."""
    root = os.path.dirname(HERE)
    return shlex.join(os.path.relpath(argument, root) if argument.startswith(HERE + os.sep) else argument
                      for argument in command)


def _to_us(value, unit):
    return float(value) * _UNITS_US[unit]


def parse_wrk_output(text):
    """Figures of one wrk run from its stdout: a dict, or WrkOutputError naming what is missing."""
    json_lines = [line for line in text.splitlines() if line.startswith("BENCH_JSON ")]
    if len(json_lines) != 1:
        raise WrkOutputError("expected one BENCH_JSON line from bench/lua/stats.lua, found %d in:\n%s"
                             % (len(json_lines), text[-2000:]))
    exact = json.loads(json_lines[0][len("BENCH_JSON "):])
    requests_match = _REQUESTS.search(text)
    if requests_match is None:
        raise WrkOutputError("no 'N requests in T' line in wrk output:\n%s" % text[-2000:])
    text_requests = int(requests_match.group("requests"))
    if text_requests != exact["requests"]:
        raise WrkOutputError("wrk printed %d requests but the Lua summary says %d" % (text_requests, exact["requests"]))

    socket_match = _SOCKET_ERRORS.search(text)
    text_socket_errors = ({kind: int(socket_match.group(kind)) for kind in ("connect", "read", "write", "timeout")}
                          if socket_match else {"connect": 0, "read": 0, "write": 0, "timeout": 0})
    errors = exact["errors"]
    for kind, count in text_socket_errors.items():
        if errors[kind] != count:
            raise WrkOutputError("socket errors (%s): wrk printed %d, Lua summary %d" % (kind, count, errors[kind]))
    non_2xx_match = _NON_2XX.search(text)
    text_status_errors = int(non_2xx_match.group("count")) if non_2xx_match else 0
    if text_status_errors != errors["status"]:
        raise WrkOutputError("'Non-2xx or 3xx responses': wrk printed %d, Lua summary %d"
                             % (text_status_errors, errors["status"]))

    duration_s = exact["duration_us"] / 1e6
    statuses = {int(status): count for status, count in exact["statuses"].items()}
    figures = {
        "requests": exact["requests"],
        "duration_s": round(duration_s, 3),
        "requests_per_s": round(exact["requests"] / duration_s, 1) if duration_s else 0.0,
        "latency_us": exact["latency_us"],
        "latency_distribution_us": {m.group("pct"): _to_us(m.group("value"), m.group("unit"))
                                    for m in _PERCENTILE.finditer(text)},
        "socket_errors": {kind: errors[kind] for kind in ("connect", "read", "write", "timeout")},
        "http_errors": errors["status"],
        "status_counted": exact["status_counted"],
    }
    if exact["status_counted"]:
        figures["statuses"] = {str(status): count for status, count in sorted(statuses.items())}
        figures["non_2xx"] = sum(count for status, count in statuses.items() if not 200 <= status < 300)
        answered = sum(statuses.values())
        if answered != exact["requests"]:
            raise WrkOutputError("status counts add up to %d, wrk counted %d requests" % (answered, exact["requests"]))
    rps_match = _RPS.search(text)
    if rps_match:
        figures["wrk_requests_per_s"] = float(rps_match.group("rps"))
    return figures


def _environment(count_status, extra_env=None):
    return dict(os.environ, BENCH_COUNT_STATUS="1" if count_status else "0", BENCH_STATS_LUA=STATS_SCRIPT,
                **(extra_env or {}))


def run_wrk(command, count_status=False, extra_env=None):
    """Run wrk to the end; return (figures, raw output). extra_env: variables for the wrk script."""
    completed = subprocess.run(command, capture_output=True, text=True, env=_environment(count_status, extra_env),
                               timeout=_duration_of(command) + 60, check=False)
    if completed.returncode:
        raise WrkOutputError("%s exited %d: %s" % (" ".join(command), completed.returncode, completed.stderr.strip()))
    return parse_wrk_output(completed.stdout), completed.stdout


def _duration_of(command):
    for argument in command:
        if argument.startswith("-d") and argument.endswith("s"):
            return int(argument[2:-1])
    raise ValueError("no -d<N>s in %s" % command)


class BackgroundWrk:
    """wrk running while the caller does something else; stop() ends it with SIGINT, which makes
    wrk print its report for the time it ran. Always ends the process, even when the caller fails."""

    def __init__(self, command, output_path, count_status=True, extra_env=None):
        self.command = command
        self.output_path = output_path
        self.count_status = count_status
        self.extra_env = extra_env
        self.process = None
        self.started_at = None
        self._output = None

    def __enter__(self):
        self._output = open(self.output_path, "w")  # pylint: disable=consider-using-with
        self.process = subprocess.Popen(self.command, stdout=self._output,  # pylint: disable=consider-using-with
                                        stderr=subprocess.STDOUT,
                                        env=_environment(self.count_status, self.extra_env))
        self.started_at = time.monotonic()
        return self

    def elapsed(self):
        return time.monotonic() - self.started_at

    def stop(self):
        """SIGINT wrk, wait for its report and return (figures, raw output)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        self._output.close()
        with open(self.output_path) as handle:
            text = handle.read()
        if self.process.returncode:
            raise WrkOutputError("%s exited %d:\n%s" % (" ".join(self.command), self.process.returncode, text[-2000:]))
        return parse_wrk_output(text), text

    def __exit__(self, *exc):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self._output is not None and not self._output.closed:
            self._output.close()
