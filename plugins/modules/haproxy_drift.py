#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: haproxy_drift
short_description: Compare one HAProxy node with its recorded state, and put the recorded state back
version_added: 0.5.0
description:
  - Reads every backend of the app model (each app and each route C(<app>--<route>)) over the runtime API and
    compares it with the node's recorded state - the step in the state store, else the C(initial_step) - and
    every map with its file, and each shadowed app's live share with its store.
  - Reports, per backend, the recorded step, the live share, weights and server states, and lists the drift
    found - a weight set by hand, a server put in maintenance or drain over the runtime API, a map entry set,
    added or deleted by hand, on-prem servers whose C(backup) flag does not match the step.
  - With O(reconcile=true), puts the recorded state back over the runtime API, without a reload - the weights
    of the recorded step, C(state ready) for servers forced into maintenance or drain, an atomic replace of a map
    from the app model (O(model_maps)) or its file (O(maps)), the recorded shadow share. A C(backup) flag that does
    not match the step needs a reload, so it is only reported (run C(site.yml)).
  - After a reconcile the node is read again; RV(remaining) is the drift it still shows, and only the rest counts as
    put back.
  - Without O(reconcile), nothing is changed (the status run of C(status.yml)).
options:
  state_dir:
    description: Directory of the node's state store.
    type: path
    required: true
  apps:
    description: The app model (C(cloudshift_apps)); each app's C(name), C(initial_step), C(servers) (C(name), C(side)),
      C(routes) (C(name), C(initial_step)) and C(shadow) are read.
    type: list
    elements: dict
    required: true
  maps:
    description:
      - Map files whose live content must equal the file (C(restore.yml), where the previous file is what is wanted).
    type: list
    elements: path
    default: []
  model_maps:
    description:
      - Maps as the app model renders them (its C(maps), each C(path) and C(entries) of C(key) and C(value)) - the
        Host map and the routing maps. The live map and the file on disk are both compared with these entries, and
        O(reconcile) sets these entries live, never the file's; a file that differs is reported (C(site.yml) renders
        it again).
    type: list
    elements: dict
    default: []
    version_added: 0.7.0
  shadow_map:
    description: The shadow map, when an app has a shadow entry.
    type: path
  reconcile:
    description: Put the recorded state back where the node drifted.
    type: bool
    default: false
  server_state_file:
    description: HAProxy's C(server-state-file), saved after a reconcile so that a restart keeps it.
    type: path
extends_documentation_fragment:
  - cloudshift.migration.runtime_api
author:
  - cloudshift founding engineers (@cloudshift)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
"""

EXAMPLES = r"""
- name: Report how this node differs from its recorded state
  cloudshift.migration.haproxy_drift:
    socket: /run/haproxy/admin.sock
    state_dir: /var/lib/cloudshift-migration
    apps: "{{ cloudshift_apps }}"
    maps: [/etc/haproxy/hosts.map, /etc/haproxy/routes/prefix.map]
  register: drift

- name: Put the recorded weights, server states and maps back
  cloudshift.migration.haproxy_drift:
    socket: /run/haproxy/admin.sock
    state_dir: /var/lib/cloudshift-migration
    apps: "{{ cloudshift_apps }}"
    maps: [/etc/haproxy/hosts.map]
    reconcile: true
"""

RETURN = r"""
backends:
  description:
    - One entry per app and route backend - C(backend), C(app), C(route), C(step) (recorded) and C(step_source),
      C(share) and C(effective_share) (live), C(weights) (live), C(expected_weights) (of the recorded step),
      C(servers) (name, side, weight, status, backup, admin_state, last_check), C(drift) (problems) and
      C(reconciled).
  returned: success
  type: list
  elements: dict
maps:
  description:
    - One entry per map - C(map), C(drift), C(changed), C(problems), C(live_entries), C(file_entries), C(source)
      (C(the app model) or C(its file)).
  returned: success
  type: list
  elements: dict
shadow:
  description: One entry per shadowed app - C(app), C(recorded) and C(live) percent, C(drift), C(changed).
  returned: success
  type: list
  elements: dict
drift:
  description: Every difference found, one line each (empty when the node is as recorded).
  returned: success
  type: list
  elements: str
remaining:
  description:
    - The drift the node still shows, read back after O(reconcile) (all of RV(drift) when nothing was reconciled).
  returned: success
  type: list
  elements: str
  version_added: 0.7.0
commands:
  description: The runtime API commands sent to put the weights and server states back.
  returned: success
  type: list
  elements: str
damaged_states:
  description:
    - The apps whose state file cannot be read (damaged, another app's), with why; their backends are left out of
      O(reconcile) and each is one line of RV(drift); the other apps are read and reconciled as usual.
  returned: success
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.drift import ERRORS, node_drift
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.module_args import (
    runtime_argument_spec, runtime_client)


def main():
    module = AnsibleModule(
        argument_spec=runtime_argument_spec(
            state_dir=dict(type="path", required=True),
            apps=dict(type="list", elements="dict", required=True),
            maps=dict(type="list", elements="path", default=[]),
            model_maps=dict(type="list", elements="dict", default=[]),
            shadow_map=dict(type="path"),
            reconcile=dict(type="bool", default=False),
            server_state_file=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        result = node_drift(runtime_client(module), params["state_dir"], params["apps"], params["maps"],
                            params["shadow_map"], reconcile=params["reconcile"], check_mode=module.check_mode,
                            server_state_file=params["server_state_file"], model_maps=params["model_maps"])
    except ERRORS as exc:
        module.fail_json(msg=str(exc))
    if module._diff:
        result["diff"] = {"before": "".join(line + "\n" for line in result["drift"]),
                          "after": "".join(line + "\n" for line in result["remaining"]),
                          "before_header": "drift from the recorded state",
                          "after_header": "after reconcile" if params["reconcile"] else "drift (not reconciled)"}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
