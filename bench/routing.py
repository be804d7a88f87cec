"""The routing benchmarks of issue 3 (path-by-path migration): routing_lookup and map_replace.

Unlike the other benchmarks they need no local environment: each writes its own haproxy.cfg and
map files in a temp dir, starts its own HAProxy (ports 127.0.0.1:47001-47010, admin socket in the
temp dir) and stops it at the end, on failure and on Ctrl-C too. The frontends build the route key
as roles/haproxy/templates/haproxy.cfg.j2 does (Host header, port removed, lower case, then the
path); the backends answer `http-request return status 200` themselves, so what is measured is
HAProxy's lookup, not an upstream.
"""

import http.client
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import time

import wrkrun
from benchmarks import BenchmarkError, summarize_rounds

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
COLLECTIONS = os.path.join(ROOT, ".ansible", "collections")
COLLECTION_LINK = os.path.join(COLLECTIONS, "ansible_collections", "cloudshift", "migration")
if not os.path.exists(COLLECTION_LINK):  # as tests/conftest.py and `make setup` do
    os.makedirs(os.path.dirname(COLLECTION_LINK), exist_ok=True)
    os.symlink(ROOT, COLLECTION_LINK)
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)

# pylint: disable=wrong-import-position
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy import maps  # noqa: E402
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.client import RuntimeClient  # noqa: E402

ROUTES_SCRIPT = os.path.join(HERE, "lua", "routes.lua")
HAPROXY = "haproxy"
HOST = "application-02.6play.fr"
ROUTE_COUNTS = (1, 1000, 10000)
LOOKUP_MATCHES = ("beg", "reg")
LOOKUP_BASE_PORT = 47001  # beg-1 47001, beg-1000 47002, beg-10000 47003, reg-1 47004, ...
REPLACE_PORT = 47010
PORTS = tuple(range(LOOKUP_BASE_PORT, LOOKUP_BASE_PORT + len(ROUTE_COUNTS) * len(LOOKUP_MATCHES))) + (REPLACE_PORT,)
ROUTE_BACKENDS = 8
DEFAULT_BACKEND = "default-route"
ROUTE_HEADER = "X-Route"
MATCHED_SHARE = 0.8
REQUEST_BASES = 4000
REPLACE_ENTRIES = 10000
LOOKUP_TARGET_RATIO = 0.9
REPLACE_TARGET_S = 2.0
SEED = 20260203


# ---------------------------------------------------------------------------------------------
# routes, maps and request paths (pure)

def route_prefix(index):
    """The path prefix of route number index: /v1/service-00000/, /v2/service-00001/, ..."""
    return "/v%d/service-%05d/" % (1 + index % 3, index)


def route_backend(index, offset=0):
    return "route-%d" % ((index + offset) % ROUTE_BACKENDS)


def prefix_entries(host, count):
    """[(key, backend)] of count prefix routes, keys as the role writes prefix.map: host + prefix."""
    return [(host + route_prefix(index), route_backend(index)) for index in range(count)]


def regex_escape(text):
    """text as a literal in a regex, in the field report's style (application-02\\.6play\\.fr\\/v2\\/)."""
    return "".join(char if char.isalnum() or char in "-_" else "\\" + char for char in text)


def regex_entries(host, count):
    """The same routes as an ordered map_reg list, written as the field report writes them
    (escaped host + path, not anchored), in route order."""
    return [(regex_escape(key), backend) for key, backend in prefix_entries(host, count)]


def request_bases(route_count, size=REQUEST_BASES, matched_share=MATCHED_SHARE, seed=SEED):
    """size request paths (without the per-request number routes.lua appends), shuffled:
    matched_share of them under a route, spread over the whole list and always including the
    last route (the last line of a map_reg list), the rest under no route, among them near
    misses that a regex list rejects only late in the key."""
    rng = random.Random(seed)
    matched = int(round(size * matched_share))
    indexes = [route_count - 1] + [rng.randrange(route_count) for _draw in range(matched - 1)]
    bases = [route_prefix(index) + "items/" for index in indexes]
    unmatched_forms = ("/admin/users/", "/v9/service-%05d/items/", "/v2/service-%05dx/items/", "/static/%05d/")
    for number in range(size - matched):
        form = unmatched_forms[number % len(unmatched_forms)]
        bases.append(form % rng.randrange(100000) if "%" in form else form)
    rng.shuffle(bases)
    return bases


