# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Statistics behind the step gate: cloud side against on-prem on one window of traffic.

Pure functions, standard library only (the gate may run on any managed node).

The gate answers pass / fail / inconclusive and always returns the measured
numbers next to the thresholds.  It only fails when the cloud is *worse* than
on-prem (more errors, slower); a better cloud never fails a step.  Every
statistical failure needs both a practical threshold breach and a significant
test, so noise on identical sides does not fail a step:

* error rate: cloud minus on-prem rate above ``max_error_rate_diff_points`` AND
  a one-sided two-proportion z-test (continuity corrected) below ``alpha / 2``;
* latency: cloud p95 more than ``max_p95_diff_ms`` above on-prem AND more than
  ``max_p95_ratio`` times it (the ratio guards tiny loopback baselines, the
  difference guards large ones) AND, when both sides have at least
  ``MIN_RANK_SAMPLES`` latencies, a Mann-Whitney shift with two-sided
  p < ``alpha`` and rank-biserial correlation >= ``min_effect_size`` (Kayenta's
  approach), or a significantly larger share of cloud latencies beyond that p95
  threshold than on-prem's (one-sided two-proportion test below ``alpha / 2``: a
  cloud that turned slow late in the window has few, but telling, slow samples);
* 4xx share: the same two tests on 4xx answers against ``max_4xx_rate_diff_points`` (a rewritten route that
  answers 404 where on-prem answers 200 is worse, though no server fails);
* cloud health-check failures above ``max_check_failures`` (independent of volume).

Fewer than ``min_requests`` on either side makes the volume-dependent checks,
and so the verdict, inconclusive rather than pass: a small window can never pass.
It can still fail, on a breach its significance test confirms (the error-rate
test, or the rank test with at least ``MIN_RANK_SAMPLES`` latencies a side), so a
cloud slow enough to cut its own traffic is not waved through as "too few".
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

from ansible_collections.cloudshift.migration.plugins.module_utils.quantile import finite_values, is_number, percentile  # noqa: F401

PASS = "pass"
FAIL = "fail"
INCONCLUSIVE = "inconclusive"
SKIPPED = "skipped"

# Below this many values per side the normal approximation of U is too coarse.
MIN_RANK_SAMPLES = 8

DEFAULT_THRESHOLDS = {
    "min_requests": 200,
    "max_error_rate_diff_points": 1.0,
    "max_4xx_rate_diff_points": 1.0,
    "max_p95_diff_ms": 50.0,
    "max_p95_ratio": 1.5,
    "alpha": 0.01,
    "min_effect_size": 0.1,
    "max_check_failures": 0,
}
INTEGER_THRESHOLDS = ("min_requests", "max_check_failures")
SIDE_COUNT_KEYS = ("requests", "http_5xx", "connection_errors", "check_failures")
# Attempts that failed on the side and were retried on another server (users never saw them).
# 4xx answers (not errors of the side, but a rewritten app answering 404 or 403 is worse).
OPTIONAL_COUNT_KEYS = ("failed_attempts", "http_4xx")
SIDE_KEYS = SIDE_COUNT_KEYS + ("latencies_ms",)


def _average_ranks(pooled):
    """Ranks (1-based) of pooled values, ties sharing their average rank; plus tie group sizes."""
    order = sorted(range(len(pooled)), key=pooled.__getitem__)
    ranks = [0.0] * len(pooled)
    tie_sizes = []
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and pooled[order[end + 1]] == pooled[order[start]]:
            end += 1
        shared_rank = (start + end) / 2.0 + 1
        for position in range(start, end + 1):
            ranks[order[position]] = shared_rank
        if end > start:
            tie_sizes.append(end - start + 1)
        start = end + 1
    return ranks, tie_sizes


