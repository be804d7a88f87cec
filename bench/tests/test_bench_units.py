"""Pure parts of the benchmark harness: wrk output, haproxy.cfg directives, the docs section, pins.

    .venv/bin/python -m pytest bench/tests -q
"""

import json
import os
import sys

import pytest

BENCH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, BENCH)

import benchmarks  # noqa: E402  pylint: disable=wrong-import-position
import machine  # noqa: E402  pylint: disable=wrong-import-position
import report  # noqa: E402  pylint: disable=wrong-import-position
import run  # noqa: E402  pylint: disable=wrong-import-position
import wrkrun  # noqa: E402  pylint: disable=wrong-import-position


def _bench_json(requests=120345, read=0, status=0, statuses=None, counted=False):
    return "BENCH_JSON " + json.dumps({
        "requests": requests, "duration_us": 10002000, "bytes": 1000,
        "errors": {"connect": 0, "read": read, "write": 0, "timeout": 0, "status": status},
        "latency_us": {"mean": 900.5, "stdev": 100.0, "max": 30211, "p50": 812, "p90": 1500, "p99": 4210},
        "statuses": statuses or {}, "status_counted": counted})


WRK_TEXT = """Running 10s test @ http://127.0.0.1:48080/
  2 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   900.50us  100.00us  30.21ms   89.00%
    Req/Sec     6.02k   300.00     7.00k    70.00%
  Latency Distribution
     50%  812.00us
     75%    1.10ms
     90%    1.50ms
     99%    4.21ms
  120345 requests in 10.00s, 15.00MB read
{extra}Requests/sec:  12032.10
Transfer/sec:      1.50MB
{json}
"""


def test_parse_wrk_output_takes_exact_figures_and_the_distribution():
    figures = wrkrun.parse_wrk_output(WRK_TEXT.format(extra="", json=_bench_json()))
    assert figures["requests"] == 120345
    assert figures["duration_s"] == 10.002
    assert figures["requests_per_s"] == pytest.approx(120345 / 10.002, abs=0.1)
    assert figures["latency_us"]["p99"] == 4210
    assert figures["latency_distribution_us"] == {"50": 812.0, "75": 1100.0, "90": 1500.0, "99": 4210.0}
    assert figures["socket_errors"] == {"connect": 0, "read": 0, "write": 0, "timeout": 0}
    assert figures["http_errors"] == 0
    assert "non_2xx" not in figures


def test_parse_wrk_output_counts_non_2xx_from_the_status_table():
    text = WRK_TEXT.format(
        extra="  Socket errors: connect 0, read 74, write 0, timeout 0\n  Non-2xx or 3xx responses: 3\n",
        json=_bench_json(read=74, status=3, statuses={"200": 120340, "302": 2, "503": 3}, counted=True))
    figures = wrkrun.parse_wrk_output(text)
    assert figures["socket_errors"]["read"] == 74
    assert figures["http_errors"] == 3
    assert figures["non_2xx"] == 5  # the 302s are not 2xx either
    assert figures["statuses"] == {"200": 120340, "302": 2, "503": 3}


