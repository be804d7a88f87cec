"""The fleet gate with its on-prem reference, ramp decisions and progress lines, audit records (pure)."""

import json

import pytest

from ansible_collections.cloudshift.migration.plugins.module_utils import audit, gate, ramp
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy import stats
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.report import figures_table

CLOUD = "aws-a"
ONPREM = "onprem-a"


def stat_row(name, backup=0, **counters):
    row = dict((column, 0) for column in stats.COUNTERS)
    row.update({"pxname": "app", "svname": name, "type": 2, "status": "UP", "weight": 50, "bck": backup})
    row.update(counters)
    return row


def window(cloud_ms, onprem_ms, cloud_5xx=0, onprem_backup=False, check_failures=0):
    lines = []
    for index, value in enumerate(cloud_ms):
        lines.append('1.1.1.1:1 [d] fe app/%s 0/0/0/%d/%d 200 1 ---- 1/1/0/0/0 0/0 "GET / HTTP/1.1" 7.%d'
                     % (CLOUD, value, value, index))
    for index, value in enumerate(onprem_ms):
        lines.append('1.1.1.1:1 [d] fe app/%s 0/0/0/%d/%d 200 1 ---- 1/1/0/0/0 0/0 "GET / HTTP/1.1" 7.%d'
                     % (ONPREM, value, value, 100000 + index))
    rows = [stat_row(CLOUD, req_tot=len(cloud_ms), hrsp_2xx=len(cloud_ms) - cloud_5xx, hrsp_5xx=cloud_5xx,
                     chkfail=check_failures),
            stat_row(ONPREM, backup=int(onprem_backup), req_tot=len(onprem_ms), hrsp_2xx=len(onprem_ms))]
    after = stats.snapshot_from("app", "Pid: 7\nStart_time_sec: 1700000000\n", rows, ring="r", ring_lines=lines,
                                taken_at=1700000100.0)
    return stats.compute_window(None, after, lines, [CLOUD], [ONPREM])


def spread(base, count, width=3):
    return [base + index % width for index in range(count)]


# ------------------------------------------------------------------- gate


def test_fleet_gate_fails_a_slow_cloud_and_shows_numbers_and_figures():
    windows = {"a": window(spread(300, 150), spread(1, 150)), "b": window(spread(300, 150), spread(1, 150))}
    result = gate.evaluate(windows)
    assert result["verdict"] == "fail"
    assert result["window"]["sides"]["cloud"]["requests"] == 300
    p95 = next(check for check in result["checks"] if check["name"] == "p95_latency")
    assert p95["outcome"] == "fail" and p95["measured"]["cloud_p95_ms"] == pytest.approx(302.0)
    assert "verdict: FAIL" in result["table"][0]
    table = figures_table(windows, result["window"])
    assert table[0].split()[:3] == ["node", "side", "requests"]
    assert any(row.startswith("all nodes") and " cloud " in row and " 300 " in row for row in table), table
    assert result["new_reference"]["requests"] == 300 and len(result["new_reference"]["latency_quantiles_ms"]) == 101


def test_fleet_gate_passes_identical_sides():
    result = gate.evaluate({"a": window(spread(1, 300), spread(1, 300))})
    assert result["verdict"] == "pass" and result["reference_used"] is None


def test_reference_stands_in_for_on_prem_only_when_on_prem_is_a_backup():
    reference = gate.evaluate({"a": window(spread(1, 300), spread(1, 300))}, label="app")["new_reference"]
    at_100 = {"a": window(spread(300, 400), [], onprem_backup=True)}
    judged = gate.evaluate(at_100, reference=reference)
    assert judged["reference_used"]["requests"] == 300 and judged["verdict"] == "fail"
    assert "on-prem figures: reference of app" in judged["table"][1]
    healthy_at_100 = gate.evaluate({"a": window(spread(1, 400), [], onprem_backup=True)}, reference=reference)
    assert healthy_at_100["verdict"] == "pass"
    # On-prem still active but quiet: no stand-in, the verdict stays inconclusive.
    quiet = gate.evaluate({"a": window(spread(1, 400), spread(1, 20))}, reference=reference)
    assert quiet["reference_used"] is None and quiet["verdict"] == "inconclusive"
    assert quiet["new_reference"] is None


