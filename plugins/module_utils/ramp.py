# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What ramp.yml does after each check (pure): raise to the next step, hold, roll back, or finish.

Rules, at the current step after each window of ``interval`` seconds:

* pass: counts toward ``checks_per_step``; once reached, raise to the next step above the
  current one, or finish when there is none;
* fail: one more failed check in a row; at ``threshold`` in a row, roll back to step 0;
* inconclusive (too few requests): hold, the failure streak neither grows nor resets. At step 0
  the cloud has no traffic to judge, so an inconclusive check raises to the first step.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DEFAULT_STEPS = (1, 5, 10, 25, 50, 75, 100)
MAX_INTERVAL = 3600
MAX_CHECKS = 10000

RAISE = "raise"
HOLD = "hold"
ROLLBACK = "rollback"
DONE = "done"


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _as_int(value):
    """An int from an int or a string of digits (extra vars arrive as strings), else None."""
    if _is_int(value):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def ramp_problems(steps, interval, threshold, checks_per_step, max_checks=None):
    """One sentence per bad ramp parameter, naming its value; empty when all are fine."""
    problems = []
    if not isinstance(steps, (list, tuple)) or not steps:
        problems.append("steps must be a non-empty list of steps from 1 to 100, got %r" % (steps,))
    else:
        bad = [step for step in steps if _as_int(step) is None or not 1 <= _as_int(step) <= 100]
        if bad:
            problems.append("steps must be integers from 1 to 100, got %s in %r" % (", ".join(repr(s) for s in bad), list(steps)))
        else:
            values = [_as_int(step) for step in steps]
            if values != sorted(set(values)):
                problems.append("steps must go up, each once, got %r" % (values,))
    try:
        interval_value = float(interval)
    except (TypeError, ValueError):
        interval_value = None
    if isinstance(interval, bool) or interval_value is None or not 0 < interval_value <= MAX_INTERVAL:
        problems.append("interval must be a number of seconds above 0 and at most %d, got %r" % (MAX_INTERVAL, interval))
    for name, value, low in (("threshold", threshold, 1), ("checks_per_step", checks_per_step, 1)):
        number = _as_int(value)
        if number is None or not low <= number <= MAX_CHECKS:
            problems.append("%s must be an integer from %d to %d, got %r" % (name, low, MAX_CHECKS, value))
    if max_checks is not None:
        number = _as_int(max_checks)
        if number is None or not 1 <= number <= MAX_CHECKS:
            problems.append("max_checks must be an integer from 1 to %d, got %r" % (MAX_CHECKS, max_checks))
    return problems


def default_max_checks(steps, checks_per_step):
    """A bound on the checks of one run: four windows per step to go (holds included), at least 8."""
    return max(8, 4 * (len(steps) + 1) * int(checks_per_step))


def next_step(steps, current):
    """The first step of steps above current, or None."""
    higher = [int(step) for step in steps if int(step) > current]
    return min(higher) if higher else None


def start_state(current, steps):
    return {"step": int(current), "passes": 0, "fails": 0, "checks": 0, "action": None, "target": None,
            "remaining": [int(step) for step in steps if int(step) > int(current)]}


def decide(state, verdict, steps, threshold, checks_per_step):
    """The state after one check's verdict: action (raise, hold, rollback, done) and target step."""
    if verdict not in ("pass", "fail", "inconclusive"):
        raise ValueError("verdict must be pass, fail or inconclusive, got %r" % (verdict,))
    threshold, checks_per_step = int(threshold), int(checks_per_step)
    new = dict(state)
    new["checks"] = state["checks"] + 1
    new["target"] = None
    step = state["step"]
    following = next_step(steps, step)
    if verdict == "fail":
        new["fails"] = state["fails"] + 1
        new["passes"] = 0
        if new["fails"] >= threshold:
            new["action"], new["target"] = ROLLBACK, 0
        else:
            new["action"] = HOLD
    elif verdict == "pass" or step == 0:
        new["fails"] = 0 if verdict == "pass" else state["fails"]
        new["passes"] = state["passes"] + 1
        if new["passes"] >= checks_per_step or step == 0:
            if following is None:
                new["action"] = DONE
            else:
                new["action"], new["target"] = RAISE, following
        else:
            new["action"] = HOLD
    else:
        new["action"] = HOLD
    if new["action"] in (RAISE, ROLLBACK):
        new["step"] = new["target"]
        new["passes"] = 0
        if new["action"] == RAISE:
            new["fails"] = 0
    new["remaining"] = [int(candidate) for candidate in steps if int(candidate) > new["step"]]
    return new


def _figures(side_figures, label):
    timings = side_figures["timings"]["server_ms"]
    rate = side_figures["error_rate_pct"]
    p95 = timings["p95"]
    return "%s %d req, errors %s, p95 %s" % (
        label, side_figures["requests"], "-" if rate is None else "%.2f%%" % rate, "-" if p95 is None else "%.0f ms" % p95)


