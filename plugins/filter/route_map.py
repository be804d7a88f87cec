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
    with C(map_beg) (a tree, so the longest prefix wins and the order does not matter).
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
  entries:
    description:
      - Return the map's entries as a list of C(key)/C(value) dicts (the O(cloudshift.migration.haproxy_map#module:entries)
        of M(cloudshift.migration.haproxy_map)) instead of the file's text.
    type: bool
    default: false
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
  description: The map file's text, or its entries with O(entries=true).
  type: raw
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.maps import as_dicts, render_map_file
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.routes import (
    PREFIX_MATCH, REGEX_MATCH, prefix_map_entries, regex_map_entries)


def route_map(apps, kind, app=None, entries=False):
    if kind == "prefix":
        map_entries, method = prefix_map_entries(apps), PREFIX_MATCH
    elif kind == "regex":
        matching = [item for item in apps if item.get("name") == app]
        if not matching:
            raise AnsibleFilterError("route_map: no app named %r in the app model" % (app,))
        map_entries, method = regex_map_entries(matching[0]), REGEX_MATCH
    else:
        raise AnsibleFilterError("route_map: kind must be prefix or regex, got %r" % (kind,))
    return as_dicts(map_entries) if entries else render_map_file(map_entries, [method])


class FilterModule(object):
    def filters(self):
        return {"route_map": route_map}
