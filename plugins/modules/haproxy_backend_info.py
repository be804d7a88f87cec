#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: haproxy_backend_info
short_description: Read the servers, weights, health and cloud share of HAProxy backends
version_added: "0.1.0"
description:
  - Reads one or more HAProxy backends through the runtime API (C(show stat) and
    C(show servers state), one connection for all of them) and returns every server with its
    weight, status, health check, backup flag and counters.
  - When O(cloud_servers) and O(onprem_servers) are given, tags each server with its side and
    returns the cloud share realised by the weights and the effective share of the servers serving now.
  - Read-only; works on a C(user) level socket too.
extends_documentation_fragment:
  - cloudshift.migration.runtime_api
author:
  - cloudshift founding engineers (@cloudshift)
options:
  backends:
    description: Names of the backends to read.
    type: list
    elements: str
    required: true
    aliases: [backend]
  cloud_servers:
    description: Names of the cloud servers (across the backends read).
    type: list
    elements: str
  onprem_servers:
    description: Names of the on-prem servers (across the backends read).
    type: list
    elements: str
attributes:
  check_mode:
    support: full
    description: The module only reads, and does the same in check mode.
  diff_mode:
    support: none
    description: The module changes nothing.
seealso:
  - module: cloudshift.migration.haproxy_split
"""

EXAMPLES = r"""
- name: Read application-01's backend
  cloudshift.migration.haproxy_backend_info:
    socket: /run/haproxy/admin.sock
    backends: [application-01]
    cloud_servers: [aws-prod-Kubernetes-application-01]
    onprem_servers: [onprem-prod-front-application-01]
  register: app01

- name: Show its cloud share
  ansible.builtin.debug:
    msg: "{{ app01.backends['application-01'].share }}% to the cloud"
"""

RETURN = r"""
backends:
  description: One entry per backend read, keyed by backend name.
  returned: success
  type: dict
  contains:
    servers:
      description: Every server of the backend, in configuration order.
      type: list
      elements: dict
      contains:
        name:
          description: Server name.
          type: str
        side:
          description: V(cloud), V(onprem), or V(null) when in neither list.
          type: str
        weight:
          description: Current weight (the one C(set weight) sets).
          type: int
        status:
          description: Readable state (V(up), V(down), V(maint), V(up (not checked)) ...).
          type: str
        haproxy_status:
          description: HAProxy's own status field.
          type: str
        serving:
          description: Whether the server takes new load-balanced requests now.
          type: bool
        backup:
          description: Whether it is a backup server.
          type: bool
        check_status:
          description: HAProxy's check status code (V(L7OK), V(L4CON) ...).
          type: str
        check_description:
          description: Meaning of the check status.
          type: str
        check_code:
          description: HTTP status of the last layer 7 check.
          type: int
        check_duration_ms:
          description: Duration of the last check in milliseconds.
          type: int
        last_check:
          description: The last check as HAProxy's stats page shows it (V(L7OK/200 in 1ms)), or V(null) when not checked.
          type: str
        last_check_info:
          description: HAProxy's text about the last check (V(Connection refused), V(null) after a passed check).
          type: str
        seconds_since_status_change:
          description: Seconds since the last UP/DOWN change.
          type: int
        current_sessions:
          description: Sessions open on the server now.
          type: int
        total_sessions:
          description: Sessions since HAProxy started.
          type: int
        total_requests:
          description: HTTP requests since HAProxy started, when HAProxy reports them per server.
          type: int
        times_selected:
          description: Times the load balancer picked the server.
          type: int
        admin_state:
          description: Admin flags set on the server (maintenance, drain), empty when none.
          type: list
          elements: str
    weights:
      description: Weight of every server.
      type: dict
    share:
      description: Cloud share in percent realised by the weights of the listed non-backup servers, or V(null).
      type: float
    effective_share:
      description: Cloud share in percent counting only the servers serving now, or V(null).
      type: float
    missing_servers:
      description: Listed servers this backend does not have (only when server lists are given).
      type: list
      elements: str
  sample:
    application-01:
      share: 25.0
      effective_share: 25.0
      weights: {"aws-prod-Kubernetes-application-01": 25, "onprem-prod-front-application-01": 75}
      missing_servers: []
      servers:
        - name: aws-prod-Kubernetes-application-01
          side: cloud
          weight: 25
          status: up
          haproxy_status: UP
          serving: true
          backup: false
          check_status: L7OK
          check_description: Layer7 check passed
          check_code: 200
          check_duration_ms: 1
          last_check: L7OK/200 in 1ms
          seconds_since_status_change: 3600
          current_sessions: 0
          total_sessions: 1200
          total_requests: 1200
          times_selected: 1200
          admin_state: []
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.client import HAProxyError
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.module_args import (
    runtime_argument_spec, runtime_client)
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.split import SplitError, describe_backends


def run_module():
    module = AnsibleModule(
        argument_spec=runtime_argument_spec(
            backends=dict(type="list", elements="str", required=True, aliases=["backend"]),
            cloud_servers=dict(type="list", elements="str"),
            onprem_servers=dict(type="list", elements="str"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if not params["backends"]:
        module.fail_json(msg="backends is empty: name at least one backend")
    try:
        client = runtime_client(module)
        backends = describe_backends(client, params["backends"], params["cloud_servers"], params["onprem_servers"])
    except (HAProxyError, SplitError, ValueError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, backends=backends)


def main():
    run_module()


if __name__ == "__main__":
    main()
