# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""analysis: percentiles, Mann-Whitney U and the step gate, on known distributions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import itertools
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.cloudshift.migration.plugins.module_utils.analysis import (
    DEFAULT_THRESHOLDS,
    MIN_RANK_SAMPLES,
    compare_sides,
    format_verdict,
    mann_whitney_u,
    percentile,
)

finite_floats = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
# Few distinct values so that ties are common.
tied_values = st.integers(min_value=0, max_value=6)


def side(requests, latencies, http_5xx=0, connection_errors=0, check_failures=0):
    return {
        "requests": requests,
        "http_5xx": http_5xx,
        "connection_errors": connection_errors,
        "check_failures": check_failures,
        "latencies_ms": latencies,
    }


def lognormal_ms(rng, count, median_ms, sigma=0.4, shift_ms=0.0):
    return [rng.lognormvariate(math.log(median_ms), sigma) + shift_ms for _draw in range(count)]


def simulated_side(rng, count, error_rate, median_ms, shift_ms=0.0):
    errors = sum(1 for _draw in range(count) if rng.random() < error_rate)
    return side(count, lognormal_ms(rng, count, median_ms, shift_ms=shift_ms), http_5xx=errors)


def check_named(result, name):
    return next(check for check in result["checks"] if check["name"] == name)


def brute_force_u(sample_a, sample_b):
    return sum(1.0 if a > b else 0.5 if a == b else 0.0 for a in sample_a for b in sample_b)


def exact_two_sided_p(sample_a, sample_b):
    """Exact permutation p-value of U: every way of labelling the pooled values."""
    pooled = sample_a + sample_b
    n_a, n_b = len(sample_a), len(sample_b)
    mean_u = n_a * n_b / 2.0
    observed = abs(brute_force_u(sample_a, sample_b) - mean_u)
    extreme = total = 0
    for chosen in itertools.combinations(range(len(pooled)), n_a):
        chosen_set = set(chosen)
        relabelled_a = [pooled[i] for i in chosen]
        relabelled_b = [pooled[i] for i in range(len(pooled)) if i not in chosen_set]
        total += 1
        if abs(brute_force_u(relabelled_a, relabelled_b) - mean_u) >= observed - 1e-9:
            extreme += 1
    return extreme / total


# ---------------------------------------------------------------- percentile


@pytest.mark.parametrize(
    "values, q, expected",
    [
        ([1, 2, 3, 4, 5], 50, 3),
        ([1, 2, 3, 4], 50, 2.5),
        ([15, 20, 35, 40, 50], 40, 29.0),  # position 1.6: 20 + 0.6 * 15
        ([10], 95, 10),
        (list(range(1, 101)), 95, 95.05),  # position 94.05 in 1..100
        (list(range(1, 101)), 0, 1),
        (list(range(1, 101)), 100, 100),
        ([3, 1, 2], 25, 1.5),  # unsorted input
    ],
)
def test_percentile_known_values(values, q, expected):
    assert percentile(values, q) == pytest.approx(expected)


def test_percentile_of_a_large_uniform_sample_is_close_to_the_true_quantile():
    rng = random.Random(11)
    sample = [rng.uniform(0, 1000) for _draw in range(20000)]
    assert percentile(sample, 95) == pytest.approx(950, abs=10)
    assert percentile(sample, 50) == pytest.approx(500, abs=15)


@given(st.lists(finite_floats, min_size=1, max_size=50), st.floats(min_value=0, max_value=100), st.floats(min_value=0, max_value=100))
def test_percentile_is_monotone_and_within_range(values, q_low, q_high):
    q_low, q_high = sorted((q_low, q_high))
    low, high = percentile(values, q_low), percentile(values, q_high)
    assert min(values) <= low <= high <= max(values) + 1e-9 * max(1, abs(max(values)))


