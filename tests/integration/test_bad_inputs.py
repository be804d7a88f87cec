"""The bad-input table (issue 8): every bad input to a playbook or a module is refused with a clear error naming
the value, and the state of every node is left exactly as it was.

A fleet of three real HAProxy nodes; before and after each case, the test reads every node's live weights,
server states and maps over the runtime API, its state store, locks and configuration files, and the audit log.
"""

import json
import os
import pwd
import re
import shutil
import socket
import subprocess

import pytest
import yaml

from haproxy_process import HAProxyProcess, runtime
import unprivileged
from localenv_fixture import ROOT, VENV_BIN, FleetEnv, adhoc

APP = "application-01"
NODES = ("node-a", "node-b", "node-c")
CLOUD = "aws-prod-Kubernetes-application-01"
ONPREM = "onprem-prod-front-application-01"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    env = FleetEnv(tmp_path_factory.mktemp("badinputs"), 6000, nodes=3)  # ports 10566-14544, below 32768
    try:
        env.up()
        for node in NODES:
            env.on(node).wait_status(APP, CLOUD, "UP")
        env.migrate(APP, 20)
        env.migrate("application-02", 40, "-e", "route=customers")
        yield env
    finally:
        env.down()


def files_under(directory):
    found = {}
    for base, _dirs, names in os.walk(directory):
        for name in names:
            path = os.path.join(base, name)
            with open(path, "rb") as handle:
                found[os.path.relpath(path, directory)] = handle.read()
    return found


def snapshot(fleet):
    """Everything a refused input must leave alone, on every node (and the controller's audit log)."""
    nodes = {}
    for node in NODES:
        sock = fleet.socket_of(node)
        state = runtime(sock, "show servers state").splitlines()
        header = state[1].lstrip("# ").split()
        keys = ("be_name", "srv_name", "srv_uweight", "srv_admin_state", "srv_op_state")
        rows = [dict(zip(header, line.split())) for line in state[2:] if line.strip()]
        servers = sorted(tuple(row[key] for key in keys) for row in rows)
        maps = {}
        for line in runtime(sock, "show map").splitlines():
            if line.startswith("#") or not line.strip():
                continue
            path = line.split()[1]
            maps[path] = runtime(sock, "show map %s" % path)
        nodes[node] = {"servers": servers, "maps": maps, "state": files_under(os.path.join(fleet.node_dir(node), "state")),
                       "etc": files_under(os.path.join(fleet.node_dir(node), "etc"))}
    nodes["audit"] = files_under(fleet.audit_dir)
    return nodes


def without_server_state(snap):
    """server-state is HAProxy's own dump of its runtime (rewritten by a reload): compare everything else."""
    for node in NODES:
        snap[node]["state"].pop("server-state", None)
    return snap


@pytest.fixture
def unchanged(fleet):
    before = without_server_state(snapshot(fleet))
    yield
    after = without_server_state(snapshot(fleet))
    changed = ["%s %s %s" % (node, part, sorted(name for name in set(before[node][part]) | set(after[node][part])
                                                if before[node][part].get(name) != after[node][part].get(name)))
               for node in NODES for part in ("state", "etc", "maps") if after[node][part] != before[node][part]]
    changed += ["%s servers" % node for node in NODES if after[node]["servers"] != before[node]["servers"]]
    changed += ["audit"] if after["audit"] != before["audit"] else []
    assert after == before, "changed: %s" % ", ".join(changed or ["?"])


def said(message, output):
    """Whether the output says the message (Ansible folds long messages over lines)."""
    return " ".join(message.split()) in " ".join(output.split())


def app_model():
    with open(os.path.join(ROOT, "inventories", "local", "group_vars", "haproxy", "apps.yml")) as handle:
        return yaml.safe_load(handle)["cloudshift_apps"]


def extra_vars_file(fleet, name, data):
    path = os.path.join(fleet.run_dir, name + ".json")
    with open(path, "w") as handle:
        json.dump(data, handle)
    return "@" + path


def bad_regex_model():
    apps = app_model()
    apps[1]["routes"][0]["match"]["regex"] = r"application-02\.6play\.fr\/v2\/critical\/(\w{1,45}\/payments\/"
    return {"cloudshift_apps": apps}


