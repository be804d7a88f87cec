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
import os
import tempfile

from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError


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
    """Atomically replace path with data as JSON (parent directories made mode 0750); returns path."""
    directory = os.path.dirname(path) or "."
    try:
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o750)
        fd, tmp_path = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(data, handle, indent=indent, sort_keys=True)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp_path, mode)
            os.rename(tmp_path, path)
        except Exception:
            # Whatever failed (a value JSON cannot hold, a full disk), no temporary file is left behind.
            if os.path.exists(tmp_path):
                os.unlink(tmp_path)
            raise
    except (IOError, OSError) as exc:
        raise JsonFileError("cannot write %s %s: %s" % (label, path, exc))
    return path
