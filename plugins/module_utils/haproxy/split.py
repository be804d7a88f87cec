# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Service layer of the haproxy_split and haproxy_backend_info modules.

Reads a backend through the runtime API, plans the cloud/on-prem weights of a
share with weights.split_weights, applies them in one batch of ``set weight``
and reads them back. Admin state is never touched: a server in MAINT or DRAIN
keeps it (unlike community.general.haproxy, which enables servers).

Backup servers (the on-prem side at step 100, rendered ``backup`` by a reload)
keep their weight and count in no share: at 100 a re-run changes nothing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.client import set_weight_command
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.parsing import (
    TYPE_SERVER,
    admin_state_description,
    is_serving,
    server_summary,
)
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.validation import (
    ValidationError,
    validate_name,
)
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.weights import (
    FULL_WEIGHT,
    realised_share,
    split_weights,
)

CLOUD = "cloud"
ONPREM = "onprem"
SIDE_LABELS = {CLOUD: "cloud_servers", ONPREM: "onprem_servers"}


class SplitError(CloudshiftError):
    pass


def validate_share(share):
    """The share as a number, or SplitError naming the bad value."""
    if isinstance(share, bool) or not isinstance(share, (int, float)):
        raise SplitError("share must be a number from 0 to 100, got %r" % (share,))
    if math.isnan(share) or not 0 <= share <= 100:
        raise SplitError("share must be between 0 and 100 (percent of requests sent to the cloud), got %r"
                         % (share,))
    return share


def validate_server_lists(cloud_servers, onprem_servers, required=True):
    """Check both lists of server names; SplitError names every problem found."""
    problems = []
    for side, names in ((CLOUD, cloud_servers), (ONPREM, onprem_servers)):
        label = SIDE_LABELS[side]
        if names is None or (required and not names):
            if required:
                problems.append("%s is empty: a split needs at least one server on each side" % label)
            continue
        if not isinstance(names, (list, tuple)):
            problems.append("%s must be a list of server names, got %r" % (label, names))
            continue
        seen = set()
        for name in names:
            try:
                validate_name(name, "server")
            except ValidationError as exc:
                problems.append("%s: %s" % (label, exc))
                continue
            if name in seen:
                problems.append("%s lists server %s twice" % (label, name))
            seen.add(name)
    if cloud_servers and onprem_servers and isinstance(cloud_servers, (list, tuple)) \
            and isinstance(onprem_servers, (list, tuple)):
        both = sorted(set(cloud_servers) & set(onprem_servers), key=str)
        if both:
            problems.append("server(s) %s listed in both cloud_servers and onprem_servers"
                            % ", ".join(str(name) for name in both))
    if problems:
        raise SplitError("; ".join(problems))


def backend_servers(reading):
    """{server: view} of one backend from client.read_backends output, in config order.

    The weight is HAProxy's user weight (srv_uweight, what ``set weight`` sets);
    show stat gives status, checks, backup flag and counters.
    """
    states = dict((row["srv_name"], row) for row in reading["state"])
    servers = {}
    for row in reading["stat"]:
        if row.get("type") != TYPE_SERVER:
            continue
        name = row["svname"]
        state = states.get(name, {})
        weight = state.get("srv_uweight")
        if weight is None:
            weight = row.get("uweight") if row.get("uweight") is not None else row.get("weight")
        view = server_summary(row, weight=weight)
        view["admin_state"] = admin_state_description(state.get("srv_admin_state"))
        servers[name] = view
    return servers


def side_of(name, cloud_servers, onprem_servers):
    if name in (cloud_servers or ()):
        return CLOUD
    if name in (onprem_servers or ()):
        return ONPREM
    return None


def unknown_servers(servers, names):
    return [name for name in names if name not in servers]


def check_servers_exist(backend, servers, cloud_servers, onprem_servers):
    missing = unknown_servers(servers, list(cloud_servers or []) + list(onprem_servers or []))
    if missing:
        raise SplitError("backend %s has no server named %s (its servers: %s)"
                         % (backend, ", ".join(missing), ", ".join(servers) or "none"))


