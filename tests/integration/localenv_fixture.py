"""The embedded local environment, brought up for the tests beside any `make up` one.

Same inventory, playbooks and democtl as `make up`, with CLOUDSHIFT_RUN_DIR in a temp dir
and every port shifted by CLOUDSHIFT_PORT_OFFSET.
"""

import json
import os
import re
import subprocess
import sys
import time

from haproxy_process import runtime

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV_BIN = os.path.join(ROOT, ".venv", "bin")
RECAP = re.compile(r"^(?P<host>\S+)\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
                   r"\s+failed=(?P<failed>\d+)", re.MULTILINE)


class PlaybookRun:
    def __init__(self, completed):
        self.returncode = completed.returncode
        self.output = completed.stdout + completed.stderr
        self.recap = {m.group("host"): {k: int(m.group(k)) for k in ("ok", "changed", "unreachable", "failed")}
                      for m in RECAP.finditer(completed.stdout)}

    def changed(self, host="haproxy-local"):
        return self.recap[host]["changed"]

    def __repr__(self):
        return "PlaybookRun(rc=%s)\n%s" % (self.returncode, self.output[-6000:])


class AdhocResult(dict):
    def __init__(self, result, status, output):
        super().__init__(result)
        self.status = status
        self.output = output

    @property
    def failed(self):
        return self.status.startswith("FAILED") or bool(self.get("failed"))