@pytest.mark.parametrize(
    "values, q, message",
    [
        ([], 50, "empty"),
        ([1, 2], -1, "-1"),
        ([1, 2], 100.5, "100.5"),
        ([1, 2], True, "True"),
        ([1, 2], "95", "'95'"),
        ([1, 2], float("nan"), "nan"),
        ([1, "slow"], 50, "values[1] is 'slow'"),
        ([1, float("inf")], 50, "values[1] is inf"),
        ([1, None], 50, "values[1] is None"),
        ("123", 50, "'123'"),
    ],
)
def test_percentile_rejects_bad_input_naming_it(values, q, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        percentile(values, q)


# ---------------------------------------------------------------- Mann-Whitney U


def test_mann_whitney_complete_separation_by_hand():
    # U_a = 0; mean 32; variance 8*8*17/12 = 90.667; z = (0 - 32 + 0.5) / 9.5219 = -3.3082
    result = mann_whitney_u(list(range(1, 9)), list(range(9, 17)))
    assert result["u_a"] == 0 and result["u_b"] == 64
    assert result["z"] == pytest.approx(-3.3082, abs=1e-4)
    assert result["p_value"] == pytest.approx(0.000939, abs=2e-6)
    assert result["common_language"] == 0 and result["rank_biserial"] == -1


def test_mann_whitney_tie_correction_by_hand():
    sample_a = [1, 1, 2, 2, 3, 3, 4, 4]
    sample_b = [2, 2, 3, 3, 4, 4, 5, 5]
    # Wins: each a=3 beats both b=2 (4), each a=4 beats b=2,2,3,3 (8) -> 12;
    # ties: a=2/b=2 (4), a=3/b=3 (4), a=4/b=4 (4) -> 12 * 0.5 = 6. U_a = 18.
    result = mann_whitney_u(sample_a, sample_b)
    assert result["u_a"] == 18 == brute_force_u(sample_a, sample_b)
    # Tie groups in the pooled 16 values: 1 x2, 2 x4, 3 x4, 4 x4, 5 x2 -> sum(t^3 - t) = 2*6 + 3*60 = 192.
    variance = 8 * 8 / 12.0 * (17 - 192 / (16 * 15.0))
    expected_z = (18 - 32 + 0.5) / math.sqrt(variance)
    assert result["z"] == pytest.approx(expected_z)
    assert result["p_value"] == pytest.approx(math.erfc(abs(expected_z) / math.sqrt(2)))
    assert result["rank_biserial"] == pytest.approx(2 * 18 / 64.0 - 1)


@pytest.mark.parametrize(
    "sample_a, sample_b",
    [
        ([19, 22, 16, 29, 24, 27, 31, 21], [20, 11, 17, 12, 14, 18, 15, 23]),
        ([1.1, 2.3, 2.3, 4.0, 5.2, 6.1, 7.7, 8.0], [2.3, 3.3, 4.0, 6.0, 6.1, 9.9, 10.5, 12.0, 13.1]),
        ([5, 5, 5, 6, 6, 7, 8, 9], [5, 6, 6, 7, 7, 8, 9, 9]),
    ],
)
def test_mann_whitney_matches_brute_force_u_and_exact_permutation_p(sample_a, sample_b):
    result = mann_whitney_u(sample_a, sample_b)
    assert result["u_a"] == brute_force_u(sample_a, sample_b)
    # The normal approximation stays close to the exact permutation distribution at n = 8-9.
    assert result["p_value"] == pytest.approx(exact_two_sided_p(sample_a, sample_b), abs=0.02)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(tied_values, min_size=MIN_RANK_SAMPLES, max_size=30),
    st.lists(tied_values, min_size=MIN_RANK_SAMPLES, max_size=30),
    st.integers(min_value=-100, max_value=100),
)
def test_mann_whitney_properties(sample_a, sample_b, offset):
    result = mann_whitney_u(sample_a, sample_b)
    assert result["u_a"] == brute_force_u(sample_a, sample_b)
    assert result["u_a"] + result["u_b"] == len(sample_a) * len(sample_b)
    assert 0 <= result["p_value"] <= 1
    assert -1 <= result["rank_biserial"] <= 1
    # Swapped on purpose: the statistic must change sign.
    swapped = mann_whitney_u(sample_b, sample_a)  # pylint: disable=arguments-out-of-order
    assert swapped["z"] == pytest.approx(-result["z"])
    assert swapped["rank_biserial"] == pytest.approx(-result["rank_biserial"])
    assert swapped["p_value"] == pytest.approx(result["p_value"])
    shifted = mann_whitney_u([v + offset for v in sample_a], [v + offset for v in sample_b])
    assert shifted["p_value"] == pytest.approx(result["p_value"])


