# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: cloud_problems
short_description: Problems in the AWS side of the app model (cloud, dns) and the AWS settings, one sentence each
version_added: 0.3.0
description:
  - Checks every app's C(cloud) (ELB, probe, cluster) and C(dns) (Route53 cutover) entries with the rules of the
    modules that use them (M(cloudshift.migration.elb_health_info), M(cloudshift.migration.capacity_check),
    M(cloudshift.migration.route53_cutover)), and C(haproxy_aws) when an app uses AWS.
  - Used by the preflight of the role C(cloudshift.migration.haproxy); an empty list means all is well.
options:
  _input:
    description: The app model, C(cloudshift_apps).
    type: list
    elements: dict
    required: true
  aws:
    description: The role's C(haproxy_aws).
    type: dict
  ca_file:
    description: The CA bundle of the probe when an app does not name one (C(haproxy_ca_file)).
    type: path
"""

EXAMPLES = r"""
- name: Refuse a bad cloud side
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join('; ') }}"
  vars:
    problems: "{{ cloudshift_apps | cloudshift.migration.cloud_problems(haproxy_aws, haproxy_ca_file) }}"
"""

RETURN = r"""
_value:
  description: One sentence per problem, naming the app and the bad value.
  type: list
  elements: str
"""

from ansible_collections.cloudshift.migration.plugins.module_utils.cloud_model import cloud_problems


class FilterModule(object):
    def filters(self):
        return {"cloud_problems": cloud_problems}