def test_gate_refuses_a_reference_it_did_not_write():
    with pytest.raises(gate.GateError, match="not one written by migration_gate"):
        gate.evaluate({"a": window(spread(1, 300), [], onprem_backup=True)}, reference={"requests": 5})


def test_reference_file_round_trip(tmp_path):
    path = str(tmp_path / "sub" / "app.onprem-reference.json")
    assert gate.read_reference(path) is None
    gate.write_reference(path, {"format": 1, "requests": 3})
    assert gate.read_reference(path) == {"format": 1, "requests": 3}
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(gate.GateError, match="is not valid JSON"):
        gate.read_reference(str(tmp_path / "bad.json"))


# ------------------------------------------------------------------- ramp


STEPS = [1, 5, 25, 100]


def test_ramp_raises_on_pass_and_finishes_at_the_last_step():
    state = ramp.start_state(0, STEPS)
    assert state["remaining"] == STEPS
    state = ramp.decide(state, "inconclusive", STEPS, 2, 1)  # nothing to judge at 0
    assert (state["action"], state["target"], state["step"]) == ("raise", 1, 1)
    for expected in (5, 25, 100):
        state = ramp.decide(state, "pass", STEPS, 2, 1)
        assert (state["action"], state["target"]) == ("raise", expected)
    state = ramp.decide(state, "pass", STEPS, 2, 1)
    assert state["action"] == "done" and state["checks"] == 5 and state["remaining"] == []


def test_ramp_rolls_back_after_threshold_failures_in_a_row_only():
    state = ramp.start_state(25, STEPS)
    state = ramp.decide(state, "fail", STEPS, 3, 1)
    state = ramp.decide(state, "fail", STEPS, 3, 1)
    state = ramp.decide(state, "pass", STEPS, 3, 2)  # the streak breaks
    assert state["fails"] == 0 and state["action"] == "hold"
    for _check in range(2):
        state = ramp.decide(state, "fail", STEPS, 3, 2)
        assert state["action"] == "hold"
    state = ramp.decide(state, "inconclusive", STEPS, 3, 2)  # neither grows nor resets the streak
    assert state["fails"] == 2 and state["action"] == "hold"
    state = ramp.decide(state, "fail", STEPS, 3, 2)
    assert (state["action"], state["target"], state["step"]) == ("rollback", 0, 0)


def test_ramp_needs_checks_per_step_passes_and_holds_when_inconclusive():
    state = ramp.start_state(5, STEPS)
    state = ramp.decide(state, "pass", STEPS, 2, 2)
    assert state["action"] == "hold" and state["passes"] == 1
    state = ramp.decide(state, "inconclusive", STEPS, 2, 2)
    assert state["action"] == "hold" and state["passes"] == 1
    state = ramp.decide(state, "pass", STEPS, 2, 2)
    assert (state["action"], state["target"], state["passes"]) == ("raise", 25, 0)


def test_ramp_resumes_between_steps():
    state = ramp.start_state(10, STEPS)
    assert state["remaining"] == [25, 100]
    assert ramp.decide(state, "pass", STEPS, 2, 1)["target"] == 25