def test_mann_whitney_all_values_tied_is_no_evidence():
    result = mann_whitney_u([7] * 10, [7] * 12)
    assert result["z"] == 0 and result["p_value"] == 1 and result["rank_biserial"] == 0


def test_mann_whitney_false_positive_rate_on_identical_distributions():
    rng = random.Random(2024)
    trials = 400
    rejections = sum(
        mann_whitney_u(lognormal_ms(rng, 60, 20), lognormal_ms(rng, 60, 20))["p_value"] < 0.05 for _draw in range(trials)
    )
    # Nominal 5%; binomial sd over 400 trials is about 1.1 points.
    assert 0.01 < rejections / trials < 0.09


@pytest.mark.parametrize(
    "sample_a, sample_b, message",
    [
        ([1] * (MIN_RANK_SAMPLES - 1), [1] * 20, "sample_a has %d values.*at least %d" % (MIN_RANK_SAMPLES - 1, MIN_RANK_SAMPLES)),
        ([1] * 20, [], "sample_b has 0 values.*at least %d" % MIN_RANK_SAMPLES),
        ([1] * 9 + ["x"], [1] * 10, r"sample_a\[9\] is 'x'"),
        ([1] * 10, [1] * 9 + [float("nan")], r"sample_b\[9\] is nan"),
        (None, [1] * 10, "sample_a must be a list.*None"),
    ],
)
def test_mann_whitney_rejects_bad_input_naming_it(sample_a, sample_b, message):
    with pytest.raises(ValueError, match=message):
        mann_whitney_u(sample_a, sample_b)


# ---------------------------------------------------------------- gate


def test_gate_false_fail_rate_on_identical_sides_is_under_one_percent():
    rng = random.Random(4)
    trials = 1000
    failures = 0
    for _draw in range(trials):
        requests = rng.randint(200, 600)
        cloud = simulated_side(rng, requests, error_rate=0.01, median_ms=20)
        onprem = simulated_side(rng, requests, error_rate=0.01, median_ms=20)
        failures += compare_sides(cloud, onprem)["verdict"] == "fail"
    rate = failures / trials
    print("gate false-fail rate on identical sides: %d/%d = %.2f%%" % (failures, trials, 100 * rate))
    assert rate < 0.01


def test_gate_false_fail_rate_on_small_identical_windows_is_under_one_percent():
    # Small windows can fail now (on a confirmed breach): identical sides must still almost never do,
    # with HAProxy's whole-millisecond timings (many ties) and a heavy tail.
    rng = random.Random(5)
    trials = 1000
    failures = 0
    for _draw in range(trials):
        requests = rng.randint(10, 199)
        cloud = simulated_side(rng, requests, error_rate=0.02, median_ms=20)
        onprem = simulated_side(rng, requests, error_rate=0.02, median_ms=20)
        for figures in (cloud, onprem):
            figures["latencies_ms"] = [float(int(value)) for value in figures["latencies_ms"]]
        failures += compare_sides(cloud, onprem)["verdict"] == "fail"
    rate = failures / trials
    print("gate false-fail rate on small identical windows: %d/%d = %.2f%%" % (failures, trials, 100 * rate))
    assert rate < 0.01


