# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: route_problems
short_description: Problems in the routes of the app model, one sentence each
version_added: 0.1.0
description:
  - Checks the C(routes) of every app of C(cloudshift_apps) (docs/app-model.md) - names valid for HAProxy
    and unique in the app, exactly one of C(prefix) or C(regex) per match, prefixes starting with C(/),
    regexes compiled with PCRE2 as HAProxy compiles C(map_reg) keys, regex routes listed before prefix
    routes, no two routes with the same match, C(initial_step) 0-100, route backend names
    C(<app>--<route>) of at most 128 characters and not the name of an app.
  - Used by the preflight of the role C(cloudshift.migration.haproxy); an empty list means all is well.
options:
  _input:
    description: The app model, C(cloudshift_apps).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Refuse bad routes
  ansible.builtin.assert:
    that: cloudshift_apps | cloudshift.migration.route_problems | length == 0
    fail_msg: "{{ cloudshift_apps | cloudshift.migration.route_problems | join('; ') }}"
"""

RETURN = r"""
_value:
  description: One sentence per problem, naming the app, the route and the bad value.
  type: list
  elements: str
"""

from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.routes import route_problems


class FilterModule(object):
    def filters(self):
        return {"route_problems": route_problems}
