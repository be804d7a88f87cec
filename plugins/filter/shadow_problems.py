# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: shadow_problems
short_description: Problems in the app model's shadow entries, one sentence each naming the app and the value
version_added: 0.3.0
description:
  - Checks every app's C(shadow) (target, allow and deny regexes compiled as HAProxy's PCRE2 does, host, methods,
    timeout_ms, max_inflight, initial_percent). Used by the preflight; an empty list means all is well.
options:
  _input:
    description: The app model, C(cloudshift_apps).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Refuse a bad shadow entry
  ansible.builtin.assert:
    that: cloudshift_apps | cloudshift.migration.shadow_problems | length == 0
"""

RETURN = r"""
_value:
  description: One sentence per problem.
  type: list
  elements: str
"""

from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.shadow import shadow_problems


class FilterModule(object):
    def filters(self):
        return {"shadow_problems": shadow_problems}
