# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: route_backends
short_description: Every route of the app model with its backend name and step
version_added: 0.1.0
description:
  - Lists the routes of every app of C(cloudshift_apps), in the app model's order, each with its backend
    C(<app>--<route>), its match and its step - the step recorded in the state store, else the route's
    C(initial_step) (default 0).
options:
  _input:
    description: The app model, C(cloudshift_apps) (checked by P(cloudshift.migration.route_problems#filter) first).
    type: list
    elements: dict
    required: true
  recorded:
    description: The recorded steps, app name to a dict of route name to step.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Route backends and steps
  ansible.builtin.set_fact:
    haproxy_routes: "{{ cloudshift_apps | cloudshift.migration.route_backends({'application-02': {'customers': 50}}) }}"
"""

RETURN = r"""
_value:
  description:
    - One dict per route - app, route, backend, kind (V(prefix) or V(regex)), match, step, source,
      initial_step, health_check (the route's, else the app's).
  type: list
  elements: dict
"""

from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.routes import routes_with_steps


class FilterModule(object):
    def filters(self):
        return {"route_backends": routes_with_steps}
