# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: awx_survey_spec
short_description: AWX's survey spec for one entry of the collection's AWX data
version_added: 0.6.0
description:
  - The survey spec (name, description, spec) of a job template or workflow of C(playbooks/vars/awx.yml), an empty
    dict when it asks nothing.
options:
  _input:
    description: The template or workflow (name, description, survey).
    type: dict
    required: true
  apps:
    description: The app names the inventory defines.
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: The workflow's survey
  ansible.builtin.set_fact:
    spec: "{{ awx_workflow | cloudshift.migration.awx_survey_spec(cloudshift_apps | map(attribute='name')) }}"
"""

RETURN = r"""
_value:
  description: AWX's survey_spec.
  type: dict
"""

from ansible_collections.cloudshift.migration.plugins.module_utils.awx import survey_spec
from ansible_collections.cloudshift.migration.plugins.plugin_utils.awx_filters import awx_filter


class FilterModule(object):
    def filters(self):
        return {"awx_survey_spec": awx_filter(survey_spec)}