def test_gate_fails_a_cloud_300_ms_slower_with_the_latency_numbers():
    rng = random.Random(300)
    cloud = simulated_side(rng, 400, error_rate=0.0, median_ms=20, shift_ms=300)
    onprem = simulated_side(rng, 400, error_rate=0.0, median_ms=20)
    result = compare_sides(cloud, onprem)
    assert result["verdict"] == "fail"
    p95 = check_named(result, "p95_latency")
    shift = check_named(result, "latency_shift")
    assert p95["outcome"] == "fail" and shift["outcome"] == "fail"
    assert p95["measured"]["diff_ms"] > 250 and p95["measured"]["cloud_p95_ms"] > 300
    assert p95["threshold"] == {"max_diff_ms": 50.0, "max_ratio": 1.5}
    assert shift["measured"]["p_value"] < 1e-10 and shift["measured"]["rank_biserial"] > 0.9
    assert check_named(result, "error_rate")["outcome"] == "pass"
    table = "\n".join(format_verdict(result))
    assert "verdict: FAIL" in table
    assert "cloud_p95_ms=%s" % ("%.3f" % p95["measured"]["cloud_p95_ms"]).rstrip("0").rstrip(".") in table
    assert "max_diff_ms=50" in table


@pytest.mark.parametrize("median_ms, extra_ms", [(20, 2.0), (20, 3.0), (1.0, 2.5)])
def test_gate_passes_a_cloud_a_few_ms_slower_as_in_the_field_report(median_ms, extra_ms):
    rng = random.Random(23)
    cloud = simulated_side(rng, 2000, error_rate=0.002, median_ms=median_ms, shift_ms=extra_ms)
    onprem = simulated_side(rng, 2000, error_rate=0.002, median_ms=median_ms)
    result = compare_sides(cloud, onprem)
    assert result["verdict"] == "pass", format_verdict(result)
    # With 2000 samples the shift itself is real and detected; the p95 thresholds keep it from failing.
    assert check_named(result, "p95_latency")["measured"]["diff_ms"] < 10


def test_gate_treats_a_p95_breach_without_a_significant_shift_or_tail_as_noise():
    # Three slow outliers in a small sample push cloud p95 over both thresholds, but neither the bulk
    # (rank test) nor the tail (3 of 40 against 1 of 40) differs significantly.
    rng = random.Random(5)
    onprem_ms = lognormal_ms(rng, 39, 20, sigma=0.1) + [500.0]
    cloud_ms = lognormal_ms(rng, 37, 20, sigma=0.1) + [500.0] * 3  # 7.5 % outliers: p95 = 500
    result = compare_sides(side(400, cloud_ms), side(400, onprem_ms))
    p95 = check_named(result, "p95_latency")
    assert p95["measured"]["cloud_p95_ms"] == 500
    assert p95["measured"]["tail_p_value"] >= 0.005
    assert p95["breached"] and p95["outcome"] == "pass" and "noise" in p95["note"]
    assert result["verdict"] == "pass"


def test_gate_fails_a_slow_tail_the_rank_test_alone_misses():
    # 7.5 % of the cloud's requests 25 times slower (a cloud that turned slow late in the window cuts its
    # own traffic, so its slow samples are few): the bulk is unchanged, the tail is not.
    rng = random.Random(5)
    onprem_ms = lognormal_ms(rng, 400, 20, sigma=0.1)
    cloud_ms = lognormal_ms(rng, 370, 20, sigma=0.1) + [500.0] * 30
    result = compare_sides(side(400, cloud_ms), side(400, onprem_ms))
    p95, shift = check_named(result, "p95_latency"), check_named(result, "latency_shift")
    assert not shift["breached"]  # the rank test alone would call it noise
    assert p95["measured"]["cloud_tail_pct"] == 7.5 and p95["measured"]["onprem_tail_pct"] == 0
    assert p95["measured"]["tail_p_value"] < 0.005
    assert p95["outcome"] == "fail" and "tail" in p95["note"]
    assert result["verdict"] == "fail"


def test_gate_with_too_few_latency_samples_uses_the_p95_breach_alone():
    result = compare_sides(side(300, [400.0] * 5), side(300, [10.0] * 5))
    assert check_named(result, "latency_shift")["outcome"] == "skipped"
    assert check_named(result, "p95_latency")["outcome"] == "fail"
    assert result["verdict"] == "fail"


