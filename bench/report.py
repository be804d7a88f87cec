"""Markdown for the results section of docs/benchmarks.md (pure functions of bench/results/latest.json)."""

BEGIN = "<!-- BEGIN bench results: written by bench/run.py, do not edit by hand -->"
END = "<!-- END bench results -->"


class ReportError(ValueError):
    """docs/benchmarks.md lacks the markers around the results section."""


def replace_results_section(document, section):
    """document with the text between BEGIN and END replaced by section."""
    start = document.find(BEGIN)
    stop = document.find(END)
    if start < 0 or stop < start:
        raise ReportError("docs/benchmarks.md must contain the lines %r and %r, in that order" % (BEGIN, END))
    return document[:start + len(BEGIN)] + "\n" + section.strip("\n") + "\n" + document[stop:]


def _ms(microseconds):
    return "%.2f ms" % (microseconds / 1000.0)


def _verdict(met):
    return "**met**" if met else "**NOT met**"


def _errors(socket_errors):
    return ", ".join("%s %d" % (kind, socket_errors[kind]) for kind in ("connect", "read", "write", "timeout"))


def render_machine(machine):
    return "\n".join([
        "| | |",
        "|---|---|",
        "| cores (`nproc`) | %s |" % machine["nproc"],
        "| CPU | %s |" % machine["cpu_model"],
        "| OS / kernel | %s / %s |" % (machine["os"], machine["kernel"]),
        "| HAProxy | %s |" % machine["haproxy"],
        "| wrk | %s |" % machine["wrk"],
        "| Python / ansible-core | %s / %s |" % (machine["python"], machine["ansible_core"]),
        "| ansible (community.general) | %s (%s) |" % (machine["ansible"], machine["community_general"]),
    ])


