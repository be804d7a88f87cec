# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: gor_command
short_description: The GoReplay command line that copies what an app's shadow entry does, for those who run GoReplay
version_added: 0.3.0
description:
  - Renders C(gor --input-raw ... --output-http "<target>/|N%") from the app's C(shadow) entry (allow and deny URL
    regexes, methods, original or set Host, timeout, workers). The binary is the user's; nothing is run.
options:
  _input:
    description: One app of the app model, with a C(shadow) entry.
    type: dict
    required: true
  percent:
    description: The share to copy; defaults to the entry's C(initial_percent).
    type: int
  listen:
    description: What GoReplay captures, C(--input-raw).
    type: str
    default: ":80"
  exit_after:
    description: Seconds after which GoReplay exits (C(--exit-after)).
    type: int
  binary:
    description: The GoReplay executable.
    type: str
    default: gor
"""

EXAMPLES = r"""
- name: Show the GoReplay equivalent of application-02's shadow at 10%
  ansible.builtin.debug:
    msg: "{{ app | cloudshift.migration.gor_command(percent=10, exit_after=3600) }}"
"""

RETURN = r"""
_value:
  description: The command line, its arguments quoted for a POSIX shell.
  type: str
"""

from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy import shadow


def gor_command(app, percent=None, listen=":80", exit_after=None, binary="gor"):
    merged = shadow.settings(app["shadow"])
    argv = shadow.gor_command(app["name"], app["shadow"], merged["initial_percent"] if percent is None else int(percent),
                              listen=listen, exit_after=exit_after, binary=binary)
    return shadow.gor_command_line(argv)


class FilterModule(object):
    def filters(self):
        return {"gor_command": gor_command}
