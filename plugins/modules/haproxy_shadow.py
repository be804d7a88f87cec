#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: haproxy_shadow
short_description: Set the share of an app's requests copied to its cloud (shadow traffic), and read the copy counters
version_added: 0.3.0
description:
  - The role C(cloudshift.migration.haproxy) loads a Lua action that copies a sampled share of an app's requests to
    the app's C(shadow.target), asynchronously (docs/app-model.md, "Shadow traffic"). The share is read from the
    shadow map at every request, so this module changes it over the runtime API, with no reload.
  - V(present) sets O(percent) (with an optional lease after which the copies stop by themselves) and records it in
    the node's store C(<state_dir>/shadow/<app>.json), so the share survives a reload, a restart and site.yml.
  - V(query) changes nothing and returns the share and the copy counters (sampled, sent, dropped, failed, late,
    in flight, the shadow's answers by class), read with the runtime API command C(cloudshift shadow).
  - Names are checked before anything reaches the socket. Check mode and diff mode are supported.
options:
  state:
    description: V(present) sets the share; V(query) only reads.
    type: str
    choices: [present, query]
    default: query
  app:
    description: The app, as named in the app model (its shadow entry is rendered by the role).
    type: str
    required: true
  percent:
    description: Share of the app's allowed requests to copy, 0 to 100; 0 stops the copies. Required with V(present).
    type: int
  lease_seconds:
    description:
      - With V(present), the copies stop by themselves this many seconds from now unless the share is set again
        (a replicate.yml that is killed stops copying within its lease). 0 sets no lease.
    type: int
    default: 0
  hold_seconds:
    description:
      - With V(present), keep the share this long before returning, renewing a short lease (60 s) every 20 s, and
        return the counters' change over that time in RV(held). A signal during the hold (Ctrl-C, a lost
        connection, a kill) sets the share back to 0 before the module ends. replicate.yml runs each stage so.
    type: int
    default: 0
  map_file:
    description: The shadow map, exactly as the configuration names it (the role's C(haproxy_shadow_map)).
    type: path
    required: true
  state_dir:
    description: The node's state directory (the role's C(haproxy_state_dir)).
    type: path
    required: true
  read_live:
    description:
      - Read the live share and counters from HAProxy; V(false) reads the store only (HAProxy may be down), with
        V(query) only.
    type: bool
    default: true
  by:
    description: Who sets the share (kept in the store).
    type: str
extends_documentation_fragment:
  - cloudshift.migration.runtime_api
author:
  - cloudshift founding engineers (@cloudshift)
attributes:
  check_mode:
    description: Returns what would change and changes nothing.
    support: full
  diff_mode:
    description: The app's share before and after.
    support: full
"""

EXAMPLES = r"""
- name: Copy 10% of application-01's allowed requests for the next 2 minutes
  cloudshift.migration.haproxy_shadow:
    socket: /run/haproxy/admin.sock
    map_file: /etc/haproxy/shadow.map
    state_dir: /var/lib/cloudshift-migration
    app: application-01
    state: present
    percent: 10
    lease_seconds: 120

- name: Read the copy counters
  cloudshift.migration.haproxy_shadow:
    socket: /run/haproxy/admin.sock
    map_file: /etc/haproxy/shadow.map
    state_dir: /var/lib/cloudshift-migration
    app: application-01
  register: shadow
"""

RETURN = r"""
percent:
  description: The share set after the task (the live one; with O(read_live=false), the recorded one).
  returned: always
  type: int
previous_percent:
  description: The share before the task.
  returned: always
  type: int
deadline:
  description: Unix time after which the copies stop by themselves (0 for no lease).
  returned: always
  type: int
effective_percent:
  description: The share the Lua action applies now (0 once the lease has passed).
  returned: always
  type: int
recorded:
  description: What the node's store holds (percent, deadline, updated_at, by), or null.
  returned: always
  type: dict
held:
  description: With O(hold_seconds), the seconds held and the counters' change over them.
  returned: when O(hold_seconds) is above 0
  type: dict
counters:
  description: The app's copy counters since the worker started (sampled, sent, dropped, failed, late, inflight, 2xx,
    3xx, 4xx, 5xx, skipped), all 0 before its first copy.
  returned: when O(read_live)
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.module_args import (
    exit_with_result, runtime_argument_spec, runtime_client)
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.shadow_service import SHADOW_ERRORS, run


def main():
    module = AnsibleModule(
        argument_spec=runtime_argument_spec(
            state=dict(type="str", choices=["present", "query"], default="query"),
            app=dict(type="str", required=True),
            percent=dict(type="int"),
            lease_seconds=dict(type="int", default=0),
            hold_seconds=dict(type="int", default=0),
            map_file=dict(type="path", required=True),
            state_dir=dict(type="path", required=True),
            read_live=dict(type="bool", default=True),
            by=dict(type="str"),
        ),
        required_if=[("state", "present", ["percent"])],
        supports_check_mode=True,
    )
    try:
        result = run(module.params, runtime_client(module), module.check_mode)
    except SHADOW_ERRORS as exc:
        module.fail_json(msg=str(exc), app=module.params["app"])
    exit_with_result(module, result)


if __name__ == "__main__":
    main()
