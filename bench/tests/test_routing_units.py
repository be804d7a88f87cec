"""Pure parts of the routing benchmarks (bench/routing.py) and their report; the generated
haproxy.cfg is checked with the real `haproxy -c`.

    .venv/bin/python -m pytest bench/tests -q
"""

import os
import re
import subprocess
import sys

import pytest

BENCH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)

import report  # noqa: E402  pylint: disable=wrong-import-position
import routing  # noqa: E402  pylint: disable=wrong-import-position
import run  # noqa: E402  pylint: disable=wrong-import-position
import wrkrun  # noqa: E402  pylint: disable=wrong-import-position

HOST = routing.HOST


def test_prefix_entries_key_is_host_then_prefix_and_every_route_is_distinct():
    entries = routing.prefix_entries(HOST, 1000)
    assert entries[0] == ("application-02.6play.fr/v1/service-00000/", "route-0")
    assert entries[42] == ("application-02.6play.fr/v1/service-00042/", "route-2")
    assert len(set(key for key, _value in entries)) == 1000
    assert {value for _key, value in entries} == {"route-%d" % n for n in range(routing.ROUTE_BACKENDS)}


def test_regex_entries_are_the_same_routes_in_the_field_report_style_and_order():
    regexes = routing.regex_entries(HOST, 300)
    prefixes = routing.prefix_entries(HOST, 300)
    assert regexes[2][0] == r"application-02\.6play\.fr\/v3\/service-00002\/"
    assert [value for _key, value in regexes] == [value for _key, value in prefixes]
    for (regex, _value), (prefix, _other) in zip(regexes, prefixes):
        assert re.search(regex, prefix + "items/17")
        assert not re.search(regex, prefix[:-1] + "x/items/17")


def test_expected_backend_takes_the_longest_prefix_else_the_default():
    entries = [("h/v2/", "cloud"), ("h/v2/customers/", "mixed"), ("h/v1/", "onprem")]
    assert routing.expected_backend("h/v2/customers/42", entries) == "mixed"
    assert routing.expected_backend("h/v2/other", entries) == "cloud"
    assert routing.expected_backend("h/admin/", entries) == routing.DEFAULT_BACKEND


