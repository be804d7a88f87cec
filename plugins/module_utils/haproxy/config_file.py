# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keep the weights in the rendered haproxy.cfg equal to the live ones, without a reload.

A step below 100 changes weights over the runtime API only. The role renders haproxy.cfg from
the state store, so the file on disk is patched the same way (the `weight N` of each server
line of the app's backend): a later reload or restart comes back at the step, and a re-run of
site.yml finds nothing to change and does not reload.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import subprocess

from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError
from ansible_collections.cloudshift.migration.plugins.module_utils.fileio import atomic_write
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.validation import validate_name

SECTION = re.compile(r"^(global|defaults|frontend|backend|listen|resolvers|peers|userlist|program|ring|cache|"
                     r"http-errors|mailers)\b")


class ConfigFileError(CloudshiftError):
    pass


def patch_server_weights(text, backend, weights):
    """text with `weight N` of the given servers of `backend` replaced (pure).

    Raises ConfigFileError naming what is missing: the backend, a server, or a server line without weight.
    """
    validate_name(backend, "backend")
    lines = text.split("\n")
    in_backend = False
    seen = set()
    for index, line in enumerate(lines):
        stripped = line.strip()
        if SECTION.match(line):
            in_backend = stripped.split()[:2] == ["backend", backend]
            continue
        if not in_backend or not stripped.startswith("server "):
            continue
        name = stripped.split()[1]
        if name not in weights:
            continue
        patched, count = re.subn(r"(\sweight\s+)\d+(?=\s|$)", r"\g<1>%d" % int(weights[name]), line)
        if count != 1:
            raise ConfigFileError("server %s of backend %s has no single 'weight N' to update in the configuration"
                                  % (name, backend))
        lines[index] = patched
        seen.add(name)
    missing = sorted(set(weights) - seen)
    if missing:
        raise ConfigFileError("backend %s of the configuration has no server line for %s"
                              % (backend, ", ".join(missing)))
    return "\n".join(lines)


def write_config_weights(path, backend, weights, binary="haproxy", check_mode=False):
    """Patch the weights in the file at path; validate with `haproxy -c` before replacing it.

    Returns True when the file changed (or would change in check mode).
    """
    try:
        with open(path) as handle:
            text = handle.read()
    except (IOError, OSError) as exc:
        raise ConfigFileError("cannot read the configuration %s: %s" % (path, exc))
    patched = patch_server_weights(text, backend, weights)
    if patched == text:
        return False
    if check_mode:
        return True
    stat = os.stat(path)

    def check(tmp_path):
        checked = subprocess.run([binary, "-c", "-f", tmp_path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 universal_newlines=True, check=False)
        if checked.returncode:
            raise ConfigFileError("HAProxy refuses the configuration with the new weights, %s is unchanged: %s"
                                  % (path, checked.stdout.strip()))

    atomic_write(path, patched, mode=stat.st_mode & 0o7777, owner=(stat.st_uid, stat.st_gid), check=check)
    return True
