"""migrate.yml on two HAProxy nodes: a step reaches every node or none.

Two real HAProxy instances on this machine (own config, sockets, state store and frontend port)
in front of the same local upstreams, driven through one inventory that reuses the local
inventory's group_vars.
"""

import os
import subprocess

import pytest
import yaml

import traffic
from localenv_fixture import ROOT, VENV_BIN, LocalEnv, PlaybookRun

APP = "application-01"
HOST = "application-01.6play.fr"
CLOUD = "aws-prod-Kubernetes-application-01"
ONPREM = "onprem-prod-front-application-01"
NODES = ("node-a", "node-b")


class TwoNodes(LocalEnv):
    def __init__(self, run_dir, port_offset):
        super().__init__(run_dir, port_offset)
        self.inventory_dir = os.path.join(self.run_dir, "inventory")
        self.frontends = {}
        hosts = {}
        for index, node in enumerate(NODES):
            base = os.path.join(self.run_dir, node)
            port = 8080 + self.port_offset + 10 * index
            self.frontends[node] = "http://127.0.0.1:%d/" % port
            hosts[node] = {
                "ansible_connection": "local",
                "ansible_python_interpreter": os.path.join(VENV_BIN, "python"),
                "haproxy_config_dir": os.path.join(base, "etc"),
                "haproxy_run_dir": os.path.join(base, "run"),
                "haproxy_state_dir": os.path.join(base, "state"),
                "haproxy_frontend_bind": ["127.0.0.1:%d" % port],
                "haproxy_metrics_bind": ["127.0.0.1:%d" % (port + 325)],
            }
        os.makedirs(self.inventory_dir)
        with open(os.path.join(self.inventory_dir, "hosts.yml"), "w") as handle:
            yaml.safe_dump({"haproxy": {"hosts": hosts}}, handle)
        os.symlink(os.path.join(ROOT, "inventories", "local", "group_vars"),
                   os.path.join(self.inventory_dir, "group_vars"))

    def socket_of(self, node):
        return os.path.join(self.run_dir, node, "run", "admin.sock")

    def playbook(self, name, *extra, check=True):
        return super().playbook(name, "-i", os.path.join(self.inventory_dir, "hosts.yml"), *extra, check=check)

    def node_weights(self, node, backend=APP):
        self.admin_socket = self.socket_of(node)
        return self.weights(backend)

    def down(self):
        subprocess.run([os.path.join(VENV_BIN, "ansible-playbook"), "playbooks/stop.yml", "-i",
                        os.path.join(self.inventory_dir, "hosts.yml")], cwd=ROOT, env=self.env,
                       capture_output=True, timeout=300, check=False)
        subprocess.run([os.path.join(VENV_BIN, "python"), os.path.join(ROOT, "scripts", "democtl"), "stop"],
                       cwd=ROOT, env=self.env, capture_output=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    env = TwoNodes(tmp_path_factory.mktemp("twonodes"), 18000)  # ports 26080-26544, below 32768
    try:
        env.up()
        for node in NODES:
            env.admin_socket = env.socket_of(node)
            env.wait_status(APP, CLOUD, "UP")
        yield env
    finally:
        env.down()


def test_a_step_reaches_every_node(nodes):
    run = nodes.migrate(APP, 25)
    assert isinstance(run, PlaybookRun)
    for node in NODES:
        assert nodes.node_weights(node) == {ONPREM: 75, CLOUD: 25}, node
        result = traffic.send_concurrently(nodes.frontends[node], HOST, 1000, workers=4)
        assert result.failed == 0
        assert abs(result.share(lambda name: name == CLOUD) - 25) <= 1.5, (node, result.as_dict())
    # The table names every node.
    assert all(node in run.output for node in NODES)


def test_rollback_on_every_node(nodes):
    nodes.migrate(APP, 10)
    nodes.migrate(APP, 40)
    nodes.migrate(APP, "rollback")
    for node in NODES:
        assert nodes.node_weights(node) == {ONPREM: 90, CLOUD: 10}, node


def test_a_node_that_cannot_take_the_step_stops_it_on_every_node(nodes):
    nodes.migrate(APP, 20)
    # node-b's HAProxy stops: the plan fails there, so node-a must not move either.
    nodes.playbook("stop.yml", "--limit", "node-b")
    try:
        run = nodes.migrate(APP, 60, check=False)
        assert run.returncode != 0
        assert "node-b" in run.output and nodes.socket_of("node-b") in run.output, run
        assert nodes.node_weights("node-a") == {ONPREM: 80, CLOUD: 20}
        with open(os.path.join(nodes.run_dir, "node-a", "state", "apps", APP + ".json")) as handle:
            assert yaml.safe_load(handle)["step"] == 20
    finally:
        nodes.playbook("site.yml", "--limit", "node-b")
    nodes.admin_socket = nodes.socket_of("node-b")
    nodes.wait_status(APP, CLOUD, "UP")
    assert nodes.node_weights("node-b") == {ONPREM: 80, CLOUD: 20}