def _failing(checks):
    parts = []
    for check in checks:
        if check["outcome"] != "fail":
            continue
        numbers = " ".join("%s=%s" % (key, ("%.4g" % value) if isinstance(value, float) else value)
                           for key, value in check["measured"].items())
        limits = " ".join("%s=%s" % (key, value) for key, value in check["threshold"].items())
        parts.append("%s (%s; %s)" % (check["name"], numbers, limits))
    return "; ".join(parts)


def progress_line(number, measured_step, gate, state, threshold, dry_run=False):
    """One line per check: the step, the verdict, cloud and on-prem figures, the streak and what follows."""
    sides = gate["window"]["sides"]
    would = "would " if dry_run else ""
    action = state["action"]
    if action == RAISE:
        then = "%sraise to %d" % (would, state["target"])
    elif action == ROLLBACK:
        then = "%sroll back to 0" % would
    elif action == DONE:
        then = "done at %d" % measured_step
    else:
        then = "hold at %d" % measured_step
    line = "check %d | step %d | %s | %s | %s | failed in a row %d/%d | %s" % (
        number, measured_step, gate["verdict"].upper(), _figures(sides["cloud"], "cloud"),
        _figures(sides["onprem"], "on-prem"), state["fails"], int(threshold), then)
    failing = _failing(gate["checks"])
    if failing:
        line += " | failing: " + failing
    return line


# -- the ramp's phases in the step engine (controller) ------------------------------------------------

def start_line(label, state, request, nodes):
    """What the ramp will do, said before its first window."""
    remaining = " -> ".join(str(step) for step in state["remaining"]) or "(nothing: already at the last step)"
    prefix = "dry run (nothing changes; it stops at the first decision): " if request["dry_run"] else ""
    return ("%sramp of %s from step %s to %s, a check every %g s on %d node(s), %d passed check(s) a step, rollback to 0 "
            "after %d failed in a row, at most %d checks" % (
                prefix, label, state["step"], remaining, request["interval"], nodes, request["checks_per_step"],
                request["threshold"], request["max_checks"]))


def start(label, request, plans):
    """The ramp's state before its first check, from every node's plan: they must all be at one step."""
    currents = dict((node, plan["current"]) for node, plan in plans.items())
    if len(set(currents.values())) != 1:
        raise ValueError("the nodes are not at the same step of %s (%s): put them in step with migrate.yml before "
                         "ramping" % (label, ", ".join("%s %s" % (node, currents[node]) for node in sorted(currents))))
    state = start_state(next(iter(currents.values())), request["steps"])
    state["window"] = {"start": "now", "seconds": request["interval"]}
    state["line"] = start_line(label, state, request, len(plans))
    return state


def next_window(state, interval):
    """Where the next check's window starts: when a raised step was set, else where this one ended."""
    return {"start": "step" if state["action"] == RAISE else "previous", "seconds": interval}


def after_check(state, gate, request):
    """The state after one check's gate, with its progress line and the next window."""
    new = decide(state, gate["verdict"], request["steps"], request["threshold"], request["checks_per_step"])
    new["measured_step"] = state["step"]
    new["line"] = progress_line(new["checks"], state["step"], gate, new, request["threshold"], dry_run=request["dry_run"])
    new["window"] = next_window(new, request["interval"])
    return new


def ends(state, dry_run):
    """Whether the ramp ends after this check (done, or a dry run's first decision)."""
    return state["action"] == DONE or (dry_run and state["action"] in (RAISE, ROLLBACK))


def end_lines(label, state, request, gate):
    """The lines the ramp ends with after a check: done, a dry run's decision, or the rollback's numbers."""
    measured = state["measured_step"]
    if state["action"] == ROLLBACK:
        head = "%s %s from step %s to 0 after %s failed checks in a row" % (
            "dry run: would roll back" if request["dry_run"] else "rolled back", label, measured, request["threshold"])
        return [head, state["line"], ""] + gate["table"] + [""] + gate["figures"]
    if request["dry_run"]:
        return ["dry run: the gate passes at step %s, the ramp would %s" % (
            measured, "raise to %s" % state["target"] if state["action"] == RAISE else "be done")]
    if state["action"] == DONE:
        return ["ramp of %s done at step %s after %s checks" % (label, measured, state["checks"])]
    return []


def stopped_lines(label, state, request, min_requests):
    return ["ramp of %s stopped after %s checks at step %s without reaching %s: the checks stayed inconclusive (too few "
            "requests for the gate's min_requests %s) or kept failing below the threshold. Rerun to resume, with a "
            "longer -e interval or -e max_checks. Last check: %s" % (
                label, state["checks"], state["step"], request["steps"][-1], min_requests, state.get("line"))]
