# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A backend's figures over a window of traffic: per server, per side (cloud / on-prem), per fleet.

Two sources, both read over the runtime API in one connection:

* ``show stat`` counters, exact and cumulative since the worker started: requests, responses by
  class, connection and response errors, retries, redispatches, check failures. The window is the
  difference of two snapshots; when the worker changed in between (a reload or a restart), its
  counters started again from zero and the window is what the new worker counted.
* the timings ring (module timings): one line per request, so latencies have a distribution.

A request that fails on a server and is retried on another (``retry-on``, ``option redispatch``)
is answered by the second server: the first one only counts it as a retry (``wretr``) or a
redispatch (``wredis``). Those are its *failed attempts*, counted as requests and as errors of
its side, so a cloud hidden behind retries is still seen failing.

Everything but take_snapshot is pure.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time

from ansible_collections.cloudshift.migration.plugins.module_utils.quantile import percentile
from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.client import (
    UNKNOWN_BACKEND_REPLIES, CommandError, UnknownBackendError)
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.parsing import (
    TYPE_SERVER, ParseError, last_check_summary, parse_show_stat, server_state)
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.timings import (
    TimingsError, evenly_spaced, last_id, lines_after, ring_reply_lines, timing_rows)
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.validation import validate_name
from ansible_collections.cloudshift.migration.plugins.module_utils.jsonfile import JsonFileError, read_json, write_json

SNAPSHOT_FORMAT = 1
CLOUD = "cloud"
ONPREM = "onprem"
OTHER = "other"
SIDES = (CLOUD, ONPREM)
RESPONSE_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx", "other")
COUNTERS = ("req_tot", "hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other",
            "econ", "eresp", "wretr", "wredis", "chkfail", "chkdown", "cli_abrt", "srv_abrt")
# show stat's own averages, over the last 1024 requests of each server (not the window).
HAPROXY_AVERAGES = (("connect_ms", "ctime"), ("queue_ms", "qtime"), ("response_ms", "rtime"), ("total_ms", "ttime"))
DEFAULT_MAX_SAMPLES = 5000


class StatsError(CloudshiftError):
    pass


# Reading (the only I/O) --------------------------------------------------------------------------

def _info_fields(reply):
    fields = {}
    for line in reply.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    return fields


def server_rows(stat_rows):
    """{server: its show stat row} of a backend, in configuration order."""
    return dict((row["svname"], row) for row in stat_rows if row.get("type") == TYPE_SERVER)


def snapshot_from(backend, info_reply, stat_rows, ring=None, ring_lines=None, taken_at=None):
    """A snapshot (pure): the backend's counters and states, the worker, and where the ring ends."""
    info = _info_fields(info_reply)
    try:
        worker = {"pid": int(info["Pid"]), "started_at": int(info["Start_time_sec"])}
    except (KeyError, ValueError):
        raise StatsError("HAProxy's `show info` reply has no Pid and Start_time_sec: %r" % info_reply[:200])
    servers = {}
    for name, row in server_rows(stat_rows).items():
        servers[name] = {
            "counters": dict((column, row.get(column) or 0) for column in COUNTERS),
            "status": row.get("status"),
            "weight": row.get("weight"),
            "backup": bool(row.get("bck")),
            "check_status": row.get("check_status"),
            "check_code": row.get("check_code"),
            "last_check": last_check_summary(row),
            "haproxy_avg_ms": dict((name_ms, row.get(column)) for name_ms, column in HAPROXY_AVERAGES),
        }
    return {
        "format": SNAPSHOT_FORMAT,
        "backend": backend,
        "taken_at": time.time() if taken_at is None else taken_at,
        "worker": worker,
        "servers": servers,
        "ring": ring or None,
        "ring_marker": last_id(ring_lines or []) if ring else None,
    }


