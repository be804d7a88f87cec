# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: fleet_failure_report
short_description: Which node failed a step, why, and where every node of the fleet stands
version_added: 0.5.0
description:
  - Turns the per-node rows the role builds after a step that did not reach every node into an operator's
    lines. The first line names the failed nodes, the second says whether the fleet is consistent or split.
options:
  _input:
    description: One row per node (node, failed, result, undo, error).
    type: list
    elements: dict
    required: true
  label:
    description: The app (or app and route) moved.
    type: str
    required: true
  target:
    description: The step that was applied.
    type: raw
    required: true
  mode:
    description: The fleet's on_node_failure setting.
    type: str
    default: revert
"""

EXAMPLES = r"""
- name: Stop, naming the failed node
  ansible.builtin.fail:
    msg: "{{ rows | cloudshift.migration.fleet_failure_report('application-01', 50) | join('\n') }}"
"""

RETURN = r"""
_value:
  description: The lines.
  type: list
  elements: str
"""

from ansible_collections.cloudshift.migration.plugins.module_utils.fleet import failure_report


def fleet_failure_report(rows, label, target, mode="revert"):
    return failure_report(label, target, rows, mode)


class FilterModule(object):
    def filters(self):
        return {"fleet_failure_report": fleet_failure_report}