# (case id, playbook, extra arguments, what the error must say)
PLAYBOOK_CASES = [
    ("app-with-semicolon", "migrate.yml", ["-e", json.dumps({"app": "application-01;show info", "step": 50})],
     'unknown app "application-01;show info"'),
    ("app-with-newline", "migrate.yml", ["-e", json.dumps({"app": "application-01\nshow info", "step": 50})],
     'unknown app "application-01\\nshow info"'),
    ("app-with-space", "migrate.yml", ["-e", json.dumps({"app": "application 01", "step": 50})],
     'unknown app "application 01"'),
    ("unknown-app", "migrate.yml", ["-e", "app=application-99", "-e", "step=50"],
     'unknown app "application-99"; known apps: application-01, application-02'),
    ("step-above-100", "migrate.yml", ["-e", "app=application-01", "-e", "step=101"], 'invalid step "101"'),
    ("step-negative", "migrate.yml", ["-e", "app=application-01", "-e", "step=-5"], 'invalid step "-5"'),
    ("step-fraction", "migrate.yml", ["-e", "app=application-01", "-e", "step=25.5"], 'invalid step "25.5"'),
    ("step-word", "migrate.yml", ["-e", "app=application-01", "-e", "step=rollbak"], 'invalid step "rollbak"'),
    ("unknown-route", "migrate.yml", ["-e", "app=application-02", "-e", "route=nope", "-e", "step=50"],
     'unknown route "nope" for app application-02; routes of application-02: critical-payments, customers, v2, v1'),
    ("route-of-app-without-routes", "migrate.yml", ["-e", "app=application-01", "-e", "route=v2", "-e", "step=50"],
     'app application-01 has no routes, so route "v2" cannot be moved'),
    ("route-with-semicolon", "migrate.yml",
     ["-e", json.dumps({"app": "application-02", "route": "customers;show info", "step": 50})],
     'unknown route "customers;show info"'),
    ("force-not-boolean", "migrate.yml", ["-e", "app=application-01", "-e", "step=50", "-e", "force=perhaps"],
     'invalid force "perhaps"'),
    ("gate-window-out-of-range", "migrate.yml",
     ["-e", "app=application-01", "-e", "step=50", "-e", "gate_window=99999"], 'invalid gate_window "99999"'),
    ("dns-weight-out-of-range", "migrate.yml", ["-e", "app=application-01", "-e", "step=dns", "-e", "dns_weight=300"],
     "invalid dns_weight 300"),
    ("conflicting-dns-weight-and-step", "migrate.yml",
     ["-e", "app=application-01", "-e", "step=50", "-e", "dns_weight=10"], "dns_weight applies to step=dns only, got step 50"),
    ("conflicting-dns-and-route", "migrate.yml",
     ["-e", "app=application-02", "-e", "route=customers", "-e", "step=dns"],
     'moves the DNS record of the whole app application-02, not of route "customers"'),
    ("conflicting-reconcile-and-step", "migrate.yml",
     ["-e", "app=application-01", "-e", "step=25", "-e", "reconcile=true"],
     'reconcile applies to step=status (or status.yml), not step "25"'),
    ("conflicting-status-and-force", "migrate.yml",
     ["-e", "app=application-01", "-e", "step=status", "-e", "force=true"],
     "force, gate_window, dns_weight and route do not apply to it"),
    ("on-node-failure-unknown", "migrate.yml",
     ["-e", "app=application-01", "-e", "step=50", "-e", "on_node_failure=sometimes"],
     'invalid on_node_failure "sometimes"'),
    ("break-lock-not-boolean", "migrate.yml",
     ["-e", "app=application-01", "-e", "step=50", "-e", "break_lock=maybe"], 'invalid break_lock "maybe"'),
    ("lock-node-not-in-the-fleet", "migrate.yml", ["-e", "app=application-01", "-e", "step=50", "-e", "lock_node=node-z"],
     'invalid lock_node "node-z": the locks live on one node of the inventory group haproxy (node-a, node-b, node-c)'),
    ("ramp-steps-going-down", "ramp.yml", ["-e", "app=application-01", "-e", '{"steps": [50, 25]}'],
     "steps must go up, each once, got [50, 25]"),
    ("ramp-interval-zero", "ramp.yml", ["-e", "app=application-01", "-e", "interval=0"],
     "interval must be a number of seconds above 0 and at most 3600, got '0'"),
    ("ramp-threshold-zero", "ramp.yml", ["-e", "app=application-01", "-e", "threshold=0"],
     "threshold must be an integer from 1 to"),
    ("ramp-unknown-app", "ramp.yml", ["-e", json.dumps({"app": "application-01;show info"})],
     'unknown app "application-01;show info"'),
    ("status-reconcile-not-boolean", "status.yml", ["-e", "reconcile=perhaps"], 'invalid reconcile "perhaps"'),
    ("status-unknown-app", "status.yml", ["-e", "app=nope"], 'unknown app "nope"'),
]

