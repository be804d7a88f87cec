# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: awx_workflow_nodes
short_description: The nodes of the AWX workflow that chains the collection's job templates
version_added: 0.6.0
description:
  - Turns the workflow of C(playbooks/vars/awx.yml) into M(awx.awx.workflow_job_template)'s O(awx.awx.workflow_job_template#module:workflow_nodes).
  - A node naming an unknown job template, or an edge to an unknown node, fails naming it.
options:
  _input:
    description: The workflow (name, organization, nodes with identifier, template or approval, success, failure, always, extra_data).
    type: dict
    required: true
  templates:
    description: The job templates of the data (their id and name).
    type: list
    elements: dict
    required: true
  prefix:
    description: Put before every template's name, as for P(cloudshift.migration.awx_job_templates#filter).
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Workflow nodes
  ansible.builtin.set_fact:
    nodes: "{{ awx_workflow | cloudshift.migration.awx_workflow_nodes(awx_job_templates, 'cloudshift: ') }}"
"""

RETURN = r"""
_value:
  description: The workflow nodes.
  type: list
  elements: dict
"""

from ansible_collections.cloudshift.migration.plugins.module_utils.awx import workflow_nodes
from ansible_collections.cloudshift.migration.plugins.plugin_utils.awx_filters import awx_filter


class FilterModule(object):
    def filters(self):
        return {"awx_workflow_nodes": awx_filter(workflow_nodes)}