def expected_backend(key, entries, default=DEFAULT_BACKEND):
    """What HAProxy's map_beg gives for key: the value of the longest matching prefix, else default."""
    best = None
    for prefix, value in entries:
        if key.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, value)
    return best[1] if best else default


def lookup_frontends(work_dir, route_counts=ROUTE_COUNTS, matches=LOOKUP_MATCHES, base_port=LOOKUP_BASE_PORT):
    """One frontend per (match, route count): [{name, match, routes, port, map_file}], beg first."""
    frontends = []
    for match in matches:
        for count in route_counts:
            name = "%s-%d" % (match, count)
            frontends.append({"name": name, "match": match, "routes": count, "port": base_port + len(frontends),
                              "map_file": os.path.join(work_dir, "%s.map" % name)})
    return frontends


def render_config(socket_path, frontends):
    """haproxy.cfg: one frontend per entry of frontends, each looking the route key up in its map
    with map_<match>, ROUTE_BACKENDS backends and the default one answering 200 themselves."""
    lines = [
        "# Written by bench/routing.py for one benchmark run: the route key is built as",
        "# roles/haproxy/templates/haproxy.cfg.j2 builds it; the backends answer without an upstream.",
        "global",
        "    maxconn 2000",
        "    stats socket %s mode 600 level admin" % socket_path,
        "",
        "defaults",
        "    mode http",
        "    timeout connect 5s",
        "    timeout client 30s",
        "    timeout server 30s",
        "    timeout http-keep-alive 10s",
    ]
    for frontend in frontends:
        lines += [
            "",
            "frontend %s" % frontend["name"],
            "    bind 127.0.0.1:%d" % frontend["port"],
            "    http-request set-var-fmt(txn.route_key) %[req.hdr(host),field(1,:),lower]%[path]",
            "    use_backend %%[var(txn.route_key),map_%s(%s,%s)]"
            % (frontend["match"], frontend["map_file"], DEFAULT_BACKEND),
            "    default_backend %s" % DEFAULT_BACKEND,
        ]
    for backend in ["route-%d" % number for number in range(ROUTE_BACKENDS)] + [DEFAULT_BACKEND]:
        lines += [
            "",
            "backend %s" % backend,
            "    http-request return status 200 content-type text/plain string ok hdr %s %s" % (ROUTE_HEADER, backend),
        ]
    return "\n".join(lines) + "\n"


def summarize_lookup(runs):
    """{config: {requests_per_s, p50_us, p99_us, requests, non_2xx, socket_errors}} from
    {config: [wrk figures with statuses counted, one per round]}: medians of the rounds, sums of the counts."""
    return summarize_rounds(runs, "non_2xx", decimals=1)


def lookup_ratios(summary, route_counts=ROUTE_COUNTS):
    """req/s ratios: each count against 1 route for beg and for reg, and beg against reg per count."""
    smallest = route_counts[0]
    ratios = {}
    for match in LOOKUP_MATCHES:
        base = summary["%s-%d" % (match, smallest)]["requests_per_s"]
        for count in route_counts[1:]:
            ratios["%s_%d_vs_%d" % (match, count, smallest)] = round(
                summary["%s-%d" % (match, count)]["requests_per_s"] / base, 3)
    for count in route_counts:
        ratios["beg_vs_reg_%d" % count] = round(
            summary["beg-%d" % count]["requests_per_s"] / summary["reg-%d" % count]["requests_per_s"], 3)
    return ratios


