# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: awx_job_templates
short_description: AWX job templates with their surveys, from the collection's AWX data
version_added: 0.6.0
description:
  - Turns the job templates of C(playbooks/vars/awx.yml) into what M(awx.awx.job_template) takes, each with its
    survey spec; a question with C(choices_from=apps) offers the names of the inventory's apps.
  - A wrong template or question (unknown type, default outside the choices, a variable asked twice...) fails,
    naming it, before anything reaches AWX.
options:
  _input:
    description: The job templates (id, name, description, playbook, survey, extra_vars).
    type: list
    elements: dict
    required: true
  apps:
    description: The app names the inventory defines.
    type: list
    elements: str
    required: true
  prefix:
    description: Put before every template's name.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Job templates ready for awx.awx.job_template
  ansible.builtin.set_fact:
    templates: "{{ awx_job_templates | cloudshift.migration.awx_job_templates(cloudshift_apps | map(attribute='name'), 'cloudshift: ') }}"
"""

RETURN = r"""
_value:
  description: One entry per template (id, name, description, playbook, extra_vars, survey_enabled, survey_spec).
  type: list
  elements: dict
"""

from ansible_collections.cloudshift.migration.plugins.module_utils.awx import job_templates
from ansible_collections.cloudshift.migration.plugins.plugin_utils.awx_filters import awx_filter


class FilterModule(object):
    def filters(self):
        return {"awx_job_templates": awx_filter(job_templates)}