@pytest.mark.parametrize("args, message", [
    (([], 10, 2, 1), "steps must be a non-empty list"),
    (([5, 1], 10, 2, 1), "steps must go up, each once, got [5, 1]"),
    (([5, 5], 10, 2, 1), "steps must go up, each once"),
    (([0, 5], 10, 2, 1), "steps must be integers from 1 to 100, got 0"),
    ((["x"], 10, 2, 1), "got 'x'"),
    (([1, True], 10, 2, 1), "got True"),
    (([5], 0, 2, 1), "interval must be a number of seconds above 0 and at most 3600, got 0"),
    (([5], 3601, 2, 1), "got 3601"),
    (([5], True, 2, 1), "got True"),
    (([5], 10, 0, 1), "threshold must be an integer from 1"),
    (([5], 10, "2x", 1), "got '2x'"),
    (([5], 10, 2, -1), "checks_per_step must be an integer from 1"),
    (([5], 10, 2, 1, 0), "max_checks must be an integer from 1"),
])
def test_ramp_problems_name_the_bad_value(args, message):
    problems = ramp.ramp_problems(*args)
    assert len(problems) == 1 and message in problems[0], problems


def test_ramp_accepts_strings_of_digits_from_extra_vars():
    assert ramp.ramp_problems(["1", "50", "100"], "10", "2", "1", "30") == []


def test_progress_line_names_the_numbers_of_the_failing_check():
    result = gate.evaluate({"a": window(spread(300, 300), spread(1, 300))})
    state = ramp.decide(ramp.start_state(25, STEPS), result["verdict"], STEPS, 2, 1)
    text = ramp.progress_line(1, 25, result, state, 2)
    assert text.startswith("check 1 | step 25 | FAIL | cloud 300 req, errors 0.00%, p95 302 ms | on-prem 300 req")
    assert "failed in a row 1/2 | hold at 25 | failing: p95_latency (cloud_p95_ms=302 " in text
    assert "max_diff_ms=50.0" in text
    dry = ramp.progress_line(1, 25, result, dict(state, action="raise", target=50), 2, dry_run=True)
    assert "would raise to 50" in dry
    assert "\n" not in text


# ------------------------------------------------------------------- audit


def test_audit_record_keeps_who_when_steps_verdict_and_figures(tmp_path):
    result = gate.evaluate({"a": window(spread(1, 300), spread(1, 300), cloud_5xx=3)})
    record = audit.build_record("application-01", "step", by="alice", from_step=25, to_step=50,
                                verdict=result["verdict"], details={"figures": audit.figures_digest(result["window"])},
                                at="2026-12-02T10:00:00.000+00:00")
    path = audit.append_record(str(tmp_path / "audit"), record)
    audit.append_record(str(tmp_path / "audit"), dict(record, action="rollback", to=25))
    lines = open(path).read().splitlines()
    assert len(lines) == 2 and path.endswith("audit/application-01.jsonl")
    first = json.loads(lines[0])
    assert first["by"] == "alice" and first["from"] == 25 and first["to"] == 50 and first["verdict"] == "pass"
    assert first["figures"]["cloud"]["requests"] == 300
    assert first["figures"]["cloud"]["shares_pct"]["5xx"] == 1.0
    assert first["figures"]["onprem"]["server_ms"]["p95"] is not None
    assert [entry["action"] for entry in audit.read_records(path)] == ["step", "rollback"]


@pytest.mark.parametrize("kwargs, message", [
    ({"app": "app;rm", "action": "step"}, "invalid app name"),
    ({"app": "app", "action": "jump"}, "unknown audit action 'jump'"),
    ({"app": "app", "action": "step", "to_step": 101}, "to_step must be a step from 0 to 100, got 101"),
    ({"app": "app", "action": "step", "verdict": "maybe"}, "verdict must be pass, fail or inconclusive"),
    ({"app": "app", "action": "step", "details": {"app": "other"}}, "may not override the audit field 'app'"),
])
def test_bad_audit_records_are_refused(kwargs, message):
    with pytest.raises(ValueError if "name" in message else audit.AuditError, match=message):
        audit.build_record(**kwargs)


# ------------------------------------------------------------------- model checks (filters)


