#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: haproxy_split
short_description: Set the cloud share of an HAProxy backend live with the runtime API
version_added: "0.1.0"
description:
  - Sets the weights of the cloud and on-prem servers of one HAProxy backend so the cloud side
    receives O(share) percent of the requests, through the runtime API (C(set weight)), without reload.
  - Weights come from the collection's split math, so the realised share is within 0.5 point of
    O(share) whatever the number of servers per side; with one server per side they read as
    percentages (C(25)/C(75)).
  - Reads the backend first and validates every name and the share before any C(set) command is
    sent; all C(set weight) commands go in one batch over one connection and are read back.
  - Never changes a server's admin state (a server in MAINT or DRAIN stays there).
  - Backup servers listed on either side (the on-prem servers at step 100, rendered C(backup) by
    the configuration) keep their weight (a weight of 0 is raised to 100 so they can take over)
    and are left out of the share.
extends_documentation_fragment:
  - cloudshift.migration.runtime_api
author:
  - cloudshift founding engineers (@cloudshift)
options:
  backend:
    description: Name of the HAProxy backend.
    type: str
    required: true
  cloud_servers:
    description: Names of the backend's cloud servers.
    type: list
    elements: str
    required: true
  onprem_servers:
    description: Names of the backend's on-prem servers.
    type: list
    elements: str
    required: true
  share:
    description: Percent of the backend's requests to send to the cloud servers, from 0 to 100.
    type: int
    required: true
  server_state_file:
    description:
      - HAProxy's C(server-state-file). When given, the runtime weights are saved there after a change, so that a
        reload or a plain restart of HAProxy comes back at the same weights (haproxy.cfg carries the initial step's).
    type: path
    version_added: 0.7.0
attributes:
  check_mode:
    support: full
    description: Reads the backend and reports the weights and commands it would set; sends no C(set).
  diff_mode:
    support: full
    description: Shows the weight of each listed server before and after.
notes:
  - The socket must be declared with C(level admin); on a C(user) or C(operator) level socket
    HAProxy answers C(Permission denied) and the module says so.
  - Runtime weights are lost on reload unless the configuration renders the same weights.
seealso:
  - module: cloudshift.migration.haproxy_backend_info
"""

EXAMPLES = r"""
- name: Send 25% of application-01's requests to the cloud
  cloudshift.migration.haproxy_split:
    socket: /run/haproxy/admin.sock
    backend: application-01
    cloud_servers:
      - aws-prod-Kubernetes-application-01
    onprem_servers:
      - onprem-prod-front-application-01
    share: 25

- name: Preview a move to 50% over the TCP stats socket
  cloudshift.migration.haproxy_split:
    socket: tcp:127.0.0.1:9999
    backend: application-02-mixed
    cloud_servers: [aws-prod-Kubernetes-application-02]
    onprem_servers: [onprem-prod-front-application-02]
    share: 50
  check_mode: true
  diff: true
  register: preview
"""

RETURN = r"""
backend:
  description: The backend.
  returned: success
  type: str
  sample: application-01
share_requested:
  description: The share asked for.
  returned: success
  type: int
  sample: 25
share:
  description: Cloud share in percent realised by the weights of the listed non-backup servers, whatever their health.
  returned: success
  type: float
  sample: 25.0
effective_share:
  description:
    - Cloud share in percent counting only the servers currently serving (UP or unchecked);
      when no active server serves, the backup servers that do. V(null) when nothing serves.
  returned: success
  type: float
  sample: 0.0
weights_before:
  description: Weight of each listed server before the change.
  returned: success
  type: dict
  sample: {"aws-prod-Kubernetes-application-01": 1, "onprem-prod-front-application-01": 99}
weights_after:
  description: Weight of each listed server after the change (read back; predicted in check mode).
  returned: success
  type: dict
  sample: {"aws-prod-Kubernetes-application-01": 25, "onprem-prod-front-application-01": 75}
backup_servers:
  description: Listed servers that are backup servers; their weight is kept, except 0, which is raised to 100 so they can take over.
  returned: success
  type: list
  elements: str
  sample: []
commands:
  description: The C(set weight) commands sent (in check mode, those that would be sent).
  returned: success
  type: list
  elements: str
  sample: ["set weight application-01/aws-prod-Kubernetes-application-01 25"]
servers:
  description: Every server of the backend.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: Server name.
      type: str
    side:
      description: V(cloud), V(onprem), or V(null) for a server in neither list.
      type: str
    weight:
      description: Weight after the change.
      type: int
    status:
      description: Readable state (V(up), V(down), V(maint), V(up, going down (1/3 checks)), V(up (not checked)) ...).
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
    admin_state:
      description: Admin flags set on the server (maintenance, drain), empty when none.
      type: list
      elements: str
  sample:
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
      admin_state: []
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.client import HAProxyError
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.module_args import (
    exit_with_result, runtime_argument_spec, runtime_client)
from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.server_state import write_server_state_file
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.split import SplitError, apply_split


def run_module():
    module = AnsibleModule(
        argument_spec=runtime_argument_spec(
            backend=dict(type="str", required=True),
            cloud_servers=dict(type="list", elements="str", required=True),
            onprem_servers=dict(type="list", elements="str", required=True),
            share=dict(type="int", required=True),
            server_state_file=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        client = runtime_client(module)
        result = apply_split(client, params["backend"], params["cloud_servers"], params["onprem_servers"],
                             params["share"], check_mode=module.check_mode)
        if result["changed"] and params["server_state_file"] and not module.check_mode:
            write_server_state_file(client.run(["show servers state"])[0], params["server_state_file"])
    except (HAProxyError, SplitError, CloudshiftError, ValueError) as exc:
        module.fail_json(msg=str(exc), backend=params["backend"], share_requested=params["share"],
                         commands_applied=list(getattr(exc, "applied", None) or []))
    exit_with_result(module, result)


def main():
    run_module()


if __name__ == "__main__":
    main()
