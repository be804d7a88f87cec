# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Control of an HAProxy master-worker process without systemd.

HAProxy is started as `haproxy -W -D -f <config> [-f <extra config>...] -p <pid_file> -S <master_socket>,mode,600`:
the master process (pid in <pid_file>) forks the worker that serves traffic and answers the
master CLI on <master_socket>. A reload (SIGUSR2 to the master) re-executes the master, which
parses the config again and forks a new worker; listening sockets are handed over, so no
connection is refused, and the old worker finishes its connections before it exits.

`show proc` on the master CLI (HAProxy 2.6) reads:

    #<PID>          <type>          <reloads>       <uptime>        <version>
    5257            master          2 [failed: 1]   0d00h10m20s     2.6.12-1+deb12u4
    # workers
    11046           worker          1               0d00h00m02s     2.6.12-1+deb12u4
    # programs

A successful reload adds a worker with 0 reloads; a failed one only bumps the master's
counters (the master then waits with the previous worker still serving).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import signal
import socket
import subprocess
import time

from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.server_state import (  # noqa: F401 (re-exported)
    MasterError, write_server_state_file)

POLL_INTERVAL = 0.1
SOCKET_TIMEOUT = 5.0


# Pure parsing ---------------------------------------------------------------------------------

def parse_pid(text):
    """The pid held in a pid file's text, or None when it holds no positive integer."""
    first_line = text.strip().splitlines()[0] if text.strip() else ""
    return int(first_line) if first_line.isdigit() and int(first_line) > 0 else None


def parse_show_proc(text):
    """Parse the master CLI's `show proc` into {"master": {...}, "workers": [{...}, ...]}.

    master holds pid, reloads and failed (failed is None when HAProxy does not report it);
    each worker holds pid and reloads (the number of reloads it has survived: 0 for the newest).
    """
    master = None
    workers = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        fields = stripped.split()
        if len(fields) < 3 or not fields[0].isdigit():
            continue
        pid, kind = int(fields[0]), fields[1]
        if kind == "master":
            failed = None
            if "[failed:" in stripped:
                failed = int(stripped.split("[failed:", 1)[1].split("]", 1)[0].strip())
            master = {"pid": pid, "reloads": int(fields[2]), "failed": failed}
        elif kind == "worker":
            workers.append({"pid": pid, "reloads": int(fields[2])})
    if master is None:
        raise MasterError("unexpected answer to 'show proc' from the HAProxy master: %r" % text[:500])
    return {"master": master, "workers": workers}


def new_workers(before, after):
    """Workers of `after` (a parse_show_proc result) that were not running in `before`."""
    old_pids = set(worker["pid"] for worker in before["workers"]) if before else set()
    return [worker for worker in after["workers"] if worker["pid"] not in old_pids and worker["reloads"] == 0]


def reload_outcome(before, after):
    """"done", "failed" or "pending" for a reload requested when `before` was observed."""
    if after["master"]["reloads"] <= before["master"]["reloads"]:
        return "pending"
    if new_workers(before, after):
        return "done"
    if after["master"]["failed"]:
        return "failed"
    return "pending"


def config_arguments(configs):
    arguments = []
    for config in configs:
        arguments += ["-f", config]
    return arguments


def start_command(binary, configs, pid_file, master_socket):
    return [binary, "-W", "-D"] + config_arguments(configs) + ["-p", pid_file, "-S", "%s,mode,600" % master_socket]


def configs_of_command_line(argv):
    """The configuration files (-f) of an HAProxy command line, in order."""
    return [argv[index + 1] for index, argument in enumerate(argv[:-1]) if argument == "-f"]


# Processes ------------------------------------------------------------------------------------

def read_pid_file(path):
    try:
        with open(path) as handle:
            return parse_pid(handle.read())
    except (IOError, OSError) as exc:
        if exc.errno == errno.ENOENT:
            return None
        raise MasterError("cannot read pid file %s: %s" % (path, exc))


