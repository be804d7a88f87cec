#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: elb_health_info
short_description: Health of the cloud side behind its ELB, before traffic is sent there
version_added: 0.3.0
description:
  - Reads the ELB's own view of its targets (target health of an ALB/NLB's target groups, instance health of a
    classic ELB) and counts the healthy ones against O(min_healthy) per target group.
  - With O(probe), also makes one real HTTP(S) request to the endpoint's health path with the app's Host header,
    SNI and CA verification, the same check HAProxy makes.
  - With O(wait), looks again every O(wait_interval) seconds until healthy, and fails after O(wait_timeout).
  - Without O(wait) it never fails on the health it reads; RV(healthy) and RV(problems) say what it found.
options:
  load_balancer:
    description: Name of the load balancer (an ALB, NLB or classic ELB).
    type: str
    required: true
  load_balancer_type:
    description: Its kind; V(auto) looks for an ALB/NLB of that name, then a classic ELB.
    type: str
    choices: [auto, application, network, gateway, classic]
    default: auto
  target_groups:
    description: Names or ARNs of the target groups to read; empty reads every target group attached to it.
    type: list
    elements: str
    default: []
  min_healthy:
    description: Healthy targets each target group needs (0 to 1000).
    type: int
    default: 1
  wait:
    description: Look again until healthy or O(wait_timeout) has passed, then fail if still not healthy.
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait with O(wait), 0 to 3600.
    type: int
    default: 60
  wait_interval:
    description: Seconds between looks with O(wait).
    type: float
    default: 2.0
  probe:
    description: One real request to the endpoint, as HAProxy's health check makes it.
    type: dict
    suboptions:
      address:
        description: Address to connect to; defaults to the load balancer's DNS name.
        type: str
      port:
        description: Port to connect to.
        type: int
        default: 443
      scheme:
        description: V(https) verifies the certificate against O(probe.ca_file) with O(probe.sni).
        type: str
        choices: [https, http]
        default: https
      path:
        description: Path of the health page.
        type: str
        default: /
      host:
        description: Host header (the app's name); defaults to the address.
        type: str
      sni:
        description: TLS server name, checked against the certificate; defaults to O(probe.host).
        type: str
      ca_file:
        description: CA bundle the certificate must chain to; defaults to the system store.
        type: path
      timeout:
        description: Seconds for the connection and the answer.
        type: float
        default: 5.0
      expect_status:
        description: Statuses a healthy endpoint answers.
        type: list
        elements: int
        default: [200]
extends_documentation_fragment:
  - cloudshift.migration.aws
author:
  - cloudshift founding engineers (@cloudshift)
attributes:
  check_mode:
    description: Reads only; runs the same in check mode.
    support: full
  diff_mode:
    description: Changes nothing, so there is no diff.
    support: none
"""

EXAMPLES = r"""
- name: Wait until two targets of application-01's target group are healthy, and probe the ELB as HAProxy does
  cloudshift.migration.elb_health_info:
    region: eu-west-3
    load_balancer: k8s-prod
    target_groups: [application-01]
    min_healthy: 2
    wait: true
    wait_timeout: 120
    probe:
      path: /HealthCheck
      host: application-01.6play.fr
      ca_file: /etc/ssl/certs/ca-certificates.crt
  register: cloud_health
"""

RETURN = r"""
healthy:
  description: Whether every target group had O(min_healthy) healthy targets and the probe, if any, passed.
  returned: success
  type: bool
problems:
  description: What is not healthy, one line each, naming the targets and their reasons.
  returned: success
  type: list
  elements: str
load_balancer:
  description: The load balancer (name, type, dns_name, hosted_zone_id, state, arn).
  returned: success
  type: dict
target_groups:
  description: Each target group read (name, arn, healthy, total, targets with id, port, state, reason, description).
  returned: success
  type: list
  elements: dict
probe:
  description: The probe's url, address, host, sni, status, elapsed_ms, error and ok.
  returned: when O(probe) is given
  type: dict
table:
  description: The same as lines an operator reads.
  returned: success
  type: list
  elements: str
looks:
  description: How many times the health was read.
  returned: success
  type: int
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.cloudshift.migration.plugins.module_utils.aws import BOTO3_IMPORT_ERROR, HAS_BOTO3
from ansible_collections.cloudshift.migration.plugins.module_utils.elb import ARGUMENT_SPEC, ElbError, run


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    if not HAS_BOTO3:
        module.fail_json(msg=missing_required_lib("boto3"), exception=str(BOTO3_IMPORT_ERROR))
    try:
        result = run(module.params)
    except ElbError as exc:
        module.fail_json(msg=str(exc), load_balancer=module.params["load_balancer"])
    if result.get("msg"):
        module.fail_json(**result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
