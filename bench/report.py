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
        "Ratio migrate / community.general.haproxy: **%.2f** (target <= 1.2: %s)."
        % (result["ratio"], _verdict(result["target_met"])),
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


RENDERERS = {
    "proxy_overhead": render_proxy_overhead,
    "steps_under_load": render_steps_under_load,
    "step_cost": render_step_cost,
}


def render_results(results):
    """The whole results section from latest.json's content: machine, then every benchmark measured."""
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
        else:
            parts += ["### %s" % name, "", "Not measured yet: `.venv/bin/python bench/run.py --only %s`." % name, ""]
    return "\n".join(parts)
