#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cloud_endpoint_info
short_description: Find the cloud side's endpoint in AWS, the ELB of a Kubernetes Service or a function URL
version_added: 0.8.0
description:
  - With O(service), finds the load balancer (ALB or NLB through elbv2, or a classic ELB) that the Kubernetes
    service controller created for the Service, by its tag C(kubernetes.io/service-name=<namespace>/<name>) (and
    C(kubernetes.io/cluster/<cluster>) with O(cluster)), and the port HAProxy should reach (a TLS listener on 443
    first).
  - With O(function), reads the Lambda's function URL (of O(qualifier)); its host is the address and the Host the
    cloud server must send.
  - Fails naming what it looked for when nothing, or more than one load balancer, matches. Reads only.
  - With O(probe), the endpoint found is also resolved the way HAProxy's C(resolvers) section will resolve it
    (through O(probe.nameservers), else the system's resolver) and sent one real request under its Host and SNI;
    RV(healthy) says whether both worked. C(deploy.yml) points HAProxy at an endpoint only when it is healthy.
options:
  service:
    description: The Kubernetes Service of type LoadBalancer.
    type: dict
    suboptions:
      namespace:
        description: Its namespace.
        type: str
        default: default
      name:
        description: Its name.
        type: str
        required: true
  cluster:
    description: The cluster's name in its C(kubernetes.io/cluster/<name>) tag, when several clusters share the account.
    type: str
  function:
    description: The Lambda function's name or ARN, instead of O(service).
    type: str
  qualifier:
    description: The alias or version whose function URL to read.
    type: str
  probe:
    description: One real request to the endpoint found, as HAProxy's health check makes it.
    type: dict
    suboptions:
      address:
        description: Not used; the endpoint's address, resolved, is probed (kept for the same options as elb_health_info).
        type: str
      port:
        description: Port to connect to; defaults to the endpoint's.
        type: int
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
        description: Host header (the app's name); a function URL's own host wins.
        type: str
      sni:
        description: TLS server name, checked against the certificate; defaults to the Host.
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
      nameservers:
        description:
          - The nameservers (C(ip:port)) HAProxy's C(resolvers) section asks (C(haproxy_resolvers.nameservers)); the
            endpoint's name is resolved through them. Empty, the system's resolver.
        type: list
        elements: str
        default: []
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
- name: The ELB of application-01's Service
  cloudshift.migration.cloud_endpoint_info:
    region: eu-west-3
    service:
      namespace: default
      name: application-01
    cluster: k8s.6play.fr
  register: found

- name: The function URL of application-03's alias live
  cloudshift.migration.cloud_endpoint_info:
    region: eu-west-3
    function: application-03
    qualifier: live
"""

RETURN = r"""
endpoint:
  description:
    - The endpoint (kind application, network, classic or function_url; name; arn; address; port; protocol; host, the
      Host a function URL needs; found_by, what matched).
  returned: success
  type: dict
healthy:
  description: With O(probe), whether the endpoint's name resolved and the probe passed.
  returned: with O(probe)
  type: bool
checked:
  description:
    - With O(probe), the check (resolved, the addresses; resolved_by, which nameserver or the system's resolver;
      probe, the request and its answer; problems).
  returned: with O(probe)
  type: dict
table:
  description: The endpoint as lines an operator reads.
  returned: success
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.cloudshift.migration.plugins.module_utils.aws import BOTO3_IMPORT_ERROR, HAS_BOTO3
from ansible_collections.cloudshift.migration.plugins.module_utils.endpoint import ARGUMENT_SPEC, EndpointError, run


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    if not HAS_BOTO3:
        module.fail_json(msg=missing_required_lib("boto3"), exception=str(BOTO3_IMPORT_ERROR))
    try:
        result = run(module.params)
    except EndpointError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
