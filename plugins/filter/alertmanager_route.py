# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: alertmanager_route
short_description: The Alertmanager route and inhibit rules of cloudshift.migration's alerts
version_added: 0.4.0
description:
  - A route matching C(component="cloudshift-migration") (severity C(page) to its own receiver) to put under
    C(route.routes) of an Alertmanager configuration, and inhibit rules to add to its C(inhibit_rules).
options:
  _input:
    description: The settings, with C(receiver) and C(page_receiver).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Render the Alertmanager snippet
  ansible.builtin.copy:
    content: "{{ {'receiver': 'team-web'} | cloudshift.migration.alertmanager_route | ansible.builtin.to_nice_yaml }}"
    dest: /etc/alertmanager/cloudshift-migration.yml
    mode: "0644"
"""

RETURN = r"""
_value:
  description: "C({\"route\": {...}, \"inhibit_rules\": [...]})."
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.cloudshift.migration.plugins.module_utils.alerts import AlertModelError, alertmanager_snippet


def alertmanager_route(settings):
    try:
        return alertmanager_snippet(settings)
    except AlertModelError as exc:
        raise AnsibleFilterError("alertmanager route: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"alertmanager_route": alertmanager_route}