def replace_entries(host, count, generation):
    """count entries of a map_beg map, different keys and values for each generation, so that every
    replace between two generations changes every entry."""
    return [("%s/api/g%d/item-%05d/" % (host, generation, index), route_backend(index, offset=generation))
            for index in range(count)]


def check_replaced(map_list, entries_shown, file_entries, target, version, map_path):
    """Problems (sentences) after a replace: the live map and the file must hold exactly target,
    and the committed version must be the current one. [] when all holds."""
    problems = []
    info = next((item for item in map_list if item["file"] == map_path), None)
    if info is None:
        return ["show map does not list %s any more" % map_path]
    if info["entry_cnt"] != len(target):
        problems.append("show map says entry_cnt=%s, expected %d" % (info["entry_cnt"], len(target)))
    if info["curr_ver"] != version:
        problems.append("show map says curr_ver=%s, the replace committed version %s" % (info["curr_ver"], version))
    if entries_shown != target:
        problems.append("show map %s holds %d entries that are not the %d written (first difference at %s)"
                        % (map_path, len(entries_shown), len(target), _first_difference(entries_shown, target)))
    if file_entries != target:
        problems.append("the map file holds %d entries that are not the %d written (first difference at %s)"
                        % (len(file_entries), len(target), _first_difference(file_entries, target)))
    return problems


def _first_difference(left, right):
    for index, (a, b) in enumerate(zip(left, right)):
        if a != b:
            return "line %d: %r != %r" % (index + 1, a, b)
    return "line %d (one list is longer)" % (min(len(left), len(right)) + 1)


# ---------------------------------------------------------------------------------------------
# HAProxy process and probes

def haproxy_features():
    """The PCRE2 line and JIT support of the installed HAProxy (from haproxy -vv)."""
    text = subprocess.run([HAPROXY, "-vv"], capture_output=True, text=True, timeout=30, check=False).stdout
    found = {}
    for key, pattern in (("pcre2", r"Built with PCRE2 version : (.+)"), ("pcre2_jit", r"PCRE2 library supports JIT : (.+)"),
                         ("default_nbthread", r"Built with multi-threading support \(.*default=(\d+)\)")):
        match = re.search(pattern, text)
        found[key] = match.group(1).strip() if match else "unknown"
    return found


def _listening(port):
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def ports_in_use(ports=PORTS):
    return [port for port in ports if _listening(port)]


class HAProxyProcess:
    """HAProxy in the foreground (-db) with a config of this run; stopped on exit, whatever happens."""

    def __init__(self, config_file, socket_path, ports, log_file):
        self.config_file = config_file
        self.socket_path = socket_path
        self.ports = ports
        self.log_file = log_file
        self.process = None
        self._log = None

    def __enter__(self):
        check = subprocess.run([HAPROXY, "-c", "-q", "-f", self.config_file], capture_output=True, text=True,
                               timeout=120, check=False)
        if check.returncode:
            raise BenchmarkError("haproxy -c refused %s:\n%s" % (self.config_file, (check.stdout + check.stderr)[-3000:]))
        busy = ports_in_use(self.ports)
        if busy:
            raise BenchmarkError("ports %s already listen on 127.0.0.1 (a leftover bench HAProxy?)"
                                 % ", ".join(map(str, busy)))
        self._log = open(self.log_file, "w")  # pylint: disable=consider-using-with
        self.process = subprocess.Popen([HAPROXY, "-db", "-f", self.config_file],  # pylint: disable=consider-using-with
                                        stdout=self._log, stderr=subprocess.STDOUT)
        try:
            self._wait_ready(timeout=60)
        except BaseException:
            self.__exit__()
            raise
        return self

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                with open(self.log_file) as handle:
                    raise BenchmarkError("HAProxy exited %d at start:\n%s" % (self.process.returncode,
                                                                              handle.read()[-3000:]))
            if os.path.exists(self.socket_path) and all(_listening(port) for port in self.ports):
                return
            time.sleep(0.1)
        raise BenchmarkError("HAProxy did not listen on %s within %d s" % (self.ports, timeout))

    def __exit__(self, *exc):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is not None and not self._log.closed:
            self._log.close()


