# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cloud side checked ahead, on the controller: the ELB's health and the cluster's capacity (AWS calls, a probe,
boto3's import) made by a process of their own while the nodes measure, and read by the judge only when the step goes
up. A step down does not wait for them: its judge stops the process and never reads them.

The process is detached from the Ansible worker that starts it (the worker ends with its task); it writes its outcome
as one JSON file in the run's own temporary directory, which Ansible removes at the end of the run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import signal
import time

from ansible_collections.cloudshift.migration.plugins.module_utils import cloud_model

POLL_SECONDS = 0.02


def start(request, path):
    """Start the checks of request (app, aws, ca_file) in a detached process writing path; returns its pid."""
    reader, writer = os.pipe()
    first = os.fork()
    if first == 0:  # the intermediate child: start the checker and leave, so that the worker waits for no one
        os.close(reader)
        checker = os.fork()
        if checker == 0:
            os.close(writer)
            os.setsid()
            _check_and_write(request, path)
            os._exit(0)  # pylint: disable=protected-access  # a forked child leaves without the parent's cleanup
        os.write(writer, str(checker).encode())
        os._exit(0)  # pylint: disable=protected-access
    os.close(writer)
    with os.fdopen(reader) as stream:
        pid = int(stream.read() or 0)
    os.waitpid(first, 0)
    return pid


def _check_and_write(request, path):
    try:
        outcome = cloud_model.cloud_checks(request["app"], request.get("aws") or {}, request.get("ca_file"), True, True)
    except Exception as exc:  # pylint: disable=broad-except  # reported to the judge, which checks again
        names = ("health", "lambda_health", "capacity", "lambda_capacity")
        outcome = dict(dict((name, None) for name in names), errors=dict((name, str(exc)) for name in names))
    temporary = path + ".tmp"
    try:
        with open(temporary, "w") as stream:
            json.dump(outcome, stream, default=str)
        os.rename(temporary, path)
    except (IOError, OSError):
        pass  # the run is over (its temporary directory is gone): nobody reads it


def collect(handle, timeout):
    """The checks of a prefetch (handle: {"file", "pid"}), waiting for them at most timeout seconds (None when they
    could not be made: the judge then makes them itself)."""
    deadline = time.monotonic() + timeout
    while not os.path.exists(handle["file"]):
        if time.monotonic() > deadline or not _alive(handle.get("pid")):
            if not os.path.exists(handle["file"]):
                return None
            break
        time.sleep(POLL_SECONDS)
    try:
        with open(handle["file"]) as stream:
            return json.load(stream)
    except (IOError, OSError, ValueError):
        return None


def discard(handle):
    """Stop a prefetch nobody will read (a step that does not go up)."""
    pid = handle.get("pid")
    if pid and not os.path.exists(handle["file"]) and _alive(pid):  # written: the process is gone, its pid free
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _alive(pid):
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True
