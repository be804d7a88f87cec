# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HAProxy's server-state file: what `show servers state` answers, where `load-server-state-from-file` reads it at a
reload or a start (the running weights of a step below 100 live there and in the state store)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError
from ansible_collections.cloudshift.migration.plugins.module_utils.fileio import atomic_write

SERVER_STATE_VERSION_LINE = "1"


class MasterError(CloudshiftError):
    """HAProxy's master-worker process, or its server-state file, did not do what was asked."""


def write_server_state_file(answer, path):
    """Atomically write a `show servers state` answer where load-server-state-from-file reads it."""
    if answer.splitlines()[:1] != [SERVER_STATE_VERSION_LINE]:
        raise MasterError("unexpected answer to 'show servers state': %r" % answer[:300])
    try:
        atomic_write(path, answer.rstrip("\n") + "\n", mode=0o640)
    except (IOError, OSError) as exc:
        raise MasterError("cannot write server state file %s: %s" % (path, exc))