def mann_whitney_u(sample_a, sample_b):
    """Mann-Whitney U test of sample_a against sample_b (normal approximation).

    Returns a dict:
      u_a, u_b: U statistics (u_a counts pairs where a > b, ties as 1/2; u_a + u_b = n_a * n_b);
      n_a, n_b;
      z: standardised u_a with tie and continuity correction, positive when a tends to be larger;
      p_value: two-sided, erfc(|z| / sqrt(2));
      common_language: u_a / (n_a * n_b), P(a > b) + P(a = b) / 2;
      rank_biserial: 2 * common_language - 1, in [-1, 1], positive when a tends to be larger.
    """
    values_a = finite_values(sample_a, "sample_a")
    values_b = finite_values(sample_b, "sample_b")
    for label, values in (("sample_a", values_a), ("sample_b", values_b)):
        if len(values) < MIN_RANK_SAMPLES:
            raise ValueError(
                "%s has %d values: the Mann-Whitney test needs at least %d per sample"
                % (label, len(values), MIN_RANK_SAMPLES)
            )
    n_a, n_b = len(values_a), len(values_b)
    total = n_a + n_b
    ranks, tie_sizes = _average_ranks(values_a + values_b)
    u_a = sum(ranks[:n_a]) - n_a * (n_a + 1) / 2.0
    u_b = n_a * n_b - u_a
    mean_u = n_a * n_b / 2.0
    tie_term = sum(size ** 3 - size for size in tie_sizes) / (total * (total - 1.0))
    variance = n_a * n_b / 12.0 * ((total + 1) - tie_term)
    deviation = u_a - mean_u
    if variance <= 0 or abs(deviation) <= 0.5:
        z = 0.0
    else:
        z = (deviation - math.copysign(0.5, deviation)) / math.sqrt(variance)
    common_language = u_a / (n_a * n_b)
    return {
        "u_a": u_a,
        "u_b": u_b,
        "n_a": n_a,
        "n_b": n_b,
        "z": z,
        "p_value": min(1.0, math.erfc(abs(z) / math.sqrt(2.0))),
        "common_language": common_language,
        "rank_biserial": 2.0 * common_language - 1.0,
    }


def _one_sided_rate_p_value(errors_cloud, requests_cloud, errors_onprem, requests_onprem):
    """P(cloud error rate this much above on-prem by chance): pooled two-proportion z-test."""
    pooled = (errors_cloud + errors_onprem) / float(requests_cloud + requests_onprem)
    if pooled <= 0 or pooled >= 1:
        return 1.0
    standard_error = math.sqrt(pooled * (1 - pooled) * (1.0 / requests_cloud + 1.0 / requests_onprem))
    continuity = 0.5 * (1.0 / requests_cloud + 1.0 / requests_onprem)
    difference = errors_cloud / float(requests_cloud) - errors_onprem / float(requests_onprem)
    z = (difference - continuity) / standard_error
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def resolve_thresholds(thresholds=None):
    """Defaults overlaid with the given thresholds (None values keep the default); validated."""
    thresholds = {} if thresholds is None else thresholds
    if not isinstance(thresholds, dict):
        raise ValueError("thresholds must be a dict, got %r" % (thresholds,))
    unknown = sorted(set(thresholds) - set(DEFAULT_THRESHOLDS), key=str)
    if unknown:
        raise ValueError(
            "unknown threshold(s) %s; known: %s" % (", ".join(map(repr, unknown)), ", ".join(sorted(DEFAULT_THRESHOLDS)))
        )
    resolved = dict(DEFAULT_THRESHOLDS)
    resolved.update((key, value) for key, value in thresholds.items() if value is not None)
    for key, value in resolved.items():
        if not is_number(value) or not math.isfinite(value) or value < 0:
            raise ValueError("threshold %s must be a finite number >= 0, got %r" % (key, value))
        if key in INTEGER_THRESHOLDS and value != int(value):
            raise ValueError("threshold %s must be a whole number, got %r" % (key, value))
    if resolved["min_requests"] < 1:
        raise ValueError("threshold min_requests must be at least 1, got %r" % (resolved["min_requests"],))
    if not 0 < resolved["alpha"] < 1:
        raise ValueError("threshold alpha must be between 0 and 1 (exclusive), got %r" % (resolved["alpha"],))
    if resolved["min_effect_size"] > 1:
        raise ValueError("threshold min_effect_size must be from 0 to 1, got %r" % (resolved["min_effect_size"],))
    for key in INTEGER_THRESHOLDS:
        resolved[key] = int(resolved[key])
    return resolved


