# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Approvals (pure): an app's `approval` makes every step up to `from_step` or above wait for a person's name,
`-e approve=NAME` (one of `approvers` when the app lists them), which the audit line keeps. In AWX, the workflow's
approval node comes before the job that passes it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

APPROVAL_KEYS = ("from_step", "approvers")
APPROVER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")


def _is_step(value):
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 100


def approval_problems(app, label):
    """The problems of an app's approval entry, one sentence each."""
    approval = app.get("approval")
    if approval is None:
        return []
    if not isinstance(approval, dict):
        return ["%s: approval must be a mapping (from_step, approvers), got %r" % (label, approval)]
    problems = ["%s: approval has an unknown key %r (known: %s)" % (label, key, ", ".join(APPROVAL_KEYS))
                for key in sorted(set(approval) - set(APPROVAL_KEYS), key=str)]
    if not _is_step(approval.get("from_step")):
        problems.append("%s: approval.from_step %r is not a step from 1 to 100 (the first step that needs an approval)"
                        % (label, approval.get("from_step")))
    approvers = approval.get("approvers", [])
    if not isinstance(approvers, list) or not all(isinstance(name, str) and APPROVER_RE.match(name)
                                                  for name in approvers):
        problems.append("%s: approval.approvers %r must be a list of names (letters, digits, . _ @ + -)"
                        % (label, approvers))
    return problems


def approver_problem(approve):
    """The problem of -e approve=NAME, or None."""
    if approve in (None, ""):
        return None
    if not isinstance(approve, str) or not APPROVER_RE.match(approve):
        return ("invalid approve %r: the approver's name (letters, digits, . _ @ + -, up to 64)" % (approve,))
    return None


def needs_approval(app, step):
    """Whether a move up to step needs an approval for app."""
    approval = (app or {}).get("approval")
    return bool(approval) and isinstance(step, int) and step >= approval["from_step"]


def refusal(app, label, current, step, raising, approve):
    """The line refusing a step up that lacks its approval, or None."""
    if not raising or not needs_approval(app, step):
        return None
    approvers = app["approval"].get("approvers") or []
    if not approve:
        return ("refused: %s stays at step %s, step %s needs an approval from step %s on (-e approve=NAME%s); "
                "nothing was changed" % (label, current, step, app["approval"]["from_step"],
                                         ", one of %s" % ", ".join(approvers) if approvers else ""))
    if approvers and approve not in approvers:
        return ("refused: %s stays at step %s, %s may not approve step %s (approvers: %s); nothing was changed"
                % (label, current, approve, step, ", ".join(approvers)))
    return None


def ramp_refusal(app, label, steps, approve):
    """The problem of a ramp whose stages need an approval it was not given (a ramp runs unattended: it is given at
    its start), or None."""
    stages = [step for step in steps if needs_approval(app, step)]
    if not stages:
        return None
    approvers = app["approval"].get("approvers") or []
    if not approve:
        return ("stage%s %s of the ramp of %s need%s an approval (-e approve=NAME%s)" % (
            "s" if len(stages) > 1 else "", ", ".join(str(step) for step in stages), label,
            "" if len(stages) > 1 else "s", ", one of %s" % ", ".join(approvers) if approvers else ""))
    if approvers and approve not in approvers:
        return "%s may not approve the ramp of %s (approvers: %s)" % (approve, label, ", ".join(approvers))
    return None
