"""playbooks/awx.yml against a controller address (issue 9): nothing reaches it before the playbook's own inputs are
validated, the awx.awx modules do contact it once they are, and the controller token never reaches the output.

There is no AWX here and no stand-in of one: the address is a plain TCP listener on loopback that counts the
connections it gets and closes them, so every awx.awx call fails at its first request, which is all this proves."""

import os
import socket
import subprocess
import threading

import pytest

from localenv_fixture import ROOT, VENV_BIN

TOKEN = "cs-awx-token-0123456789abcdef"


class Listener:
    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.received = b""
        self.running = True
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        self.sock.settimeout(0.2)
        while self.running:
            try:
                conn = self.sock.accept()[0]
            except socket.timeout:
                continue
            except OSError:
                return
            self.connections += 1
            conn.settimeout(1)
            try:
                self.received += conn.recv(65536)
            except OSError:
                pass
            conn.close()

    def close(self):
        self.running = False
        self.sock.close()
        self.thread.join(timeout=2)


@pytest.fixture
def controller():
    listener = Listener()
    yield listener
    listener.close()


def awx_playbook(listener, *extra):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               CONTROLLER_HOST="http://127.0.0.1:%d" % listener.port, CONTROLLER_OAUTH_TOKEN=TOKEN,
               CONTROLLER_VERIFY_SSL="false")
    result = subprocess.run([os.path.join(VENV_BIN, "ansible-playbook"), "playbooks/awx.yml", "-vvv"] + list(extra),
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    return result.returncode, result.stdout + result.stderr


def test_missing_inputs_are_refused_before_the_controller_is_contacted(controller):
    rc, output = awx_playbook(controller, "-e", "awx_project=cloudshift")
    assert rc != 0
    assert "-e awx_inventory=NAME (the AWX inventory the job templates run against) is required" in " ".join(output.split())
    rc, output = awx_playbook(controller, "-e", "awx_inventory=production")
    assert rc != 0 and "-e awx_project=NAME" in output
    rc, output = awx_playbook(controller, "-e", "awx_inventory=production", "-e", "awx_project=cloudshift",
                              "-e", '{"awx_credentials": "ssh"}')
    assert rc != 0 and 'awx_credentials must be a list of credential names, got "ssh"' in output
    assert controller.connections == 0
    assert TOKEN not in output


def test_the_job_templates_go_to_the_controller_and_its_token_is_never_printed(controller):
    rc, output = awx_playbook(controller, "-e", "awx_inventory=production", "-e", "awx_project=cloudshift")
    assert rc != 0  # the listener is no controller
    assert controller.connections >= 1, output[-3000:]
    assert "Create or update one job template per step, with its survey" in output
    assert TOKEN not in output
    # the token did go to the controller, as awx.awx sends it (so the check above is not vacuous)
    assert b"Authorization: Bearer " + TOKEN.encode() in controller.received
    assert "There was an unknown error when trying to connect to http://127.0.0.1:%d/api/v2/" % controller.port in output
