# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: step_table
short_description: An operator's table of nodes, steps, shares and servers after a step
version_added: 0.1.0
description:
  - Turns the per-node reports left by C(migrate.yml) into lines of a fixed-width table.
options:
  _input:
    description: Per-node reports (node, app, previous_step, step, share, effective_share, servers).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Show nodes, shares and servers
  ansible.builtin.debug:
    msg: "{{ ansible_play_hosts | map('extract', hostvars, 'cloudshift_step_report') | cloudshift.migration.step_table }}"
"""

RETURN = r"""
_value:
  description: The table, one string a line.
  type: list
  elements: str
"""

from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.report import step_table


class FilterModule(object):
    def filters(self):
        return {"step_table": step_table}