def render_proxy_overhead(result):
    summary = result["summary"]
    lines = [
        "### proxy_overhead (%s)" % result["measured_at"],
        "",
        "Median of %d alternated %d s runs per target; application-01 at step 0 (every request on-prem)."
        % (result["rounds"], result["duration_s"]),
        "wrk, HAProxy and the Python upstream share the machine's %s cores, so these figures are the "
        "loopback cost of one extra hop on a small box, not HAProxy's capacity." % result["nproc"],
        "",
        "| target | req/s | p50 | p99 | HTTP errors | socket errors |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, label in (("direct", "on-prem upstream, direct"), ("haproxy", "through HAProxy")):
        figures = summary[name]
        row = (label, figures["requests_per_s"], _ms(figures["p50_us"]), _ms(figures["p99_us"]),
               figures["http_errors"], _errors(figures["socket_errors"]))
        lines.append("| %s | %.0f | %s | %s | %d | %s |" % row)
    hits = result["upstream_hits"]
    lines += [
        "",
        "Through HAProxy: %.0f%% of the direct throughput, p50 %+.2f ms, p99 %+.2f ms. Upstream counters: on-prem "
        "%d hits, cloud %d, for %d requests sent (health checks excluded). Target (0 errors, nothing to the cloud "
        "at step 0): %s." % (100 * result["throughput_ratio"], result["added_p50_us"] / 1000.0,
                             result["added_p99_us"] / 1000.0, hits["onprem"], hits["cloud"], hits["requests_sent"],
                             _verdict(result["target_met"])),
        "",
        "```sh",
        result["commands"]["direct"],
        result["commands"]["haproxy"],
        "```",
    ]
    return "\n".join(lines)


def render_steps_under_load(result):
    wrk = result["wrk"]
    errors = wrk["socket_errors"]
    statuses = ", ".join("%s: %d" % item for item in wrk["statuses"].items())
    step_seconds = sorted(op["seconds"] for op in result["operations"] if op["kind"] == "step")
    reload_seconds = sorted(op["seconds"] for op in result["operations"] if op["kind"] == "reload")
    settings = result["haproxy_settings"]
    read_rate = 1e6 * errors["read"] / wrk["requests"] if wrk["requests"] else 0.0
    return "\n".join([
        "### steps_under_load (%s)" % result["measured_at"],
        "",
        "One wrk run of %.0f s through HAProxy, %d keep-alive connections, during %d step changes "
        "(`migrate.yml`, steps below 100) and %d reloads (`site.yml -e haproxy_maxconn=<new>`), one after the other."
        % (wrk["duration_s"], result["connections"], result["steps"], result["reloads"]),
        "",
        "| figure | value |",
        "|---|---:|",
        "| requests | %d (%.0f req/s) |" % (wrk["requests"], wrk["requests_per_s"]),
        "| responses by status | %s |" % statuses,
        "| **non-2xx responses** | **%d** |" % result["non_2xx"],
        "| socket errors: connect / write / timeout | %d / %d / %d |"
        % (errors["connect"], errors["write"], errors["timeout"]),
        "| socket errors: read (keep-alive connections closed by the old worker at a reload) | %d (%.1f per million "
        "requests) |" % (errors["read"], read_rate),
        "| latency p50 / p99 / max | %s / %s / %s |"
        % (_ms(wrk["latency_us"]["p50"]), _ms(wrk["latency_us"]["p99"]), _ms(wrk["latency_us"]["max"])),
        "| `migrate.yml` wall time under load (min / median / max) | %.1f / %.1f / %.1f s |"
        % (step_seconds[0], step_seconds[len(step_seconds) // 2], step_seconds[-1]),
        "| `site.yml` reload wall time under load (min / median / max) | %.1f / %.1f / %.1f s |"
        % (reload_seconds[0], reload_seconds[len(reload_seconds) // 2], reload_seconds[-1]),
        "| HAProxy `close-spread-time` / `hard-stop-after` | %s / %s |"
        % (settings.get("close-spread-time", "not set"), settings.get("hard-stop-after", "not set")),
        "",
        "Every step was checked over the admin socket (weights give the step's share, same worker: no reload) and "
        "every reload too (new worker, step kept). Target (0 non-2xx; no connect, write or timeout error; read "
        "errors reported apart): %s. For scale, the developers' guide measured 74 read errors in 1.2 M requests "
        "for 5 reloads, 12 with `close-spread-time 1s`." % _verdict(result["target_met"]),
        "",
        "```sh",
        "%s   # -d is a cap: stopped with SIGINT once the changes are done, after at least %d s"
        % (result["command"], result.get("min_duration_s", 60)),
        "```",
    ])


def _cost_row(result, name):
    runs = ", ".join("%.2f" % seconds for seconds in result["seconds"][name])
    return "| `%s` | %s | %.2f s |" % (result["commands"][name], runs, result["median_s"][name])


def render_step_cost(result):
    return "\n".join([
        "### step_cost (%s)" % result["measured_at"],
        "",
        "Wall time of one `ansible-playbook` run moving application-01 on the one local node, %d runs each, "
        "interleaved, after one warm-up each; every run goes to a step different from the previous one."
        % result["runs"],
        "",
        "| playbook | runs (s) | median |",
        "|---|---|---:|",
        _cost_row(result, "migrate"),
        _cost_row(result, "community"),
        "",
        "Ratio migrate / community.general.haproxy: **%.2f** (target <= %s: %s)."
        % (result["ratio"], result.get("target", 1.2), _verdict(result["target_met"])),
    ] + _profile_lines(result.get("migrate_profile")))


def _profile_lines(profile):
    if not profile or not profile["slowest_tasks"]:
        return []
    lines = ["", "Where a `migrate.yml` run goes (one more run with `ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks`:"
             " %.2f s wall, %d tasks adding up to %.2f s; the rest is ansible-playbook start-up, inventory and "
             "play set-up). Slowest tasks:" % (profile["seconds"], profile["tasks"], profile["tasks_seconds"]), "",
             "| task | s |", "|---|---:|"]
    lines += ["| %s | %.2f |" % (item["task"].replace("|", "\\|"), item["seconds"]) for item in profile["slowest_tasks"]]
    return lines


def render_cloud_kill(result):
    errors = result["socket_errors"]
    return "\n".join([
        "### cloud_kill (%s)" % result["measured_at"],
        "",
        "`%s` (GETs, keep-alive, every response counted by status) through HAProxy with application-01 at step 50; "
        "%d s into the run the cloud upstream is killed (`scripts/democtl fault application-01 cloud down`: listening "
        "socket and open connections closed), and wrk runs on to %d s."
        % (result["command"], result["kill_after_s"], result["duration_s"]),
        "",
        "| GETs | non-2xx | socket errors (connect/read/write/timeout) | cloud DOWN after the kill |",
        "|---:|---:|---|---:|",
        "| %d | %d | %d/%d/%d/%d | %.2f s |"
        % (result["requests"], result["non_2xx"], errors["connect"], errors["read"], errors["write"], errors["timeout"],
           result["out_of_rotation_s"]),
        "",
        "Statuses: %s. Target: 0 failed GETs and the cloud out of rotation within 2 s: %s."
        % (", ".join("%s: %d" % item for item in sorted(result["statuses"].items())), _verdict(result["target_met"])),
    ])


def render_gate_detection(result):
    rows = []
    for run in result["runs"]:
        last_line = run["progress_lines"][-1].replace("|", "\\|") if run["progress_lines"] else "-"
        rows.append("| %.1f s | %.2f s | %d | %s |" % (run["offset_s"], run["detection_s"], run["checks"], last_line))
    return "\n".join([
        "### gate_detection (%s)" % result["measured_at"],
        "",
        "`%s` at step 25 under steady traffic (4 keep-alive clients); after the ramp's first passing check plus an "
        "offset into the next window, the cloud answers 300 ms late with its health page untouched (`%s`). Time from "
        "the fault to the rollback's weights on the admin socket." % (result["command"], result["fault"]),
        "",
        "| fault offset into the window | fault to rollback | checks | last progress line |",
        "|---:|---:|---:|---|",
    ] + rows + [
        "",
        "Worst: **%.2f s** (interval x (threshold + 1) = %d s; target <= %d s: %s)."
        % (result["worst_detection_s"], result["bound_s"], result["target_s"], _verdict(result["target_met"])),
    ])


def _count(number, noun):
    return "%d %s%s" % (number, noun, "" if number == 1 else "s")


def _times(count):
    return "%.2f×" % count


def render_routing_lookup(result):
    summary = result["summary"]
    ratios = result["ratios"]
    counts = sorted({config["routes"] for config in result["configs"]})
    smallest, largest = counts[0], counts[-1]
    features = result["haproxy_features"]
    lines = [
        "### routing_lookup (%s)" % result["measured_at"],
        "",
        "One HAProxy, one frontend per configuration, median of %d alternated %d s wrk runs each; %d request "
        "paths per route count (%d%% under a route, spread over the whole list and including its last entry; the "
        "rest under none), a different path on every request. wrk and HAProxy share the machine's %s cores: "
        "a cheaper lookup shows as more req/s only as far as wrk leaves HAProxy CPU."
        % (result["rounds"], result["duration_s"], result["request_bases"], round(100 * result["matched_share"]),
           result["nproc"]),
        "",
        "| lookup | routes | req/s | p50 | p99 | requests | non-2xx | socket errors |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for config in result["configs"]:
        figures = summary[config["name"]]
        lookup = "`map_beg` (tree)" if config["match"] == "beg" else "`map_reg` (ordered list)"
        lines.append("| %s | %s | %.0f | %s | %s | %d | %d | %s |" % (
            lookup, format(config["routes"], ","), figures["requests_per_s"], _ms(figures["p50_us"]),
            _ms(figures["p99_us"]), figures["requests"], figures["non_2xx"], _errors(figures["socket_errors"])))
    beg_target = ratios["beg_%d_vs_%d" % (largest, smallest)]
    lines += [
        "",
        "`map_beg` with %s routes: **%s** the req/s of %d route (target >= %s: %s). `map_reg`: %s."
        % (format(largest, ","), _times(beg_target), smallest, result["target_ratio"], _verdict(result["target_met"]),
           ", ".join("%s routes %s the req/s of %d route" % (format(count, ","), _times(ratios["reg_%d_vs_%d" % (
               count, smallest)]), smallest) for count in counts[1:])),
        "What the tree buys over the field report's regex map (req/s of `map_beg` / `map_reg`): %s."
        % ", ".join("%s %s" % (_times(ratios["beg_vs_reg_%d" % count]), "with %s route%s" % (
            format(count, ","), "" if count == 1 else "s")) for count in counts),
        "Before the runs every frontend answered %d probe requests (Host in upper case with a port, so the key "
        "is built as the role builds it) with 200 from the backend the longest matching prefix names: `map_reg` "
        "and `map_beg` route alike. HAProxy's PCRE2: %s, JIT %s."
        % (result["probe_requests"] // len(result["configs"]), features["pcre2"], features["pcre2_jit"]),
        "",
        "```sh",
    ]
    lines += [result["commands"][config["name"]] for config in result["configs"]]
    lines.append("```")
    return "\n".join(lines)


def render_map_replace(result):
    replaces = result["replaces"]
    wrk = result["wrk"]
    statuses = ", ".join("%s: %d" % item for item in wrk["statuses"].items())

    def runs(label, key):
        return ", ".join("%.3f" % record[key] for record in replaces[label])

    return "\n".join([
        "### map_replace (%s)" % result["measured_at"],
        "",
        "A `map_beg` map of %s entries replaced by another %s (every key and value different) with the "
        "`haproxy_map` module's service layer (`maps.manage_map`, `state: replace`), %s idle, then %s "
        "under wrk traffic; after each replace `show map` and the file held exactly the new entries, the "
        "committed version was the live one, and requests to keys only the new map holds reached its backends."
        % (format(result["entries"], ","), format(result["entries"], ","), _count(result["runs"], "time"),
           _count(result["runs"], "time")),
        "",
        "| | idle: runs (s) | idle: median | under traffic: runs (s) | under traffic: median |",
        "|---|---|---:|---|---:|",
        "| whole module call (read the map, plan, replace, re-read, write the file) | %s | **%.3f s** | %s | "
        "**%.3f s** |" % (runs("idle", "seconds"), result["median_s"]["idle"], runs("under_traffic", "seconds"),
                          result["median_s"]["under_traffic"]),
        "| of which `prepare map` .. `commit map` (%d runtime API commands) | %s | %.3f s | %s | %.3f s |"
        % (replaces["idle"][0]["commands"], runs("idle", "prepare_to_commit_s"),
           result["prepare_to_commit_median_s"]["idle"], runs("under_traffic", "prepare_to_commit_s"),
           result["prepare_to_commit_median_s"]["under_traffic"]),
        "",
        "Traffic during the replaces under traffic: %d requests (%.0f req/s), responses by status %s, "
        "**non-2xx %d**, socket errors %s, p99 %s. Target (median <= %.0f s idle and under traffic, 0 non-2xx, "
        "0 socket errors): %s."
        % (wrk["requests"], wrk["requests_per_s"], statuses, result["non_2xx"], _errors(wrk["socket_errors"]),
           _ms(wrk["latency_us"]["p99"]), result["target_s"], _verdict(result["target_met"])),
        "",
        "```sh",
        "%s   # -d is a cap: stopped with SIGINT after the replaces" % result["command"],
        "```",
    ])


def render_shadow_overhead(result):
    def paced_p99(case):
        rounds = case["paced"].get("rounds_p99_us")
        if not rounds:
            return _ms(case["paced"]["p99_us"])
        return "%s (%s)" % (_ms(case["paced"]["p99_us"]), " / ".join("%.2f" % (value / 1000.0) for value in rounds))

    rows = ["| %s | %.0f | %s | %s | %d/%d | %s | %s | %d | %d | %d |"
            % (case["case"], case["requests_per_s"], _ms(case["p50_us"]), _ms(case["p99_us"]), case["http_errors"],
               sum(case["socket_errors"].values()), _ms(case["paced"]["p50_us"]), paced_p99(case),
               case["copies"]["sent"], case["copies"]["dropped"], case["copies"]["failed"]) for case in result["cases"]]
    return "\n".join([
        "### shadow_overhead (%s)" % result["measured_at"],
        "",
        "`%s` through HAProxy with application-01 at step 0 (users answered on-prem) and its shadow share set over the "
        "runtime API to each case; the shadow is the app's cloud upstream, made slow (2 s) or dead for the last two."
        % result["command"],
        "",
        "| shadow share | wrk req/s | wrk p50 | wrk p99 | errors (HTTP/socket) | paced p50 | paced p99, median of 3 "
        "rounds (each round, ms) | copies sent "
        "| dropped | failed |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ] + rows + [
        "",
        "wrk saturates the 2 cores (HAProxy, the upstreams, the shadow and wrk share them), so there every Lua call shows "
        "in the latency: a slow or dead shadow at 100%% adds %.0f us to wrk's p99. At a steady %d req/s (paced keep-alive "
        "clients, the load a node carries, measured 2 s after wrk stops, in 3 rounds of 8 s whose median p99 is kept), the "
        "worst p99 a slow or dead shadow at 100%% adds is **%.0f us** (target <= "
        "%.0f us, no user error: %s)."
        % (result["saturated_added_p99_us"], result["paced_rate_per_s"], result["worst_added_p99_us"], result["target_us"],
           _verdict(result["target_met"])),
    ])


def render_fleet_step(result):
    rows = []
    for count, figures in sorted(result["nodes"].items(), key=lambda item: int(item[0])):
        runs = ", ".join("%.2f" % value for value in figures["seconds"])
        rows.append("| %s | %.2f s | %.2f s | %.2f s | %s |"
                    % (count, figures["median_s"], figures["min_s"], figures["max_s"], runs))
    return "\n".join([
        "### fleet_step (%s)" % result["measured_at"],
        "",
        "`%s`, %d timed runs a size after one warm-up, each to another step below 100 (runtime API, no reload): "
        "validation, the lock on every node, the plan on every node, the capacity checks against moto, the gate over "
        "every node's window, the apply with the fleet check, the audit line and the lock given back. Every node is one "
        "HAProxy master-worker on this machine's %s cores, so the nodes' modules compete for the same CPU."
        % (result["command"], result["runs"], result["nproc"]),
        "",
        "| nodes | median | min | max | runs |",
        "|---:|---:|---:|---:|---|",
    ] + rows + [
        "",
        "Largest fleet against one node: **%.2fx** (target: %s, %s)."
        % (result["ratio_largest_to_one"] or 0, result["target"], _verdict(result["target_met"])),
    ])


RENDERERS = {
    "proxy_overhead": render_proxy_overhead,
    "steps_under_load": render_steps_under_load,
    "step_cost": render_step_cost,
    "cloud_kill": render_cloud_kill,
    "gate_detection": render_gate_detection,
    "shadow_overhead": render_shadow_overhead,
    "routing_lookup": render_routing_lookup,
    "map_replace": render_map_replace,
    "fleet_step": render_fleet_step,
}


def recorded_sections(document):
    """{benchmark: its section} of the results section of docs/benchmarks.md as it stands (what an earlier run wrote)."""
    start = document.find(BEGIN)
    end = document.find(END)
    if start < 0 or end < 0:
        return {}
    sections = {}
    for chunk in document[start:end].split("\n### ")[1:]:
        name = chunk.split(None, 1)[0]
        if name in RENDERERS and not chunk.split("\n", 2)[-1].lstrip().startswith("Not measured yet"):
            sections[name] = ("### " + chunk).rstrip()
    return sections


def render_results(results, recorded=None):
    """The whole results section from latest.json's content: machine, then every benchmark measured; a benchmark
    measured by none of the runs latest.json holds keeps the section recorded in the document (recorded)."""
    parts = ["## Results", ""]
    if results.get("machine"):
        parts += ["Last run: %s, reproduce with `make bench` (= `.venv/bin/python bench/run.py`; one benchmark: "
                  "`--only NAME`). Machine:" % results["updated_at"], "", render_machine(results["machine"]), ""]
    overrides = sorted({result.get("haproxy_maxconn_override") for result in results.get("benchmarks", {}).values()}
                       - {None})
    if overrides:
        parts += ["HAProxy ran with `haproxy_maxconn` %s instead of the role's 20000: this machine's hard limit on "
                  "open files cannot hold 2 x 20000 descriptors, and HAProxy refuses to start then." % overrides[0], ""]
    for name, render in RENDERERS.items():
        if name in results.get("benchmarks", {}):
            parts += [render(results["benchmarks"][name]), ""]
        elif name in (recorded or {}):
            parts += [recorded[name], ""]
        else:
            parts += ["### %s" % name, "", "Not measured yet: `.venv/bin/python bench/run.py --only %s`." % name, ""]
    return "\n".join(parts)
