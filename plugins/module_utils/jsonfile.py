# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""JSON files read whole and replaced atomically (temporary file in the same directory, fsync, rename),
so a reader never sees half a file and a crash leaves the previous one: the state store, the stats
snapshots and the gate's on-prem references."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import json

from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError
from ansible_collections.cloudshift.migration.plugins.module_utils.fileio import atomic_write


class JsonFileError(CloudshiftError):
    pass


def read_json(path, label):
    """The JSON held at path, or None when there is no such file; JsonFileError naming label and path."""
    try:
        with open(path) as handle:
            return json.load(handle)
    except (IOError, OSError) as exc:
        if getattr(exc, "errno", None) == errno.ENOENT:
            return None
        raise JsonFileError("cannot read %s %s: %s" % (label, path, exc))
    except ValueError as exc:
        raise JsonFileError("%s %s is not valid JSON: %s" % (label, path, exc))


def write_json(path, data, label, mode=0o640, indent=None):
    """Atomically replace path with data as JSON (parent directories made mode 0750); returns path.

    A value JSON cannot hold raises TypeError (or ValueError) before anything is written."""
    text = json.dumps(data, indent=indent, sort_keys=True) + "\n"
    try:
        atomic_write(path, text, mode=mode, make_dirs_mode=0o750)
    except (IOError, OSError) as exc:
        raise JsonFileError("cannot write %s %s: %s" % (label, path, exc))
    return path
