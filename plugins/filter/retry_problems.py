# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: retry_problems
short_description: Problems in the retry policy of the backends, one sentence each
version_added: 0.2.0
description:
  - Checks the role's retry policy and every app's C(retry) override (docs/app-model.md, "Retries") -
    C(retries) from 0 to 10, C(retry-on) conditions HAProxy 2.6 knows (C(none) alone), methods that are
    idempotent (C(GET), C(HEAD), C(OPTIONS), C(TRACE), C(PUT), C(DELETE)), since a retried request is sent twice.
  - Used by the preflight of the role C(cloudshift.migration.haproxy); an empty list means all is well.
options:
  _input:
    description: The app model, C(cloudshift_apps).
    type: list
    elements: dict
    required: true
  retries:
    description: The role's C(haproxy_retries).
    type: int
    required: true
  retry_on:
    description: The role's C(haproxy_retry_on).
    type: list
    elements: str
    required: true
  methods:
    description: The role's C(haproxy_retry_methods).
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Refuse a bad retry policy
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join('; ') }}"
  vars:
    problems: "{{ cloudshift_apps | cloudshift.migration.retry_problems(1, ['conn-failure', '503'], ['GET']) }}"
"""

RETURN = r"""
_value:
  description: One sentence per problem, naming the app and the bad value.
  type: list
  elements: str
"""

from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.retry import retry_problems


class FilterModule(object):
    def filters(self):
        return {"retry_problems": retry_problems}
