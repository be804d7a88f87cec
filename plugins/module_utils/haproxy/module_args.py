# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runtime API options shared by the modules (documented in doc_fragments/runtime_api.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.client import RuntimeClient


def runtime_argument_spec(**options):
    """The socket and timeout options, plus the module's own."""
    spec = dict(
        socket=dict(type="str", required=True),
        timeout=dict(type="float", default=5.0),
    )
    spec.update(options)
    return spec


def runtime_client(module):
    """A RuntimeClient for the module's socket; fails the module, naming the value, on a bad timeout."""
    timeout = module.params["timeout"]
    if timeout <= 0:
        module.fail_json(msg="timeout must be a positive number of seconds, got %r" % timeout)
    return RuntimeClient(module.params["socket"], timeout=timeout)


def exit_with_result(module, result):
    """exit_json with the result of a service function: its warnings warned, its diff only in diff mode."""
    diff = result.pop("diff", None)
    for warning in result.pop("warnings", []):
        module.warn(warning)
    if module._diff and diff is not None:
        result["diff"] = diff
    module.exit_json(**result)