def shares(servers, cloud_servers, onprem_servers, weights):
    """(realised, effective) cloud share in percent for the given weights.

    realised: over the listed non-backup servers, whatever their health.
    effective: over those currently serving; when none is, HAProxy falls back to
    serving backup servers, so those count instead. None when nothing would serve.
    """
    def weights_of(names, backup, serving_only):
        return [weights[name] for name in names
                if servers[name]["backup"] == backup
                and (not serving_only or is_serving(servers[name]["haproxy_status"]))]

    realised = realised_share(weights_of(cloud_servers, False, False), weights_of(onprem_servers, False, False))
    cloud_active = weights_of(cloud_servers, False, True)
    onprem_active = weights_of(onprem_servers, False, True)
    if sum(cloud_active) + sum(onprem_active) == 0:
        cloud_active = weights_of(cloud_servers, True, True)
        onprem_active = weights_of(onprem_servers, True, True)
    return realised, realised_share(cloud_active, onprem_active)


def plan_weights(backend, servers, cloud_servers, onprem_servers, share):
    """{server: target weight} for the listed servers (pure).

    Backup servers keep their weight, except a weight of 0, which is raised to FULL_WEIGHT:
    a backup server with weight 0 would never take over when every active server fails
    (a reload can restore such a weight from the server-state file). SplitError when a
    side needed for the share has only backup servers.
    """
    active = {}
    for side, names in ((CLOUD, cloud_servers), (ONPREM, onprem_servers)):
        active[side] = [name for name in names if not servers[name]["backup"]]
    if not active[CLOUD] and share > 0:
        raise SplitError("share %s needs cloud servers, but every cloud server of backend %s is a backup server "
                         "(%s): reload HAProxy with a configuration where they are active first"
                         % (share, backend, ", ".join(cloud_servers)))
    if not active[ONPREM] and share < 100:
        raise SplitError("share %s needs on-prem servers, but every on-prem server of backend %s is a backup "
                         "server (%s), as the configuration renders them at step 100: reload HAProxy with "
                         "the configuration of the new step first"
                         % (share, backend, ", ".join(onprem_servers)))
    cloud_weights, onprem_weights = split_weights(share, max(len(active[CLOUD]), 1), max(len(active[ONPREM]), 1))
    targets = {}
    targets.update(zip(active[CLOUD], cloud_weights))
    targets.update(zip(active[ONPREM], onprem_weights))
    for name in list(cloud_servers) + list(onprem_servers):
        if servers[name]["backup"] and not servers[name]["weight"]:
            targets[name] = FULL_WEIGHT
    return targets


def weights_text(backend, weights, servers, cloud_servers, onprem_servers):
    """YAML-like listing of a backend's weights for diff mode."""
    lines = ["backend: %s" % backend, "servers:"]
    for name in list(cloud_servers) + list(onprem_servers):
        note = " # backup" if servers[name]["backup"] else ""
        lines.append("  %s: {side: %s, weight: %s}%s"
                     % (name, side_of(name, cloud_servers, onprem_servers), weights[name], note))
    return "\n".join(lines) + "\n"


def server_list(servers, cloud_servers, onprem_servers, weights=None):
    result = []
    for name, view in servers.items():
        entry = dict(view)
        entry["side"] = side_of(name, cloud_servers, onprem_servers)
        if weights is not None and name in weights:
            entry["weight"] = weights[name]
        result.append(entry)
    return result


def unlisted_active_servers(servers, cloud_servers, onprem_servers):
    listed = set(cloud_servers) | set(onprem_servers)
    return [name for name, view in servers.items()
            if name not in listed and not view["backup"] and view["weight"]]


def onprem_backup_live(servers, onprem_servers):
    """Whether the running configuration has the on-prem servers as backup (step 100's reload done; pure)."""
    return any(servers[name]["backup"] for name in onprem_servers if name in servers)


