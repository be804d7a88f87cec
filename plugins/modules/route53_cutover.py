#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: route53_cutover
short_description: Point an app's DNS record at its ELB through Route53, and restore the previous record exactly
version_added: 0.3.0
description:
  - V(cutover) makes O(record) an alias A (and AAAA with O(ipv6)) to the ELB, or a CNAME to it, in one change
    batch; with O(weight), a DNS-level ramp instead, the records the name held kept beside the ELB's as weighted
    records (Route53 weights 0-255).
  - The cutover owns the name's address records (A, AAAA, CNAME); other types are never touched.
  - Before its first change it writes the record sets the name held, exactly as Route53 listed them, to
    O(backup_file) (mode 0600), with a sha256 digest of its content; a later weighted stage keeps that first backup.
  - V(restore) makes the name hold the backup's record sets again, in one batch, and checks it does. Before any AWS
    call it refuses a backup whose digest does not match (edited or cut short), that was saved for another record,
    or whose record sets name another record or a type other than A, AAAA or CNAME; once the zone is found, one
    saved from another zone. The message names the backup file and each problem.
  - Waits for the change to be C(INSYNC) with O(wait). Idempotent; check and diff mode show the change batch.
  - Refuses when the zone does not exist, holds no address record for the name, or the target ELB does not exist.
options:
  state:
    description: V(cutover) points the record at the ELB; V(restore) puts the backup back.
    type: str
    choices: [cutover, restore]
    default: cutover
  zone:
    description: The hosted zone's name (V(6play.fr)).
    type: str
    required: true
  private_zone:
    description: Look for a private hosted zone of that name instead of a public one.
    type: bool
    default: false
  record:
    description: The app's name in the zone (V(application-01.6play.fr)).
    type: str
    required: true
  load_balancer:
    description: Name of the target ELB, looked up for its DNS name and canonical hosted zone.
    type: str
  load_balancer_type:
    description: Kind of O(load_balancer); V(auto) tries an ALB/NLB first, then a classic ELB.
    type: str
    choices: [auto, application, network, classic]
    default: auto
  target_dns_name:
    description: The target's DNS name, instead of O(load_balancer).
    type: str
  target_hosted_zone_id:
    description: The target's canonical hosted zone id, for an alias to O(target_dns_name).
    type: str
  type:
    description: V(alias) (A, with O(evaluate_target_health)) or V(cname).
    type: str
    choices: [alias, cname]
    default: alias
  ipv6:
    description: Also an alias AAAA record.
    type: bool
    default: false
  evaluate_target_health:
    description: The alias's EvaluateTargetHealth.
    type: bool
    default: true
  ttl:
    description: TTL of a CNAME, in seconds.
    type: int
    default: 60
  weight:
    description: Weight of the ELB's record for a DNS-level ramp (0-255); omit for a plain cutover.
    type: int
  onprem_weight:
    description: Weight of the records the name held, with O(weight); defaults to 255 minus O(weight).
    type: int
  set_identifier:
    description: Set identifier of the ELB's weighted record.
    type: str
    default: cloud
  onprem_set_identifier:
    description: Set identifier given to the records the name held, once weighted.
    type: str
    default: onprem
  backup_file:
    description:
      - File on the machine running the module (the controller) keeping the record sets before the cutover.
      - Required with V(restore).
    type: path
  wait:
    description: Wait until Route53 reports the change C(INSYNC).
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for C(INSYNC) (0 to 3600).
    type: int
    default: 300
  comment:
    description: Comment of the change batch.
    type: str
extends_documentation_fragment:
  - cloudshift.migration.aws
author:
  - cloudshift founding engineers (@cloudshift)
attributes:
  check_mode:
    description: Computes the change batch and submits nothing; the backup is not written.
    support: full
  diff_mode:
    description: The name's address records before and after, one line each.
    support: full
"""

EXAMPLES = r"""
- name: Point application-01.6play.fr at the ELB, keeping the previous record
  cloudshift.migration.route53_cutover:
    zone: 6play.fr
    record: application-01.6play.fr
    load_balancer: k8s-prod
    region: eu-west-3
    backup_file: /var/lib/cloudshift-audit/application-01.dns-backup.json
  register: cutover

- name: Put the previous record back, byte for byte
  cloudshift.migration.route53_cutover:
    state: restore
    zone: 6play.fr
    record: application-01.6play.fr
    backup_file: /var/lib/cloudshift-audit/application-01.dns-backup.json
"""

RETURN = r"""
zone_id:
  description: The hosted zone changed.
  returned: success
  type: str
record:
  description: The record's name, lower case with its trailing dot.
  returned: success
  type: str
before:
  description: The name's address record sets before, exactly as Route53 listed them.
  returned: success
  type: list
  elements: dict
after:
  description: The name's address record sets after (read back from Route53 after a change).
  returned: success
  type: list
  elements: dict
changes:
  description: The change batch (submitted, or that would be in check mode).
  returned: success
  type: list
  elements: dict
change_id:
  description: Route53's id of the change.
  returned: when a change was submitted
  type: str
status:
  description: The change's last status (C(INSYNC) after a wait).
  returned: when a change was submitted
  type: str
waited_seconds:
  description: Seconds spent waiting for C(INSYNC).
  returned: success
  type: float
target:
  description: The ELB's dns_name and hosted_zone_id (and name and type when looked up).
  returned: with V(cutover)
  type: dict
table:
  description: The record before and after, the change and the backup, one line each, for an operator.
  returned: success
  type: list
  elements: str
restored_exactly:
  description: Whether the name holds exactly the backup's record sets after a restore.
  returned: when V(restore) changed something
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.cloudshift.migration.plugins.module_utils.aws import BOTO3_IMPORT_ERROR, HAS_BOTO3
from ansible_collections.cloudshift.migration.plugins.module_utils.route53 import ARGUMENT_SPEC, CutoverError, run


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True,
                           mutually_exclusive=[("load_balancer", "target_dns_name")])
    if not HAS_BOTO3:
        module.fail_json(msg=missing_required_lib("boto3"), exception=str(BOTO3_IMPORT_ERROR))
    try:
        result = run(module.params, module.check_mode, module._diff)
    except CutoverError as exc:
        module.fail_json(msg=str(exc), record=module.params["record"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