SITE_CASES = [
    ("invalid-route-regex", bad_regex_model, "missing closing parenthesis"),
    ("stats-page-off-loopback", lambda: {"haproxy_stats_page": {"enabled": True, "bind": "0.0.0.0:8404",
                                                                "password": "long-enough-pw"}},
     'haproxy_stats_page.bind "0.0.0.0:8404" is not a loopback address:port'),
    ("stats-page-without-password", lambda: {"haproxy_stats_page": {"enabled": True}},
     "haproxy_stats_page.password is missing, shorter than 8 characters"),
    ("admin-socket-open-to-everyone", lambda: {"haproxy_stats_socket_mode": "666"},
     'haproxy_stats_socket_mode "666" lets every local user reach the admin socket'),
]


@pytest.mark.parametrize("case, playbook, arguments, message", PLAYBOOK_CASES, ids=[case[0] for case in PLAYBOOK_CASES])
def test_playbooks_refuse_bad_input_naming_it(fleet, unchanged, case, playbook, arguments, message):
    run = fleet.playbook(playbook, *arguments, check=False)
    assert run.returncode != 0, run
    assert said(message, run.output), run


@pytest.mark.parametrize("case, model, message", SITE_CASES, ids=[case[0] for case in SITE_CASES])
def test_the_role_refuses_a_bad_app_model_or_setting(fleet, unchanged, case, model, message):
    run = fleet.playbook("site.yml", "-e", extra_vars_file(fleet, case, model()), check=False)
    assert run.returncode != 0, run
    assert said(message, run.output), run
    assert "stats-page-without" not in case or "long-enough" not in run.output


DAMAGED_STATES = [
    ("step-missing", lambda data: data.pop("step"), "step is missing"),
    ("step-float", lambda data: data.update(step=50.7), "step is 50.7, not an integer from 0 to 100"),
    ("step-true", lambda data: data.update(step=True), "step is true, not an integer from 0 to 100"),
    ("step-text", lambda data: data.update(step="abc"), 'step is "abc", not an integer from 0 to 100'),
]


@pytest.mark.parametrize("case, damage, problem", DAMAGED_STATES, ids=[case[0] for case in DAMAGED_STATES])
@pytest.mark.parametrize("playbook, arguments", [
    ("site.yml", ()),
    ("migrate.yml", ("-e", "app=%s" % APP, "-e", "step=30")),
    ("migrate.yml", ("-e", "app=%s" % APP, "-e", "step=rollback")),
], ids=["site", "migrate", "rollback"])
def test_a_damaged_state_file_is_refused_naming_file_and_field(fleet, unchanged, case, damage, problem, playbook,
                                                               arguments):
    """Issue 18 #6: a state file that lost its step, or holds one that is not an integer 0-100, stops every entry
    point before any change (site.yml used to move the app to its initial step)."""
    path = os.path.join(fleet.node_dir("node-b"), "state", "apps", APP + ".json")
    with open(path, "rb") as handle:
        original = handle.read()
    data = json.loads(original)
    damage(data)
    try:
        with open(path, "w") as handle:
            json.dump(data, handle)
        run = fleet.playbook(playbook, *arguments, check=False)
    finally:
        with open(path, "wb") as handle:
            handle.write(original)
    assert run.returncode != 0, run
    assert said("state file %s is damaged: %s" % (path, problem), run.output), run


def test_an_audit_log_that_cannot_be_written_stops_the_step_before_any_change(fleet, unchanged):
    """Issue 18 #8: the audit line of a step used to fail after the step was applied on every node."""
    path = os.path.join(fleet.audit_dir, APP + ".jsonl")
    aside = path + ".aside"
    os.rename(path, aside)
    os.mkdir(path)  # the kernel refuses to open it for writing, as a read-only file system or a full quota would
    try:
        run = fleet.migrate(APP, 30, check=False)
    finally:
        os.rmdir(path)
        os.rename(aside, path)
    assert run.returncode != 0, run
    assert said("the audit log of %s cannot be written (%s: Is a directory), nothing was changed" % (APP, path),
                run.output), run
    assert "Plan the step and measure" not in run.output


def split_args(fleet, node="node-a", **overrides):
    args = {"socket": fleet.socket_of(node), "backend": APP, "cloud_servers": [CLOUD], "onprem_servers": [ONPREM],
            "share": 50}
    args.update(overrides)
    return args


