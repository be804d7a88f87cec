# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: route_map
short_description: A routing map file of the app model's routes, as the haproxy_map module writes it
version_added: 0.1.0
description:
  - V(prefix) gives the map of every app's prefix routes, C(<host><prefix> <app>--<route>) per line, used
    with C(map_beg) (a tree: the longest prefix wins, the order does not matter).
  - V(regex) gives the map of one app's regex routes, C(<regex> <app>--<route>) per line in the app model's
    order, used with C(map_reg) (the first match wins).
  - The text is exactly what M(cloudshift.migration.haproxy_map) writes for the same entries, header included.
options:
  _input:
    description: The app model, C(cloudshift_apps).
    type: list
    elements: dict
    required: true
  kind:
    description: Which map.
    type: str
    choices: [prefix, regex]
    required: true
  app:
    description: Name of the app whose regex map is wanted (V(regex) only).
    type: str
"""

EXAMPLES = r"""
- name: Write the prefix routing map
  ansible.builtin.copy:
    content: "{{ cloudshift_apps | cloudshift.migration.route_map('prefix') }}"
    dest: /etc/haproxy/routes/prefix.map
    mode: "0644"
"""

RETURN = r"""
_value:
  description: The map file's text.
  type: str
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.routes import prefix_map_file, regex_map_file


def route_map(apps, kind, app=None):
    if kind == "prefix":
        return prefix_map_file(apps)
    if kind == "regex":
        matching = [item for item in apps if item.get("name") == app]
        if not matching:
            raise AnsibleFilterError("route_map: no app named %r in the app model" % (app,))
        return regex_map_file(matching[0])
    raise AnsibleFilterError("route_map: kind must be prefix or regex, got %r" % (kind,))


class FilterModule(object):
    def filters(self):
        return {"route_map": route_map}
