# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HAProxy's server-state file: what `show servers state` answers, where `load-server-state-from-file` reads it at a
reload or a start (the running weights of a step below 100 live there and in the state store)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError
from ansible_collections.cloudshift.migration.plugins.module_utils.fileio import atomic_write
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.validation import is_ip_address

SERVER_STATE_VERSION_LINE = "1"
# Fields of a server line of `show servers state` (version 1): be_id be_name srv_id srv_name srv_addr srv_op_state
# srv_admin_state srv_uweight srv_iweight ...
BACKEND_FIELD, SERVER_FIELD, ADDR_FIELD, UWEIGHT_FIELD, IWEIGHT_FIELD, FQDN_FIELD, PORT_FIELD = 1, 3, 4, 7, 8, 17, 18
NO_VALUE = "-"


class MasterError(CloudshiftError):
    """HAProxy's master-worker process, or its server-state file, did not do what was asked."""


def with_weights(answer, weights):
    """A `show servers state` answer whose listed servers carry the given weights (pure).

    weights: {backend: {server: [weight, configured weight]}} (the app model's server_state_weights). HAProxy takes
    a server's weight from the file at a reload only when the file's initial weight (srv_iweight) is the one the new
    configuration gives it; writing the configured weight there makes the new worker start at the weight wanted,
    not at a weight the previous configuration left (leaving step 100, the on-prem servers' backup weight beside a
    cloud weight of the initial step's). Every other field, and every server not listed, is kept as it is.
    """
    def weighted(fields, wanted):
        fields[UWEIGHT_FIELD], fields[IWEIGHT_FIELD] = str(int(wanted[0])), str(int(wanted[1]))
        return fields
    return _rewrite_listed(answer, weights, IWEIGHT_FIELD, weighted)


def _rewrite_listed(answer, table, last_field, rewrite):
    """The answer with each server line listed in table ({backend: {server: wanted}}) passed through
    rewrite(fields, wanted); header lines, short lines and servers not listed are kept as they are (pure)."""
    lines = []
    for line in answer.split("\n"):
        fields = line.split(" ")
        wanted = None
        if not line.startswith("#") and len(fields) > last_field:
            wanted = (table.get(fields[BACKEND_FIELD]) or {}).get(fields[SERVER_FIELD])
        lines.append(" ".join(rewrite(fields, wanted)) if wanted is not None else line)
    return "\n".join(lines)


def address_fields(fields, wanted):
    """The address fields of one server line made the configuration's (pure): HAProxy takes a server's port (and
    its last address) from the file at a reload even when the configuration moved it elsewhere (a new ELB name, a
    new port), so a reload alone would keep sending the traffic to the old endpoint. wanted: {"address": an IP or a
    name, "port": int, "resolved": an IP the name was last seen at, or None}. A line already at the address and
    port is kept as it is (its last address stays, so the new worker needs no resolution first)."""
    address, port = wanted["address"], str(int(wanted["port"]))
    fields = list(fields)
    if is_ip_address(address):
        fields[ADDR_FIELD], fields[FQDN_FIELD], fields[PORT_FIELD] = address, NO_VALUE, port
    elif fields[FQDN_FIELD].lower() != address.lower() or fields[PORT_FIELD] != port:
        # A name the old worker never resolved: the address it was last seen at, else none (HAProxy's resolvers
        # find it; the server takes no traffic until they do, as at a start).
        if fields[FQDN_FIELD].lower() != address.lower():
            fields[ADDR_FIELD] = wanted.get("resolved") or NO_VALUE
        fields[FQDN_FIELD], fields[PORT_FIELD] = address, port
    return fields


def with_addresses(answer, addresses):
    """A `show servers state` answer whose listed servers carry the configuration's address and port (pure).

    addresses: {backend: {server: {"address", "port", "resolved"}}} (the app model's server_state_addresses)."""
    return _rewrite_listed(answer, addresses, PORT_FIELD, address_fields)


def write_server_state_file(answer, path, weights=None, addresses=None):
    """Atomically write a `show servers state` answer where load-server-state-from-file reads it (with weights,
    those servers' weights as the next worker must start with them; with addresses, their address and port)."""
    if answer.splitlines()[:1] != [SERVER_STATE_VERSION_LINE]:
        raise MasterError("unexpected answer to 'show servers state': %r" % answer[:300])
    if weights:
        answer = with_weights(answer, weights)
    if addresses:
        answer = with_addresses(answer, addresses)
    try:
        atomic_write(path, answer.rstrip("\n") + "\n", mode=0o640)
    except (IOError, OSError) as exc:
        raise MasterError("cannot write server state file %s: %s" % (path, exc))
