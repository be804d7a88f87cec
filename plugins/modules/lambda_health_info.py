#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: lambda_health_info
short_description: Health and capacity of a Lambda cloud side, before traffic is sent there
version_added: 0.8.0
description:
  - Reads the function (or its alias or version, O(qualifier)), which must be Active with its last update
    successful, and with O(endpoint=function_url) its function URL, whose host must be the cloud server's O(host)
    and which must take unsigned requests (AuthType NONE); then makes one real HTTP(S) request to the endpoint's
    health path with its Host header, SNI and CA verification, the request HAProxy's check makes.
  - With O(capacity), the capacity checks in the table of the cluster's (capacity_check) are the concurrency the
    function may use (its reserved concurrency, else the account's unreserved) against O(expected_concurrency),
    and its throttles and error rate from CloudWatch over the last O(window_seconds).
  - Reads only; never fails on what it reads (RV(healthy), RV(problems) and the C(passed) of RV(capacity) say it).
options:
  function:
    description: The function's name or ARN.
    type: str
    required: true
  qualifier:
    description: Its alias or version (the one the endpoint serves).
    type: str
  endpoint:
    description:
      - V(function_url) reads the function URL and probes it; V(custom) (an API Gateway domain, an ALB with a
        Lambda target group) probes O(probe.address) only.
    type: str
    choices: [function_url, custom]
    default: function_url
  host:
    description: The Host the cloud server sends (its C(host) in the app model); the function URL must be it.
    type: str
  probe:
    description: The real request; its address defaults to the function URL's host.
    type: dict
    suboptions:
      address:
        description: Address to connect to; defaults to the function URL's host.
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
        description: Host header; defaults to O(host), else the function URL's host.
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
  capacity:
    description: Also check the concurrency, throttles and errors.
    type: bool
    default: true
  expected_concurrency:
    description: Concurrent executions the app needs at its peak with every request on the cloud side.
    type: int
    default: 1
  max_throttles:
    description: Throttled invocations allowed over the window.
    type: int
    default: 0
  max_error_rate:
    description: Errors in percent of the invocations allowed over the window.
    type: float
    default: 1.0
  window_seconds:
    description: The CloudWatch window, 60 to 86400 seconds.
    type: int
    default: 300
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
- name: The Lambda side of application-03 before its first step
  cloudshift.migration.lambda_health_info:
    region: eu-west-3
    function: application-03
    qualifier: live
    host: abcdefghij0123456789klmnopqrstuv.lambda-url.eu-west-3.on.aws
    expected_concurrency: 50
    probe:
      path: /HealthCheck
  register: lambda_side
"""

RETURN = r"""
healthy:
  description: Whether the function, its URL and the probe are fit for traffic.
  returned: success
  type: bool
problems:
  description: What is not, one line each.
  returned: success
  type: list
  elements: str
function:
  description: The function's name, arn, version, state and last_update status.
  returned: success
  type: dict
url:
  description: The function URL (none with O(endpoint=custom)).
  returned: success
  type: str
probe:
  description: The probe's url, address, host, sni, status, elapsed_ms, error and ok.
  returned: success
  type: dict
capacity:
  description:
    - The capacity checks (checks, passed, problems, table), the concurrency (available, source) and the CloudWatch
      sums over the window (metrics).
  returned: with O(capacity)
  type: dict
table:
  description: The function and the probe as lines an operator reads.
  returned: success
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.cloudshift.migration.plugins.module_utils.aws import BOTO3_IMPORT_ERROR, HAS_BOTO3
from ansible_collections.cloudshift.migration.plugins.module_utils.lambda_side import ARGUMENT_SPEC, LambdaError, run


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    if not HAS_BOTO3:
        module.fail_json(msg=missing_required_lib("boto3"), exception=str(BOTO3_IMPORT_ERROR))
    try:
        result = run(module.params)
    except LambdaError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
