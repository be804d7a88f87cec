#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: migration_endpoint
short_description: Record where a cloud server answers (the endpoint deploy.yml found in AWS) in a node's state store
version_added: 0.8.0
description:
  - Points an app's cloud server at an endpoint (an ELB's name and port, a function URL and its Host) in the node's
    state store, C(<state_dir>/apps/<app>.json), key C(endpoints). The app model renders the server there from then
    on, instead of the inventory's address; the endpoint it replaces is kept, so V(previous) puts it back exactly.
  - Only the record changes; the haproxy role renders the configuration and reloads hitlessly (C(deploy.yml)).
  - The file is replaced atomically.
options:
  state_dir:
    description: Directory of the state store on the node.
    type: path
    required: true
  app:
    description: Name of the app.
    type: str
    required: true
  server:
    description: Name of the app's cloud server. Required but with V(verify), which takes it or O(servers).
    type: str
  state:
    description:
      - V(present) records O(endpoint) (nothing changes when the server already points at its address, port and
        Host).
      - V(previous) puts back the endpoint the last one replaced (or the inventory's address when there was none).
      - V(query) reads the recorded endpoint.
      - V(verify) reads the running HAProxy back over O(socket) until every server of O(expected) runs at its address
        and port with an address resolved (HAProxy's resolvers found the name), for at most O(wait) seconds; fails
        naming each server that does not. Changes nothing.
    type: str
    choices: [present, previous, query, verify]
    default: present
  endpoint:
    description: The endpoint, as RV(cloudshift.migration.cloud_endpoint_info#module:endpoint) returns it.
    type: dict
    suboptions:
      address:
        description: The name or IP address HAProxy reaches.
        type: str
        required: true
      port:
        description: Its port.
        type: int
        required: true
      host:
        description: The Host the server needs (a function URL's own); none keeps the app's.
        type: str
      resolved:
        description: The address the name was resolved at when it was checked (the new worker starts there).
        type: str
      kind:
        description: What it is (application, network, classic, function_url).
        type: str
      name:
        description: The load balancer's or function's name.
        type: str
      found_by:
        description: What matched it in AWS.
        type: str
  by:
    description: Who records it.
    type: str
  socket:
    description: The runtime API socket (V(verify)).
    type: str
  timeout:
    description: Seconds for each runtime API command (V(verify)).
    type: float
    default: 5.0
  expected:
    description:
      - "V(verify): where each server must run, C({backend: {server: {address, port}}}), as the app model's
        C(server_state_addresses) gives it; only the servers of O(servers) are read back."
    type: dict
  servers:
    description: V(verify) reads back these servers (default O(server)) in every backend or relay of O(expected).
    type: list
    elements: str
  wait:
    description: V(verify) waits at most this many seconds for the names to resolve.
    type: float
    default: 10.0
author:
  - cloudshift founding engineers (@cloudshift)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Returns the server's endpoint before and after.
    support: full
"""

EXAMPLES = r"""
- name: Point application-01's cloud server at the ELB found for its Service
  cloudshift.migration.migration_endpoint:
    state_dir: /var/lib/cloudshift-migration
    app: application-01
    server: aws-prod-Kubernetes-application-01
    endpoint: "{{ found.endpoint }}"
    by: deploy.yml

- name: Put back the endpoint it replaced
  cloudshift.migration.migration_endpoint:
    state_dir: /var/lib/cloudshift-migration
    app: application-01
    server: aws-prod-Kubernetes-application-01
    state: previous
"""

RETURN = r"""
endpoint:
  description: The server's recorded endpoint after the task (null, the inventory's address).
  returned: with O(state) other than V(verify)
  type: dict
replaced:
  description: The server's recorded endpoint before the task (null, the inventory's address).
  returned: with O(state) other than V(verify)
  type: dict
line:
  description: What the task did, for an operator (the server, its endpoint before and after, or where it stays).
  returned: with O(state) other than V(verify)
  type: str
running:
  description: With V(verify), each expected server as it runs (C(backend/server) to address, fqdn and port).
  returned: with O(state=verify)
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.client import RuntimeClient
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.endpoints import (
    EndpointRecordError, expected_of, read_back, record)


def verify(module):
    params = module.params
    servers = params["servers"] or ([params["server"]] if params["server"] else [])
    if not servers:
        module.fail_json(msg="state=verify needs server or servers, the servers to read back")
    if params["timeout"] <= 0 or params["wait"] < 0:
        module.fail_json(msg="timeout must be above 0 and wait at least 0, got %r and %r" % (params["timeout"], params["wait"]))
    try:
        expected = expected_of(params["expected"], servers)
        if not expected:
            raise EndpointRecordError("none of the servers %s is in expected" % ", ".join(servers))
        result = read_back(RuntimeClient(params["socket"], timeout=params["timeout"]), expected, wait=params["wait"])
    except EndpointRecordError as exc:
        module.fail_json(msg=str(exc))
    if result["problems"]:
        module.fail_json(msg="the running HAProxy is not where the app model puts it after %s s: %s" % (
            params["wait"], "; ".join(result["problems"])), running=result["running"])
    module.exit_json(changed=False, running=result["running"])


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state_dir=dict(type="path", required=True),
            app=dict(type="str", required=True),
            server=dict(type="str"),
            state=dict(type="str", choices=["present", "previous", "query", "verify"], default="present"),
            endpoint=dict(type="dict", options=dict(
                address=dict(type="str", required=True), port=dict(type="int", required=True), host=dict(type="str"),
                resolved=dict(type="str"), kind=dict(type="str"), name=dict(type="str"),
                found_by=dict(type="str"))),
            by=dict(type="str"),
            socket=dict(type="str"),
            timeout=dict(type="float", default=5.0),
            expected=dict(type="dict"),
            servers=dict(type="list", elements="str"),
            wait=dict(type="float", default=10.0),
        ),
        required_if=[("state", "present", ["server", "endpoint"]), ("state", "previous", ["server"]),
                     ("state", "query", ["server"]), ("state", "verify", ["socket", "expected"])],
        supports_check_mode=True,
    )
    if module.params["state"] == "verify":
        verify(module)
    try:
        result = record(module.params, check_mode=module.check_mode)
    except EndpointRecordError as exc:
        module.fail_json(msg=str(exc))
    if not module._diff:
        result.pop("diff", None)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