def probe_routes(port, host, paths, timeout=10):
    """[(path, status, X-Route)] for GET path on 127.0.0.1:port, one keep-alive connection."""
    answers = []
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        for path in paths:
            connection.request("GET", path, headers={"Host": host})
            response = connection.getresponse()
            response.read()
            answers.append((path, response.status, response.getheader(ROUTE_HEADER)))
    finally:
        connection.close()
    return answers


def check_routing(frontend, entries, bases, host=HOST, sample=120):
    """Send a sample of the request paths (and the last route) and check every answer is 200 from the
    backend the longest matching prefix names: map_reg and map_beg must route alike."""
    paths = [base + "probe" for base in bases[:sample]] + [route_prefix(frontend["routes"] - 1) + "probe"]
    wrong = []
    for path, status, backend in probe_routes(frontend["port"], host.upper() + ":80", paths):
        expected = expected_backend(host + path, entries)
        if status != 200 or backend != expected:
            wrong.append("%s -> %s %s (expected 200 %s)" % (path, status, backend, expected))
    if wrong:
        raise BenchmarkError("frontend %s routes wrongly: %s" % (frontend["name"], "; ".join(wrong[:5])))
    return len(paths)


def _write(path, text):
    with open(path, "w") as handle:
        handle.write(text)


# ---------------------------------------------------------------------------------------------
# 1. routing lookup

def routing_lookup(work_dir, rounds=2, duration_s=8, threads=2, connections=50, log=print):
    """wrk through six frontends of one HAProxy: 1, 1,000 and 10,000 prefix routes looked up with
    map_beg, and the same routes as an ordered map_reg list; rounds alternate the six, medians."""
    work_dir = os.path.join(work_dir, "routing_lookup")
    os.makedirs(work_dir, exist_ok=True)
    frontends = lookup_frontends(work_dir)
    socket_path = os.path.join(work_dir, "admin.sock")
    commands, environments, probed = {}, {}, 0
    for frontend in frontends:
        builder = prefix_entries if frontend["match"] == "beg" else regex_entries
        _write(frontend["map_file"], maps.render_map_file(builder(HOST, frontend["routes"]), [frontend["match"]]))
        paths_file = os.path.join(work_dir, "paths-%d.txt" % frontend["routes"])
        if not os.path.exists(paths_file):
            _write(paths_file, "\n".join(request_bases(frontend["routes"])) + "\n")
        url = "http://127.0.0.1:%d/" % frontend["port"]
        commands[frontend["name"]] = wrkrun.wrk_command(url, HOST, threads, connections, duration_s,
                                                        script=ROUTES_SCRIPT)
        environments[frontend["name"]] = {"BENCH_ROUTE_PATHS": paths_file}
    config_file = os.path.join(work_dir, "haproxy.cfg")
    _write(config_file, render_config(socket_path, frontends))

    started = time.monotonic()
    with HAProxyProcess(config_file, socket_path, [f["port"] for f in frontends],
                        os.path.join(work_dir, "haproxy.log")):
        log("  HAProxy up with %s in %.1f s" % (", ".join(f["name"] for f in frontends), time.monotonic() - started))
        for frontend in frontends:
            with open(os.path.join(work_dir, "paths-%d.txt" % frontend["routes"])) as handle:
                bases = handle.read().split()
            probed += check_routing(frontend, prefix_entries(HOST, frontend["routes"]), bases)
            warm_up = wrkrun.wrk_command("http://127.0.0.1:%d/" % frontend["port"], HOST, threads, connections, 1,
                                         script=ROUTES_SCRIPT)
            wrkrun.run_wrk(warm_up, count_status=True, extra_env=environments[frontend["name"]])
        log("  routing checked: %d probe requests, every answer 200 from the expected backend" % probed)
        runs = {frontend["name"]: [] for frontend in frontends}
        for round_number in range(1, rounds + 1):
            for frontend in frontends:
                # Statuses counted by routes.lua (about 3% of wrk's throughput, alike for every config).
                figures = wrkrun.run_wrk(commands[frontend["name"]], count_status=True,
                                         extra_env=environments[frontend["name"]])[0]
                runs[frontend["name"]].append(figures)
                log("  round %d %-9s %8.0f req/s  p50 %7.2f ms  p99 %7.2f ms  non-2xx %d  socket errors %s"
                    % (round_number, frontend["name"], figures["requests_per_s"], figures["latency_us"]["p50"] / 1e3,
                       figures["latency_us"]["p99"] / 1e3, figures["non_2xx"], figures["socket_errors"]))
    summary = summarize_lookup(runs)
    ratios = lookup_ratios(summary)
    largest, smallest = ROUTE_COUNTS[-1], ROUTE_COUNTS[0]
    clean = all(item["non_2xx"] == 0 and not any(item["socket_errors"].values()) for item in summary.values())
    return {
        "commands": {name: _shell_command(command, environments[name]) for name, command in commands.items()},
        "configs": [{key: f[key] for key in ("name", "match", "routes", "port")} for f in frontends],
        "rounds": rounds,
        "duration_s": duration_s,
        "request_bases": REQUEST_BASES,
        "matched_share": MATCHED_SHARE,
        "probe_requests": probed,
        "haproxy_features": haproxy_features(),
        "runs": runs,
        "summary": summary,
        "ratios": ratios,
        "target_ratio": LOOKUP_TARGET_RATIO,
        "target_met": clean and ratios["beg_%d_vs_%d" % (largest, smallest)] >= LOOKUP_TARGET_RATIO,
    }


