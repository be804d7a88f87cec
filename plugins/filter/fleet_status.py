# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: fleet_status
short_description: The status of a fleet of HAProxy nodes - steps, shares, servers, nodes that disagree, drift
version_added: 0.5.0
description:
  - Turns every node's M(cloudshift.migration.haproxy_drift) result into one table (a row per backend and node),
    then the backends whose nodes disagree on the recorded step, each node's drift from its recorded state and
    the nodes that did not answer, and a summary line.
options:
  _input:
    description: One row per node, C({node, result}) or C({node, error}).
    type: list
    elements: dict
    required: true
  reconciled:
    description: Whether the results come from a reconcile (the drift was put back).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Show the fleet
  ansible.builtin.debug:
    msg: "{{ (rows | cloudshift.migration.fleet_status).lines | join('\n') }}"
"""

RETURN = r"""
_value:
  description: C(lines), C(disagreements), C(drift) (per node), C(unanswered) (per node) and C(consistent).
  type: dict
"""

from ansible_collections.cloudshift.migration.plugins.module_utils.fleet import status_report


def fleet_status(rows, reconciled=False):
    return status_report(rows, reconciled)


class FilterModule(object):
    def filters(self):
        return {"fleet_status": fleet_status}
