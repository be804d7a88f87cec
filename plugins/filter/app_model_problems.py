# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: app_model_problems
short_description: Every problem of the app model and the role variables of the haproxy role, one sentence each
version_added: 0.7.0
description:
  - The one validation of C(cloudshift_apps) (docs/app-model.md) and of the variables of the role
    C(cloudshift.migration.haproxy), in this order - the role variables (names, binds, paths, timeouts,
    resolvers, the admin socket's mode, the stats page, users, the log target, integer ranges), each app's own
    fields (unique names and hosts, C(haproxy_default_backend), name, host, C(initial_step), C(health_check),
    servers), then the routes, the retry policy, the gate thresholds, the AWS side (C(cloud), C(dns),
    C(haproxy_aws)) and shadow traffic.
  - Every sentence names the value, quoted as P(ansible.builtin.to_json#filter) quotes it, so that a newline or a quote
    is shown, not obeyed.
  - An empty list means all is well.
options:
  _input:
    description: The app model, C(cloudshift_apps).
    type: list
    elements: dict
    required: true
  settings:
    description:
      - The role variables by name (C(haproxy_frontend_name), C(haproxy_frontend_bind), C(haproxy_timeouts),
        C(haproxy_stats_page), C(haproxy_retries), C(haproxy_gate_thresholds), C(haproxy_aws)...).
      - A variable left out takes the role's default.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Refuse a bad app model or bad role variables
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join('; ') }}"
  vars:
    problems: >-
      {{ cloudshift_apps | cloudshift.migration.app_model_problems({
           'haproxy_frontend_name': haproxy_frontend_name,
           'haproxy_frontend_bind': haproxy_frontend_bind,
           'haproxy_stats_page': haproxy_stats_page,
           'haproxy_gate_thresholds': haproxy_gate_thresholds}) }}
"""

RETURN = r"""
_value:
  description: One sentence per problem, naming the variable or the app (and server) and the bad value.
  type: list
  elements: str
"""

from ansible_collections.cloudshift.migration.plugins.module_utils.app_model.validation import app_model_problems


class FilterModule(object):
    def filters(self):
        return {"app_model_problems": app_model_problems}