def take_snapshot(client, backend, ring=None, require_ring=True):
    """(snapshot, ring lines) of one backend, read in one connection to the runtime API.

    With require_ring False, a configuration without the ring gives a snapshot without latencies.
    """
    validate_name(backend, "backend")
    if ring:
        validate_name(ring, "ring")
    stat_command = "show stat %s -1 -1" % backend
    with client.session() as session:
        info_reply = session.execute("show info")
        stat_reply = session.execute(stat_command)
        events_reply = session.execute("show events %s" % ring) if ring else ""
    if stat_reply.strip() in UNKNOWN_BACKEND_REPLIES:
        raise UnknownBackendError("HAProxy has no backend named %s (%s answered '%s' to '%s')"
                                  % (backend, client.describe(), stat_reply.strip(), stat_command),
                                  command=stat_command, reply=stat_reply)
    try:
        stat_rows = parse_show_stat(stat_reply)
    except ParseError:
        raise CommandError("HAProxy refused '%s' on %s: %s" % (stat_command, client.describe(), stat_reply.strip()),
                           command=stat_command, reply=stat_reply)
    try:
        lines = ring_reply_lines(events_reply, ring) if ring else []
    except TimingsError as exc:
        if require_ring:
            raise StatsError(str(exc))
        ring, lines = None, []
    return snapshot_from(backend, info_reply, stat_rows, ring, lines), lines


# Snapshots kept on disk (the one haproxy_step saves when it changes a step) -----------------------

def snapshot_path(state_dir, backend):
    return os.path.join(state_dir, "windows", validate_name(backend, "backend") + ".json")


def save_snapshot(path, snapshot):
    try:
        return write_json(path, snapshot, "the stats snapshot")
    except JsonFileError as exc:
        raise StatsError(str(exc))


def load_snapshot(path, backend):
    """The snapshot saved at path, or None when there is none."""
    try:
        snapshot = read_json(path, "the stats snapshot")
    except JsonFileError as exc:
        raise StatsError(str(exc))
    if snapshot is not None:
        check_snapshot(snapshot, backend, "the stats snapshot %s" % path)
    return snapshot


def check_snapshot(snapshot, backend, label="since"):
    """StatsError naming what is wrong when a snapshot cannot start a window of backend."""
    if not isinstance(snapshot, dict) or snapshot.get("format") != SNAPSHOT_FORMAT:
        raise StatsError("%s is not a snapshot returned by haproxy_stats_info (format %d)" % (label, SNAPSHOT_FORMAT))
    if snapshot.get("backend") != backend:
        raise StatsError("%s is a snapshot of backend %r, not of %s" % (label, snapshot.get("backend"), backend))
    for key in ("taken_at", "worker", "servers"):
        if key not in snapshot:
            raise StatsError("%s has no %r" % (label, key))
    return snapshot


def check_listed_servers(snapshot, cloud_servers, onprem_servers):
    """StatsError naming the listed servers the backend does not have."""
    missing = [name for name in list(cloud_servers) + list(onprem_servers) if name not in snapshot["servers"]]
    if missing:
        raise StatsError("backend %s has no server named %s (its servers: %s)"
                         % (snapshot["backend"], ", ".join(missing), ", ".join(snapshot["servers"]) or "none"))


# Windows (pure) ----------------------------------------------------------------------------------

def side_of(name, cloud_servers, onprem_servers):
    if name in cloud_servers:
        return CLOUD
    if name in onprem_servers:
        return ONPREM
    return OTHER


def counter_delta(before, after):
    """after - before per counter; after alone where a counter went down (it was reset)."""
    delta = {}
    for column in COUNTERS:
        now, then = after.get(column, 0), (before or {}).get(column, 0)
        delta[column] = now - then if before is not None and now >= then else now
    return delta


def sum_counters(counter_dicts):
    total = dict((column, 0) for column in COUNTERS)
    for counters in counter_dicts:
        for column in COUNTERS:
            total[column] += counters.get(column, 0)
    return total


def failed_attempts(counters):
    """Attempts that failed on a server and were retried elsewhere.

    HAProxy 2.6 counts a connection failure redispatched at once in wredis only, and a layer-7
    retry (retry-on 503, ...) in both wretr and wredis, so per server the larger one is the count.
    """
    return max(counters.get("wretr", 0), counters.get("wredis", 0))


def _timer_summary(values):
    if not values:
        return {"avg": None, "p50": None, "p95": None, "p99": None}
    return {"avg": sum(values) / float(len(values)), "p50": percentile(values, 50),
            "p95": percentile(values, 95), "p99": percentile(values, 99)}


def server_time(sample):
    """Connect + response time of a sample row [queue, connect, response, active], None if it got no response."""
    connect, response = sample[1], sample[2]
    if connect < 0 or response < 0:
        return None
    return connect + response


