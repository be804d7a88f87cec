#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: haproxy_stats_info
short_description: Cloud and on-prem figures of an HAProxy backend over a window of traffic
version_added: 0.2.0
description:
  - Reads a backend's C(show stat) counters and the per-request timings HAProxy logs to its timings ring
    (C(show events)), and returns, per server and per side (cloud, on-prem), what happened during a window.
  - "Per side: requests, shares of 1xx-5xx responses, errors, connection and response errors, retries,
    redispatches, attempts that failed and were retried on another server, check failures, and the
    average, p50, p95 and p99 of the queue, connect, response and server (connect + response) times."
  - "Per server: the same counters, its state, weight and last check (status and code), and HAProxy's own
    averages over its last 1024 requests."
  - "The window starts: now, with O(duration) alone (two snapshots, the module waits in between); at the snapshot
    O(since) returned by an earlier run; at the snapshot saved in O(since_file) (C(haproxy_step) saves one whenever it
    changes a step); or, with none of them, when the worker started. With O(duration) and a start snapshot, the window
    ends O(duration) seconds after that snapshot."
  - When the worker changed during the window (a reload or restart), its counters started again from zero;
    the window then covers what the new worker counted, and RV(window.same_worker) is false.
  - Reads only; the returned RV(snapshot) starts the next window.
options:
  backend:
    description: The backend (an app, or a route's C(<app>--<route>)).
    type: str
    required: true
  cloud_servers:
    description: Names of the backend's cloud servers.
    type: list
    elements: str
    required: true
  onprem_servers:
    description: Names of the backend's on-prem servers.
    type: list
    elements: str
    required: true
  duration:
    description:
      - Measure a window of this many seconds (at most 3600) from now, or, with O(since) or O(since_file), from that
        snapshot on (the module waits for what is left, so consecutive windows are back to back).
    type: float
  since:
    description: A RV(snapshot) returned by an earlier run of this module for the same backend.
    type: dict
  since_file:
    description:
      - A snapshot file, such as C(<state_dir>/windows/<backend>.json) that C(haproxy_step) writes when it
        changes a step. A missing file means a window since the worker started.
    type: path
  ring:
    description:
      - The ring HAProxy logs each request to (declared by the role cloudshift.migration.haproxy).
        An empty string reads no latencies.
    type: str
    default: cloudshift-timings
  max_samples:
    description: Latency samples kept per side (evenly spaced over the window when there are more).
    type: int
    default: 5000
extends_documentation_fragment:
  - cloudshift.migration.runtime_api
author:
  - cloudshift founding engineers (@cloudshift)
attributes:
  check_mode:
    description: Reads only; runs the same in check mode.
    support: full
  diff_mode:
    description: Changes nothing, so there is no diff.
    support: none
notes:
  - Latencies come from the ring, which holds the most recent requests (its C(size)); request and error
    counts come from the counters and are exact whatever the ring holds.
"""

EXAMPLES = r"""
- name: Measure application-01 for 30 seconds
  cloudshift.migration.haproxy_stats_info:
    socket: /run/haproxy/admin.sock
    backend: application-01
    cloud_servers: [aws-prod-Kubernetes-application-01]
    onprem_servers: [onprem-prod-front-application-01]
    duration: 30
  register: application_01_window

- name: Figures since the last step change
  cloudshift.migration.haproxy_stats_info:
    socket: /run/haproxy/admin.sock
    backend: application-02--customers
    cloud_servers: [aws-prod-Kubernetes-application-02]
    onprem_servers: [onprem-prod-front-application-02]
    since_file: /var/lib/cloudshift-migration/windows/application-02--customers.json
"""

RETURN = r"""
window:
  description: The figures of the window.
  returned: success
  type: dict
  contains:
    backend:
      description: The backend.
      type: str
    source:
      description: Where the window starts, V(duration) (now), V(since), V(since_file) or V(worker_start).
      type: str
    start:
      description: Start of the window, seconds since the epoch.
      type: float
    end:
      description: End of the window, seconds since the epoch.
      type: float
    seconds:
      description: Length of the window.
      type: float
    same_worker:
      description: False when the worker changed (reload, restart) during the window, or there was no start snapshot.
      type: bool
    samples_complete:
      description: Whether the ring still held the start of the window (else latencies cover its most recent part).
      type: bool
    sides:
      description: Figures of the C(cloud) and C(onprem) sides (requests, responses, shares_pct, errors,
        error_rate_pct, connection_errors, response_errors, retries, redispatches, failed_attempts,
        check_failures, checks_down, timings).
      type: dict
    servers:
      description: Per server, its side, state, weight, last check, counters over the window and HAProxy's averages.
      type: dict
    samples:
      description: Per side, sample rows C([queue_ms, connect_ms, response_ms, active_ms]), for the gate.
      type: dict
snapshot:
  description: The snapshot taken at the end of the window; pass it as O(since) to measure the next one.
  returned: success
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.module_args import (
    runtime_argument_spec, runtime_client)
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.split import validate_server_lists
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.stats import (
    StatsError, check_snapshot, measure)
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.validation import validate_name

MAX_DURATION = 3600


def validate(params):
    validate_name(params["backend"], "backend")
    if params["ring"]:
        validate_name(params["ring"], "ring")
    validate_server_lists(params["cloud_servers"], params["onprem_servers"])
    duration = params["duration"]
    if duration is not None and not 0 <= duration <= MAX_DURATION:
        raise StatsError("duration must be from 0 to %d seconds, got %r" % (MAX_DURATION, duration))
    if params["max_samples"] < 0:
        raise StatsError("max_samples must be 0 or more, got %r" % params["max_samples"])
    if params["since"] is not None:
        check_snapshot(params["since"], params["backend"])


def main():
    module = AnsibleModule(
        argument_spec=runtime_argument_spec(
            backend=dict(type="str", required=True),
            cloud_servers=dict(type="list", elements="str", required=True),
            onprem_servers=dict(type="list", elements="str", required=True),
            duration=dict(type="float"),
            since=dict(type="dict"),
            since_file=dict(type="path"),
            ring=dict(type="str", default="cloudshift-timings"),
            max_samples=dict(type="int", default=5000),
        ),
        mutually_exclusive=[("since", "since_file")],
        supports_check_mode=True,
    )
    try:
        validate(module.params)
        window, snapshot = measure(runtime_client(module), module.params)
    except (CloudshiftError, ValueError) as exc:
        module.fail_json(msg=str(exc), backend=module.params["backend"])
    module.exit_json(changed=False, window=window, snapshot=snapshot)


if __name__ == "__main__":
    main()
