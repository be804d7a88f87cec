#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: migration_state
short_description: Read or record the migration step of an app (or route) in a node's state store
version_added: 0.1.0
description:
  - Each HAProxy node keeps one state store, C(<state_dir>/apps/<app>.json), holding the current step
    (cloud share in percent) of each app and route, the previous step and a short history.
  - The role C(cloudshift.migration.haproxy) renders weights from it; C(migrate.yml) records steps with it.
  - The file is replaced atomically, so a reader never sees half a file.
options:
  state_dir:
    description: Directory of the state store on the node.
    type: path
    required: true
  app:
    description: Name of the app. Exactly one of O(app) and O(apps) is required.
    type: str
  apps:
    description:
      - Names of apps whose whole records are read at once (V(query) only), returned in RV(states). The role reads
        every app's steps this way to render the configuration.
    type: list
    elements: str
  route:
    description: Name of a route of the app; omit for the app itself.
    type: str
  state:
    description:
      - V(query) reads the recorded step and changes nothing.
      - V(present) records O(step).
    type: str
    choices: [query, present]
    default: query
  step:
    description: Step to record, 0-100. Required with O(state=present).
    type: int
  by:
    description: Who or what records the step (kept in the history).
    type: str
  note:
    description: Free text kept in the history with the step (for example a forced step's reason).
    type: str
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
- name: Read the recorded step of application-01
  cloudshift.migration.migration_state:
    state_dir: /var/lib/cloudshift-migration
    app: application-01
  register: recorded

- name: Record step 25
  cloudshift.migration.migration_state:
    state_dir: /var/lib/cloudshift-migration
    app: application-01
    state: present
    step: 25
    by: operator
"""

RETURN = r"""
recorded:
  description: Whether a step was recorded for the app (or route) before this task.
  returned: with O(app)
  type: bool
step:
  description: The recorded step after the task (null when none is recorded).
  returned: with O(app)
  type: int
previous_step:
  description: The step recorded before the current one (null when none).
  returned: with O(app)
  type: int
updated_at:
  description: When the current step was recorded (ISO 8601, UTC).
  returned: with O(app)
  type: str
history:
  description: The last recorded steps, oldest first.
  returned: with O(app)
  type: list
  elements: dict
state_file:
  description: The state file.
  returned: with O(app)
  type: str
route_steps:
  description: The step recorded for each route of the app (route name to step), empty when none.
  returned: with O(app)
  type: dict
states:
  description: With O(apps), each app's whole record in the state store (null when nothing is recorded).
  returned: with O(apps)
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.state import (
    StateError, app_state_path, load_app_state, previous_step, recorded_step, with_step, write_app_state)
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.validation import (
    ValidationError, backend_label, validate_name)


def _entry(state, route):
    if not state:
        return {}
    return state if route is None else state.get("routes", {}).get(route, {})


def _summary(state, route, recorded, path):
    entry = _entry(state, route)
    route_steps = dict((name, recorded_step(state, name)) for name in sorted((state or {}).get("routes", {}))
                       if recorded_step(state, name) is not None)
    return dict(recorded=recorded, step=recorded_step(state, route), previous_step=previous_step(state, route),
                updated_at=entry.get("updated_at"), history=entry.get("history", []), state_file=path,
                route_steps=route_steps)


def query_apps(module):
    """Every listed app's whole record (the role renders the configuration from them)."""
    states = {}
    try:
        for app in module.params["apps"]:
            states[validate_name(app, "app")] = load_app_state(module.params["state_dir"], app)
    except (ValidationError, StateError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, states=states)


def run(module):
    params = module.params
    if params["apps"] is not None:
        if params["state"] != "query":
            module.fail_json(msg="apps reads the records of several apps: it takes state=query, not %s" % params["state"])
        query_apps(module)
    try:
        validate_name(params["app"], "app")
        if params["route"] is not None:
            validate_name(params["route"], "route")
        if params["state"] == "present":
            if params["step"] is None:
                raise ValidationError("state=present needs a step")
            if not 0 <= params["step"] <= 100:
                raise ValidationError("invalid step %r: a step is a cloud share from 0 to 100" % params["step"])
        path = app_state_path(params["state_dir"], params["app"])
        state = load_app_state(params["state_dir"], params["app"])
    except (ValidationError, StateError) as exc:
        module.fail_json(msg=str(exc))

    was_recorded = recorded_step(state, params["route"]) is not None
    if params["state"] == "query" or recorded_step(state, params["route"]) == params["step"]:
        module.exit_json(changed=False, **_summary(state, params["route"], was_recorded, path))

    new_state = with_step(state, params["app"], params["step"], route=params["route"],
                          by=params["by"], note=params["note"])
    label = backend_label(params["app"], params["route"])
    diff = dict(before_header=path, after_header=path,
                before="%s: step %s\n" % (label, recorded_step(state, params["route"])),
                after="%s: step %s\n" % (label, params["step"]))
    if not module.check_mode:
        try:
            write_app_state(params["state_dir"], params["app"], new_state)
        except StateError as exc:
            module.fail_json(msg=str(exc))
    module.exit_json(changed=True, diff=diff, **_summary(new_state, params["route"], was_recorded, path))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state_dir=dict(type="path", required=True),
            app=dict(type="str"),
            apps=dict(type="list", elements="str"),
            route=dict(type="str"),
            state=dict(type="str", choices=["query", "present"], default="query"),
            step=dict(type="int"),
            by=dict(type="str"),
            note=dict(type="str"),
        ),
        required_if=[("state", "present", ["step"])],
        required_one_of=[("app", "apps")],
        mutually_exclusive=[("app", "apps"), ("apps", "route")],
        supports_check_mode=True,
    )
    run(module)


if __name__ == "__main__":
    main()