def test_gate_faster_cloud_passes():
    rng = random.Random(9)
    cloud = simulated_side(rng, 500, error_rate=0.0, median_ms=5)
    onprem = simulated_side(rng, 500, error_rate=0.05, median_ms=200)
    assert compare_sides(cloud, onprem)["verdict"] == "pass"


@pytest.mark.parametrize("cloud_requests, onprem_requests", [(199, 5000), (5000, 150), (0, 0)])
def test_gate_with_too_few_requests_is_inconclusive(cloud_requests, onprem_requests):
    rng = random.Random(1)
    cloud = simulated_side(rng, cloud_requests, error_rate=0.0, median_ms=20)
    onprem = simulated_side(rng, onprem_requests, error_rate=0.0, median_ms=20)
    result = compare_sides(cloud, onprem)
    assert result["verdict"] == "inconclusive"
    requests = check_named(result, "requests")
    assert requests["measured"] == {"cloud": cloud_requests, "onprem": onprem_requests}
    assert requests["threshold"] == {"min_requests": 200} and requests["outcome"] == "inconclusive"
    assert "requests" in "\n".join(format_verdict(result))


def test_gate_with_few_requests_but_a_confirmed_slow_cloud_fails():
    # Too few requests cannot pass, but a breach the rank test confirms still fails: a slow cloud
    # cuts its own traffic (closed-loop clients wait), and must not hide behind "too few".
    rng = random.Random(2)
    cloud = simulated_side(rng, 100, error_rate=0.0, median_ms=20, shift_ms=300)
    onprem = simulated_side(rng, 100, error_rate=0.0, median_ms=20)
    result = compare_sides(cloud, onprem)
    assert result["verdict"] == "fail"
    assert check_named(result, "requests")["outcome"] == "inconclusive"
    assert check_named(result, "p95_latency")["breached"] and check_named(result, "p95_latency")["outcome"] == "fail"


def test_gate_with_too_few_latencies_for_the_rank_test_never_fails_on_latency():
    cloud = side(5, [300.0, 310.0, 305.0, 320.0, 330.0])
    onprem = side(5, [20.0, 21.0, 22.0, 19.0, 20.0])
    result = compare_sides(cloud, onprem)
    assert result["verdict"] == "inconclusive"
    assert check_named(result, "p95_latency")["outcome"] == "inconclusive"


def test_gate_with_few_requests_fails_on_a_significant_error_rate():
    cloud = side(150, [20.0] * 150, http_5xx=40)
    onprem = side(150, [20.0] * 150)
    result = compare_sides(cloud, onprem)
    assert result["verdict"] == "fail"
    assert check_named(result, "error_rate")["outcome"] == "fail"


def test_gate_counts_attempts_retried_elsewhere_as_cloud_errors():
    # A cloud whose every 503 was retried on-prem shows no 5xx of its own: its failed attempts count.
    cloud = side(1000, [1.0] * 1000)
    cloud["failed_attempts"] = 300
    onprem = side(1000, [1.0] * 1000)
    result = compare_sides(cloud, onprem)
    error_rate = check_named(result, "error_rate")
    assert error_rate["outcome"] == "fail" and result["verdict"] == "fail"
    assert error_rate["measured"]["cloud_pct"] == pytest.approx(30.0)
    assert error_rate["measured"]["cloud_errors"] == 300


def test_gate_refuses_more_errors_than_requests():
    cloud = side(10, [1.0] * 10, http_5xx=8)
    cloud["failed_attempts"] = 5
    with pytest.raises(ValueError, match="cloud counts 13 errors"):
        compare_sides(cloud, side(10, [1.0] * 10))


def test_gate_fails_on_cloud_error_rate_breach_with_the_numbers():
    rng = random.Random(7)
    latencies = lognormal_ms(rng, 1000, 20)
    cloud = side(1000, latencies, http_5xx=25, connection_errors=15)  # 4.0 %
    onprem = side(1000, lognormal_ms(rng, 1000, 20), http_5xx=5)  # 0.5 %
    result = compare_sides(cloud, onprem)
    assert result["verdict"] == "fail"
    error_rate = check_named(result, "error_rate")
    assert error_rate["outcome"] == "fail"
    assert error_rate["measured"]["cloud_pct"] == pytest.approx(4.0)
    assert error_rate["measured"]["onprem_pct"] == pytest.approx(0.5)
    assert error_rate["measured"]["diff_points"] == pytest.approx(3.5)
    assert error_rate["threshold"]["max_diff_points"] == 1.0
    assert "diff_points=3.5" in "\n".join(format_verdict(result))


