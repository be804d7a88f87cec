# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: ramp_decide
short_description: What ramp.yml does after a check - raise, hold, roll back or finish - with its progress line
version_added: 0.2.0
description:
  - "A pass counts toward O(checks_per_step), then raises to the next step (or finishes at the last). A fail adds
    to the failures in a row; at O(threshold) it rolls back to step 0. An inconclusive check holds (at step 0 it
    raises: there is nothing to judge before the cloud has traffic)."
  - Returns the new state with C(line), the check's progress line (step, verdict, cloud and on-prem requests,
    error rates and p95, the failure streak, what follows, and the numbers of every failing check).
options:
  _input:
    description: The state (from C(cloudshift.migration.ramp_start) or a previous C(ramp_decide)).
    type: dict
    required: true
  gate:
    description: The registered result of C(cloudshift.migration.migration_gate) for this check.
    type: dict
    required: true
  steps:
    description: The steps of the ramp.
    type: list
    elements: int
    required: true
  threshold:
    description: Failed checks in a row that roll back.
    type: int
    required: true
  checks_per_step:
    description: Passed checks needed before the next step.
    type: int
    required: true
  dry_run:
    description: Word the line as what would be done.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Decide after this check
  ansible.builtin.set_fact:
    ramp_state: "{{ ramp_state | cloudshift.migration.ramp_decide(gate, [1, 5, 25, 100], 2, 1) }}"
"""

RETURN = r"""
_value:
  description: The new state (step, passes, fails, checks, action, target, remaining, line).
  type: dict
"""

from ansible_collections.cloudshift.migration.plugins.module_utils.ramp import decide, progress_line


def ramp_decide(state, gate, steps, threshold, checks_per_step, dry_run=False):
    new = decide(state, gate["verdict"], steps, threshold, checks_per_step)
    new["line"] = progress_line(new["checks"], state["step"], gate, new, threshold, dry_run=dry_run)
    return new


class FilterModule(object):
    def filters(self):
        return {"ramp_decide": ramp_decide}
