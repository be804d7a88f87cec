"""Windows of a backend's figures: counters, ring lines, sides and the fleet (pure, no HAProxy)."""

import copy
import os

import pytest
import yaml

from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy import stats, timings

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLOUD = "aws-a"
CLOUD_B = "aws-b"
ONPREM = "onprem-a"
INFO = "Name: HAProxy\nPid: 4242\nStart_time_sec: 1700000000\nUptime_sec: 10\n"


def line(server, tc=0, tr=1, status=200, request_id="4242.1", backend="app", retries="0", tw=0, ta=None):
    ta = tc + tr if ta is None else ta
    return ('127.0.0.1:5000 [02/Dec/2026:10:00:00.000] cloudshift %s/%s 0/%d/%d/%d/%d %d 120 ---- 1/1/0/0/%s 0/0 '
            '"GET /x?a=1 HTTP/1.1" %s' % (backend, server, tw, tc, tr, ta, status, retries, request_id))


def stat_row(name, **counters):
    row = dict((column, 0) for column in stats.COUNTERS)
    row.update({"pxname": "app", "svname": name, "type": 2, "status": "UP", "weight": 50, "bck": 0,
                "check_status": "L7OK", "check_code": 200, "check_duration": 1, "ctime": 1, "qtime": 0,
                "rtime": 2, "ttime": 3})
    row.update(counters)
    return row


def snapshot(rows, taken_at, lines=(), pid=4242, started=1700000000):
    info = "Pid: %d\nStart_time_sec: %d\n" % (pid, started)
    return stats.snapshot_from("app", info, rows, ring="cloudshift-timings", ring_lines=list(lines), taken_at=taken_at)


# ------------------------------------------------------------------- timings


def test_log_format_of_the_role_is_the_one_the_parser_reads():
    with open(os.path.join(ROOT, "roles", "haproxy", "vars", "main.yml")) as handle:
        assert yaml.safe_load(handle)["haproxy_timings_log_format"] == timings.LOG_FORMAT


def test_parse_line_of_haproxy_2_6():
    text = ('127.0.0.1:57578 [02/Dec/2026:19:33:59.830] cloudshift application-01/onprem-prod-front-application-01 '
            '0/1/2/30/33 200 140 ---- 1/1/0/0/+1 0/0 "GET /x HTTP/1.1" 27180.412')
    parsed = timings.parse_line(text)
    assert parsed == {"backend": "application-01", "server": "onprem-prod-front-application-01", "status": 200,
                      "termination": "----", "retries": 1, "redispatched": True, "id": "27180.412",
                      "queue_ms": 1, "connect_ms": 2, "response_ms": 30, "active_ms": 33}


@pytest.mark.parametrize("text", [
    "",
    "Health check for server app/aws-a failed",
    line(CLOUD).rsplit(" ", 1)[0],  # no request id
    line(CLOUD).replace("0/0/1/1", "0/x/1/1"),
])
def test_lines_not_in_the_format_are_left_out(text):
    assert timings.parse_line(text) is None


def test_a_request_that_never_reached_a_server_has_negative_timers():
    text = ('127.0.0.1:1 [02/Dec/2026:10:00:00.000] cloudshift app/aws-a 0/0/-1/-1/3001 503 217 sC-- 1/1/0/0/1 0/0 '
            '"GET / HTTP/1.1" 9.9')
    parsed = timings.parse_line(text)
    assert parsed["connect_ms"] == -1 and parsed["response_ms"] == -1 and parsed["termination"] == "sC--"


def test_lines_after_the_marker_are_the_window():
    lines = [line(CLOUD, request_id="1.%d" % index) for index in range(1, 6)]
    assert timings.lines_after(lines, "1.3") == (lines[3:], True)
    assert timings.lines_after(lines, "1.5") == ([], True)
    assert timings.lines_after(lines, None) == (lines, False)
    # Wrapped ring, or a new worker: the marker is gone and every line is in the window.
    assert timings.lines_after(lines, "1.99") == (lines, False)
    assert timings.last_id(lines + ["not a log line"]) == "1.5"


@pytest.mark.parametrize("reply, message", [
    ("No such event sink\n", "HAProxy has no ring named cloudshift-timings"),
    ("Nothing to report for this sink", "is not a ring buffer"),
])
def test_an_unreadable_ring_is_named(reply, message):
    with pytest.raises(timings.TimingsError, match=message):
        timings.ring_reply_lines(reply, "cloudshift-timings")


def test_evenly_spaced_keeps_order_and_the_limit():
    items = list(range(100))
    assert timings.evenly_spaced(items, 10) == [0, 10, 20, 30, 40, 50, 60, 70, 80, 90]
    assert timings.evenly_spaced(items, 200) == items
    assert timings.evenly_spaced(items, 0) == []


