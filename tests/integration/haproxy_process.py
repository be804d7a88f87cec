# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reusable helpers for integration tests: a real HAProxy, real HTTP upstreams, real traffic,
and modules run through ansible-playbook.

Plain module (not a conftest): import what you need.

    haproxy = HAProxyProcess(config_text, tmp_path)   # config may use {workdir}
    haproxy.start()            # waits until the admin socket answers
    haproxy.runtime("show stat")
    haproxy.stop()

`config_text` is written to <workdir>/haproxy.cfg after replacing "{workdir}" with the
directory; the admin socket is <workdir>/admin.sock unless admin_socket is given.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import http.client
import http.server
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV_BIN = os.path.join(REPO_ROOT, ".venv", "bin")


def runtime(socket_path, command, timeout=5):
    """One command on a fresh non-interactive connection to an admin or master socket: HAProxy's raw reply text.

    Deliberately independent of the collection's client, so tests can check it. The write side is shut after the
    command, as socat does: the master CLI answers only then, the admin socket either way.
    """
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(socket_path)
        sock.sendall(command.encode() + b"\n")
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return b"".join(chunks).decode()
            chunks.append(chunk)


class HAProxyProcess:
    """A foreground HAProxy (-db) started from a config string."""

    def __init__(self, config_text, workdir, admin_socket=None, start_timeout=10.0):
        self.workdir = str(workdir)
        self.config_text = config_text.replace("{workdir}", self.workdir)
        self.config_path = os.path.join(self.workdir, "haproxy.cfg")
        self.admin_socket = admin_socket or os.path.join(self.workdir, "admin.sock")
        self.log_path = os.path.join(self.workdir, "haproxy.log")
        self.start_timeout = start_timeout
        self.process = None

    @property
    def pid(self):
        return self.process.pid if self.process else None

    def start(self):
        with open(self.config_path, "w") as handle:
            handle.write(self.config_text)
        check = subprocess.run([HAPROXY, "-c", "-q", "-f", self.config_path],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
        if check.returncode != 0:
            raise RuntimeError("invalid HAProxy config %s:\n%s\n%s" % (self.config_path, check.stdout, self.config_text))
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen([HAPROXY, "-db", "-f", self.config_path],
                                        stdout=self._log, stderr=subprocess.STDOUT, cwd=self.workdir)
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._log.close()
                raise RuntimeError("haproxy exited with %s:\n%s" % (self.process.returncode, self.log()))
            try:
                if self.runtime("show info").startswith("Name: HAProxy"):
                    return self
            except (IOError, OSError):
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("haproxy did not answer on %s within %ss:\n%s"
                           % (self.admin_socket, self.start_timeout, self.log()))

    def stop(self):
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._log.close()
        self.process = None

    def log(self):
        try:
            with open(self.log_path) as handle:
                return handle.read()
        except IOError:
            return ""

    def runtime(self, command, socket_path=None):
        """One command on a fresh non-interactive connection: HAProxy's raw reply text."""
        return runtime(socket_path or self.admin_socket, command)

    def weights(self, backend):
        """{server: user weight} from 'show servers state' (format 1)."""
        lines = self.runtime("show servers state %s" % backend).splitlines()
        header = lines[1][2:].split()
        rows = [dict(zip(header, line.split(" "))) for line in lines[2:] if line.strip()]
        return dict((row["srv_name"], int(row["srv_uweight"])) for row in rows)

    def stat_rows(self, backend):
        lines = [line for line in self.runtime("show stat %s 4 -1" % backend).splitlines() if line.strip()]
        header = lines[0][2:].split(",")
        return dict((fields[1], dict(zip(header, fields))) for fields in (line.split(",") for line in lines[1:]))

    def wait_until(self, predicate, timeout=10.0, what="condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.05)
        raise AssertionError("timed out after %ss waiting for %s; HAProxy log:\n%s" % (timeout, what, self.log()))

    def wait_servers_up(self, backend, servers, timeout=10.0):
        def all_up():
            rows = self.stat_rows(backend)
            return all(rows[name]["status"] in ("UP", "no check") for name in servers)
        self.wait_until(all_up, timeout, "servers %s of %s to be UP" % (", ".join(servers), backend))


class _NamedHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go in two writes: avoid 40ms delayed-ACK stalls

    def do_GET(self):
        body = self.server.upstream_name.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class _QuietHTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # HAProxy's health checks close connections abruptly: not worth a traceback


class UpstreamServer:
    """A tiny real HTTP server on 127.0.0.1:port answering its name, in a thread."""

    def __init__(self, name, port):
        self.name = name
        self.port = port
        self.httpd = _QuietHTTPServer(("127.0.0.1", port), _NamedHandler)
        self.httpd.upstream_name = name
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="upstream-%s" % name, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def count_backend_servers(port, requests, host="127.0.0.1", path="/", timeout=5.0):
    """Send `requests` GETs through HAProxy; Counter of the X-Backend-Server response header."""
    counts = collections.Counter()
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        for _request in range(requests):
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            counts[response.getheader("X-Backend-Server")] += 1
            if response.getheader("Connection", "").lower() == "close":
                connection.close()
                connection = http.client.HTTPConnection(host, port, timeout=timeout)
    finally:
        connection.close()
    return counts


def run_ansible_module(module, args, check=False, diff=False, timeout=120):
    """Run one module task through ansible-playbook as Ansible does; return the task's result dict."""
    return run_ansible_tasks([(module, args)], check=check, diff=diff, timeout=timeout)[0]


def run_ansible_tasks(tasks, check=False, diff=False, timeout=300):
    """Run [(module, args), ...] as the tasks of one ansible-playbook run (failures do not stop it);
    return their result dicts in order.

    The registered results are written to a file by a last task (ansible-core 2.19 no longer
    ships a JSON stdout callback).
    """
    handle, result_path = tempfile.mkstemp(prefix="module-result-", suffix=".json")
    os.close(handle)
    names = ["module_result_%d" % index for index in range(len(tasks))]
    play_tasks = [{"name": "module under test %d" % index, module: args, "register": names[index],
                   "ignore_errors": True}
                  for index, (module, args) in enumerate(tasks)]
    play_tasks.append({"name": "save the results",
                       "ansible.builtin.copy": {"content": "{{ [%s] | to_json }}" % ", ".join(names),
                                                "dest": result_path},
                       "check_mode": False, "diff": False})
    play = [{"hosts": "localhost", "gather_facts": False, "tasks": play_tasks}]
    env = dict(os.environ)
    env.update({"ANSIBLE_NOCOLOR": "1", "ANSIBLE_RETRY_FILES_ENABLED": "0", "ANSIBLE_LOCALHOST_WARNING": "0"})
    handle, playbook = tempfile.mkstemp(prefix="module-under-test-", suffix=".yml")
    with os.fdopen(handle, "w") as stream:
        json.dump(play, stream)
    command = [os.path.join(VENV_BIN, "ansible-playbook"), playbook, "-i", "localhost,", "-c", "local",
               "-e", "ansible_python_interpreter=%s" % os.path.join(VENV_BIN, "python")]
    if check:
        command.append("--check")
    if diff:
        command.append("--diff")
    try:
        completed = subprocess.run(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, universal_newlines=True, timeout=timeout, check=False)
        with open(result_path) as stream:
            text = stream.read()
    finally:
        os.unlink(playbook)
        os.unlink(result_path)
    try:
        return json.loads(text)
    except ValueError:
        raise AssertionError("ansible-playbook saved no result (rc %s):\nstdout:\n%s\nstderr:\n%s"
                             % (completed.returncode, completed.stdout, completed.stderr))
