# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: cloud_probe
short_description: The probe of an app's ELB, as HAProxy's health check makes it
version_added: 0.3.0
description:
  - The O(cloudshift.migration.elb_health_info#module:probe) option for an app of the app model - its
    C(cloud.probe) over the defaults - the app's health path, its host as Host header and SNI, the CA given.
options:
  _input:
    description: One app of C(cloudshift_apps).
    type: dict
    required: true
  ca_file:
    description: The CA bundle when the app's probe names none (C(haproxy_ca_file)).
    type: path
"""

EXAMPLES = r"""
- name: Probe application-01's ELB
  cloudshift.migration.elb_health_info:
    load_balancer: k8s-prod
    probe: "{{ app | cloudshift.migration.cloud_probe(haproxy_ca_file) }}"
"""

RETURN = r"""
_value:
  description: The probe (address, port, scheme, path, host, sni, ca_file, timeout, expect_status).
  type: dict
"""

from ansible_collections.cloudshift.migration.plugins.module_utils.cloud_model import cloud_probe


class FilterModule(object):
    def filters(self):
        return {"cloud_probe": cloud_probe}