@pytest.mark.parametrize("text, message", [
    (WRK_TEXT.format(extra="", json=""), "one BENCH_JSON line"),
    (WRK_TEXT.format(extra="", json=_bench_json(requests=5)), "120345 requests but the Lua summary says 5"),
    (WRK_TEXT.format(extra="  Socket errors: connect 0, read 2, write 0, timeout 0\n", json=_bench_json()),
     "socket errors (read)"),
    (WRK_TEXT.format(extra="", json=_bench_json(statuses={"200": 7}, counted=True)), "status counts add up to 7"),
])
def test_parse_wrk_output_refuses_inconsistent_output(text, message):
    with pytest.raises(wrkrun.WrkOutputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        wrkrun.parse_wrk_output(text)


def test_wrk_command_sets_host_latency_and_script():
    command = wrkrun.wrk_command("http://127.0.0.1:48080/", "application-01.6play.fr", 2, 50, 10)
    assert command[:4] == ["wrk", "-t2", "-c50", "-d10s"]
    assert "--latency" in command and wrkrun.STATS_SCRIPT in command
    assert "Host: application-01.6play.fr" in command and command[-1] == "http://127.0.0.1:48080/"


def test_config_directives_reads_global_and_defaults_only(tmp_path):
    config = tmp_path / "haproxy.cfg"
    config.write_text("global\n    maxconn 20000\n    close-spread-time 1s  # spread closes\n"
                      "    hard-stop-after 30s\ndefaults\n    timeout client 30s\n"
                      "backend application-01\n    timeout server 5s\n")
    assert benchmarks.config_directives(str(config)) == {
        "maxconn": "20000", "close-spread-time": "1s", "hard-stop-after": "30s", "timeout client": "30s"}


@pytest.mark.parametrize("weights, share", [
    ({benchmarks.ONPREM: 75, benchmarks.CLOUD: 25}, 25.0),
    ({benchmarks.ONPREM: 100, benchmarks.CLOUD: 0}, 0.0),
    ({benchmarks.ONPREM: 0, benchmarks.CLOUD: 0}, None),
])
def test_cloud_share(weights, share):
    assert benchmarks.cloud_share(weights) == share


def test_replace_results_section_keeps_the_rest_of_the_document():
    document = "# Title\nintro\n%s\nold figures\n%s\ntrailer\n" % (report.BEGIN, report.END)
    updated = report.replace_results_section(document, "## Results\nnew figures\n")
    assert updated == "# Title\nintro\n%s\n## Results\nnew figures\n%s\ntrailer\n" % (report.BEGIN, report.END)
    assert report.replace_results_section(updated, "## Results\nnew figures\n") == updated


def test_replace_results_section_without_markers_names_them():
    with pytest.raises(report.ReportError, match="BEGIN bench results"):
        report.replace_results_section("# no markers\n", "x")


def test_render_results_lists_unmeasured_benchmarks():
    text = report.render_results({"benchmarks": {}})
    for name in run.BENCHMARKS:
        assert "bench/run.py --only %s" % name in text


def test_pinned_version_and_the_pin_of_requirements_bench():
    assert run.pinned_version("-c requirements.txt\nansible==12.3.0  # carries community.general\n",
                              "ansible") == "12.3.0"
    assert run.pinned_version("ansible-core==2.19.14\n", "ansible") is None
    with open(run.REQUIREMENTS_FILE) as handle:
        assert run.pinned_version(handle.read(), "ansible").startswith("12.")


def test_cpu_model():
    assert machine.cpu_model("processor\t: 0\nmodel name\t: AMD EPYC\n") == "AMD EPYC"
    assert machine.cpu_model("") == "unknown"


def _socket_errors(read=0):
    return {"connect": 0, "read": read, "write": 0, "timeout": 0}


SAMPLE_RESULTS = {
    "updated_at": "2026-11-24 05:00 UTC",
    "machine": {"nproc": 2, "cpu_model": "AMD EPYC", "os": "Debian GNU/Linux 12 (bookworm)", "kernel": "6.1",
                "python": "3.11.7", "haproxy": "HAProxy version 2.6.12", "wrk": "wrk 4.1.0", "ansible_core": "2.19.14",
                "ansible": "12.3.0", "community_general": "11.4.2"},
    "benchmarks": {
        "proxy_overhead": {
            "measured_at": "2026-11-24 05:00 UTC", "nproc": 2, "rounds": 3, "duration_s": 10,
            "summary": {name: {"requests_per_s": rps, "p50_us": 1300.0, "p99_us": 4000.0, "requests": 100,
                               "http_errors": 0, "socket_errors": _socket_errors()}
                        for name, rps in (("direct", 30000.0), ("haproxy", 15000.0))},
            "throughput_ratio": 0.5, "added_p50_us": 900.0, "added_p99_us": 3000.0,
            "upstream_hits": {"onprem": 200, "cloud": 0, "requests_sent": 200},
            "commands": {"direct": "wrk direct", "haproxy": "wrk haproxy"}, "target_met": True},
        "steps_under_load": {
            "measured_at": "2026-11-24 05:05 UTC", "connections": 50, "steps": 20, "reloads": 5,
            "wrk": {"duration_s": 95.0, "requests": 1200000, "requests_per_s": 12600.0,
                    "statuses": {"200": 1200000}, "socket_errors": _socket_errors(read=74),
                    "latency_us": {"p50": 3000, "p99": 16000, "max": 90000}},
            "operations": [{"kind": "step", "seconds": 4.0}, {"kind": "step", "seconds": 5.0},
                           {"kind": "reload", "seconds": 6.0}],
            "haproxy_settings": {"close-spread-time": "1s"}, "non_2xx": 0, "command": "wrk under load",
            "target_met": True},
        "step_cost": {
            "measured_at": "2026-11-24 05:10 UTC", "runs": 2, "seconds": {"migrate": [3.0, 3.2], "community": [1.4, 1.5]},
            "median_s": {"migrate": 3.1, "community": 1.45}, "ratio": 2.14, "target_met": False,
            "commands": {"migrate": "ansible-playbook playbooks/migrate.yml", "community": "ansible-playbook bench/x.yml"}},
    },
}


def test_render_results_shows_figures_and_verdicts():
    text = report.render_results(SAMPLE_RESULTS)
    assert "| through HAProxy | 15000 | 1.30 ms | 4.00 ms | 0 |" in text
    assert "| **non-2xx responses** | **0** |" in text
    assert "| socket errors: read (keep-alive connections closed by the old worker at a reload) | 74 (61.7 per" in text
    assert "| HAProxy `close-spread-time` / `hard-stop-after` | 1s / not set |" in text
    assert "Ratio migrate / community.general.haproxy: **2.14** (target <= 1.2: **NOT met**)." in text
    assert "| cores (`nproc`) | 2 |" in text
    for name in SAMPLE_RESULTS["benchmarks"]:
        assert "--only %s`" % name not in text


def test_display_command_is_relative_and_quoted():
    command = wrkrun.wrk_command("http://127.0.0.1:48080/", "application-01.6play.fr", 2, 50, 10)
    assert wrkrun.display_command(command) == (
        "wrk -t2 -c50 -d10s --timeout 5s --latency -s bench/lua/stats.lua "
        "-H 'Host: application-01.6play.fr' http://127.0.0.1:48080/")


def test_fitting_maxconn():
    assert run.fitting_maxconn(1048576) is None
    assert run.fitting_maxconn(40200) is None
    assert run.fitting_maxconn(20000) == 9900


def test_parse_profile_tasks():
    output = ("PLAY RECAP ***\n"
              "cloudshift.migration.haproxy : Render the HAProxy configuration ------------ 2.31s\n"
              "Gathering Facts ------------------------------------------------------------- 0.10s\n"
              "cloudshift.migration.haproxy : Set the cloud share over the runtime API ----- 0.72s\n")
    assert benchmarks.parse_profile_tasks(output, top=2) == [
        ("cloudshift.migration.haproxy : Render the HAProxy configuration", 2.31),
        ("cloudshift.migration.haproxy : Set the cloud share over the runtime API", 0.72)]


def test_a_benchmark_not_run_keeps_its_recorded_section():
    """--only (or a fresh clone without bench/results/latest.json) leaves the other benchmarks' results as recorded."""
    document = "\n".join(["# Benchmarks", report.BEGIN, "## Results", "", "### cloud_kill (2026-01-01 00:00 UTC)", "",
                          "kept figures", "", "### step_cost", "", "Not measured yet: `x`.", report.END, ""])
    recorded = report.recorded_sections(document)
    assert recorded == {"cloud_kill": "### cloud_kill (2026-01-01 00:00 UTC)\n\nkept figures"}
    text = report.render_results({"benchmarks": {}}, recorded)
    assert "kept figures" in text and "Not measured yet: `.venv/bin/python bench/run.py --only step_cost`" in text