def timings_summary(samples, sampled_from=None):
    """avg/p50/p95/p99 of each timer over sample rows [queue_ms, connect_ms, response_ms, active_ms]."""
    summary = {"samples": len(samples), "sampled_from": len(samples) if sampled_from is None else sampled_from}
    for index, name in enumerate(("queue_ms", "connect_ms", "response_ms", "active_ms")):
        summary[name] = _timer_summary([row[index] for row in samples if row[index] >= 0])
    summary["server_ms"] = _timer_summary([value for value in (server_time(row) for row in samples) if value is not None])
    return summary


def side_summary(counters, samples, servers, sampled_from=None):
    """Figures of one side from its summed counter deltas and its sample rows."""
    attempts = counters["failed_attempts"]
    responses = dict((name, counters["hrsp_" + name]) for name in RESPONSE_CLASSES)
    answered_responses = sum(responses.values())
    requests = counters["req_tot"] + attempts
    errors = responses["5xx"] + counters["econ"] + counters["eresp"] + attempts
    return {
        "servers": sorted(servers),
        "requests": requests,
        "answered": counters["req_tot"],
        "responses": responses,
        "shares_pct": dict((name, (100.0 * count / answered_responses) if answered_responses else None)
                           for name, count in responses.items()),
        "errors": errors,
        "error_rate_pct": (100.0 * errors / requests) if requests else None,
        "connection_errors": counters["econ"],
        "response_errors": counters["eresp"],
        "retries": counters["wretr"],
        "redispatches": counters["wredis"],
        "failed_attempts": attempts,
        "check_failures": counters["chkfail"],
        "checks_down": counters["chkdown"],
        "client_aborts": counters["cli_abrt"],
        "server_aborts": counters["srv_abrt"],
        "counters": counters,
        "timings": timings_summary(samples, sampled_from),
    }


def _side_counters(server_deltas):
    counters = sum_counters(server_deltas)
    counters["failed_attempts"] = sum(failed_attempts(delta) for delta in server_deltas)
    return counters


def compute_window(before, after, lines, cloud_servers, onprem_servers, max_samples=DEFAULT_MAX_SAMPLES,
                   source="since"):
    """The window from snapshot before (None: since the worker started) to snapshot after.

    lines: the ring lines read with after. Returns per-server deltas and states, per-side figures
    and per-side sample rows [queue_ms, connect_ms, response_ms, active_ms].
    """
    cloud_servers, onprem_servers = list(cloud_servers), list(onprem_servers)
    same_worker = before is not None and before.get("worker") == after["worker"]
    marker = before.get("ring_marker") if same_worker else None
    window_lines, marker_found = lines_after(lines, marker)
    rows = timing_rows(window_lines, after["backend"])

    servers = {}
    deltas_by_side = dict((side, []) for side in SIDES + (OTHER,))
    names_by_side = dict((side, []) for side in SIDES + (OTHER,))
    for name, now in after["servers"].items():
        then = before["servers"].get(name, {}).get("counters") if same_worker else None
        delta = counter_delta(then, now["counters"])
        side = side_of(name, cloud_servers, onprem_servers)
        deltas_by_side[side].append(delta)
        names_by_side[side].append(name)
        view = dict((key, value) for key, value in now.items() if key != "counters")
        view.update({"side": side, "state": server_state(now.get("status")), "counters": delta,
                     "failed_attempts": failed_attempts(delta)})
        servers[name] = view

    side_by_server = dict((name, view["side"]) for name, view in servers.items())
    samples = dict((side, []) for side in SIDES)
    for row in rows:
        side = side_by_server.get(row["server"])
        if side in samples:
            samples[side].append([row["queue_ms"], row["connect_ms"], row["response_ms"], row["active_ms"]])

    sides = {}
    kept = {}
    for side in SIDES:
        kept[side] = evenly_spaced(samples[side], max_samples)
        sides[side] = side_summary(_side_counters(deltas_by_side[side]), kept[side], names_by_side[side],
                                   sampled_from=len(samples[side]))
    start = before["taken_at"] if before is not None else after["worker"]["started_at"]
    if before is not None and not same_worker:
        start = max(start, after["worker"]["started_at"])
    return {
        "backend": after["backend"],
        "source": source,
        "start": start,
        "end": after["taken_at"],
        "seconds": round(after["taken_at"] - start, 3),
        "same_worker": same_worker,
        "counters_since": "window start" if same_worker else "worker start",
        "samples_complete": bool(marker_found) or (same_worker and marker is None and before is not None
                                                   and before.get("ring") is not None),
        "servers": servers,
        "other_servers": names_by_side[OTHER],
        "sides": sides,
        "samples": kept,
    }