MODULE_CASES = [
    ("split-share-out-of-range", "cloudshift.migration.haproxy_split", lambda fleet: split_args(fleet, share=150),
     "share must be between 0 and 100 (percent of requests sent to the cloud), got 150"),
    ("split-backend-injection", "cloudshift.migration.haproxy_split",
     lambda fleet: split_args(fleet, backend="application-01;disable server application-01/" + CLOUD),
     "invalid backend name 'application-01;disable server application-01/aws-prod-Kubernetes-application-01': "
     "it contains a ';' (command separator)"),
    ("split-unknown-server", "cloudshift.migration.haproxy_split",
     lambda fleet: split_args(fleet, cloud_servers=["nope"]), "backend application-01 has no server named nope"),
    ("split-unknown-backend", "cloudshift.migration.haproxy_split",
     lambda fleet: split_args(fleet, backend="application-09"), "HAProxy has no backend named application-09"),
    ("step-server-with-newline", "cloudshift.migration.haproxy_step",
     lambda fleet: {"socket": fleet.socket_of("node-a"), "state_dir": os.path.join(fleet.node_dir("node-a"), "state"),
                    "app": APP, "cloud_servers": [CLOUD + "\nset weight application-01/x 0"],
                    "onprem_servers": [ONPREM], "step": "50"}, "it contains a newline"),
    ("step-missing-socket", "cloudshift.migration.haproxy_step",
     lambda fleet: {"socket": os.path.join(fleet.run_dir, "no-such.sock"),
                    "state_dir": os.path.join(fleet.node_dir("node-a"), "state"), "app": APP,
                    "cloud_servers": [CLOUD], "onprem_servers": [ONPREM], "step": "50"},
     "no-such.sock does not exist: is HAProxy running"),
    ("map-invalid-regex", "cloudshift.migration.haproxy_map",
     lambda fleet: {"socket": fleet.socket_of("node-a"),
                    "map": os.path.join(fleet.node_dir("node-a"), "etc", "routes", "application-02.regex.map"),
                    "entries": [{"key": "application-02\\.6play\\.fr/v3/(", "value": "application-02--v2"}],
                    "state": "present"}, "missing closing parenthesis"),
    ("map-key-with-space", "cloudshift.migration.haproxy_map",
     lambda fleet: {"socket": fleet.socket_of("node-a"),
                    "map": os.path.join(fleet.node_dir("node-a"), "etc", "hosts.map"),
                    "entries": [{"key": "evil.example com", "value": "application-01"}], "state": "present"},
     "evil.example com"),
    ("drift-server-with-space", "cloudshift.migration.haproxy_drift",
     lambda fleet: {"socket": fleet.socket_of("node-a"), "state_dir": os.path.join(fleet.node_dir("node-a"), "state"),
                    "apps": [{"name": APP, "servers": [{"name": "a b", "side": "cloud"}, {"name": ONPREM, "side": "onprem"}]}],
                    "reconcile": True}, "invalid server name 'a b': it contains a space"),
    ("lock-name-injection", "cloudshift.migration.migration_lock",
     lambda fleet: {"state_dir": os.path.join(fleet.node_dir("node-a"), "state"), "names": ["application-01;x"]},
     "invalid lock name 'application-01;x'"),
    ("lock-ttl-out-of-range", "cloudshift.migration.migration_lock",
     lambda fleet: {"state_dir": os.path.join(fleet.node_dir("node-a"), "state"), "names": [APP], "ttl": 1},
     "invalid lock ttl 1"),
]


@pytest.mark.parametrize("case, module, arguments, message", MODULE_CASES, ids=[case[0] for case in MODULE_CASES])
def test_modules_refuse_bad_input_naming_it(fleet, unchanged, case, module, arguments, message):
    result = adhoc(fleet, module, arguments(fleet))
    assert result.failed, result.output[-3000:]
    assert message in result.get("msg", ""), result


