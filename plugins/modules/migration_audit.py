#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: migration_audit
short_description: Append a step change, verdict, forced step or rollback to an app's audit log
version_added: 0.2.0
description:
  - Appends one JSON line to C(<audit_dir>/<app>.jsonl) (one file per app; a route's events carry its name).
  - Each line holds when, who, the app and route, the action, the step before and after, the gate's verdict,
    whether it was forced, and the figures measured (O(window)).
  - Lines are appended in one write on a file opened for appending, so concurrent runs never mix lines.
  - Runs on the controller, in the playbook's own process (an action plugin); usually with C(run_once).
options:
  audit_dir:
    description: Directory of the audit log (created if missing).
    type: path
    required: true
  app:
    description: The app.
    type: str
    required: true
  route:
    description: The route, for a route's event.
    type: str
  action:
    description:
      - What happened.
      - V(step-undone) (0.5.0) is a step that did not reach every node of the fleet, taken back on the nodes that
        took it (O(from_step) is the step taken back, O(to_step) where the nodes are again); V(reconcile) (0.5.0) is
        a node's live weights, server states or maps put back to the recorded state; V(lock-broken) (0.5.0) is a
        stale lock broken with C(break_lock), or (0.7.0) the lock of a killed run taken over by the next run;
        V(recovered) (0.7.0) is a change a stopped run left unfinished on a
        node, finished or undone by the next run that took the lock (O(from_step) the step cut off, O(to_step) where
        the node is now).
      - V(endpoint) (0.8.0) is a cloud server pointed at a new endpoint by C(deploy.yml) (or put back), on every node.
    type: str
    required: true
    choices: [step, rollback, verdict, ramp-start, ramp-rollback, ramp-done, ramp-stopped, dns, dns-rollback, step-undone,
              reconcile, lock-broken, recovered, endpoint]
  by:
    description: Who asked for it.
    type: str
  from_step:
    description: The step before.
    type: int
  to_step:
    description: The step after (or asked for, for a verdict).
    type: int
  verdict:
    description: The gate's verdict, when one was made.
    type: str
    choices: [pass, fail, inconclusive]
  forced:
    description: Whether the step went up against a failed gate (C(-e force=true)).
    type: bool
    default: false
  note:
    description: Free text.
    type: str
  window:
    description:
      - The fleet window the verdict or the step was measured on (C(migration_gate)'s RV(cloudshift.migration.migration_gate#module:window));
        the log keeps its digest (per side requests, response shares, error rate, connect, response and server times).
    type: dict
  checks:
    description: The gate's checks (C(migration_gate)'s RV(cloudshift.migration.migration_gate#module:checks)), kept as they are.
    type: list
    elements: dict
  nodes:
    description: The nodes the event applied to.
    type: list
    elements: str
  dns:
    description:
      - For V(dns) and V(dns-rollback), the record changed (record, zone_id, change_id, status, before, after),
        kept in the line as C(dns).
    type: dict
    version_added: 0.3.0
author:
  - cloudshift founding engineers (@cloudshift)
attributes:
  check_mode:
    description: Returns the line it would append and appends nothing.
    support: full
  diff_mode:
    description: Shows the line appended.
    support: full
"""

EXAMPLES = r"""
- name: Record the step change
  cloudshift.migration.migration_audit:
    audit_dir: /var/lib/cloudshift-audit
    app: application-01
    action: step
    by: "{{ lookup('ansible.builtin.env', 'USER') }}"
    from_step: 25
    to_step: 50
    verdict: "{{ gate.verdict }}"
    window: "{{ gate.window }}"
    checks: "{{ gate.checks }}"
  run_once: true
"""

RETURN = r"""
record:
  description: The record appended (or that would be, in check mode).
  returned: success
  type: dict
path:
  description: The audit file.
  returned: success
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudshift.migration.plugins.module_utils.audit import ARGUMENT_SPEC, ERRORS, failure_message, run


def main():
    # The action plugin of the same name runs this in the controller's process; this is the module form.
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        result = run(module.params, module.check_mode, module._diff)
    except ERRORS as exc:
        module.fail_json(msg=failure_message(module.params, exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