def validate_side(side, label):
    """A side's figures, checked: the four counts as integers >= 0 and latencies_ms as numbers >= 0."""
    if not isinstance(side, dict):
        raise ValueError("%s must be a dict of counts and latencies_ms, got %r" % (label, side))
    missing = [key for key in SIDE_KEYS if key not in side]
    if missing:
        raise ValueError("%s is missing %s" % (label, ", ".join(missing)))
    known = SIDE_KEYS + OPTIONAL_COUNT_KEYS
    unknown = sorted(set(side) - set(known), key=str)
    if unknown:
        raise ValueError("%s has unknown key(s) %s; known: %s" % (label, ", ".join(map(repr, unknown)), ", ".join(known)))
    side = dict(side)
    for key in OPTIONAL_COUNT_KEYS:
        side.setdefault(key, 0)
    for key in SIDE_COUNT_KEYS + OPTIONAL_COUNT_KEYS:
        value = side[key]
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError("%s.%s must be a whole number >= 0, got %r" % (label, key, value))
    latencies = finite_values(side["latencies_ms"], "%s.latencies_ms" % label)
    for index, value in enumerate(latencies):
        if value < 0:
            raise ValueError("%s.latencies_ms[%d] is %r, a negative latency" % (label, index, value))
    errors = side["http_5xx"] + side["connection_errors"] + side["failed_attempts"]
    if errors > side["requests"]:
        raise ValueError("%s counts %d errors (http_5xx + connection_errors + failed_attempts) in %d requests"
                         % (label, errors, side["requests"]))
    if side["http_4xx"] + side["http_5xx"] > side["requests"]:
        raise ValueError("%s counts %d 4xx and %d 5xx answers in %d requests"
                         % (label, side["http_4xx"], side["http_5xx"], side["requests"]))
    checked = dict((key, side[key]) for key in SIDE_COUNT_KEYS + OPTIONAL_COUNT_KEYS)
    checked["latencies_ms"] = latencies
    return checked


def _check(name, measured, threshold, breached, outcome, note=""):
    return {
        "name": name,
        "measured": measured,
        "threshold": threshold,
        "breached": breached,
        "outcome": outcome,
        "note": note,
    }


def _requests_check(cloud, onprem, limits):
    enough = min(cloud["requests"], onprem["requests"]) >= limits["min_requests"]
    return _check(
        "requests",
        {"cloud": cloud["requests"], "onprem": onprem["requests"]},
        {"min_requests": limits["min_requests"]},
        not enough,
        PASS if enough else INCONCLUSIVE,
        "" if enough else "too few requests on a side to judge",
    )


def _errors_of(side):
    return side["http_5xx"] + side["connection_errors"] + side["failed_attempts"]


def _4xx_of(side):
    return side["http_4xx"]


def _rate_check(name, count_of, count_name, max_diff_points, cloud, onprem, limits, enough_volume):
    """A share of the requests (errors, 4xx answers), cloud against on-prem: failed when the cloud's is more than
    max_diff_points above and a one-sided two-proportion test says it is not chance."""
    def rate_points(side):
        return 100.0 * count_of(side) / side["requests"] if side["requests"] else None

    cloud_rate, onprem_rate = rate_points(cloud), rate_points(onprem)
    measured = {"cloud_pct": cloud_rate, "onprem_pct": onprem_rate, "diff_points": None, "p_value": None}
    threshold = {"max_diff_points": max_diff_points, "alpha": limits["alpha"]}
    if cloud_rate is None or onprem_rate is None:
        return _check(name, measured, threshold, False, INCONCLUSIVE, "no requests on a side")
    measured["diff_points"] = cloud_rate - onprem_rate
    measured["cloud_" + count_name] = count_of(cloud)
    measured["onprem_" + count_name] = count_of(onprem)
    measured["p_value"] = _one_sided_rate_p_value(count_of(cloud), cloud["requests"], count_of(onprem), onprem["requests"])
    over = measured["diff_points"] > threshold["max_diff_points"]
    significant = measured["p_value"] < limits["alpha"] / 2.0
    breached = over and significant
    if over and not significant:
        note = "difference over threshold but not significant (one-sided p >= alpha/2)"
    else:
        note = ""
    if breached:
        # Significant even on a small window: too few requests cannot make a worse cloud pass.
        return _check(name, measured, threshold, breached, FAIL, note)
    if not enough_volume:
        return _check(name, measured, threshold, breached, INCONCLUSIVE, note or "too few requests")
    return _check(name, measured, threshold, breached, PASS, note)


