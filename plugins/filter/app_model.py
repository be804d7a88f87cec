# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: app_model
short_description: The app model resolved for a node - backends, servers per side, weights, maps, shadow entries
version_added: 0.7.0
description:
  - The Jinja door to the collection's one app model (C(plugins/module_utils/app_model)). haproxy.cfg.j2, the
    map files and the playbooks read backends, servers, weights, map paths and shadow settings from it, and from
    nothing else.
  - Each app gives a backend named after it and each of its routes a backend C(<app>--<route>), in app model
    order, at the step the node's state store records (else the app's or route's C(initial_step)).
options:
  _input:
    description: The app model, C(cloudshift_apps), checked first by P(cloudshift.migration.app_model_problems#filter).
    type: list
    elements: dict
    required: true
  recorded:
    description:
      - The node's recorded state, app name to the app's state store record
        (M(cloudshift.migration.migration_state) with O(cloudshift.migration.migration_state#module:apps)).
    type: dict
    default: {}
  settings:
    description:
      - The role settings the model reads - C(hosts_map), C(routes_dir), C(ca_file), C(backup_weight), C(retries),
        C(retry_on), C(retry_methods), C(gate_thresholds).
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Every backend of the app model at its recorded step
  ansible.builtin.debug:
    msg: "{{ (cloudshift_apps | cloudshift.migration.app_model(recorded, settings)).backends | map(attribute='name') }}"
"""

RETURN = r"""
_value:
  description: The resolved model.
  type: dict
  contains:
    backends:
      description:
        - One per app and route - name, app, route, label, host, step, step_source, initial_step, servers (each with
          its weight at the step and its config_weight in haproxy.cfg), cloud_servers, onprem_servers, weights,
          onprem_backup, health_check, retry, thresholds, kind, match.
      type: list
      elements: dict
    maps:
      description: Every map file - path, match, kind, entries, content.
      type: list
      elements: dict
    shadow:
      description: Each shadowed app's shadow settings with their defaults.
      type: list
      elements: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.cloudshift.migration.plugins.module_utils.app_model.model import resolve
from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError


def app_model(apps, recorded=None, settings=None):
    try:
        return resolve(apps, recorded or {}, settings or {})
    except (CloudshiftError, KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError("app_model: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"app_model": app_model}
