#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: migration_gate
short_description: Judge the cloud against on-prem on a window of traffic (pass, fail or inconclusive)
version_added: 0.2.0
description:
  - Adds up the windows that C(haproxy_stats_info) measured on every HAProxy node of a fleet and compares
    the cloud side with the on-prem side.
  - "Fails on: a cloud error rate (5xx, connection and response errors, attempts retried elsewhere) more than
    C(max_error_rate_diff_points) above on-prem's and significant (one-sided two-proportion test); a cloud
    p95 server time more than C(max_p95_diff_ms) above on-prem's and more than C(max_p95_ratio) times it,
    confirmed by a Mann-Whitney rank test (p below C(alpha), rank-biserial effect of at least
    C(min_effect_size)); a cloud 4xx share more than C(max_4xx_rate_diff_points) above on-prem's and
    significant (a rewrite answering 404); more cloud health-check failures than C(max_check_failures)."
  - Fewer than C(min_requests) requests on a side makes the verdict inconclusive (unless the checks already fail).
  - The verdict always carries every measured figure next to its threshold (RV(table)).
  - At step 100 the on-prem servers are backups and get no traffic of their own; then the on-prem figures of
    O(reference_file), kept from the last window where on-prem had enough requests, stand in for them.
  - Runs on the controller, in the playbook's own process (an action plugin), once per fleet (C(run_once)).
options:
  windows:
    description:
      - The RV(cloudshift.migration.haproxy_stats_info#module:window) of each node, keyed by node name.
        All must be windows of the same backend.
    type: dict
    required: true
  thresholds:
    description:
      - Overrides of the default thresholds; unset keys keep the default.
      - "Keys: C(min_requests) (200), C(max_error_rate_diff_points) (1.0), C(max_4xx_rate_diff_points) (1.0),
        C(max_p95_diff_ms) (50),
        C(max_p95_ratio) (1.5), C(alpha) (0.01), C(min_effect_size) (0.1), C(max_check_failures) (0)."
    type: dict
    default: {}
  reference_file:
    description:
      - A JSON file kept on the controller with the on-prem figures of the last window in which on-prem had
        at least C(min_requests) requests. Read when every on-prem server is a backup and on-prem has fewer;
        rewritten (not in check mode) when it has enough.
    type: path
  label:
    description: What is judged, for the messages (for example V(application-02 route customers)).
    type: str
author:
  - cloudshift founding engineers (@cloudshift)
attributes:
  check_mode:
    description: Computes the verdict the same way; the reference file is not written.
    support: full
  diff_mode:
    description: Changes nothing on the target, so there is no diff.
    support: none
"""

EXAMPLES = r"""
- name: Judge the cloud against on-prem on every node's window
  cloudshift.migration.migration_gate:
    windows: "{{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, ['stats', 'window']))) }}"
    thresholds: {max_p95_diff_ms: 100}
    reference_file: /var/lib/cloudshift-audit/application-01.onprem-reference.json
    label: application-01
  run_once: true
  register: gate

- name: Show the verdict with its numbers
  ansible.builtin.debug:
    msg: "{{ gate.table }}"
  run_once: true
"""

RETURN = r"""
verdict:
  description: V(pass), V(fail) or V(inconclusive).
  returned: success
  type: str
checks:
  description: One entry per check (name, outcome, measured, threshold, breached, note).
  returned: success
  type: list
  elements: dict
thresholds:
  description: The thresholds applied (defaults overlaid with O(thresholds)).
  returned: success
  type: dict
table:
  description: The verdict and every check with its measured figures next to its thresholds, a line each.
  returned: success
  type: list
  elements: str
figures:
  description: Table of cloud and on-prem figures per node and for all nodes, a line each.
  returned: success
  type: list
  elements: str
window:
  description: The fleet's window (sides and servers summed over the nodes, without the latency samples).
  returned: success
  type: dict
reference_used:
  description: When the on-prem reference stood in for on-prem, its time and volume; else null.
  returned: success
  type: dict
reference_updated:
  description: Whether O(reference_file) was (or, in check mode, would be) rewritten with this window's on-prem figures.
  returned: success
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudshift.migration.plugins.module_utils.gate import ARGUMENT_SPEC, ERRORS, failure_message, run


def main():
    # The action plugin of the same name runs this in the controller's process; this is the module form.
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        result = run(module.params, module.check_mode)
    except ERRORS as exc:
        module.fail_json(msg=failure_message(module.params, exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
