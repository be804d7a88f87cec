"""shadow_overhead: what the shadow copies cost the users' path.

wrk through HAProxy (application-01 at step 0, every user request answered on-prem) with the app's
shadow share at 0, 10 and 100% to a healthy shadow (its cloud upstream), then at 100% to a shadow
answering 2 s late and to a dead one. Each case: req/s, p50/p99 of the users' requests, errors, and
the copy counters of the Lua action over the run.
"""

import http.client
import threading
import time

import wrkrun
from benchmarks import APP, HOST, BenchmarkError, check_share

CASES = (("0%", 0, "ok"), ("10%", 10, "ok"), ("100%", 100, "ok"), ("100% slow (2 s)", 100, "slow"),
         ("100% down", 100, "down"))
# The target: p99 on the user path moves by at most 1 ms with a slow or dead shadow at 100%.
P99_TARGET_US = 1000.0
PACED_ROUNDS = 3
SETTLE_S = 2.0


def paced_latencies(env, rate_per_s=800, seconds=8, workers=4):
    """GETs at a steady rate (each worker paced, keep-alive): (latencies in us, failures). A node in production
    is not saturated: this is the users' p99 at a load the machine carries, beside wrk's saturation figures."""
    latencies, failures, lock = [], [0], threading.Lock()
    interval = workers / float(rate_per_s)

    def worker():
        connection = http.client.HTTPConnection("127.0.0.1", 8080 + env.port_offset, timeout=5)
        next_at = time.monotonic()
        deadline = next_at + seconds
        while next_at < deadline:
            time.sleep(max(0.0, next_at - time.monotonic()))
            started = time.monotonic()
            try:
                connection.request("GET", "/", headers={"Host": HOST})
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", 8080 + env.port_offset, timeout=5)
            with lock:
                latencies.append((time.monotonic() - started) * 1e6)
                failures[0] += 0 if ok else 1
            next_at += interval
        connection.close()

    threads = [threading.Thread(target=worker) for _index in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    return latencies, failures[0]


def _percentile(sorted_values, q):
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, int(round(q / 100.0 * (len(sorted_values) - 1))))]


def set_share(env, percent):
    result = env.shadow(APP, state="present", percent=percent)
    if result.failed:
        raise BenchmarkError("cannot set the shadow share to %d%%: %s" % (percent, result.get("msg")))
    return result["counters"]


def shadow_overhead(env, duration_s=10, paced_seconds=8, threads=2, connections=50, log=print):
    env.migrate(APP, 0, "-e", "force=true")  # the benchmarks before may leave the app at another step
    check_share(env, 0)
    command = wrkrun.wrk_command(env.frontend, HOST, threads, connections, duration_s)
    wrkrun.run_wrk(wrkrun.wrk_command(env.frontend, HOST, threads, connections, 2))  # warm-up
    cases = []
    try:
        for label, percent, fault in CASES:
            if fault == "slow":
                env.democtl("fault", APP, "cloud", "slow", "--delay", "2")
            else:
                env.democtl("fault", APP, "cloud", fault)
            before = set_share(env, percent)
            figures = wrkrun.run_wrk(command)[0]
            # wrk leaves the shadow's backlog (and the box) busy for a moment; then the users' p99 at a steady load
            # is taken PACED_ROUNDS times and the median kept: one scheduling hiccup of this 2-core box moves a
            # single 8 s round's p99 by milliseconds (0.6 to 4.8 ms for the same case in two runs).
            time.sleep(SETTLE_S)
            rounds = [paced_latencies(env, seconds=paced_seconds) for _round in range(PACED_ROUNDS)]
            round_p99 = [_percentile(latencies, 99) for latencies, _failures in rounds]
            median_round = sorted(range(len(rounds)), key=lambda index: round_p99[index])[len(rounds) // 2]
            paced = rounds[median_round][0]
            paced_failures = sum(failures for _latencies, failures in rounds)
            after = set_share(env, 0)
            copies = dict((name, after[name] - before[name]) for name in after if name != "inflight")
            cases.append({"case": label, "percent": percent, "shadow": fault, "requests_per_s": figures["requests_per_s"],
                          "p50_us": figures["latency_us"]["p50"], "p99_us": figures["latency_us"]["p99"],
                          "requests": figures["requests"], "http_errors": figures["http_errors"],
                          "socket_errors": figures["socket_errors"], "copies": copies,
                          "paced": {"requests": sum(len(latencies) for latencies, _failures in rounds),
                                    "failures": paced_failures, "rounds_p99_us": [round(value, 1) for value in round_p99],
                                    "p50_us": _percentile(paced, 50), "p99_us": _percentile(paced, 99)}})
            log("  %-17s %9.0f req/s  p50 %6.0f us  p99 %6.0f us  errors %d/%s  copies sent %d dropped %d failed %d"
                "  | paced p99 %6.0f us (rounds %s), %d failed"
                % (label, figures["requests_per_s"], figures["latency_us"]["p50"], figures["latency_us"]["p99"],
                   figures["http_errors"], sum(figures["socket_errors"].values()), copies["sent"], copies["dropped"],
                   copies["failed"], _percentile(paced, 99), "/".join("%.0f" % value for value in round_p99), paced_failures))
    finally:
        env.democtl("fault", APP, "cloud", "ok")
        set_share(env, 0)
    baseline = cases[0]["paced"]["p99_us"]
    worst_added = max(case["paced"]["p99_us"] - baseline for case in cases if case["shadow"] != "ok")
    saturated_added = max(case["p99_us"] - cases[0]["p99_us"] for case in cases if case["shadow"] != "ok")
    return {
        "command": wrkrun.display_command(command),
        "duration_s": duration_s,
        "cases": cases,
        "paced_rate_per_s": 800,
        "worst_added_p99_us": round(worst_added, 1),
        "saturated_added_p99_us": round(saturated_added, 1),
        "target_us": P99_TARGET_US,
        "target_met": worst_added <= P99_TARGET_US and all(
            case["http_errors"] == 0 and not any(case["socket_errors"].values()) and case["paced"]["failures"] == 0
            for case in cases),
    }