def test_gate_cloud_all_5xx_fails():
    result = compare_sides(side(300, [10.0] * 300, http_5xx=300), side(300, [10.0] * 300))
    assert check_named(result, "error_rate")["outcome"] == "fail"
    assert result["verdict"] == "fail"


def test_gate_fails_on_cloud_check_failures_even_with_few_requests():
    result = compare_sides(side(10, [10.0] * 10, check_failures=2), side(10, [10.0] * 10))
    check = check_named(result, "check_failures")
    assert check["outcome"] == "fail" and check["measured"]["cloud"] == 2
    assert result["verdict"] == "fail"


def test_gate_thresholds_are_configurable():
    rng = random.Random(3)
    cloud = simulated_side(rng, 500, error_rate=0.0, median_ms=20, shift_ms=30)
    onprem = simulated_side(rng, 500, error_rate=0.0, median_ms=20)
    assert compare_sides(cloud, onprem)["verdict"] == "pass"
    strict = compare_sides(cloud, onprem, {"max_p95_diff_ms": 10, "max_p95_ratio": 1.2, "min_requests": None})
    assert strict["verdict"] == "fail"
    assert strict["thresholds"]["max_p95_diff_ms"] == 10 and strict["thresholds"]["min_requests"] == 200


def test_format_verdict_lists_every_check_aligned():
    rng = random.Random(8)
    result = compare_sides(simulated_side(rng, 300, 0.01, 20), simulated_side(rng, 300, 0.01, 20))
    lines = format_verdict(result)
    assert lines[0] == "verdict: PASS"
    assert lines[1].split() == ["check", "outcome", "measured", "threshold", "note"]
    names = [line.split()[0] for line in lines[2:]]
    assert names == ["requests", "error_rate", "4xx_rate", "check_failures", "p95_latency", "latency_shift"]
    assert len(set(line.index(" pass ") for line in lines[2:])) == 1


@pytest.mark.parametrize(
    "thresholds, message",
    [
        ({"max_p95_ms": 5}, "unknown threshold.*'max_p95_ms'"),
        ({"alpha": 1.5}, "alpha.*1.5"),
        ({"alpha": 0}, "alpha.*0"),
        ({"min_requests": 0}, "min_requests.*0"),
        ({"min_requests": 10.5}, "min_requests.*10.5"),
        ({"max_p95_diff_ms": -1}, "max_p95_diff_ms.*-1"),
        ({"max_p95_ratio": "1.5"}, "max_p95_ratio.*'1.5'"),
        ({"max_check_failures": True}, "max_check_failures.*True"),
        ({"min_effect_size": 2}, "min_effect_size.*2"),
        ({"max_error_rate_diff_points": float("nan")}, "max_error_rate_diff_points.*nan"),
        ("strict", "thresholds must be a dict.*'strict'"),
    ],
)
def test_gate_rejects_bad_thresholds_naming_them(thresholds, message):
    with pytest.raises(ValueError, match=message):
        compare_sides(side(300, [1.0] * 10), side(300, [1.0] * 10), thresholds)