def _error_rate_check(cloud, onprem, limits, enough_volume):
    return _rate_check("error_rate", _errors_of, "errors", limits["max_error_rate_diff_points"], cloud, onprem, limits,
                       enough_volume)


def _4xx_rate_check(cloud, onprem, limits, enough_volume):
    return _rate_check("4xx_rate", _4xx_of, "4xx", limits["max_4xx_rate_diff_points"], cloud, onprem, limits,
                       enough_volume)


def _check_failures_check(cloud, onprem, limits):
    breached = cloud["check_failures"] > limits["max_check_failures"]
    return _check(
        "check_failures",
        {"cloud": cloud["check_failures"], "onprem": onprem["check_failures"]},
        {"max_check_failures": limits["max_check_failures"]},
        breached,
        FAIL if breached else PASS,
        "cloud health checks failed" if breached else "",
    )


def _latency_checks(cloud, onprem, limits, enough_volume):
    cloud_ms, onprem_ms = cloud["latencies_ms"], onprem["latencies_ms"]
    p95_threshold = {"max_diff_ms": limits["max_p95_diff_ms"], "max_ratio": limits["max_p95_ratio"]}
    shift_threshold = {"alpha": limits["alpha"], "min_effect_size": limits["min_effect_size"]}
    p95_measured = {"cloud_samples": len(cloud_ms), "onprem_samples": len(onprem_ms)}
    if not cloud_ms or not onprem_ms:
        note = "no latency samples on a side"
        return [
            _check("p95_latency", p95_measured, p95_threshold, False, INCONCLUSIVE, note),
            _check("latency_shift", {}, shift_threshold, False, SKIPPED, note),
        ]
    cloud_p95, onprem_p95 = percentile(cloud_ms, 95), percentile(onprem_ms, 95)
    # The deciding figures first, so they lead the table row.
    p95_measured = {
        "cloud_p95_ms": cloud_p95,
        "onprem_p95_ms": onprem_p95,
        "diff_ms": cloud_p95 - onprem_p95,
        "ratio": cloud_p95 / onprem_p95 if onprem_p95 > 0 else (1.0 if cloud_p95 == 0 else float("inf")),
    }
    # p50 and p99 are in the figures table next to the verdict.
    p95_measured["cloud_samples"] = len(cloud_ms)
    p95_measured["onprem_samples"] = len(onprem_ms)
    p95_breached = p95_measured["diff_ms"] > limits["max_p95_diff_ms"] and p95_measured["ratio"] > limits["max_p95_ratio"]

    if min(len(cloud_ms), len(onprem_ms)) >= MIN_RANK_SAMPLES:
        test = mann_whitney_u(cloud_ms, onprem_ms)
        shift_measured = {
            "p_value": test["p_value"],
            "rank_biserial": test["rank_biserial"],
            "z": test["z"],
            "u": test["u_a"],
        }
        shift_breached = test["p_value"] < limits["alpha"] and test["rank_biserial"] >= limits["min_effect_size"]
        # A slow cloud cuts its own traffic: a window that turned slow late holds few slow samples, too few
        # for the rank test's effect size. Its tail still shows: more of the cloud's requests than on-prem's
        # beyond the p95 threshold, by a one-sided two-proportion test.
        tail_limit = max(onprem_p95 + limits["max_p95_diff_ms"], onprem_p95 * limits["max_p95_ratio"])
        cloud_tail = sum(1 for value in cloud_ms if value > tail_limit)
        onprem_tail = sum(1 for value in onprem_ms if value > tail_limit)
        tail_p_value = _one_sided_rate_p_value(cloud_tail, len(cloud_ms), onprem_tail, len(onprem_ms))
        tail_breached = p95_breached and tail_p_value < limits["alpha"] / 2.0
        p95_measured.update({"cloud_tail_pct": 100.0 * cloud_tail / len(cloud_ms),
                             "onprem_tail_pct": 100.0 * onprem_tail / len(onprem_ms),
                             "tail_over_ms": tail_limit, "tail_p_value": tail_p_value})
        shift_confirms = shift_breached or tail_breached
        shift_note = ""
    else:
        shift_measured = {}
        shift_breached = False
        shift_confirms = True  # no test possible: the p95 breach decides alone
        shift_note = "fewer than %d latencies on a side: not tested" % MIN_RANK_SAMPLES

    latency_fails = p95_breached and shift_confirms
    if p95_breached and not shift_confirms:
        p95_note = "p95 over threshold but no significant shift or tail: treated as noise"
    elif latency_fails and shift_measured and not shift_breached:
        p95_note = "the cloud's tail beyond on-prem's p95 + threshold is significantly larger"
    elif shift_breached and not p95_breached:
        p95_note = ""
        shift_note = "significant shift but p95 within thresholds"
    else:
        p95_note = ""
    if latency_fails and (enough_volume or shift_measured):
        # With too few requests only a breach the rank test confirms fails; nothing passes.
        p95_outcome = FAIL
    elif not enough_volume:
        p95_outcome = INCONCLUSIVE
        p95_note = p95_note or "too few requests"
    else:
        p95_outcome = PASS
    # Both latency rows carry the same combined decision, so the table shows which half tripped.
    shift_outcome = p95_outcome if shift_measured else SKIPPED
    return [
        _check("p95_latency", p95_measured, p95_threshold, p95_breached, p95_outcome, p95_note),
        _check("latency_shift", shift_measured, shift_threshold, shift_breached, shift_outcome, shift_note),
    ]


