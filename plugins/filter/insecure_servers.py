# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: insecure_servers
short_description: The servers of the app model whose TLS certificate is not verified, each one warned about
version_added: 0.5.0
description:
  - Lists the servers with C(verify none) (allowed only with C(insecure true)) and, unless O(warn=false), shows an
    Ansible warning for each, so that every run of site.yml, migrate.yml, ramp.yml and status.yml says so.
options:
  _input:
    description: The app model (C(cloudshift_apps)), or some of its apps.
    type: list
    elements: dict
    required: true
  warn:
    description: Show a warning for each server.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Warn about every server whose certificate is not verified
  ansible.builtin.set_fact:
    insecure: "{{ cloudshift_apps | cloudshift.migration.insecure_servers }}"
"""

RETURN = r"""
_value:
  description: One line per insecure server.
  type: list
  elements: str
"""

from ansible.utils.display import Display


def insecure_servers(apps, warn=True):
    lines = []
    for app in apps or []:
        for server in (app or {}).get("servers") or []:
            if (server or {}).get("verify") == "none":
                lines.append("app %s server %s (%s:%s) uses verify none (insecure: true): its TLS certificate is NOT "
                             "checked, anyone on the path can pose as it"
                             % (app.get("name"), server.get("name"), server.get("address"), server.get("port")))
    if warn:
        for line in lines:
            Display().warning(line)
    return lines


class FilterModule(object):
    def filters(self):
        return {"insecure_servers": insecure_servers}