def read_backend(client, backend, require_admin=False):
    return backend_servers(client.read_backends([backend], require_admin=require_admin)[backend])


def apply_split(client, backend, cloud_servers, onprem_servers, share, check_mode=False):
    """Move a backend to a cloud share; return the module result (without 'diff').

    Everything is validated before the first ``set`` reaches HAProxy.
    """
    validate_name(backend, "backend")
    validate_server_lists(cloud_servers, onprem_servers)
    share = validate_share(share)

    servers = read_backend(client, backend, require_admin=True)
    check_servers_exist(backend, servers, cloud_servers, onprem_servers)
    listed = list(cloud_servers) + list(onprem_servers)
    weights_before = dict((name, servers[name]["weight"]) for name in listed)
    targets = plan_weights(backend, servers, cloud_servers, onprem_servers, share)
    changes = dict((name, weight) for name, weight in targets.items() if weights_before[name] != weight)
    commands = [set_weight_command(backend, name, changes[name]) for name in listed if name in changes]

    if changes and not check_mode:
        client.set_weights(dict(((backend, name), weight) for name, weight in changes.items()))
        servers = read_backend(client, backend)
        check_servers_exist(backend, servers, cloud_servers, onprem_servers)
        weights_after = dict((name, servers[name]["weight"]) for name in listed)
        wrong = ["%s is %s, expected %s" % (name, weights_after[name], weight)
                 for name, weight in targets.items() if weights_after[name] != weight]
        if wrong:
            raise SplitError("after set weight, HAProxy reports other weights for backend %s: %s "
                             "(was something else changing them at the same time?)" % (backend, "; ".join(wrong)))
    else:
        weights_after = dict(weights_before)
        weights_after.update(changes)

    realised, effective = shares(servers, cloud_servers, onprem_servers, weights_after)
    warnings = []
    others = unlisted_active_servers(servers, cloud_servers, onprem_servers)
    if others:
        warnings.append("backend %s also has active servers in neither list (%s): they take traffic too, "
                        "so the real cloud share is lower than reported" % (backend, ", ".join(others)))
    skipped = [name for name in listed if servers[name]["backup"]]
    return {
        "changed": bool(changes),
        "backend": backend,
        "share_requested": share,
        "share": _round(realised),
        "effective_share": _round(effective),
        "weights_before": weights_before,
        "weights_after": weights_after,
        "servers": server_list(servers, cloud_servers, onprem_servers, weights_after),
        "backup_servers": skipped,
        "commands": commands,
        "warnings": warnings,
        "diff": {
            "before_header": "%s weights" % backend,
            "after_header": "%s weights" % backend,
            "before": weights_text(backend, weights_before, servers, cloud_servers, onprem_servers),
            "after": weights_text(backend, weights_after, servers, cloud_servers, onprem_servers),
        },
    }


def describe_backends(client, backends, cloud_servers=None, onprem_servers=None):
    """Read-only view of several backends (one batch): servers and shares."""
    for backend in backends:
        validate_name(backend, "backend")
    validate_server_lists(cloud_servers, onprem_servers, required=False)
    readings = client.read_backends(backends)
    result = {}
    for backend in backends:
        servers = backend_servers(readings[backend])
        cloud = [name for name in (cloud_servers or []) if name in servers]
        onprem = [name for name in (onprem_servers or []) if name in servers]
        weights = dict((name, view["weight"]) for name, view in servers.items())
        entry = {
            "servers": server_list(servers, cloud, onprem),
            "weights": weights,
            "share": None,
            "effective_share": None,
        }
        if cloud_servers is not None or onprem_servers is not None:
            entry["missing_servers"] = unknown_servers(servers, list(cloud_servers or []) + list(onprem_servers or []))
        if cloud or onprem:
            realised, effective = shares(servers, cloud, onprem, weights)
            entry["share"] = _round(realised)
            entry["effective_share"] = _round(effective)
        result[backend] = entry
    return result


def _round(value):
    return None if value is None else round(value, 2)
