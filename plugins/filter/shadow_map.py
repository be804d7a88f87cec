# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: shadow_map
short_description: The shadow map file (app, percent, deadline) from each shadowed app's recorded share
version_added: 0.3.0
description:
  - Takes the results of M(cloudshift.migration.haproxy_shadow) reading the node's store (with O(read_live=false)),
    one per app with a C(shadow) entry, looped with the app as C(item).
  - Each app's recorded share, else its C(shadow.initial_percent); an app at 0 or past its lease has no line.
options:
  _input:
    description: The registered loop results.
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Render the shadow map
  ansible.builtin.copy:
    content: "{{ recorded.results | cloudshift.migration.shadow_map }}"
    dest: /etc/haproxy/shadow.map
    mode: "0644"
"""

RETURN = r"""
_value:
  description: The map file's text, a comment line then C(<app> <percent>@<deadline>) per line.
  type: str
"""

from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.shadow import map_content


class FilterModule(object):
    def filters(self):
        return {"shadow_map": map_content}
