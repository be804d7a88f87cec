# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: shadow_progress
short_description: replicate.yml's progress line for one stage, the copies of every node added up
version_added: 0.3.0
description:
  - Stage, app, percent and seconds, then copies sampled, sent, dropped and failed (late), the shadow's answers by
    class and its error share (failed copies and 5xx among the copies that ended).
options:
  _input:
    description: The app's name.
    type: str
    required: true
  index:
    description: The stage's number, from 1.
    type: int
    required: true
  total:
    description: How many stages the schedule has.
    type: int
    required: true
  stage:
    description: The stage, [percent, seconds].
    type: list
    elements: int
    required: true
  node_counters:
    description: Each node's counters over the stage (M(cloudshift.migration.haproxy_shadow)'s C(held.counters)).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Progress
  ansible.builtin.debug:
    msg: "{{ 'application-01' | cloudshift.migration.shadow_progress(1, 9, [1, 45], [held.held.counters]) }}"
"""

RETURN = r"""
_value:
  description: The line.
  type: str
"""

from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.shadow import stage_progress


class FilterModule(object):
    def filters(self):
        return {"shadow_progress": stage_progress}