@pytest.mark.parametrize("count", [1, 1000, 10000])
def test_request_bases_mix_matched_paths_over_the_whole_list_and_unmatched_ones(count):
    bases = routing.request_bases(count)
    assert bases == routing.request_bases(count)  # deterministic: the same requests in every run
    assert len(bases) == routing.REQUEST_BASES
    entries = routing.prefix_entries(HOST, count)
    routed = [routing.expected_backend(HOST + base, entries) != routing.DEFAULT_BACKEND for base in bases]
    assert sum(routed) == round(routing.REQUEST_BASES * routing.MATCHED_SHARE)
    assert routing.route_prefix(count - 1) + "items/" in bases  # the last line of the map_reg list
    if count == 10000:
        numbers = [int(base.split("-")[1][:5]) for base, hit in zip(bases, routed) if hit]
        assert min(numbers) < 500 and max(numbers) == count - 1 and 4000 < sorted(numbers)[len(numbers) // 2] < 6000
    assert all(" " not in base and base.startswith("/") and base.endswith("/") for base in bases)


def test_lookup_frontends_use_the_benchmark_ports_only(tmp_path):
    frontends = routing.lookup_frontends(str(tmp_path))
    assert [f["name"] for f in frontends] == ["beg-1", "beg-1000", "beg-10000", "reg-1", "reg-1000", "reg-10000"]
    ports = [f["port"] for f in frontends] + [routing.REPLACE_PORT]
    assert len(set(ports)) == len(ports) and set(ports) == set(routing.PORTS)
    assert all(47000 <= port <= 47099 for port in ports)


def test_render_config_builds_the_role_s_route_key_and_looks_it_up(tmp_path):
    frontends = routing.lookup_frontends(str(tmp_path), route_counts=(3,))
    text = routing.render_config("/tmp/x.sock", frontends)
    key_expression = "%[req.hdr(host),field(1,:),lower]%[path]"
    with open(os.path.join(ROOT, "roles", "haproxy", "templates", "haproxy.cfg.j2")) as handle:
        assert key_expression in handle.read()  # the role still builds the key this way
    assert text.count("set-var-fmt(txn.route_key) " + key_expression) == 2
    assert "use_backend %%[var(txn.route_key),map_beg(%s/beg-3.map,default-route)]" % tmp_path in text
    assert "use_backend %%[var(txn.route_key),map_reg(%s/reg-3.map,default-route)]" % tmp_path in text
    assert text.count("http-request return status 200") == routing.ROUTE_BACKENDS + 1


def test_haproxy_accepts_the_generated_config_and_maps(tmp_path):
    frontends = routing.lookup_frontends(str(tmp_path), route_counts=(1, 50))
    for frontend in frontends:
        builder = routing.prefix_entries if frontend["match"] == "beg" else routing.regex_entries
        entries = builder(HOST, frontend["routes"])
        (tmp_path / os.path.basename(frontend["map_file"])).write_text(
            routing.maps.render_map_file(entries, [frontend["match"]]))
    config = tmp_path / "haproxy.cfg"
    config.write_text(routing.render_config(str(tmp_path / "admin.sock"), frontends))
    checked = subprocess.run(["haproxy", "-c", "-f", str(config)], capture_output=True, text=True, timeout=60,
                             check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    (tmp_path / "reg-50.map").write_text("application-02\\.6play\\.fr\\/(v2 route-1\n")
    refused = subprocess.run(["haproxy", "-c", "-f", str(config)], capture_output=True, text=True, timeout=60,
                             check=False)
    assert refused.returncode != 0  # the check is real: a broken regex map is refused


def _figures(rps, p50=1000, p99=5000, requests=100, non_2xx=0, read=0):
    return {"requests_per_s": rps, "latency_us": {"p50": p50, "p99": p99}, "requests": requests,
            "non_2xx": non_2xx, "socket_errors": {"connect": 0, "read": read, "write": 0, "timeout": 0}}


def test_summarize_lookup_takes_medians_and_sums_and_ratios_compare_configs():
    runs = {
        "beg-1": [_figures(100.0), _figures(120.0), _figures(110.0, p99=9000)],
        "beg-1000": [_figures(100.0)] * 3,
        "beg-10000": [_figures(99.0), _figures(95.0), _figures(97.0, non_2xx=2)],
        "reg-1": [_figures(100.0)] * 3,
        "reg-1000": [_figures(20.0)] * 3,
        "reg-10000": [_figures(2.0, read=1)] * 3,
    }
    summary = routing.summarize_lookup(runs)
    assert summary["beg-1"]["requests_per_s"] == 110.0
    assert summary["beg-1"]["p99_us"] == 5000
    assert summary["beg-1"]["requests"] == 300
    assert summary["beg-10000"]["non_2xx"] == 2
    assert summary["reg-10000"]["socket_errors"]["read"] == 3
    ratios = routing.lookup_ratios(summary)
    assert ratios["beg_10000_vs_1"] == round(97.0 / 110.0, 3)
    assert ratios["reg_1000_vs_1"] == 0.2
    assert ratios["beg_vs_reg_10000"] == 48.5
    assert ratios["beg_vs_reg_1"] == 1.1


def test_replace_entries_change_every_key_and_value_between_generations():
    first, second = (routing.replace_entries(HOST, 10000, generation) for generation in (0, 1))
    assert len(first) == len(second) == 10000
    assert len(set(key for key, _value in first)) == 10000
    assert not set(key for key, _value in first) & set(key for key, _value in second)
    assert all(a[1] != b[1] for a, b in zip(first, second))


def test_check_replaced_accepts_only_the_exact_new_map():
    target = routing.replace_entries(HOST, 5, 1)
    listed = [{"file": "/m.map", "entry_cnt": 5, "curr_ver": 3}]
    assert routing.check_replaced(listed, target, target, target, 3, "/m.map") == []
    problems = routing.check_replaced([{"file": "/m.map", "entry_cnt": 4, "curr_ver": 2}], target[:4],
                                      target[:2] + target[3:] + [target[2]], target, 3, "/m.map")
    text = "; ".join(problems)
    assert "entry_cnt=4, expected 5" in text and "curr_ver=2" in text
    assert "show map /m.map holds 4 entries" in text and "line 5 (one list is longer)" in text
    assert "the map file holds 5 entries" in text and "line 3:" in text
    assert routing.check_replaced([], target, target, target, 3, "/m.map") == ["show map does not list /m.map any more"]


def test_wrk_command_with_the_routes_script_is_shown_relative():
    command = wrkrun.wrk_command("http://127.0.0.1:47001/", HOST, 2, 50, 6, script=routing.ROUTES_SCRIPT)
    assert "-s bench/lua/routes.lua" in wrkrun.display_command(command)
    shown = routing._shell_command(command, {"BENCH_ROUTE_PATHS": "/tmp/r/routing_lookup/paths-1.txt"})
    assert shown.startswith("BENCH_STATS_LUA=bench/lua/stats.lua BENCH_ROUTE_PATHS=<run dir>/routing_lookup/"
                            "paths-1.txt wrk -t2 -c50 -d6s ")


def test_run_registers_the_routing_benchmarks_within_three_minutes():
    assert set(run.ROUTING_BENCHMARKS) <= set(run.BENCHMARKS)
    for sizes in (run.FULL_SIZES, run.QUICK_SIZES):
        lookup = sizes["routing_lookup"]
        # six configs, plus a 1 s warm-up each; map_replace: runs idle + runs under traffic (about 2 s each)
        seconds = 6 * (lookup["rounds"] * lookup["duration_s"] + 1) + 4 * sizes["map_replace"]["runs"] + 10
        assert seconds <= 180
    assert "routing_lookup" in report.RENDERERS and "map_replace" in report.RENDERERS


ROUTING_RESULTS = {
    "routing_lookup": {
        "measured_at": "2026-11-24 06:00 UTC", "nproc": 2, "rounds": 3, "duration_s": 6, "request_bases": 4000,
        "matched_share": 0.8, "probe_requests": 726,
        "configs": [{"name": "%s-%d" % (match, count), "match": match, "routes": count}
                    for match in ("beg", "reg") for count in (1, 1000, 10000)],
        "summary": {"%s-%d" % (match, count): {"requests_per_s": rps, "p50_us": 900.0, "p99_us": 4100.0,
                                               "requests": 1000, "non_2xx": 0,
                                               "socket_errors": {"connect": 0, "read": 0, "write": 0, "timeout": 0}}
                    for (match, count), rps in ((("beg", 1), 40000.0), (("beg", 1000), 39000.0),
                                                (("beg", 10000), 38000.0), (("reg", 1), 40000.0),
                                                (("reg", 1000), 12000.0), (("reg", 10000), 1000.0))},
        "ratios": {"beg_1000_vs_1": 0.975, "beg_10000_vs_1": 0.95, "reg_1000_vs_1": 0.3, "reg_10000_vs_1": 0.025,
                   "beg_vs_reg_1": 1.0, "beg_vs_reg_1000": 3.25, "beg_vs_reg_10000": 38.0},
        "target_ratio": 0.9, "target_met": True,
        "haproxy_features": {"pcre2": "10.42 2022-12-11", "pcre2_jit": "yes"},
        "commands": {"%s-%d" % (match, count): "wrk %s-%d" % (match, count)
                     for match in ("beg", "reg") for count in (1, 1000, 10000)},
    },
    "map_replace": {
        "measured_at": "2026-11-24 06:02 UTC", "entries": 10000, "runs": 3,
        "replaces": {label: [{"seconds": s, "prepare_to_commit_s": s / 5, "commands": 45} for s in values]
                     for label, values in (("idle", (0.3, 0.32, 0.31)), ("under_traffic", (1.2, 2.4, 1.1)))},
        "median_s": {"idle": 0.31, "under_traffic": 1.2},
        "prepare_to_commit_median_s": {"idle": 0.062, "under_traffic": 0.24},
        "wrk": {"requests": 200000, "requests_per_s": 30000.0, "statuses": {"200": 200000},
                "socket_errors": {"connect": 0, "read": 0, "write": 0, "timeout": 0}, "latency_us": {"p99": 7000}},
        "non_2xx": 0, "target_s": 2.0, "target_met": True, "command": "wrk replace",
    },
}


def test_render_routing_results_show_figures_ratios_and_verdicts():
    text = report.render_results({"benchmarks": ROUTING_RESULTS})
    assert "| `map_beg` (tree) | 10,000 | 38000 | 0.90 ms | 4.10 ms | 1000 | 0 |" in text
    assert "| `map_reg` (ordered list) | 10,000 | 1000 |" in text
    assert "`map_beg` with 10,000 routes: **0.95×** the req/s of 1 route (target >= 0.9: **met**)" in text
    assert "10,000 routes 0.03× the req/s of 1 route" in text
    assert "38.00× with 10,000 routes" in text and "1.00× with 1 route," in text
    assert "answered 121 probe requests" in text and "JIT yes" in text
    assert "wrk reg-10000" in text
    assert "| whole module call (read the map, plan, replace, re-read, write the file) | 0.300, 0.320, 0.310 | " \
           "**0.310 s** | 1.200, 2.400, 1.100 | **1.200 s** |" in text
    assert "(45 runtime API commands)" in text and "3 times idle" in text
    assert "**non-2xx 0**" in text and "Target (median <= 2 s idle and under traffic" in text
    assert "wrk replace   # -d is a cap" in text


def test_render_routing_lookup_says_when_the_target_is_missed():
    missed = dict(ROUTING_RESULTS["routing_lookup"], target_met=False,
                  ratios=dict(ROUTING_RESULTS["routing_lookup"]["ratios"], beg_10000_vs_1=0.85))
    text = report.render_routing_lookup(missed)
    assert "**0.85×** the req/s of 1 route (target >= 0.9: **NOT met**)" in text