def _shell_command(command, extra_env, benchmark="routing_lookup"):
    """The wrk command as typed from the checkout root, with the variables routes.lua reads."""
    variables = ["BENCH_STATS_LUA=%s" % os.path.relpath(wrkrun.STATS_SCRIPT, ROOT)]
    variables += ["%s=<run dir>/%s/%s" % (name, benchmark, os.path.basename(value)) for name, value in extra_env.items()]
    return " ".join(variables) + " " + wrkrun.display_command(command)


# ---------------------------------------------------------------------------------------------
# 2. map replace

def map_replace(work_dir, runs=3, threads=2, connections=50, log=print):
    """Replace a 10,000-entry map_beg map with the haproxy_map module's service layer
    (maps.manage_map, state=replace: prepare map / add map @ver payloads / commit map, then the
    map re-read and the file written), `runs` times idle then `runs` times under wrk; after every
    replace `show map` and the file must hold exactly the new entries and the new version must be
    the live one, and requests to keys only the new map holds must reach its backends."""
    work_dir = os.path.join(work_dir, "map_replace")
    os.makedirs(work_dir, exist_ok=True)
    map_path = os.path.join(work_dir, "replace.map")
    socket_path = os.path.join(work_dir, "admin.sock")
    generations = [replace_entries(HOST, REPLACE_ENTRIES, generation) for generation in (0, 1)]
    _write(map_path, maps.render_map_file(generations[0], ["beg"]))
    frontend = {"name": "replace", "match": "beg", "routes": REPLACE_ENTRIES, "port": REPLACE_PORT,
                "map_file": map_path}
    config_file = os.path.join(work_dir, "haproxy.cfg")
    _write(config_file, render_config(socket_path, [frontend]))
    bases = []
    for generation in (0, 1):
        bases += ["/api/g%d/item-%05d/x/" % (generation, index) for index in range(0, REPLACE_ENTRIES, 5)]
    bases += ["/admin/%d/" % index for index in range(500)]
    random.Random(SEED).shuffle(bases)
    paths_file = os.path.join(work_dir, "paths.txt")
    _write(paths_file, "\n".join(bases) + "\n")
    # wrk runs until stopped; -d is a cap.
    command = wrkrun.wrk_command("http://127.0.0.1:%d/" % REPLACE_PORT, HOST, threads, connections, 120,
                                 script=ROUTES_SCRIPT)
    extra_env = {"BENCH_ROUTE_PATHS": paths_file}
    replaces = {"idle": [], "under_traffic": []}
    state = {"generation": 0}

    with HAProxyProcess(config_file, socket_path, [REPLACE_PORT], os.path.join(work_dir, "haproxy.log")):
        client = RuntimeClient(socket_path, timeout=30)
        if maps.read_entries(client, map_path) != generations[0]:
            raise BenchmarkError("HAProxy did not load the %d entries of %s" % (REPLACE_ENTRIES, map_path))

        def replace(label):
            state["generation"] = 1 - state["generation"]
            target = generations[state["generation"]]
            record = _timed_replace(client, map_path, target, state["generation"])
            replaces[label].append(record)
            log("  %-13s replace %d: %.3f s (prepare..commit %.3f s, %d commands, version %d), "
                "show map and file hold the %d new entries"
                % (label, len(replaces[label]), record["seconds"], record["prepare_to_commit_s"],
                   record["commands"], record["version"], REPLACE_ENTRIES))

        for _run in range(runs):
            replace("idle")
        with wrkrun.BackgroundWrk(command, os.path.join(work_dir, "wrk.txt"), count_status=True,
                                  extra_env=extra_env) as wrk:
            time.sleep(2)
            for _run in range(runs):
                replace("under_traffic")
                time.sleep(1)
            figures, raw = wrk.stop()
        log("  traffic during the replaces: %d requests (%.0f req/s), statuses %s, socket errors %s"
            % (figures["requests"], figures["requests_per_s"], figures["statuses"], figures["socket_errors"]))
    medians = {label: round(statistics.median(r["seconds"] for r in records), 3)
               for label, records in replaces.items()}
    commit_medians = {label: round(statistics.median(r["prepare_to_commit_s"] for r in records), 3)
                      for label, records in replaces.items()}
    socket_errors = figures["socket_errors"]
    return {
        "entries": REPLACE_ENTRIES,
        "runs": runs,
        "replaces": replaces,
        "median_s": medians,
        "prepare_to_commit_median_s": commit_medians,
        "wrk": figures,
        "wrk_output": raw,
        "command": _shell_command(command, extra_env, "map_replace"),
        "non_2xx": figures["non_2xx"],
        "target_s": REPLACE_TARGET_S,
        "target_met": (max(medians.values()) <= REPLACE_TARGET_S and figures["non_2xx"] == 0
                       and not any(socket_errors.values())),
    }