# ------------------------------------------------------------------- windows


def test_window_is_the_counter_difference_and_the_lines_after_the_marker():
    old_lines = [line(CLOUD, tr=1, request_id="4242.1"), line(ONPREM, tr=1, request_id="4242.2")]
    before = snapshot([stat_row(CLOUD, req_tot=10, hrsp_2xx=10), stat_row(ONPREM, req_tot=30, hrsp_2xx=30)],
                      1000.0, old_lines)
    new_lines = old_lines + [line(CLOUD, tc=2, tr=100, request_id="4242.3"),
                             line(CLOUD, tc=0, tr=300, request_id="4242.4"),
                             line(ONPREM, tr=10, request_id="4242.5"),
                             line("aws-a", backend="other-app", tr=999, request_id="4242.6")]
    after = snapshot([stat_row(CLOUD, req_tot=14, hrsp_2xx=12, hrsp_5xx=2, econ=1, chkfail=3),
                      stat_row(ONPREM, req_tot=40, hrsp_2xx=40)], 1010.0, new_lines)
    window = stats.compute_window(before, after, new_lines, [CLOUD], [ONPREM])
    cloud, onprem = window["sides"]["cloud"], window["sides"]["onprem"]
    assert window["seconds"] == 10.0 and window["same_worker"] and window["samples_complete"]
    assert cloud["requests"] == 4 and cloud["responses"]["5xx"] == 2 and cloud["connection_errors"] == 1
    assert cloud["errors"] == 3 and cloud["error_rate_pct"] == pytest.approx(75.0)
    assert cloud["shares_pct"]["2xx"] == pytest.approx(50.0) and cloud["check_failures"] == 3
    assert onprem["requests"] == 10 and onprem["error_rate_pct"] == 0.0
    # Samples: the two cloud lines after the marker (the other app's line is not this backend's).
    assert window["samples"]["cloud"] == [[0, 2, 100, 102], [0, 0, 300, 300]]
    assert cloud["timings"]["server_ms"]["p50"] == pytest.approx(201.0)
    assert cloud["timings"]["connect_ms"]["avg"] == pytest.approx(1.0)
    assert onprem["timings"]["samples"] == 1
    assert window["servers"][CLOUD]["counters"]["req_tot"] == 4
    assert window["servers"][CLOUD]["last_check"] == "L7OK/200 in 1ms"


def test_failed_attempts_count_as_requests_and_errors_of_their_side():
    before = snapshot([stat_row(CLOUD), stat_row(ONPREM)], 1.0)
    # 19 503s retried on-prem (wretr and wredis) and 1 refused connection redispatched (wredis only).
    after = snapshot([stat_row(CLOUD, wretr=19, wredis=20), stat_row(ONPREM, req_tot=40, hrsp_2xx=40)], 2.0)
    window = stats.compute_window(before, after, [], [CLOUD], [ONPREM])
    cloud = window["sides"]["cloud"]
    assert cloud["failed_attempts"] == 20 and cloud["requests"] == 20 and cloud["errors"] == 20
    assert cloud["error_rate_pct"] == 100.0 and cloud["answered"] == 0
    assert cloud["shares_pct"]["2xx"] is None
    gate = stats.gate_side(window, "cloud")
    assert gate == {"requests": 20, "http_5xx": 0, "http_4xx": 0, "connection_errors": 0, "failed_attempts": 20,
                    "check_failures": 0, "latencies_ms": []}


def test_a_new_worker_restarts_the_counters_and_the_ring():
    before = snapshot([stat_row(CLOUD, req_tot=500), stat_row(ONPREM, req_tot=500)], 1000.0,
                      [line(CLOUD, request_id="4242.9")])
    lines = [line(CLOUD, request_id="5151.1")]
    after = snapshot([stat_row(CLOUD, req_tot=7, hrsp_2xx=7), stat_row(ONPREM, req_tot=3, hrsp_2xx=3)], 1060.0,
                     lines, pid=5151, started=1030)
    window = stats.compute_window(before, after, lines, [CLOUD], [ONPREM])
    assert not window["same_worker"] and window["counters_since"] == "worker start"
    assert window["start"] == 1030 and window["seconds"] == 30.0
    assert window["sides"]["cloud"]["requests"] == 7 and window["sides"]["onprem"]["requests"] == 3
    assert len(window["samples"]["cloud"]) == 1 and not window["samples_complete"]


def test_no_start_snapshot_means_since_the_worker_started():
    after = snapshot([stat_row(CLOUD, req_tot=5), stat_row(ONPREM, req_tot=5)], 1700000100.0)
    window = stats.compute_window(None, after, [], [CLOUD], [ONPREM], source="worker_start")
    assert window["start"] == 1700000000 and window["seconds"] == 100.0 and window["sides"]["cloud"]["requests"] == 5


