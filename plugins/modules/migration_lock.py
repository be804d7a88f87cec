#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: migration_lock
short_description: Take, renew, release or read the per-app run lock on an HAProxy node
version_added: 0.5.0
description:
  - One run per app at a time across a fleet, whatever controller it comes from (a shell, AWX, a ramp).
    The lock is a file on the node the task runs on, C(<state_dir>/locks/<name>.lock) (the role runs it on the
    fleet's lock node, where every run meets), taken atomically (a complete file linked in place) with who took
    it, from which controller and process, for what, since when and until when (its lease).
  - O(state=acquired) takes every lock of O(names) on the node, all or none, or renews those the same run
    already holds. A lock held by another run fails the task, naming who holds it and since when.
  - A lock is stale when its lease ran out, or when its holder ran on this very controller and its process is
    gone (checked on the controller by the module's action plugin). A stale lock is reported as such and is
    broken only with O(break_stale=true) (moved aside as C(<name>.lock.broken-<time>)).
  - O(state=released) removes the locks of this run only; a lock of another run is left alone and reported.
  - The module runs on the node; its action plugin adds the run's identity (the C(ansible-playbook)
    process, its controller and boot) and checks a holder's process on the controller.
options:
  state_dir:
    description: Directory of the node's state store; the locks are in its C(locks) directory.
    type: path
    required: true
  names:
    description: The locks, one per app (a reconcile takes every app's).
    type: list
    elements: str
    required: true
  state:
    description: V(acquired) takes or renews, V(released) gives back, V(query) only reads.
    type: str
    choices: [acquired, released, query]
    default: acquired
  by:
    description: Who runs (kept in the lock, shown to whoever finds it taken).
    type: str
  purpose:
    description: What the run does (for example C(migrate.yml app=application-01 step=25)).
    type: str
  ttl:
    description:
      - Seconds of the lease. A run renews its lock before the lease ends (a ramp at every check); a lock whose
        lease ran out is stale.
    type: int
    default: 900
  break_stale:
    description: Break a stale lock (its holder is gone) and take it. A live lock is never broken.
    type: bool
    default: false
  run_id:
    description: Set by the action plugin (the run's identity); not to be given by hand.
    type: str
  audit_dir:
    description:
      - The controller's audit log directory; when a stale lock is broken (O(break_stale)), the action plugin appends a
        C(lock-broken) line to the app's audit log there. Read by the action plugin, never sent to the node.
    type: path
    version_added: 0.7.0
  nodes:
    description: The nodes of the run, kept in that audit line. Read by the action plugin, never sent to the node.
    type: list
    elements: str
    version_added: 0.7.0
  holder:
    description: Set by the action plugin (controller, boot and process of the run); not to be given by hand.
    type: dict
  break_run_ids:
    description: Set by the action plugin (the stale locks it found); not to be given by hand.
    type: list
    elements: str
    default: []
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
- name: Take application-01's lock on every node (a second run on the app stops here)
  cloudshift.migration.migration_lock:
    state_dir: /var/lib/cloudshift-migration
    names: [application-01]
    by: alice
    purpose: migrate.yml app=application-01 step=25

- name: Give it back
  cloudshift.migration.migration_lock:
    state_dir: /var/lib/cloudshift-migration
    names: [application-01]
    state: released
"""

RETURN = r"""
acquired:
  description: Locks taken by this task.
  returned: state=acquired
  type: list
  elements: str
renewed:
  description: Locks this run already held, their lease extended.
  returned: state=acquired
  type: list
  elements: str
broken:
  description: Stale locks broken (with O(break_stale=true)), each the lock as it was.
  returned: state=acquired
  type: list
  elements: dict
conflicts:
  description: Locks held by another run, each with C(name), C(lock), C(stale) and C(reason).
  returned: always
  type: list
  elements: dict
released:
  description: Locks given back.
  returned: state=released
  type: list
  elements: str
locks:
  description: Each lock as read (null when free).
  returned: state=query
  type: dict
run_id:
  description: The identity of this run.
  returned: always
  type: str
"""

import datetime

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.validation import ValidationError
from ansible_collections.cloudshift.migration.plugins.module_utils.jsonfile import JsonFileError
from ansible_collections.cloudshift.migration.plugins.module_utils.lock import LockError, handle

ARGUMENT_SPEC = dict(
    state_dir=dict(type="path", required=True),
    names=dict(type="list", elements="str", required=True),
    state=dict(type="str", choices=["acquired", "released", "query"], default="acquired"),
    by=dict(type="str"),
    purpose=dict(type="str"),
    ttl=dict(type="int", default=900),
    break_stale=dict(type="bool", default=False),
    run_id=dict(type="str"),
    holder=dict(type="dict"),
    break_run_ids=dict(type="list", elements="str", default=[]),
    audit_dir=dict(type="path"),
    nodes=dict(type="list", elements="str"),
)


def run(module, now):
    params = module.params
    result = handle(params["state_dir"], params, now, check_mode=module.check_mode)
    if module._diff and params["state"] == "acquired":
        result["diff"] = {"before": "".join("%s: %s\n" % (item["name"], item["description"]) for item in result["conflicts"]),
                          "after": "".join("%s: held by this run (%s)\n" % (name, params["run_id"])
                                           for name in result["acquired"] + result["renewed"])}
    return result


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    try:
        result = run(module, now)
    except (LockError, ValidationError, JsonFileError) as exc:
        module.fail_json(msg=str(exc), names=module.params["names"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