@pytest.mark.parametrize(
    "cloud, message",
    [
        ({"requests": 300, "http_5xx": 0, "connection_errors": 0, "latencies_ms": []}, "cloud is missing check_failures"),
        (dict(side(300, []), http5xx=3), "cloud has unknown key.*'http5xx'"),
        (side(-1, []), "cloud.requests.*-1"),
        (side(300, [], http_5xx=2.5), "cloud.http_5xx.*2.5"),
        (side(300, [], connection_errors=True), "cloud.connection_errors.*True"),
        (side(300, [], check_failures="0"), "cloud.check_failures.*'0'"),
        (side(300, [1.0, -2.0]), r"cloud.latencies_ms\[1\] is -2.0"),
        (side(300, [1.0, "fast"]), r"cloud.latencies_ms\[1\] is 'fast'"),
        (side(300, None), "cloud.latencies_ms must be a list.*None"),
        ([300, 0, 0, 0], r"cloud must be a dict.*\[300"),
    ],
)
def test_gate_rejects_bad_sides_naming_the_value(cloud, message):
    with pytest.raises(ValueError, match=message):
        compare_sides(cloud, side(300, [1.0] * 10))


def test_gate_names_the_onprem_side_in_errors():
    with pytest.raises(ValueError, match="onprem.requests.*None"):
        compare_sides(side(300, [1.0]), side(None, [1.0]))


def test_format_verdict_rejects_something_else():
    with pytest.raises(ValueError, match="compare_sides.*'pass'"):
        format_verdict("pass")


def test_defaults_are_the_documented_ones():
    assert DEFAULT_THRESHOLDS == {
        "min_requests": 200,
        "max_error_rate_diff_points": 1.0,
        "max_4xx_rate_diff_points": 1.0,
        "max_p95_diff_ms": 50.0,
        "max_p95_ratio": 1.5,
        "alpha": 0.01,
        "min_effect_size": 0.1,
        "max_check_failures": 0,
    }


def with_4xx(rng, figures, rate):
    figures["http_4xx"] = sum(1 for _draw in range(figures["requests"] - figures["http_5xx"]) if rng.random() < rate)
    return figures


def test_a_rewritten_route_answering_404_fails_the_4xx_check_with_its_numbers():
    rng = random.Random(11)
    onprem = with_4xx(rng, simulated_side(rng, 400, error_rate=0.0, median_ms=20), 0.02)
    cloud = simulated_side(rng, 400, error_rate=0.0, median_ms=20)
    cloud["http_4xx"] = 120  # 30% of the cloud's answers are 404: no server fails, no 5xx
    result = compare_sides(cloud, onprem)
    check = check_named(result, "4xx_rate")
    assert result["verdict"] == "fail" and check["outcome"] == "fail"
    assert check["measured"]["cloud_4xx"] == 120 and check["measured"]["cloud_pct"] == 30.0
    assert check["measured"]["diff_points"] > 25 and check["measured"]["p_value"] < 1e-6
    assert check_named(result, "error_rate")["outcome"] == "pass"
    # Its own threshold: an app whose routes may differ in 4xx by 40 points passes.
    assert compare_sides(cloud, onprem, {"max_4xx_rate_diff_points": 40})["verdict"] == "pass"
    line = [text for text in format_verdict(result) if text.startswith("4xx_rate")][0]
    assert "cloud_4xx=120" in line and "max_diff_points=1" in line


def test_identical_4xx_shares_almost_never_fail_and_windows_without_4xx_counts_still_judge():
    rng = random.Random(12)
    trials, failures = 1000, 0
    for _draw in range(trials):
        requests = rng.randint(200, 600)
        cloud = with_4xx(rng, simulated_side(rng, requests, error_rate=0.01, median_ms=20), 0.05)
        onprem = with_4xx(rng, simulated_side(rng, requests, error_rate=0.01, median_ms=20), 0.05)
        failures += compare_sides(cloud, onprem)["verdict"] == "fail"
    print("gate false-fail rate with 5xx and 4xx noise: %d/%d" % (failures, trials))
    assert failures / trials < 0.01
    old = compare_sides(side(300, [10.0] * 300), side(300, [10.0] * 300))  # a window of before 0.8: no http_4xx
    assert check_named(old, "4xx_rate")["outcome"] == "pass"


def test_more_4xx_and_5xx_answers_than_requests_are_refused():
    with pytest.raises(ValueError, match="cloud counts 8 4xx and 3 5xx answers in 10 requests"):
        compare_sides(dict(side(10, [], http_5xx=3), http_4xx=8), side(10, []))