def test_samples_are_capped_evenly_and_say_how_many_there_were():
    lines = [line(CLOUD, tr=index, request_id="4242.%d" % index) for index in range(1, 101)]
    after = snapshot([stat_row(CLOUD, req_tot=100), stat_row(ONPREM)], 10.0, lines)
    window = stats.compute_window(None, after, lines, [CLOUD], [ONPREM], max_samples=10)
    assert len(window["samples"]["cloud"]) == 10
    assert window["sides"]["cloud"]["timings"]["samples"] == 10
    assert window["sides"]["cloud"]["timings"]["sampled_from"] == 100


def test_listed_servers_must_exist():
    after = snapshot([stat_row(CLOUD), stat_row(ONPREM)], 10.0)
    with pytest.raises(stats.StatsError, match="backend app has no server named aws-zz"):
        stats.check_listed_servers(after, [CLOUD, "aws-zz"], [ONPREM])


@pytest.mark.parametrize("since, message", [
    ({"format": 9}, "is not a snapshot returned by haproxy_stats_info"),
    ({"format": 1, "backend": "other", "taken_at": 1, "worker": {}, "servers": {}}, "snapshot of backend 'other'"),
    ({"format": 1, "backend": "app", "worker": {}, "servers": {}}, "has no 'taken_at'"),
    ("yesterday", "is not a snapshot"),
])
def test_bad_start_snapshots_are_refused(since, message):
    with pytest.raises(stats.StatsError, match=message):
        stats.check_snapshot(since, "app")


def test_snapshot_needs_the_worker_identity():
    with pytest.raises(stats.StatsError, match="no Pid and Start_time_sec"):
        stats.snapshot_from("app", "Name: HAProxy\n", [])


def test_snapshot_files_round_trip(tmp_path):
    saved = snapshot([stat_row(CLOUD, req_tot=3), stat_row(ONPREM)], 5.0, [line(CLOUD, request_id="4242.7")])
    path = stats.snapshot_path(str(tmp_path), "app")
    stats.save_snapshot(path, saved)
    assert stats.load_snapshot(path, "app") == saved
    assert stats.load_snapshot(str(tmp_path / "windows" / "none.json"), "app") is None
    assert saved["ring_marker"] == "4242.7"


# ------------------------------------------------------------------- fleet


def node_window(cloud_requests, cloud_5xx, onprem_requests, cloud_latency):
    lines = [line(CLOUD, tr=cloud_latency, request_id="1.%d" % index) for index in range(1, 6)]
    lines += [line(ONPREM, tr=1, request_id="1.%d" % index) for index in range(6, 11)]
    after = snapshot([stat_row(CLOUD, req_tot=cloud_requests, hrsp_2xx=cloud_requests - cloud_5xx, hrsp_5xx=cloud_5xx),
                      stat_row(ONPREM, req_tot=onprem_requests, hrsp_2xx=onprem_requests)], 100.0, lines)
    return stats.compute_window(None, after, lines, [CLOUD], [ONPREM])


def test_fleet_adds_up_every_node_and_pools_the_samples():
    windows = {"node-a": node_window(100, 10, 300, 5), "node-b": node_window(300, 0, 100, 50)}
    merged = stats.merge_windows(copy.deepcopy(windows))
    cloud = merged["sides"]["cloud"]
    assert merged["nodes"] == ["node-a", "node-b"]
    assert cloud["requests"] == 400 and cloud["responses"]["5xx"] == 10
    assert cloud["error_rate_pct"] == pytest.approx(2.5)
    assert merged["sides"]["onprem"]["requests"] == 400
    assert len(merged["samples"]["cloud"]) == 10
    assert cloud["timings"]["server_ms"]["p50"] == pytest.approx(27.5)  # 5 samples of 5 ms and 5 of 50 ms
    assert sorted(merged["servers"]) == ["node-a/aws-a", "node-a/onprem-a", "node-b/aws-a", "node-b/onprem-a"]
    assert cloud["servers"] == ["node-a/aws-a", "node-b/aws-a"]


def test_fleet_refuses_windows_of_different_backends_or_not_windows():
    other = node_window(1, 0, 1, 1)
    other["backend"] = "other"
    with pytest.raises(stats.StatsError, match="different backends: app, other"):
        stats.merge_windows({"a": node_window(1, 0, 1, 1), "b": other})
    with pytest.raises(stats.StatsError, match="the window of node b is not one returned by haproxy_stats_info"):
        stats.merge_windows({"a": node_window(1, 0, 1, 1), "b": {"sides": {}}})
    with pytest.raises(stats.StatsError, match="non-empty dict"):
        stats.merge_windows({})
