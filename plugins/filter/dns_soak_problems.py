# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: dns_soak_problems
short_description: Why an app's DNS may not move to the cloud yet (a node not at step 100, or not for the soak)
version_added: 0.3.0
description:
  - Takes each node's recorded step of the app (what M(cloudshift.migration.migration_state) returns) and says,
    one sentence per node, why the DNS cutover must wait; an empty list means every node has held step 100 for
    at least O(soak_seconds).
options:
  _input:
    description: Node name to the node's M(cloudshift.migration.migration_state) result (C(step), C(updated_at)).
    type: dict
    required: true
  soak_seconds:
    description: Seconds every node must have been at step 100.
    type: int
    required: true
  label:
    description: The app's name, for the messages.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Refuse DNS before the soak
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join('; ') }}"
  vars:
    problems: "{{ states | cloudshift.migration.dns_soak_problems(3600, 'application-01') }}"
"""

RETURN = r"""
_value:
  description: One sentence per node that is not ready, with its step and how long it has held it.
  type: list
  elements: str
"""

from ansible_collections.cloudshift.migration.plugins.module_utils.cloud_model import dns_soak_problems


class FilterModule(object):
    def filters(self):
        return {"dns_soak_problems": dns_soak_problems}
