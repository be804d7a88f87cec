# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Faults put on a local node (NODE_DIR holds etc/, run/, state/) by integration tests, mostly from a run's hook
(callback_plugins/cloudshift_test_hooks.py), so each lands at the same point of every run.

    python node_fault.py level NODE_DIR operator|admin BACKEND/SERVER
        Rewrites only the `level` of the node's `stats socket` line in NODE_DIR/etc/haproxy.cfg, reloads hitlessly
        through the master socket and waits until the new worker answers at that level. At level operator every
        read of a step's plan and measure works and HAProxy refuses `set weight` ("Permission denied") from the
        first command to the last.
    python node_fault.py kill NODE_DIR
        SIGKILLs the node's master and its workers: the node is gone, as a crashed host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import signal
import subprocess
import sys
import time

from haproxy_process import runtime


def weight_of(admin_socket, backend, server):
    for line in runtime(admin_socket, "show servers state %s" % backend).splitlines():
        fields = line.split()
        if len(fields) > 7 and fields[3] == server:
            return int(fields[7])
    raise SystemExit("server %s/%s not found on %s" % (backend, server, admin_socket))


def set_level(node_dir, level, backend_server, timeout=60):
    config = os.path.join(node_dir, "etc", "haproxy.cfg")
    other = "operator" if level == "admin" else "admin"
    with open(config) as handle:
        text = handle.read()
    if " level %s " % other not in text:
        raise SystemExit("%s has no stats socket at level %s" % (config, other))
    with open(config, "w") as handle:
        handle.write(text.replace(" level %s " % other, " level %s " % level))
    runtime(os.path.join(node_dir, "run", "master.sock"), "reload")
    admin_socket = os.path.join(node_dir, "run", "admin.sock")
    backend, server = backend_server.split("/")
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            # Setting the weight it already has changes nothing; only the socket's level decides the answer.
            answer = runtime(admin_socket, "set weight %s %d" % (backend_server, weight_of(admin_socket, backend, server)))
        except OSError:
            answer = None  # the new worker is not listening yet
        if answer is not None and ("Permission denied" in answer) == (level == "operator"):
            return
        time.sleep(0.05)
    raise SystemExit("%s never answered at level %s" % (admin_socket, level))


def kill(node_dir):
    with open(os.path.join(node_dir, "run", "haproxy.pid")) as handle:
        master = int(handle.read().split()[0])
    children = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True, check=False).stdout.split()
    for pid in [master] + [int(child) for child in children]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


if __name__ == "__main__":
    {"level": set_level, "kill": kill}[sys.argv[1]](*sys.argv[2:])