def compare_sides(cloud, onprem, thresholds=None):
    """Gate verdict for cloud against on-prem on one window.

    cloud, onprem: dicts with integer counts requests, http_5xx, connection_errors,
    check_failures, optionally failed_attempts (retried elsewhere; requests includes every failed
    one) and http_4xx, and latencies_ms (list of numbers).
    thresholds: dict overriding DEFAULT_THRESHOLDS (None values keep the default).

    Returns {"verdict": "pass"|"fail"|"inconclusive", "thresholds": resolved, "checks": [...]},
    each check {"name", "measured", "threshold", "breached", "outcome", "note"}; outcome is
    pass, fail, inconclusive or skipped (a check that could not run and does not count).
    """
    limits = resolve_thresholds(thresholds)
    cloud = validate_side(cloud, "cloud")
    onprem = validate_side(onprem, "onprem")

    volume = _requests_check(cloud, onprem, limits)
    enough_volume = volume["outcome"] == PASS
    checks = [volume, _error_rate_check(cloud, onprem, limits, enough_volume), _4xx_rate_check(cloud, onprem, limits, enough_volume),
              _check_failures_check(cloud, onprem, limits)]
    checks.extend(_latency_checks(cloud, onprem, limits, enough_volume))

    outcomes = set(check["outcome"] for check in checks)
    if FAIL in outcomes:
        verdict = FAIL
    elif INCONCLUSIVE in outcomes:
        verdict = INCONCLUSIVE
    else:
        verdict = PASS
    return {"verdict": verdict, "thresholds": limits, "checks": checks}


def _format_value(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        if math.isinf(value):
            return "inf"
        if value != 0 and abs(value) < 0.001:
            return "%.2e" % value
        return ("%.3f" % value).rstrip("0").rstrip(".")
    return str(value)


def _format_pairs(pairs):
    return " ".join("%s=%s" % (key, _format_value(value)) for key, value in pairs.items()) or "-"


def format_verdict(result):
    """Lines of a plain-text table: one row per check, measured figures next to thresholds."""
    if not isinstance(result, dict) or "verdict" not in result or "checks" not in result:
        raise ValueError("format_verdict needs the dict returned by compare_sides, got %r" % (result,))
    header = ("check", "outcome", "measured", "threshold", "note")
    rows = [
        (check["name"], check["outcome"], _format_pairs(check["measured"]), _format_pairs(check["threshold"]), check.get("note", ""))
        for check in result["checks"]
    ]
    widths = [max(len(row[column]) for row in rows + [header]) for column in range(len(header) - 1)]

    def line(row):
        cells = [cell.ljust(width) for cell, width in zip(row, widths)] + [row[-1]]
        return "  ".join(cells).rstrip()

    return ["verdict: %s" % result["verdict"].upper(), line(header)] + [line(row) for row in rows]