def test_a_locked_app_is_refused_naming_the_holder(fleet, unchanged):
    """A live run of this controller holds application-01's lock on the lock node: the step is refused, nothing
    changes, and break_lock does not break a live lock."""
    holder = subprocess.Popen([os.path.join(VENV_BIN, "python"), "-c", "import time; time.sleep(60)"])
    lock_dir = os.path.join(fleet.node_dir("node-a"), "state", "locks")
    os.makedirs(lock_dir, exist_ok=True)
    with open("/proc/%d/stat" % holder.pid) as handle:
        text = handle.read()
    start = text[text.rindex(")") + 2:].split()[19]
    with open("/proc/sys/kernel/random/boot_id") as handle:
        boot = handle.read().strip()
    lock = {"name": APP, "run_id": "tester-run", "by": "carol", "controller": socket.gethostname(), "boot_id": boot,
            "pid": holder.pid, "pid_start": start, "purpose": "migrate.yml app=application-01 step=90",
            "since": "2026-12-03T10:00:00+00:00", "expires": "2099-01-01T00:00:00+00:00"}
    path = os.path.join(lock_dir, APP + ".lock")
    with open(path, "w") as handle:
        json.dump(lock, handle)
    try:
        before = snapshot(fleet)
        run = fleet.migrate(APP, 50, check=False)
        assert run.returncode != 0
        assert ("application-01 is locked on node-a: held by carol on %s (pid %d, migrate.yml app=application-01 "
                "step=90) since 2026-12-03T10:00:00+00:00" % (socket.gethostname(), holder.pid)) in run.output, run
        assert "another run holds it" in run.output
        # break_lock does not break a live lock.
        run = fleet.migrate(APP, 50, "-e", "break_lock=true", check=False)
        assert run.returncode != 0 and "another run holds it" in run.output
        assert without_server_state(snapshot(fleet)) == without_server_state(before)
    finally:
        holder.kill()
        holder.wait()
        os.remove(path)


def test_an_unreachable_node_stops_the_step_on_every_node(fleet, unchanged):
    inventory = os.path.join(fleet.inventory_dir, "with-unreachable.yml")
    with open(fleet.inventory) as handle:
        hosts = yaml.safe_load(handle)
    hosts["haproxy"]["hosts"]["node-d"] = dict(hosts["haproxy"]["hosts"]["node-c"], ansible_connection="ssh",
                                               ansible_host="127.0.0.1", ansible_port=1)
    with open(inventory, "w") as handle:
        yaml.safe_dump(hosts, handle)
    try:
        completed = subprocess.run([os.path.join(VENV_BIN, "ansible-playbook"), "playbooks/migrate.yml", "-i", inventory,
                                    "-e", "app=%s" % APP, "-e", "step=50"], cwd=ROOT, env=fleet.env,
                                   capture_output=True, text=True, timeout=300, check=False)
        output = completed.stdout + completed.stderr
        assert completed.returncode != 0
        assert "fatal: [node-d]: UNREACHABLE!" in output and "port 1: Connection refused" in output, output[-3000:]
    finally:
        os.remove(inventory)


def test_a_node_without_haproxy_stops_the_step_on_every_node(fleet):
    before = snapshot(fleet)
    fleet.playbook("stop.yml", "--limit", "node-c")
    try:
        run = fleet.migrate(APP, 60, check=False)
        assert run.returncode != 0
        assert "node-c" in run.output and fleet.socket_of("node-c") in run.output, run
        for node in ("node-a", "node-b"):
            assert fleet.node_weights(node) == {ONPREM: 80, CLOUD: 20}
            assert fleet.node_step(node) == 20
    finally:
        fleet.playbook("site.yml", "--limit", "node-c")
        fleet.on("node-c").wait_status(APP, CLOUD, "UP")
    assert fleet.node_weights("node-c") == {ONPREM: 80, CLOUD: 20}
    after = snapshot(fleet)
    for node in NODES:
        assert after[node]["servers"] == before[node]["servers"], node
        assert after[node]["maps"] == before[node]["maps"], node
        assert {name: data for name, data in after[node]["state"].items() if name.startswith("apps/")} == \
            {name: data for name, data in before[node]["state"].items() if name.startswith("apps/")}


def test_a_socket_without_admin_level_is_refused_before_any_change(fleet, unchanged, tmp_path):
    config = """
global
    stats socket {workdir}/user.sock mode 600 level user
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
backend application-01
    server %s 127.0.0.1:1 weight 80
    server %s 127.0.0.1:2 weight 20
""" % (ONPREM, CLOUD)
    haproxy = HAProxyProcess(config, tmp_path, admin_socket=str(tmp_path / "user.sock")).start()
    try:
        result = adhoc(fleet, "cloudshift.migration.haproxy_step",
                       {"socket": str(tmp_path / "user.sock"), "state_dir": os.path.join(fleet.node_dir("node-a"), "state"),
                        "app": APP, "cloud_servers": [CLOUD], "onprem_servers": [ONPREM], "step": "50"})
        assert result.failed
        assert "is at level 'user', not admin" in result["msg"], result
        assert "get weight" not in result["msg"]
        assert haproxy.runtime("get weight application-01/%s" % CLOUD).startswith("20 ")
    finally:
        haproxy.stop()