def test_gate_problems_check_the_role_then_each_app_then_each_route():
    from ansible_collections.cloudshift.migration.plugins.module_utils.gate import gate_problems
    apps = [{"name": "application-01", "gate": {"max_p95_diff_ms": 100}},
            {"name": "application-02", "gate": {"alpha": 3},
             "routes": [{"name": "customers", "gate": {"min_requests": 0}}]},
            {"name": "application-03", "routes": [{"name": "v2", "gate": {"p95": 1}}, {"name": "v1", "gate": "strict"}]}]
    problems = gate_problems(apps, {"min_requests": 50})
    assert problems[0].startswith("gate thresholds of app application-02: threshold alpha must be between 0 and 1")
    assert any("app application-02 route customers" in problem for problem in problems)
    assert any("app application-03 route v2: unknown threshold(s) 'p95'" in problem for problem in problems)
    assert any("app application-03 route v1 must be a dict, got 'strict'" in problem for problem in problems)
    assert len(problems) == 4, problems
    assert gate_problems([], {"max_check_failures": 1.5}) == [
        "gate thresholds of migration_gate_thresholds: threshold max_check_failures must be a whole number, got 1.5"]
    assert gate_problems(apps[:1], {}) == []


@pytest.mark.parametrize("apps, retries, retry_on, methods, message", [
    ([], 11, ["conn-failure"], ["GET"], "retries must be an integer from 0 to 10, got 11"),
    ([], 1, ["conn-failure", "timeout"], ["GET"], "unknown retry-on condition(s) 'timeout'"),
    ([], 1, ["none", "503"], ["GET"], "retry-on 'none' cannot be combined"),
    ([], 1, ["503"], ["GET", "POST"], "POST is not idempotent and must never be sent twice"),
    ([], 1, ["503"], ["get"], "methods must be upper-case HTTP method names, got 'get'"),
    ([{"name": "application-01", "retry": {"methods": ["PATCH"]}}], 1, ["503"], ["GET"],
     "app application-01 retry: PATCH is not idempotent"),
    ([{"name": "application-01", "retry": {"tries": 2}}], 1, ["503"], ["GET"], "unknown key(s) tries"),
])
def test_retry_problems_name_the_bad_value(apps, retries, retry_on, methods, message):
    from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.retry import retry_problems
    problems = retry_problems(apps, retries, retry_on, methods)
    assert any(message in problem for problem in problems), problems


def test_the_default_retry_policy_is_fine():
    from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.retry import retry_problems
    assert retry_problems([{"name": "a", "retry": {"retry_on": ["none"]}}], 1,
                          ["conn-failure", "empty-response", "response-timeout", "502", "503", "504"],
                          ["GET", "HEAD", "OPTIONS"]) == []


def test_a_record_after_a_torn_line_starts_a_line_of_its_own_and_the_torn_line_is_reported(tmp_path):
    """Issue 18 #7: a crash mid-write leaves a last line without its newline; the next record must not be glued on."""
    directory = str(tmp_path / "audit")
    path = audit.append_record(directory, audit.build_record("application-01", "step", from_step=0, to_step=5))
    with open(path, "a") as handle:
        handle.write('{"format":1,"app":"application-01","act')  # torn
    audit.append_record(directory, audit.build_record("application-01", "step", from_step=5, to_step=10))
    damaged = []
    records = audit.read_records(path, damaged)
    assert [(record["from"], record["to"]) for record in records] == [(0, 5), (5, 10)]
    assert damaged == [{"line": 2, "text": '{"format":1,"app":"application-01","act'}]
    with open(path, "rb") as handle:
        assert handle.read().count(b"\n") == 3


def test_the_audit_log_is_checked_writable_without_writing(tmp_path):
    directory = tmp_path / "audit"
    assert audit.writable_problem(str(directory / "deeper"), "application-01") is None  # would be created
    assert not directory.exists()
    directory.mkdir()
    (directory / "application-01.jsonl").mkdir()  # not a file
    assert "Is a directory" in audit.writable_problem(str(directory), "application-01")
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert audit.writable_problem(str(blocker / "audit"), "application-01") == "%s is not a directory" % blocker
