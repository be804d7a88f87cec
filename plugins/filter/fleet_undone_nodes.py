# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: fleet_undone_nodes
short_description: The nodes where a step that did not reach every node was taken back
version_added: 0.5.0
description:
  - From the per-node rows of a failed fleet step (see P(cloudshift.migration.fleet_failure_report#filter)), the
    names of the nodes whose step was taken back.
options:
  _input:
    description: One row per node (node, undo).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Say where the step was taken back
  ansible.builtin.debug:
    msg: "{{ rows | cloudshift.migration.fleet_undone_nodes | join(', ') }}"
"""

RETURN = r"""
_value:
  description: Node names.
  type: list
  elements: str
"""

from ansible_collections.cloudshift.migration.plugins.module_utils.fleet import undone_nodes


class FilterModule(object):
    def filters(self):
        return {"fleet_undone_nodes": undone_nodes}