def test_permission_denied_on_the_admin_socket_is_named(fleet, unchanged, tmp_path):
    """The admin socket is mode 600, owned by root: another user is refused by the kernel, and told so.

    The module runs as nobody with the system's Python 3 from a world-readable copy of the collection and of
    ansible's module_utils (tests/integration/unprivileged.py: the checkout and its venv may sit where nobody cannot
    enter); the directories above the socket are made traversable for the test, so the refusal is the socket's
    own mode.
    """
    nobody = pwd.getpwnam("nobody")
    sock = fleet.socket_of("node-a")
    mode = os.stat(sock)
    assert oct(mode.st_mode & 0o777) == "0o600" and mode.st_uid == 0
    tree = unprivileged.readable_tree()
    args = os.path.join(tree, "args.json")
    with open(args, "w") as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": split_args(fleet)}, handle)
    os.chmod(args, 0o644)
    opened = []
    directory = os.path.dirname(sock)
    while directory not in ("/", "/tmp"):
        opened.append((directory, os.stat(directory).st_mode & 0o7777))
        directory = os.path.dirname(directory)
    try:
        for directory, dir_mode in opened:
            os.chmod(directory, dir_mode | 0o001)
        module = os.path.join(tree, "ansible_collections", "cloudshift", "migration", "plugins", "modules",
                              "haproxy_split.py")
        completed = subprocess.run(
            ["setpriv", "--reuid=%d" % nobody.pw_uid, "--regid=%d" % nobody.pw_gid, "--clear-groups",
             unprivileged.NOBODY_PYTHON, module, args],
            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": tree}, cwd="/", capture_output=True, text=True, timeout=60,
            check=False)
    finally:
        for directory, dir_mode in opened:
            os.chmod(directory, dir_mode)
        shutil.rmtree(tree)
    result = json.loads(completed.stdout)
    assert result["failed"], completed.stdout + completed.stderr
    assert result["msg"].startswith("permission denied opening HAProxy stats socket %s" % sock), result


def survey_cases():
    """One case per question of the AWX surveys (playbooks/vars/awx.yml): the other questions answered as AWX would
    by default, this one given a value outside what the survey offers."""
    with open(os.path.join(ROOT, "playbooks", "vars", "awx.yml")) as handle:
        templates = yaml.safe_load(handle)["awx_job_templates"]
    apps = [app["name"] for app in app_model()]
    cases = []
    for template in templates:
        questions = template.get("survey") or []
        for asked in questions:
            answers = {}
            for question in questions:
                if question.get("choices_from") == "apps":
                    answers[question["variable"]] = apps[0]
                elif question.get("default") not in (None, ""):
                    answers[question["variable"]] = question["default"]
                elif question.get("choices"):
                    answers[question["variable"]] = question["choices"][-1]
            if asked["type"] == "integer":
                assert asked["min"] >= 0, asked  # -1 is then outside the survey and outside what the playbook takes
                bad = -1
            elif asked.get("choices_from") == "apps":
                bad = "application-99"
            elif asked["type"] == "text":
                bad = "not a %s" % asked["variable"]  # a free text: a space makes it a bad name
            else:
                bad = "not-%s" % asked["variable"]
            answers[asked["variable"]] = bad
            cases.append(("survey-%s-%s" % (template["id"], asked["variable"]), template["playbook"], answers, bad))
    return cases


SURVEY_CASES = survey_cases()


@pytest.mark.parametrize("case, playbook, answers, bad", SURVEY_CASES, ids=[case[0] for case in SURVEY_CASES])
def test_every_awx_survey_question_is_validated_by_its_playbook(fleet, unchanged, case, playbook, answers, bad):
    """A job template's survey only offers good values, but the same playbook runs from a shell or an API call
    with any: each variable a survey asks is one its playbook refuses, naming the value, when it is bad."""
    run = fleet.playbook(os.path.basename(playbook), "-e", json.dumps(answers), check=False)
    assert run.returncode != 0, run
    # the value as the message quotes it (YAML output doubles single quotes), so -1 is not found in "node-1"
    named = re.compile(r"(['\"]|got )%s(['\"\\s,:]|$)" % re.escape(str(bad)))
    assert named.search(" ".join(run.output.split())), run
