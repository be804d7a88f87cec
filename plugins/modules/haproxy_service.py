#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: haproxy_service
short_description: Start, reload and stop HAProxy in master-worker mode without systemd
version_added: "0.1.0"
description:
  - Runs HAProxy as C(haproxy -W -D -f <config> -p <pid_file> -S <master_socket>,mode,600) on hosts
    without systemd, and controls it through its master process.
  - V(started) starts HAProxy unless the master named in O(pid_file) is alive (a stale pid file, naming
    a dead process or one that is not HAProxy, is ignored), then waits until the master CLI answers
    and a worker runs.
  - V(reloaded) validates O(config) with C(haproxy -c) first (nothing is touched when it is refused),
    then reloads hitlessly (SIGUSR2 to the master; listening sockets are handed to the new worker,
    the old one finishes its connections) and waits for the new worker. Fails when the master
    reports the reload failed. Starts HAProxy when it is not running.
  - V(stopped) soft-stops the master (SIGUSR1, connections are finished, bounded by the
    configuration's C(hard-stop-after)), sends SIGTERM after O(timeout), and removes the pid file.
  - V(restarted) stops then starts.
author:
  - cloudshift founding engineers (@cloudshift)
options:
  state:
    description: Desired state of the HAProxy instance.
    type: str
    choices: [started, stopped, reloaded, restarted]
    default: started
  config:
    description: HAProxy configuration file.
    type: path
    default: /etc/haproxy/haproxy.cfg
  extra_configs:
    description:
      - More configuration files, loaded after O(config) (C(-f) each, in order) at start and checked with it by
        C(haproxy -c) before every start and reload - the role keeps the stats page's credentials in one, mode 0600.
      - A reload re-executes the master with the files it was started with, so a reload is refused, naming the
        files, when they differ from O(config) and O(extra_configs); restart once to load them.
    type: list
    elements: path
    default: []
    version_added: 0.5.0
  pid_file:
    description: Pid file of the HAProxy master (passed with C(-p)); identifies the instance.
    type: path
    default: /run/haproxy/haproxy.pid
  master_socket:
    description: Unix socket of the master CLI (passed with C(-S), mode 600).
    type: path
    default: /run/haproxy/master.sock
  binary:
    description: HAProxy executable (name looked up in PATH, or a path).
    type: str
    default: haproxy
  server_state_file:
    description:
      - When set, the running worker's C(show servers state) is saved there before a reload, restart
        or stop, for a configuration using C(load-server-state-from-file), so that servers found DOWN
        and runtime weights survive (HAProxy keeps a weight the configuration changed).
    type: path
  server_weights:
    description:
      - "With O(server_state_file), the weights the next worker must start with, as the app model resolves them
        (C(server_state_weights) of the P(cloudshift.migration.app_model#filter) filter):
        C({backend: {server: [weight, configured weight]}})."
      - They are written into the saved server-state file for those servers (every other field and server is kept
        as HAProxy saved it). HAProxy loads a weight from the file only when the file's initial weight is the one
        the new configuration gives the server, so without them a reload that changes a configured weight (a step
        leaving 100) starts the new worker at the configuration's weight until the step's weights are set again.
    type: dict
    version_added: 0.7.0
  server_addresses:
    description:
      - "With O(server_state_file), where the next worker must reach each server, as the app model resolves them
        (C(server_state_addresses) of the P(cloudshift.migration.app_model#filter) filter):
        C({backend: {server: {address, port, resolved}}}), C(resolved) the IP a name was last seen at, or null."
      - HAProxy takes a server's port and last address from the server-state file at a reload even when the new
        configuration moved the server (a new ELB name or port), so without them a reload keeps sending its traffic
        to the old endpoint. A server already at its address and port keeps its line as it is.
    type: dict
    version_added: 0.8.0
  timeout:
    description: Seconds to wait for HAProxy to start, reload or stop.
    type: float
    default: 30
attributes:
  check_mode:
    support: full
    description: Reports what would be done; validates the configuration for V(reloaded) but signals nothing.
  diff_mode:
    support: full
    description: Shows the master pid before and after.
notes:
  - On hosts managed by systemd use the C(haproxy) unit instead (the role C(cloudshift.migration.haproxy)
    chooses with its C(haproxy_service_manager) variable).
"""

EXAMPLES = r"""
- name: Start HAProxy
  cloudshift.migration.haproxy_service:
    state: started
    config: /etc/haproxy/haproxy.cfg
    pid_file: /run/haproxy/haproxy.pid
    master_socket: /run/haproxy/master.sock

- name: Reload HAProxy hitlessly, keeping server states
  cloudshift.migration.haproxy_service:
    state: reloaded
    config: /etc/haproxy/haproxy.cfg
    pid_file: /run/haproxy/haproxy.pid
    master_socket: /run/haproxy/master.sock
    server_state_file: /var/lib/cloudshift-migration/server-state

- name: Stop HAProxy
  cloudshift.migration.haproxy_service:
    state: stopped
    pid_file: /run/haproxy/haproxy.pid
    master_socket: /run/haproxy/master.sock
"""

RETURN = r"""
state:
  description: The requested state.
  returned: always
  type: str
  sample: reloaded
action:
  description: What was done (or would be done in check mode), one of V(none), V(start), V(reload),
    V(stop), V(restart), V(remove stale pid file).
  returned: always
  type: str
  sample: reload
master_pid:
  description: Pid of the HAProxy master after the task (null when stopped).
  returned: always
  type: int
  sample: 5257
master_pid_before:
  description: Pid of the HAProxy master before the task (null when it was not running).
  returned: always
  type: int
  sample: 5257
workers_before:
  description: Pids of the worker processes before the task.
  returned: always
  type: list
  elements: int
  sample: [11046]
workers_after:
  description: Pids of the worker processes after the task (the new worker first after a reload).
  returned: always
  type: list
  elements: int
  sample: [11224, 11046]
reloads:
  description: The master's reload counter after the task (null when stopped).
  returned: always
  type: int
  sample: 3
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.master import MasterError, MasterWorker
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.weights import MAX_WEIGHT

STOPPED = {"running": False, "master_pid": None, "workers": [], "reloads": None}


def planned_action(state, running, stale_pid_file):
    """What a state asks for given whether HAProxy runs (pure)."""
    if state == "started":
        return "none" if running else "start"
    if state == "stopped":
        if running:
            return "stop"
        return "remove stale pid file" if stale_pid_file else "none"
    if state == "reloaded":
        return "reload" if running else "start"
    return "restart" if running else "start"


def describe(status):
    if not status["running"]:
        return "haproxy: stopped\n"
    return "haproxy: running, master pid %s, workers %s\n" % (status["master_pid"], status["workers"])


def apply_action(controller, action, before):
    if action == "start":
        return before, controller.start()
    if action == "reload":
        return controller.reload()
    if action == "stop":
        controller.stop()
        return before, STOPPED
    if action == "restart":
        controller.stop()
        return before, controller.start()
    if action == "remove stale pid file":
        controller.remove_stale_pid_file()
        return before, STOPPED
    return before, before


def server_weights(value):
    """server_weights checked: {backend: {server: [weight, configured weight]}}, weights 0-MAX_WEIGHT; ValueError names
    the bad entry."""
    if not value:
        return None
    checked = {}
    for backend, servers in value.items():
        if not isinstance(servers, dict):
            raise ValueError("server_weights[%s] must be a mapping of server names, got %r" % (backend, servers))
        for server, pair in servers.items():
            if (not isinstance(pair, (list, tuple)) or len(pair) != 2
                    or not all(isinstance(item, int) and not isinstance(item, bool) and 0 <= item <= MAX_WEIGHT
                               for item in pair)):
                raise ValueError("server_weights[%s][%s] must be [weight, configured weight], each 0-%d, got %r"
                                 % (backend, server, MAX_WEIGHT, pair))
            checked.setdefault(backend, {})[server] = list(pair)
    return checked


def server_addresses(value):
    """server_addresses checked: {backend: {server: {address, port, resolved}}}; ValueError names the bad entry."""
    if not value:
        return None
    checked = {}
    for backend, servers in value.items():
        if not isinstance(servers, dict):
            raise ValueError("server_addresses[%s] must be a mapping of server names, got %r" % (backend, servers))
        for server, entry in servers.items():
            port = entry.get("port") if isinstance(entry, dict) else None
            if (not isinstance(entry, dict) or not isinstance(entry.get("address"), str)
                    or not entry["address"] or any(char.isspace() for char in entry["address"])
                    or not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535
                    or not isinstance(entry.get("resolved"), (str, type(None)))):
                raise ValueError("server_addresses[%s][%s] must be {address: a name or an IP, port: 1-65535, "
                                 "resolved: an IP or null}, got %r" % (backend, server, entry))
            checked.setdefault(backend, {})[server] = {"address": entry["address"], "port": port,
                                                       "resolved": entry.get("resolved")}
    return checked


def run(module):
    params = module.params
    try:
        weights = server_weights(params["server_weights"])
        addresses = server_addresses(params["server_addresses"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    controller = MasterWorker(params["config"], params["pid_file"], params["master_socket"],
                              binary=params["binary"], timeout=params["timeout"],
                              server_state_file=params["server_state_file"], extra_configs=params["extra_configs"],
                              server_weights=weights, server_addresses=addresses)
    try:
        before = controller.status()
        action = planned_action(params["state"], before["running"], controller.stale_pid_file())
        if module.check_mode:
            if action in ("start", "reload", "restart"):
                if all(os.path.exists(path) for path in controller.configs):
                    controller.check_config()
                else:
                    module.warn("check mode: %s does not exist yet, not validated" % " + ".join(controller.configs))
            after = before
        else:
            before, after = apply_action(controller, action, before)
    except MasterError as exc:
        module.fail_json(msg=str(exc), state=params["state"])

    changed = action != "none"
    result = dict(changed=changed, state=params["state"], action=action,
                  master_pid=after["master_pid"], master_pid_before=before["master_pid"],
                  workers_before=before["workers"], workers_after=after["workers"], reloads=after["reloads"])
    if changed and module._diff:
        after_text = "haproxy: would %s\n" % action if module.check_mode else describe(after)
        result["diff"] = dict(before=describe(before), after=after_text,
                              before_header=params["pid_file"], after_header=params["pid_file"])
    module.exit_json(**result)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", default="started", choices=["started", "stopped", "reloaded", "restarted"]),
            config=dict(type="path", default="/etc/haproxy/haproxy.cfg"),
            extra_configs=dict(type="list", elements="path", default=[]),
            pid_file=dict(type="path", default="/run/haproxy/haproxy.pid"),
            master_socket=dict(type="path", default="/run/haproxy/master.sock"),
            binary=dict(type="str", default="haproxy"),
            server_state_file=dict(type="path"),
            server_weights=dict(type="dict"),
            server_addresses=dict(type="dict"),
            timeout=dict(type="float", default=30.0),
        ),
        supports_check_mode=True,
    )
    run(module)


if __name__ == "__main__":
    main()