def merge_windows(windows):
    """One fleet window from {node: window} of the same backend: counters summed, samples pooled.

    Servers are keyed ``<node>/<server>``.
    """
    if not isinstance(windows, dict) or not windows:
        raise StatsError("windows must be a non-empty dict of node name -> window, got %r" % (windows,))
    backends = set()
    servers = {}
    merged_samples = dict((side, []) for side in SIDES)
    counters = dict((side, []) for side in SIDES)
    names = dict((side, []) for side in SIDES)
    sampled_from = dict((side, 0) for side in SIDES)
    for node in sorted(windows):
        window = windows[node]
        if not isinstance(window, dict) or "sides" not in window or "samples" not in window:
            raise StatsError("the window of node %s is not one returned by haproxy_stats_info: %r"
                             % (node, str(window)[:200]))
        backends.add(window["backend"])
        for name, view in window["servers"].items():
            servers["%s/%s" % (node, name)] = view
        for side in SIDES:
            counters[side].append(window["sides"][side]["counters"])
            names[side].extend("%s/%s" % (node, name) for name in window["sides"][side]["servers"])
            merged_samples[side].extend(window["samples"][side])
            sampled_from[side] += window["sides"][side]["timings"]["sampled_from"]
    if len(backends) > 1:
        raise StatsError("the windows are of different backends: %s" % ", ".join(sorted(backends)))
    sides = {}
    for side in SIDES:
        summed = sum_counters(counters[side])
        summed["failed_attempts"] = sum(item.get("failed_attempts", 0) for item in counters[side])
        sides[side] = side_summary(summed, merged_samples[side], names[side], sampled_from=sampled_from[side])
    nodes = sorted(windows)
    return {
        "backend": backends.pop(),
        "nodes": nodes,
        "start": min(windows[node]["start"] for node in nodes),
        "end": max(windows[node]["end"] for node in nodes),
        "seconds": max(windows[node]["seconds"] for node in nodes),
        "samples_complete": all(windows[node]["samples_complete"] for node in nodes),
        "servers": servers,
        "sides": sides,
        "samples": merged_samples,
    }


def gate_side(window, side):
    """The figures of one side of a (merged) window in the form analysis.compare_sides takes."""
    figures = window["sides"][side]
    latencies = [value for value in (server_time(row) for row in window["samples"][side]) if value is not None]
    return {
        "requests": figures["requests"],
        "http_5xx": figures["responses"]["5xx"],
        "http_4xx": figures["responses"]["4xx"],
        "connection_errors": figures["connection_errors"] + figures["response_errors"],
        "failed_attempts": figures["failed_attempts"],
        "check_failures": figures["check_failures"],
        "latencies_ms": latencies,
    }


def measure(client, params):
    """The window of params (haproxy_stats_info's options) and the snapshot that ends it."""
    backend = params["backend"]
    ring = params["ring"] or None
    if params["since"] is not None:
        before, source = params["since"], "since"
    elif params["since_file"]:
        before, source = load_snapshot(params["since_file"], backend), "since_file"
    else:
        before, source = None, "worker_start"
    if params["duration"] is not None:
        if before is None:
            before, _lines = take_snapshot(client, backend, ring)
            check_listed_servers(before, params["cloud_servers"], params["onprem_servers"])
            source = "duration"
        time.sleep(min(params["duration"], max(0.0, before["taken_at"] + params["duration"] - time.time())))
    elif before is None:
        source = "worker_start"
    after, lines = take_snapshot(client, backend, ring)
    check_listed_servers(after, params["cloud_servers"], params["onprem_servers"])
    window = compute_window(before, after, lines, params["cloud_servers"], params["onprem_servers"],
                            max_samples=params["max_samples"], source=source)
    return window, after
