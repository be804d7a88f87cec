# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: alert_rules
short_description: The Prometheus rules (recording rules and alerts) of the app model
version_added: 0.4.0
description:
  - Per HAProxy backend of every app (the app's own and one per route) and per side, recording rules over HAProxy's
    exporter (responses, 2xx and 5xx shares, weighted response and connect times, retries), the alerts comparing the
    cloud with on-prem, and per Auto Scaling group the node alerts over kube-state-metrics and the
    cluster-autoscaler (docs/alerts.md).
  - Fails naming the bad value when the app model's C(alerts) entries or the settings are wrong.
options:
  _input:
    description: The app model, C(cloudshift_apps).
    type: list
    elements: dict
    required: true
  thresholds:
    description: Default thresholds of every app (C(alerts_thresholds)); an app's C(alerts) entry overrides them.
    type: dict
    default: {}
  cluster_thresholds:
    description: Thresholds of the node alerts (C(alerts_cluster_thresholds)).
    type: dict
    default: {}
  settings:
    description: rate_window, haproxy_matchers, kube_matchers, asg_min_series, asg_max_series, runbook_url, labels.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Render the rules
  ansible.builtin.copy:
    content: "{{ cloudshift_apps | cloudshift.migration.alert_rules(alerts_thresholds) | ansible.builtin.to_nice_yaml(indent=2) }}"
    dest: /etc/prometheus/rules.d/cloudshift-migration.rules.yml
    mode: "0644"
"""

RETURN = r"""
_value:
  description: "The rule file's content, C({\"groups\": [...]})."
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.cloudshift.migration.plugins.module_utils.alerts import AlertModelError, rule_groups


def alert_rules(apps, thresholds=None, cluster_thresholds=None, settings=None):
    try:
        return rule_groups(apps, thresholds, cluster_thresholds, settings)
    except AlertModelError as exc:
        raise AnsibleFilterError("alert rules: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"alert_rules": alert_rules}