def _timed_replace(client, map_path, target, generation):
    started = time.monotonic()
    result = maps.manage_map(client, map_path, maps.as_dicts(target), "replace", match="beg")
    seconds = time.monotonic() - started
    if result["method"] != maps.METHOD_ATOMIC:
        raise BenchmarkError("manage_map replaced %s with method %s, not %s"
                             % (map_path, result["method"], maps.METHOD_ATOMIC))
    with client.session() as session:  # checked independently of manage_map's own re-read
        map_list = maps.parse_map_list(session.execute("show map"))
        shown_entries = maps.parse_map_entries(session.execute("show map %s" % map_path))
    with open(map_path) as handle:
        file_entries = maps.parse_map_file(handle.read())
    problems = check_replaced(map_list, shown_entries, file_entries, target, result["version"], map_path)
    # Keys only the new map holds must now reach the backends it names.
    sample = target[::2500]
    answers = probe_routes(REPLACE_PORT, HOST, [key[len(HOST):] + "x" for key, _value in sample])
    problems += ["%s -> %s %s (expected 200 %s)" % (path, status, backend, value)
                 for (path, status, backend), (_key, value) in zip(answers, sample)
                 if status != 200 or backend != value]
    if problems:
        raise BenchmarkError("after replacing %s with generation %d: %s" % (map_path, generation, "; ".join(problems)))
    return {"seconds": round(seconds, 3), "prepare_to_commit_s": round(result["duration_ms"] / 1000.0, 3),
            "commands": result["commands_count"], "version": result["version"], "generation": generation}
