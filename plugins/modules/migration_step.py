#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: migration_step
short_description: The controller's half of the step engine - begin, judge, finish a migration verb over a fleet
version_added: 0.7.0
description:
  - The phases of a step (C(plugins/module_utils/step_engine.py)) that run in the controller's process, through this
    module's action plugin; the roles of the collection (C(cloudshift.migration.migration)) call it, one task a
    phase. It runs nothing on a node but the lock's give-back on the lock node.
  - V(begin) checks the app model, the role settings and the operator's request with the app model's one validation,
    and resolves the target (the backend the request moves). When no node's measure takes the run's lock (a verb
    that measures nothing, or a lock node outside the run's C(--limit)), it takes it on the lock node, where the task
    must be delegated.
  - V(judge) reads what M(cloudshift.migration.haproxy_step) measured on every node (its result registered as
    C(migration_measured)), checks that every node planned the same step, checks the cloud side before traffic goes
    up, judges the cloud against on-prem (the gate) and decides; a ramp's check decides raise, hold, roll back or
    done; a DNS move moves the record through Route53. A refusal fails the task with the numbers.
  - V(finish) reads every node's apply (C(migration_applied), C(migration_undone), C(migration_reloaded)), reports
    the fleet's outcome (failing, naming the nodes, when the step did not reach every node), appends the audit line
    and gives the lock back on the lock node. V(release) only gives the lock back (the playbooks' C(always)).
options:
  phase:
    description: The phase.
    type: str
    required: true
    choices: [begin, judge, finish, release]
  verb:
    description:
      - With V(begin), what the run does. V(site) (site.yml) and V(restore) take every app's lock and nothing else.
      - V(deploy) (deploy.yml) takes the app's lock and returns RV(deploy), where to find each cloud server's endpoint.
    type: str
    choices: [migrate, ramp, status, shadow, restore, report, site, deploy]
    default: migrate
  request:
    description: With V(begin), the operator's inputs (C(app), C(route), C(step), C(force)...), as the entry point's argument spec lists them.
    type: dict
  apps:
    description: With V(begin), the app model, C(cloudshift_apps).
    type: list
    elements: dict
  settings:
    description: With V(begin), C(validation) (the role settings the one validation reads) and C(model) (what the app model reads).
    type: dict
  lock_ttl:
    description: With V(begin), the lease of the run's lock in seconds (longer for a gate window or a ramp).
    type: int
    default: 900
  run:
    description: With V(judge), V(finish) and V(release), what V(begin) returned.
    type: dict
  decision:
    description: With V(finish), what V(judge) returned.
    type: dict
  ramp:
    description: With V(judge) of a ramp's check, the ramp's state after the previous check; with V(finish) and O(stopped), its last state.
    type: dict
  stopped:
    description: With V(finish) of a ramp, the ramp ran out of checks.
    type: bool
    default: false
  release:
    description: With V(finish), give the lock back (a ramp keeps it between its checks).
    type: bool
    default: true
  aws:
    description: With V(judge), how the controller reaches AWS (C(migration_aws)).
    type: dict
  ca_file:
    description: With V(judge), the CA bundle the cloud side's probe verifies with.
    type: path
  audit_dir:
    description: The controller's audit log directory (the audit lines, the gate's on-prem references, the DNS backups).
    type: path
  lock_state_dir:
    description: The lock node's state directory (where its lock files are).
    type: path
  webhooks:
    description:
      - With V(judge), V(finish) and V(recover), the webhooks every audit line is posted to (C(migration_notify_webhooks)).
      - Secrets (their URLs and headers); never shown.
    type: list
    elements: dict
author:
  - cloudshift founding engineers (@cloudshift)
attributes:
  check_mode:
    description: A check run measures, judges and reports, and changes nothing (no audit line, no record moved).
    support: full
  diff_mode:
    description: The changes are the nodes' (M(cloudshift.migration.haproxy_step)'s diff).
    support: none
"""

EXAMPLES = r"""
- name: Check the request and the app model, and resolve what it moves
  cloudshift.migration.migration_step:
    phase: begin
    verb: migrate
    request: {app: application-01, step: "25"}
    apps: "{{ cloudshift_apps }}"
    settings: "{{ migration_settings }}"
  run_once: true
  register: migration_run
"""

RETURN = r"""
verb:
  description: With V(begin), the verb (C(step), C(dns), C(status), C(ramp), C(shadow), C(restore), C(report), C(site), C(deploy)).
  returned: phase=begin
  type: str
request:
  description: With V(begin), the request normalized (real types).
  returned: phase=begin
  type: dict
target:
  description: With V(begin), the backend the request moves, as the app model resolves it.
  returned: phase=begin
  type: dict
deploy:
  description:
    - With V(begin) and V(verb=deploy), one entry per cloud server to deploy (server; discover, what
      P(cloudshift.migration.cloud_endpoint_info#module) looks for; probe, the request HAProxy's check makes).
  returned: phase=begin, verb=deploy
  type: list
  elements: dict
step:
  description: With V(judge), the step every node is to take.
  returned: phase=judge
  type: int
gate:
  description: With V(judge), the verdict of the cloud against on-prem, its table and figures.
  returned: phase=judge
  type: dict
report:
  description: With V(finish), the lines the run ends with.
  returned: phase=finish
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec=dict(
        phase=dict(type="str", required=True, choices=["begin", "judge", "finish", "release"]),
        verb=dict(type="str", default="migrate", choices=["migrate", "ramp", "status", "shadow", "restore", "report", "site", "deploy"]),
        request=dict(type="dict"), apps=dict(type="list", elements="dict"), settings=dict(type="dict"),
        lock_ttl=dict(type="int", default=900), run=dict(type="dict"), decision=dict(type="dict"),
        ramp=dict(type="dict"), stopped=dict(type="bool", default=False), release=dict(type="bool", default=True),
        aws=dict(type="dict", no_log=True), ca_file=dict(type="path"), audit_dir=dict(type="path"),
        lock_state_dir=dict(type="path"), webhooks=dict(type="list", elements="dict", no_log=True)),
        supports_check_mode=True)
    module.fail_json(msg="migration_step runs in the controller's process, through its action plugin: it reads every "
                         "node's results and the controller's settings, which a module on one node cannot")


if __name__ == "__main__":
    main()
