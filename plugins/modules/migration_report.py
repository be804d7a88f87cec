#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: migration_report
short_description: Write an app's migration report, one self-contained HTML file, from its audit log
version_added: 0.4.0
description:
  - Reads C(<audit_dir>/<app>.jsonl) (written by C(migrate.yml) and C(ramp.yml)) and writes one HTML file with no
    external asset and no script.
  - A summary (events, measured windows, current step, failed verdicts, step downs, forced steps), the cloud share
    after each step change, and charts of on-prem against cloud for every window the gate measured (2xx and 5xx
    shares, average connect and response times, p95 response time), then the timeline of every event.
  - The same audit log gives the same file (no clock in it), so a re-run reports no change.
  - Runs on the controller, in the playbook's own process (an action plugin).
options:
  audit_dir:
    description: Directory of the audit log.
    type: path
    required: true
  app:
    description: The app.
    type: str
    required: true
  route:
    description: Chart this route's windows instead of the app's own backend's (the timeline shows every event).
    type: str
  dest:
    description: The HTML file; a relative path is taken from the current directory. Its directory is created.
    type: path
    required: true
  title:
    description: Title of the report (default V(Migration of <app>)).
    type: str
  mode:
    description: File mode of the report.
    type: str
    default: "0644"
author:
  - cloudshift founding engineers (@cloudshift)
attributes:
  check_mode:
    description: Says whether the file would change and writes nothing.
    support: full
  diff_mode:
    description: Shows the HTML before and after.
    support: full
"""

EXAMPLES = r"""
- name: Write the report of application-01
  cloudshift.migration.migration_report:
    audit_dir: /var/lib/cloudshift-audit
    app: application-01
    dest: reports/application-01.html
  run_once: true
"""

RETURN = r"""
path:
  description: The report written (absolute).
  returned: success
  type: str
events:
  description: Events of the audit log in the timeline.
  returned: success
  type: int
windows:
  description: Measured windows charted.
  returned: success
  type: int
damaged_lines:
  description:
    - The audit log's lines that are not records (torn by a crash, edited), each C(line) (its number) and C(text)
      (its start); they are left out of the report and named in a warning.
  returned: when the audit log has such lines
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudshift.migration.plugins.module_utils.migration_report import (
    ARGUMENT_SPEC, ERRORS, failure_message, run)


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