def adhoc(env, module, args, check=False, diff=False, verbosity=0):
    """`ansible localhost -m module -a JSON` in the environment's settings; the task's result."""
    command = [os.path.join(VENV_BIN, "ansible"), "localhost", "-i", "localhost,", "-c", "local",
               "-e", "ansible_python_interpreter=" + os.path.join(VENV_BIN, "python"),
               "-m", module, "-a", json.dumps(args)]
    if check:
        command.append("--check")
    if diff:
        command.append("--diff")
    if verbosity:
        command.append("-" + "v" * verbosity)
    # The default callback prints `localhost | CHANGED => {json}` (FAILED!, SUCCESS) for an ad-hoc run.
    run_env = dict(env.env, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default", ANSIBLE_CALLBACK_RESULT_FORMAT="json")
    completed = subprocess.run(command, cwd=ROOT, env=run_env, capture_output=True, text=True, timeout=300, check=False)
    output = completed.stdout + completed.stderr
    marker = re.search(r"^localhost \| ([A-Z!]+) => ", completed.stdout, re.MULTILINE)
    try:
        result, _end = json.JSONDecoder().raw_decode(completed.stdout[marker.end():])
    except (AttributeError, ValueError):
        raise AssertionError("no result from %s:\n%s" % (" ".join(command), output[-4000:]))
    return AdhocResult(result, marker.group(1), output)


class LocalEnv:
    def __init__(self, run_dir, port_offset):
        self.run_dir = str(run_dir)
        # CLOUDSHIFT_TEST_PORT_SHIFT moves every test environment, so two checkouts can run their suites at once. The
        # environments' offsets are 2000 apart and each spans about 600 ports: shift by 1000 (100 collides).
        self.port_offset = port_offset + int(os.environ.get("CLOUDSHIFT_TEST_PORT_SHIFT", "0") or 0)
        self.env = dict(os.environ, CLOUDSHIFT_RUN_DIR=self.run_dir, CLOUDSHIFT_PORT_OFFSET=str(self.port_offset),
                        ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_FORCE_COLOR="0",
                        ANSIBLE_NOCOLOR="1", PATH=VENV_BIN + os.pathsep + os.environ.get("PATH", ""))
        self.frontend = "http://127.0.0.1:%d/" % (8080 + self.port_offset)
        self.moto_url = "http://127.0.0.1:%d" % (4566 + self.port_offset)
        self.audit_dir = os.path.join(self.run_dir, "audit")
        self.pki_dir = os.path.join(self.run_dir, "pki")
        self.admin_socket = os.path.join(self.run_dir, "haproxy", "run", "admin.sock")
        self.state_dir = os.path.join(self.run_dir, "haproxy", "state")
        self.config_file = os.path.join(self.run_dir, "haproxy", "etc", "haproxy.cfg")
        self.shadow_map = os.path.join(self.run_dir, "haproxy", "etc", "shadow.map")

    def run_env(self, hooks=None):
        """The environment of a run; hooks puts faults at named tasks (callback_plugins/cloudshift_test_hooks.py)."""
        if not hooks:
            return self.env
        return dict(self.env, CLOUDSHIFT_TEST_HOOKS=json.dumps(hooks),
                    ANSIBLE_CALLBACK_PLUGINS=os.path.join(ROOT, "tests", "integration", "callback_plugins"),
                    ANSIBLE_CALLBACKS_ENABLED="cloudshift_test_hooks")

    def playbook(self, name, *extra, check=True, hooks=None):
        command = [os.path.join(VENV_BIN, "ansible-playbook"), os.path.join("playbooks", name)] + list(extra)
        completed = subprocess.run(command, cwd=ROOT, env=self.run_env(hooks), capture_output=True, text=True,
                                   timeout=600, check=False)
        run = PlaybookRun(completed)
        if check and run.returncode:
            raise AssertionError("%s failed:\n%r" % (" ".join(command), run))
        return run

    def migrate(self, app, step, *extra, check=True, hooks=None):
        return self.playbook("migrate.yml", "-e", "app=%s" % app, "-e", "step=%s" % step, *extra, check=check,
                             hooks=hooks)

    def shadow(self, app, check=False, diff=False, **args):
        """cloudshift.migration.haproxy_shadow on this environment's node, for app."""
        params = dict(socket=self.admin_socket, map_file=self.shadow_map, state_dir=self.state_dir, app=app)
        params.update(args)
        return adhoc(self, "cloudshift.migration.haproxy_shadow", params, check=check, diff=diff)

    def democtl(self, *args):
        completed = subprocess.run([os.path.join(VENV_BIN, "python"), os.path.join(ROOT, "scripts", "democtl")]
                                   + list(args), cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120,
                                   check=False)
        if completed.returncode:
            raise AssertionError("democtl %s failed: %s%s" % (" ".join(args), completed.stdout, completed.stderr))
        return completed.stdout.strip()

    def hits(self, app, side):
        return int(self.democtl("hits", app, side))

    def runtime(self, command):
        """One command on the admin socket (the tests' own reader, independent of the collection's client)."""
        return runtime(self.admin_socket, command)

    def weights(self, backend):
        """{server: current weight} read with `show stat`."""
        lines = self.runtime("show stat").splitlines()
        header = lines[0].lstrip("# ").split(",")
        weights = {}
        for line in lines[1:]:
            row = dict(zip(header, line.split(",")))
            if row.get("pxname") == backend and row.get("svname") not in ("FRONTEND", "BACKEND", None):
                weights[row["svname"]] = int(row["weight"])
        return weights

    def server_status(self, backend, server):
        lines = self.runtime("show stat").splitlines()
        header = lines[0].lstrip("# ").split(",")
        for line in lines[1:]:
            row = dict(zip(header, line.split(",")))
            if row.get("pxname") == backend and row.get("svname") == server:
                return row["status"]
        raise KeyError(server)

    def wait_status(self, backend, server, prefix, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            status = self.server_status(backend, server)
            if status.startswith(prefix):
                return status
            time.sleep(0.2)
        raise AssertionError("%s/%s still %s after %ss (wanted %s)" % (backend, server, status, timeout, prefix))

    def worker_pid(self):
        for line in self.runtime("show info").splitlines():
            if line.startswith("Pid:"):
                return int(line.split(":", 1)[1])
        raise AssertionError("no Pid in show info")

    def saved_weights(self, backend):
        """{server: weight} of a backend in HAProxy's server-state file (what a reload or a start loads)."""
        weights = {}
        with open(os.path.join(self.state_dir, "server-state")) as handle:
            lines = handle.read().splitlines()
        header = lines[1].lstrip("# ").split()
        for line in lines[2:]:
            row = dict(zip(header, line.split()))
            if row.get("be_name") == backend:
                weights[row["srv_name"]] = int(row["srv_uweight"])
        return weights

    def recorded_step(self, app):
        with open(os.path.join(self.state_dir, "apps", app + ".json")) as handle:
            return json.load(handle)["step"]

    def up(self):
        self.democtl("start")
        self.playbook("site.yml")

    def down(self):
        subprocess.run([os.path.join(VENV_BIN, "ansible-playbook"), "playbooks/stop.yml"], cwd=ROOT, env=self.env,
                       capture_output=True, timeout=300, check=False)
        subprocess.run([os.path.join(VENV_BIN, "python"), os.path.join(ROOT, "scripts", "democtl"), "stop"],
                       cwd=ROOT, env=self.env, capture_output=True, timeout=120, check=False)


class FleetEnv(LocalEnv):
    """Several real HAProxy nodes on this machine (own config, sockets, state store, frontend port) in front of
    the same local upstreams, driven through one inventory that reuses the local inventory's group_vars."""

    def __init__(self, run_dir, port_offset, nodes=3, extra_host_vars=None):
        super().__init__(run_dir, port_offset)
        import yaml
        self.nodes = tuple("node-%s" % chr(ord("a") + index) for index in range(nodes))
        self.inventory_dir = os.path.join(self.run_dir, "inventory")
        self.inventory = os.path.join(self.inventory_dir, "hosts.yml")
        self.frontends = {}
        hosts = {}
        for index, node in enumerate(self.nodes):
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
                "haproxy_metrics_bind": [],
            }
            hosts[node].update((extra_host_vars or {}).get(node, {}))
        os.makedirs(self.inventory_dir)
        with open(self.inventory, "w") as handle:
            yaml.safe_dump({"haproxy": {"hosts": hosts}}, handle)
        os.symlink(os.path.join(ROOT, "inventories", "local", "group_vars"),
                   os.path.join(self.inventory_dir, "group_vars"))

    def node_dir(self, node):
        return os.path.join(self.run_dir, node)

    def socket_of(self, node):
        return os.path.join(self.node_dir(node), "run", "admin.sock")

    def on(self, node):
        """This environment's readers (weights, runtime, server_status...) pointed at one node."""
        self.admin_socket = self.socket_of(node)
        self.state_dir = os.path.join(self.node_dir(node), "state")
        self.config_file = os.path.join(self.node_dir(node), "etc", "haproxy.cfg")
        return self

    def playbook(self, name, *extra, check=True, hooks=None):
        return super().playbook(name, "-i", self.inventory, *extra, check=check, hooks=hooks)

    def playbook_process(self, name, *extra, hooks=None):
        """ansible-playbook started in the background (two runs at once), in its own process group so that a test
        can freeze the whole run (SIGSTOP to the group) at a chosen point; the caller waits for it."""
        command = [os.path.join(VENV_BIN, "ansible-playbook"), os.path.join("playbooks", name), "-i", self.inventory]
        return subprocess.Popen(command + list(extra), cwd=ROOT, env=dict(self.run_env(hooks), PYTHONUNBUFFERED="1"),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)

    def node_weights(self, node, backend="application-01"):
        return self.on(node).weights(backend)

    def node_step(self, node, app="application-01", route=None):
        path = os.path.join(self.node_dir(node), "state", "apps", app + ".json")
        if not os.path.exists(path):
            return None
        with open(path) as handle:
            data = json.load(handle)
        return data.get("step") if route is None else data.get("routes", {}).get(route, {}).get("step")

    def master_pid(self, node):
        with open(os.path.join(self.node_dir(node), "run", "haproxy.pid")) as handle:
            return int(handle.read().split()[0])

    def fault_command(self, action, node, *args):
        """The argv of one node_fault.py action on node (for a run's hook, or run here)."""
        return [sys.executable, os.path.join(ROOT, "tests", "integration", "node_fault.py"), action,
                self.node_dir(node)] + list(args)

    def kill_node(self, node):
        """SIGKILL the node's master and workers: the node is gone, mid-whatever."""
        subprocess.run(self.fault_command("kill", node), check=True)

    def down(self):
        subprocess.run([os.path.join(VENV_BIN, "ansible-playbook"), "playbooks/stop.yml", "-i", self.inventory],
                       cwd=ROOT, env=self.env, capture_output=True, timeout=300, check=False)
        subprocess.run([os.path.join(VENV_BIN, "python"), os.path.join(ROOT, "scripts", "democtl"), "stop"],
                       cwd=ROOT, env=self.env, capture_output=True, timeout=120, check=False)
