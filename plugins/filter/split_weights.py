# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: split_weights
short_description: Per-server HAProxy weights for a cloud share
version_added: 0.1.0
description:
  - Computes the integer weights (0-256) of the cloud and on-prem servers of a backend so that
    HAProxy's roundrobin sends O(_input) percent of the requests to the cloud side, within 0.5 point,
    whatever the number of servers per side.
  - The same computation as M(cloudshift.migration.haproxy_split), so a rendered config and a live
    step agree.
options:
  _input:
    description: The cloud share (step) in percent, 0-100.
    type: int
    required: true
  cloud_count:
    description: Number of cloud servers in the backend.
    type: int
    required: true
  onprem_count:
    description: Number of on-prem servers in the backend.
    type: int
    required: true
"""

EXAMPLES = r"""
- name: Weights for 25% cloud with one server a side
  ansible.builtin.debug:
    msg: "{{ 25 | cloudshift.migration.split_weights(1, 1) }}"  # {'cloud': [25], 'onprem': [75]}
"""

RETURN = r"""
_value:
  description: The weights of each side, in the order of the servers of that side.
  type: dict
  contains:
    cloud:
      description: Weight of each cloud server.
      type: list
      elements: int
    onprem:
      description: Weight of each on-prem server.
      type: list
      elements: int
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.weights import split_weights


def split_weights_filter(step, cloud_count, onprem_count):
    try:
        step = int(step)
        cloud_weights, onprem_weights = split_weights(step, int(cloud_count), int(onprem_count))
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError("split_weights: %s" % exc)
    return {"cloud": cloud_weights, "onprem": onprem_weights}


class FilterModule(object):
    def filters(self):
        return {"split_weights": split_weights_filter}
