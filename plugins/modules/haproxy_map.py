#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: haproxy_map
short_description: Change an HAProxy routing map live with the runtime API and keep its file identical
version_added: "0.1.0"
description:
  - Changes the entries of a map HAProxy has loaded (the file of a C(map_beg), C(map_reg)... converter,
    for example C(use_backend %[base,map_beg(/etc/haproxy/routes.map,bk_default)])) through the runtime
    API, without reload, then writes the map file so it is identical to what HAProxy runs.
  - Everything is validated before the first change reaches HAProxy. Keys and values holding whitespace,
    C(;), control characters, a trailing C(<<), or keys starting with C(#) are refused, naming the value.
    Keys of a regex map (C(map_reg), C(map_regm)) are compiled with PCRE2, the library HAProxy uses,
    and refused with PCRE2's own message and offset.
  - O(state=replace) is atomic for traffic. The new content is loaded into a new version of the map
    (C(prepare map), C(add map @version) in batches that fit the CLI buffer), then C(commit map)
    switches to it at once, so no request is routed by a half-written map. If anything fails before
    the commit, the prepared version is discarded and the live map is untouched.
  - O(state=present) and O(state=absent) change single keys (C(set map), C(add map), C(del map)).
    Each command is atomic, the set of commands is not. A new entry is appended at the end of the map.
    In maps where the first match wins (every match type but C(str), C(beg) and C(ip)), a new entry
    that must not be last is placed by an atomic replace instead.
  - The match type is read from HAProxy (C(get map)), so the order is kept and regexes are checked
    even when O(match) is not given.
  - This collection only writes through admin sockets. HAProxy 2.6 accepts map changes at
    C(level user), so the module checks the level with C(show cli level) and refuses other levels.
extends_documentation_fragment:
  - cloudshift.migration.runtime_api
author:
  - cloudshift founding engineers (@cloudshift)
options:
  map:
    description:
      - Absolute path of the map file, exactly as the HAProxy configuration names it
        (C(show map) lists the maps HAProxy has loaded).
      - An unknown map is an error that names the loaded maps.
    type: str
    required: true
  entries:
    description:
      - Entries, in order. Order matters for maps where the first match wins, such as C(map_reg).
      - With O(state=absent), only the keys are used and O(entries[].value) may be left out.
      - Each key may appear once.
    type: list
    elements: dict
    default: []
    suboptions:
      key:
        description: The key (a path prefix, a regex, a host...). No whitespace, C(;) or leading C(#).
        type: str
        required: true
      value:
        description: The value, usually a backend name. Required unless O(state=absent).
        type: str
  state:
    description:
      - V(present) makes sure the entries exist with these values; other entries are left alone.
      - V(absent) removes the entries with these keys (every occurrence).
      - V(replace) makes the map exactly O(entries), in order, with one atomic switch.
    type: str
    choices: [present, absent, replace]
    default: present
  match:
    description:
      - Match type of the map (the suffix of its converter, V(reg) for C(map_reg)).
      - Optional; HAProxy is asked for the match type of every converter using the map and is trusted.
        When given, it must be one of them, and keys are validated for it before HAProxy is contacted
        (V(reg) and V(regm) keys are compiled with PCRE2; V(int) and V(ip) keys are parsed).
    type: str
    choices: [str, beg, sub, dir, dom, end, reg, regm, int, ip]
  write_file:
    description:
      - Write the map file so it holds exactly what HAProxy runs, in order, through a temporary file
        renamed over it (mode and owner kept). A generated header comment says the file is managed
        and that, for regex maps, the first match wins in file order.
      - A file that differed from the live map before the task is reported (RV(file_drift)) and fixed.
      - Set to V(false) when the file is managed elsewhere.
    type: bool
    default: true
  file_path:
    description:
      - Where to write the map file. Defaults to O(map), the file HAProxy loaded.
    type: path
attributes:
  check_mode:
    support: full
    description: Reads the map and the file and computes the plan; sends nothing but reads, writes no file.
  diff_mode:
    support: full
    description: The live map before and after, one C(key value) line per entry in order; and the file when it changes.
notes:
  - Written for HAProxy 2.6 and later (map versions, C(prepare map)/C(commit map), payloads).
  - Keys are not unescaped in map files, but are by the runtime API's ordinary arguments; the module
    escapes backslashes for C(set map) and C(del map) and sends new entries as raw payload lines,
    so a regex such as C(application-02\.6play\.fr\/v2\/) reaches HAProxy unchanged.
  - A key appearing several times in the live map is changed everywhere by C(set map) (with a warning)
    and removed everywhere by C(del map).
seealso:
  - module: cloudshift.migration.haproxy_split
"""

EXAMPLES = r"""
- name: Route /v2/HealthCheck of application-02 to the cloud, before the /v2/ catch-all
  cloudshift.migration.haproxy_map:
    socket: /run/haproxy/admin.sock
    map: /etc/haproxy/routes_reg.map
    match: reg
    entries:
      - key: application-02\.6play\.fr\/v2\/HealthCheck
        value: application-02-on-cloud
      - key: application-02\.6play\.fr\/v2\/
        value: application-02-mixed

- name: Stop routing a path prefix specially
  cloudshift.migration.haproxy_map:
    socket: /run/haproxy/admin.sock
    map: /etc/haproxy/routes.map
    state: absent
    entries:
      - key: application-01.6play.fr/v2/customers/

- name: Set the whole regex map at once (atomic for traffic)
  cloudshift.migration.haproxy_map:
    socket: /run/haproxy/admin.sock
    map: /etc/haproxy/routes_reg.map
    state: replace
    match: reg
    entries:
      - key: application-02\.6play\.fr\/v2\/critical\/(\w{1,45})\/payments\/
        value: application-02-mixed-critical
      - key: application-02\.6play\.fr\/v2\/customers\/
        value: application-02-mixed
      - key: application-02\.6play\.fr\/v2\/
        value: application-02-on-cloud
      - key: application-02\.6play\.fr\/
        value: application-02-on-prem
  register: routes

- name: Show how the map was changed
  ansible.builtin.debug:
    msg: "{{ routes.method }}, version {{ routes.version }}, {{ routes.commands_count }} commands"
"""

RETURN = r"""
map:
  description: The map's file path as HAProxy knows it.
  returned: success
  type: str
  sample: /etc/haproxy/routes_reg.map
match_types:
  description: Match types of the converters using the map, as HAProxy reports them (or O(match)).
  returned: success
  type: list
  elements: str
  sample: [reg]
ordered:
  description: Whether the first match wins in this map, so that order matters.
  returned: success
  type: bool
  sample: true
entries_before:
  description: The live entries before the task, in order.
  returned: success
  type: list
  elements: dict
  sample: [{key: "application-02\\.6play\\.fr\\/v2\\/", value: application-02-on-cloud}]
entries_after:
  description: The entries after the task, in order (in check mode, what they would be).
  returned: success
  type: list
  elements: dict
  sample: [{key: "application-02\\.6play\\.fr\\/v2\\/", value: application-02-mixed}]
added:
  description: Entries whose key was not in the map.
  returned: success
  type: list
  elements: dict
  sample: [{key: /v2/HealthCheck, value: bk_cloud}]
removed:
  description: Entries removed (every occurrence of the key).
  returned: success
  type: list
  elements: dict
  sample: [{key: /v1/, value: bk_onprem}]
changed_values:
  description: Keys whose value changed.
  returned: success
  type: list
  elements: dict
  sample: [{key: /v2/, before: bk_onprem, after: bk_cloud}]
order_changed:
  description: Whether O(state=replace) changes the order of keys kept in the map.
  returned: success
  type: bool
  sample: false
method:
  description:
    - How the map was changed, V(none), V(incremental) (C(set)/C(add)/C(del) map) or
      V(atomic-replace) (C(prepare)/C(add @version)/C(commit) map).
  returned: success
  type: str
  sample: atomic-replace
version:
  description: The map version committed by an atomic replace; V(null) otherwise and in check mode.
  returned: success
  type: int
  sample: 3
commands_count:
  description: Runtime API commands that changed the map (a payload counts as one); in check mode, the planned count.
  returned: success
  type: int
  sample: 22
duration_ms:
  description: Time spent sending the change to HAProxy, from the first write to the commit.
  returned: success
  type: float
  sample: 21.7
file_path:
  description: The map file kept identical to the live map; V(null) when O(write_file=false).
  returned: success
  type: str
  sample: /etc/haproxy/routes_reg.map
file_drift:
  description: Whether the file (missing, or with other entries) differed from the live map before the task.
  returned: success
  type: bool
  sample: false
file_changed:
  description: Whether the file was (in check mode, would be) rewritten.
  returned: success
  type: bool
  sample: true
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.client import HAProxyError
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.module_args import (
    exit_with_result, runtime_argument_spec, runtime_client)
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.maps import (
    MATCH_METHODS,
    STATES,
    MapError,
    manage_map,
)


def run_module():
    module = AnsibleModule(
        argument_spec=runtime_argument_spec(
            map=dict(type="str", required=True),
            entries=dict(type="list", elements="dict", default=[], options=dict(
                key=dict(type="str", required=True, no_log=False),
                value=dict(type="str"),
            )),
            state=dict(type="str", choices=list(STATES), default="present"),
            match=dict(type="str", choices=list(MATCH_METHODS)),
            write_file=dict(type="bool", default=True),
            file_path=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        client = runtime_client(module)
        result = manage_map(client, params["map"], params["entries"], params["state"], match=params["match"],
                            write_file=params["write_file"], file_path=params["file_path"],
                            check_mode=module.check_mode)
    except (HAProxyError, MapError, ValueError, OSError) as exc:
        module.fail_json(msg=str(exc), map=params["map"], commands_applied=list(getattr(exc, "applied", None) or []))
    exit_with_result(module, result)


def main():
    run_module()


if __name__ == "__main__":
    main()