def process_command_line(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            return [part.decode("utf-8", "replace") for part in handle.read().split(b"\0") if part]
    except (IOError, OSError):
        return []


def is_haproxy_process(pid):
    """True when pid is a live (not zombie) process whose program is haproxy."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            argv = handle.read().split(b"\0")
    except (IOError, OSError):
        return False
    return bool(argv and argv[0]) and b"haproxy" in os.path.basename(argv[0])


def running_master_pid(pid_file):
    """The pid of the running master recorded in pid_file, or None (no file, stale or foreign pid)."""
    pid = read_pid_file(pid_file)
    return pid if pid is not None and is_haproxy_process(pid) else None


def wait_until(condition, timeout, interval=POLL_INTERVAL):
    """Poll condition() until it returns a true value (returned) or timeout seconds pass (None)."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)


def check_config(binary, configs):
    """Run `haproxy -c -f config [-f ...]`; raise MasterError with HAProxy's own words when it is invalid."""
    configs = [configs] if isinstance(configs, str) else list(configs)
    command = [binary, "-c", "-q"] + config_arguments(configs)
    try:
        result = subprocess.run(command, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, universal_newlines=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        raise MasterError("cannot run %s: %s" % (" ".join(command), exc))
    if result.returncode != 0:
        raise MasterError("HAProxy refuses the configuration %s (haproxy -c, rc=%d): %s"
                          % (" + ".join(configs), result.returncode, result.stdout.strip()))


# Master CLI -----------------------------------------------------------------------------------

def master_command(master_socket, command, timeout=SOCKET_TIMEOUT):
    """Send one command to the master CLI and return its answer.

    The master CLI keeps the connection open after an answer, so the command is followed by
    `quit` and the answer is read until the master closes the connection.
    """
    if "\n" in command or ";" in command:
        raise MasterError("refusing to send a master CLI command holding ';' or a newline: %r" % command)
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.settimeout(timeout)
    try:
        connection.connect(master_socket)
        connection.sendall((command + ";quit\n").encode("utf-8"))
        chunks = []
        while True:
            chunk = connection.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    except (IOError, OSError) as exc:
        raise MasterError("HAProxy master CLI %s did not answer %r: %s" % (master_socket, command, exc))
    finally:
        connection.close()
    return b"".join(chunks).decode("utf-8", "replace")


def show_proc(master_socket, timeout=SOCKET_TIMEOUT):
    return parse_show_proc(master_command(master_socket, "show proc", timeout))


def try_show_proc(master_socket):
    """show_proc, or None while the master does not answer (starting, re-executing)."""
    try:
        return show_proc(master_socket, timeout=1.0)
    except MasterError:
        return None


def worker_answers(master_socket, worker_pid):
    """True when the worker answers a CLI command relayed by the master (its event loop runs)."""
    try:
        return bool(master_command(master_socket, "@!%d show version" % worker_pid, timeout=1.0).strip())
    except MasterError:
        return False


def save_server_state(master_socket, path, weights=None, addresses=None):
    """Write the current worker's `show servers state` to path (atomically) for load-server-state-from-file.

    Returns True when written. Saved before a reload, restart or stop so that runtime weights and
    servers found DOWN survive it (HAProxy keeps the config's weight when the config changed it). weights: the
    app model's server_state_weights, so that the next worker starts at the recorded steps' weights; addresses: its
    server_state_addresses, so that it reaches each server where the configuration says (server_state.py).
    """
    write_server_state_file(master_command(master_socket, "@1 show servers state"), path, weights, addresses)
    return True


# The controller -------------------------------------------------------------------------------

class MasterWorker(object):
    """Start, reload and stop one HAProxy master-worker instance identified by its pid file."""

    def __init__(self, config, pid_file, master_socket, binary="haproxy", timeout=30.0, server_state_file=None,
                 extra_configs=(), server_weights=None, server_addresses=None):
        self.config = config
        self.configs = [config] + list(extra_configs or [])
        self.pid_file = pid_file
        self.master_socket = master_socket
        self.binary = binary
        self.timeout = float(timeout)
        self.server_state_file = server_state_file
        self.server_weights = server_weights
        self.server_addresses = server_addresses

    def master_pid(self):
        return running_master_pid(self.pid_file)

    def status(self):
        """{"running", "master_pid", "workers" (pids), "reloads"} of the instance."""
        pid = self.master_pid()
        if pid is None:
            return {"running": False, "master_pid": None, "workers": [], "reloads": None}
        proc = try_show_proc(self.master_socket)
        workers = [worker["pid"] for worker in proc["workers"]] if proc else []
        reloads = proc["master"]["reloads"] if proc else None
        return {"running": True, "master_pid": pid, "workers": workers, "reloads": reloads}

    def check_config(self):
        check_config(self.binary, self.configs)

    def check_master_configs(self, master_pid):
        """A reload re-executes the master with the files it was started with: refuse one that would not load
        the files configured now (a restart is needed once)."""
        running = configs_of_command_line(process_command_line(master_pid))
        if running and [os.path.abspath(path) for path in running] != [os.path.abspath(path) for path in self.configs]:
            raise MasterError("HAProxy master %d was started with the configuration files %s, not %s: a reload keeps "
                              "the files it was started with, so restart it once (state=restarted) to load them"
                              % (master_pid, ", ".join(running), ", ".join(self.configs)))

    def start(self):
        """Start HAProxy and wait until its master answers and a worker runs. Returns the status."""
        self.check_config()
        self.point_server_state_file()
        command = start_command(self.binary, self.configs, self.pid_file, self.master_socket)
        try:
            result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    universal_newlines=True, timeout=self.timeout, check=False)
        except (OSError, subprocess.SubprocessError) as exc:
            raise MasterError("cannot start HAProxy (%s): %s" % (" ".join(command), exc))
        if result.returncode != 0:
            raise MasterError("HAProxy did not start (%s, rc=%d): %s"
                              % (" ".join(command), result.returncode, result.stdout.strip()))

        def ready():
            pid = self.master_pid()
            proc = try_show_proc(self.master_socket) if pid else None
            if proc and proc["master"]["pid"] == pid and proc["workers"]:
                newest = proc["workers"][0]["pid"]
                return worker_answers(self.master_socket, newest) and proc
            return None

        if not wait_until(ready, self.timeout):
            raise MasterError("HAProxy was started but its master (pid file %s, socket %s) has no running "
                              "worker after %ss; output: %s"
                              % (self.pid_file, self.master_socket, self.timeout, result.stdout.strip()))
        return self.status()

    def reload(self):
        """Hitless reload through the master; returns (status before, status after)."""
        self.check_config()
        master_pid = self.master_pid()
        self.check_master_configs(master_pid)
        before = show_proc(self.master_socket)
        before_status = self.status()
        self.save_server_state()
        os.kill(master_pid, signal.SIGUSR2)

        outcome = {}

        def settled():
            proc = try_show_proc(self.master_socket)
            if proc is None:
                return None
            state = reload_outcome(before, proc)
            if state == "done":
                fresh = new_workers(before, proc)[0]["pid"]
                if not worker_answers(self.master_socket, fresh):
                    return None
            if state != "pending":
                outcome.update(state=state, proc=proc)
                return state
            return None

        if not wait_until(settled, self.timeout):
            raise MasterError("HAProxy master %d did not report a new worker within %ss after the reload "
                              "(pid file %s)" % (master_pid, self.timeout, self.pid_file))
        if outcome["state"] == "failed":
            raise MasterError("HAProxy master %d reports the reload failed (reloads %d, failed %s); the previous "
                              "worker(s) %s keep serving. Check the configuration %s and HAProxy's output."
                              % (master_pid, outcome["proc"]["master"]["reloads"],
                                 outcome["proc"]["master"]["failed"],
                                 [worker["pid"] for worker in outcome["proc"]["workers"]], self.config))
        return before_status, self.status()

    def stop(self):
        """Soft-stop (SIGUSR1), then SIGTERM after timeout; remove the pid file. Returns the stopped pid."""
        pid = self.master_pid()
        if pid is None:
            self.remove_stale_pid_file()
            return None
        try:
            self.save_server_state()
        except MasterError:
            pass  # a master without a live worker cannot save state; stopping matters more
        self._signal(pid, signal.SIGUSR1)
        if not wait_until(lambda: not is_haproxy_process(pid), self.timeout):
            self._signal(pid, signal.SIGTERM)
            if not wait_until(lambda: not is_haproxy_process(pid), 10.0):
                raise MasterError("HAProxy master %d did not exit after SIGUSR1 and SIGTERM" % pid)
        self.remove_stale_pid_file()
        return pid

    def point_server_state_file(self):
        """Before a start: the server-state file the last worker left, its servers moved where haproxy.cfg now puts
        them (an endpoint recorded while HAProxy was stopped)."""
        if not (self.server_state_file and self.server_addresses and os.path.exists(self.server_state_file)):
            return
        try:
            with open(self.server_state_file) as handle:
                saved = handle.read()
        except (IOError, OSError) as exc:
            raise MasterError("cannot read server state file %s: %s" % (self.server_state_file, exc))
        if saved.strip():
            write_server_state_file(saved, self.server_state_file, addresses=self.server_addresses)

    def save_server_state(self):
        if self.server_state_file:
            save_server_state(self.master_socket, self.server_state_file, self.server_weights, self.server_addresses)

    def stale_pid_file(self):
        """True when the pid file exists but names no running HAProxy."""
        return os.path.exists(self.pid_file) and self.master_pid() is None

    def remove_stale_pid_file(self):
        if self.stale_pid_file():
            os.unlink(self.pid_file)
            return True
        return False

    @staticmethod
    def _signal(pid, signum):
        try:
            os.kill(pid, signum)
        except OSError as exc:
            if exc.errno != errno.ESRCH:
                raise MasterError("cannot signal HAProxy master %d: %s" % (pid, exc))
