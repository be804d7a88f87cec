# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role cloudshift.migration.haproxy against a real HAProxy and real HTTP(S) upstreams.

playbooks/site.yml runs from the checkout against a generated inventory (one local host, every
path under tmp_path, HAProxy in master-worker mode without systemd). Upstreams are small
HTTP/HTTPS servers on 127.0.0.1:19100-19199 that record what they receive; the frontend listens
on 127.0.0.1:19080.

The stages share one HAProxy instance and run in order in one test, so that it can run in
parallel with other test files (pytest-xdist) without port conflicts.
"""

from __future__ import absolute_import, division, print_function

import datetime
import http.client
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.master import (
    is_haproxy_process, read_pid_file, show_proc)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE_PLAYBOOK = os.path.join(ROOT, ".venv", "bin", "ansible-playbook")
VENV_PYTHON = os.path.join(ROOT, ".venv", "bin", "python")
HAPROXY = "/usr/sbin/haproxy"

FRONTEND_PORT = 19080
METRICS_PORT = 19405
PORTS = {"onprem-one": 19101, "cloud-one": 19102, "onprem-two": 19103, "cloud-two-foreign-ca": 19104}
HOST_ONE = "one.example.test"
HOST_TWO = "two.example.test"

pytestmark = pytest.mark.skipif(not os.path.exists(HAPROXY), reason="HAProxy is not installed")


# Certificates -------------------------------------------------------------------------------------

def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_ca(common_name):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name(common_name)).issuer_name(_name(common_name))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


def make_server_cert(ca_key, ca_cert, host, directory, prefix):
    """Write <prefix>.crt and <prefix>.key for host signed by the CA; returns (cert path, key path)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name(host)).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    cert_path = os.path.join(directory, prefix + ".crt")
    key_path = os.path.join(directory, prefix + ".key")
    with open(cert_path, "wb") as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return cert_path, key_path


def write_ca(cert, path):
    with open(path, "wb") as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    return path


# Upstreams ----------------------------------------------------------------------------------------

class Upstream(object):
    """An HTTP or HTTPS server on 127.0.0.1 recording every request, SNI and TLS failure."""

    def __init__(self, name, port, cert=None, address="127.0.0.1"):
        self.name = name
        self.port = port
        self.requests = []
        self.sni_names = []
        self.tls_errors = []
        self.lock = threading.Lock()
        context = None
        if cert:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*cert)
            context.sni_callback = self._record_sni
        self.server = _RecordingServer((address, port), _handler_for(self), context, self)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    def _record_sni(self, ssl_socket, server_name, context):
        with self.lock:
            self.sni_names.append(server_name)

    def record(self, **request):
        with self.lock:
            self.requests.append(request)

    def snapshot(self):
        with self.lock:
            return list(self.requests), list(self.sni_names), list(self.tls_errors)

    def proxied(self):
        return [request for request in self.snapshot()[0] if request["path"].startswith("/req/")]

    def health_checks(self):
        return [request for request in self.snapshot()[0] if not request["path"].startswith("/req/")]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class _RecordingServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, handler, context, upstream):
        self.context = context
        self.upstream = upstream
        ThreadingHTTPServer.__init__(self, address, handler)

    def finish_request(self, request, client_address):
        if self.context is not None:
            try:
                request = self.context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError) as exc:
                with self.upstream.lock:
                    self.upstream.tls_errors.append(str(exc))
                return
        ThreadingHTTPServer.finish_request(self, request, client_address)


def _handler_for(upstream):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            upstream.record(path=self.path, host=self.headers.get("Host"), at=time.time())
            body = ("%s\n" % upstream.name).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    return Handler


# HAProxy and Ansible helpers ----------------------------------------------------------------------

def get(host, path, timeout=5.0):
    """GET through the frontend; returns (status, X-Backend-Server, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", FRONTEND_PORT, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Host": host, "Connection": "close"})
        response = connection.getresponse()
        return response.status, response.getheader("X-Backend-Server"), response.read().decode()
    finally:
        connection.close()


def admin_command(socket_path, command):
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.settimeout(5)
    connection.connect(socket_path)
    connection.sendall((command + "\n").encode())
    chunks = []
    while True:
        chunk = connection.recv(65536)
        if not chunk:
            break
        chunks.append(chunk)
    connection.close()
    return b"".join(chunks).decode()


def servers_state(socket_path):
    """{(backend, server): {"up": bool, "weight": int, "initial_weight": int}} from the runtime API."""
    states = {}
    for line in admin_command(socket_path, "show servers state").splitlines():
        fields = line.split()
        if len(fields) < 9 or line.startswith("#"):
            continue
        states[(fields[1], fields[3])] = {"up": fields[5] == "2", "weight": int(fields[7]),
                                          "initial_weight": int(fields[8])}
    return states


def wait_for(condition, timeout=15.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))


def recap(output):
    match = re.search(r"haproxy-local\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", output)
    assert match, "no PLAY RECAP in:\n" + output[-3000:]
    return {"ok": int(match.group(1)), "changed": int(match.group(2)), "failed": int(match.group(4))}


class Deployment(object):
    def __init__(self, tmp_path, ca_file):
        self.tmp_path = tmp_path
        self.config_dir = str(tmp_path / "etc")
        self.run_dir = str(tmp_path / "run")
        self.state_dir = str(tmp_path / "state")
        self.config_file = os.path.join(self.config_dir, "haproxy.cfg")
        self.admin_socket = os.path.join(self.run_dir, "admin.sock")
        self.master_socket = os.path.join(self.run_dir, "master.sock")
        self.pid_file = os.path.join(self.run_dir, "haproxy.pid")
        self.inventory = str(tmp_path / "hosts.yml")
        self.ca_file = ca_file

    def apps(self):
        return [
            {"name": "app-one", "host": HOST_ONE, "initial_step": 0,
             "health_check": {"path": "/HealthCheck", "expect_status": "200-399"},
             "servers": [
                 {"name": "onprem-one", "side": "onprem", "address": "127.0.0.1", "port": PORTS["onprem-one"],
                  "inter": "1s"},
                 {"name": "cloud-one", "side": "cloud", "address": "127.0.0.1", "port": PORTS["cloud-one"]},
             ]},
            {"name": "app-two", "host": HOST_TWO, "initial_step": 50,
             "health_check": {"path": "/health"},
             "servers": [
                 {"name": "onprem-two", "side": "onprem", "address": "127.0.0.1", "port": PORTS["onprem-two"],
                  "inter": "1s"},
                 {"name": "cloud-two-foreign-ca", "side": "cloud", "address": "127.0.0.1",
                  "port": PORTS["cloud-two-foreign-ca"]},
             ]},
        ]

    def write_inventory(self):
        host_vars = {
            "ansible_connection": "local",
            "ansible_python_interpreter": VENV_PYTHON,
            "haproxy_install_method": "skip",  # the first run uses auto (apt), once
            "haproxy_config_dir": self.config_dir,
            "haproxy_run_dir": self.run_dir,
            "haproxy_state_dir": self.state_dir,
            "haproxy_user": "",
            "haproxy_group": "",
            "haproxy_maxconn": 2000,
            "haproxy_service_timeout": 20,
            "haproxy_frontend_bind": ["127.0.0.1:%d" % FRONTEND_PORT],
            "haproxy_metrics_bind": ["127.0.0.1:%d" % METRICS_PORT],
            "haproxy_ca_file": self.ca_file,
            "haproxy_resolvers": {"name": "testdns", "nameservers": [], "parse_resolv_conf": True,
                                  "hold_valid": "10s", "accepted_payload_size": 8192},
            "cloudshift_apps": self.apps(),
        }
        inventory = {"all": {"children": {"haproxy": {"hosts": {"haproxy-local": host_vars}}}}}
        with open(self.inventory, "w") as handle:
            json.dump(inventory, handle, indent=2)

    def playbook(self, name, *extra):
        command = [ANSIBLE_PLAYBOOK, "-i", self.inventory, os.path.join("playbooks", name)] + list(extra)
        env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
        result = subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                universal_newlines=True, timeout=300, check=False)
        return result.returncode, result.stdout

    def site(self, *extra):
        rc, output = self.playbook("site.yml", *extra)
        assert rc == 0, output[-6000:]
        return recap(output), output

    def master_pid(self):
        pid = read_pid_file(self.pid_file)
        return pid if pid and is_haproxy_process(pid) else None

    def workers(self):
        return [worker["pid"] for worker in show_proc(self.master_socket)["workers"]]

    def config_text(self):
        with open(self.config_file) as handle:
            return handle.read()

    def state_file(self, app):
        return os.path.join(self.state_dir, "apps", app + ".json")

    def kill(self):
        """Finalizer: stop the HAProxy master of this deployment (only it, by its pid)."""
        pid = self.master_pid()
        if pid is None:
            return
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            if self.config_file.encode() not in handle.read():
                return
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while is_haproxy_process(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if is_haproxy_process(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def upstreams(tmp_path):
    trusted_key, trusted_ca = make_ca("cloudshift test CA")
    foreign_key, foreign_ca = make_ca("some other CA")
    ca_file = write_ca(trusted_ca, str(tmp_path / "ca.crt"))
    cloud_one_cert = make_server_cert(trusted_key, trusted_ca, HOST_ONE, str(tmp_path), "cloud-one")
    foreign_cert = make_server_cert(foreign_key, foreign_ca, HOST_TWO, str(tmp_path), "cloud-two")
    servers = {}
    try:
        servers["onprem-one"] = Upstream("onprem-one", PORTS["onprem-one"])
        servers["cloud-one"] = Upstream("cloud-one", PORTS["cloud-one"], cert=cloud_one_cert)
        servers["onprem-two"] = Upstream("onprem-two", PORTS["onprem-two"])
        servers["cloud-two-foreign-ca"] = Upstream("cloud-two-foreign-ca", PORTS["cloud-two-foreign-ca"],
                                                   cert=foreign_cert)
        yield servers, ca_file
    finally:
        for server in servers.values():
            server.close()


def assert_port_free(port):
    """HAProxy binds with SO_REUSEPORT: a stale listener on the port would silently share the traffic."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is fine, a listener is not
    try:
        probe.bind(("127.0.0.1", port))
    except OSError as exc:
        pytest.fail("port %d is already in use (%s): stop what listens there" % (port, exc))
    finally:
        probe.close()


@pytest.fixture
def deployment(tmp_path, upstreams):
    servers, ca_file = upstreams
    assert_port_free(FRONTEND_PORT)
    deployed = Deployment(tmp_path, ca_file)
    deployed.write_inventory()
    try:
        yield deployed, servers
    finally:
        deployed.kill()


# Stages ---------------------------------------------------------------------------------------------

def check_first_run(deployed):
    counts = deployed.site("-e", "haproxy_install_method=auto")[0]
    assert counts["failed"] == 0 and counts["changed"] > 0
    check = subprocess.run([HAPROXY, "-c", "-f", deployed.config_file], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    assert check.returncode == 0, check.stdout

    master_pid = deployed.master_pid()
    assert master_pid, "no HAProxy master named in %s" % deployed.pid_file
    with open("/proc/%d/cmdline" % master_pid, "rb") as handle:
        argv = handle.read().split(b"\0")
    assert b"-W" in argv and b"-D" in argv and deployed.config_file.encode() in argv
    assert deployed.workers(), "the master runs no worker"
    assert oct(os.stat(deployed.admin_socket).st_mode & 0o777) == "0o600"
    assert oct(os.stat(deployed.master_socket).st_mode & 0o777) == "0o600"
    assert oct(os.stat(deployed.state_dir).st_mode & 0o777) == "0o750"
    assert oct(os.stat(deployed.run_dir).st_mode & 0o777) == "0o755"
    config = deployed.config_text()
    assert "verify required sni req.hdr(host) check-sni %s ca-file %s" % (HOST_ONE, deployed.ca_file) in config
    assert "http-check send meth GET uri /HealthCheck ver HTTP/1.1 hdr Host %s" % HOST_ONE in config


def wait_for_checks(deployed):
    """Cloud-one is UP (verified with our CA), cloud-two with a foreign CA is DOWN."""
    def settled():
        states = servers_state(deployed.admin_socket)
        return (states[("app-one", "cloud-one")]["up"] and states[("app-one", "onprem-one")]["up"]
                and states[("app-two", "onprem-two")]["up"]
                and not states[("app-two", "cloud-two-foreign-ca")]["up"]) and states
    return wait_for(settled, what="cloud-one UP and cloud-two-foreign-ca DOWN")


def check_routing_and_checks(deployed, servers):
    wait_for_checks(deployed)
    for index in range(6):
        status, backend_server, body = get(HOST_ONE, "/req/one-%d" % index)
        assert status == 200 and backend_server == "onprem-one" and body == "onprem-one\n", (status, backend_server)
        # Host is matched without port and case-insensitively; HAProxy sets the app's Host upstream.
        status, backend_server, body = get("TWO.example.test:%d" % FRONTEND_PORT, "/req/two-%d" % index)
        assert status == 200 and backend_server == "onprem-two", (status, backend_server, body)
    assert get("unknown.example.test", "/req/unknown")[0] == 404

    # Health checks carry the app's Host header (and the cloud check its SNI).
    for name, host, path in (("onprem-one", HOST_ONE, "/HealthCheck"), ("cloud-one", HOST_ONE, "/HealthCheck"),
                             ("onprem-two", HOST_TWO, "/health")):
        checks = servers[name].health_checks()
        assert checks, "no health check reached %s" % name
        assert all(check["host"] == host and check["path"] == path for check in checks), checks[:3]
    assert set(servers["cloud-one"].snapshot()[1]) == {HOST_ONE}
    for request in servers["onprem-two"].proxied():
        assert request["host"] == HOST_TWO

    # The foreign-CA server is DOWN although app-two's step is 50: no request reached it, and the
    # TLS failures it saw are HAProxy's checks refusing its certificate.
    foreign = servers["cloud-two-foreign-ca"]
    requests, tls_errors = foreign.snapshot()[0], foreign.snapshot()[2]
    assert requests == []
    assert tls_errors, "HAProxy never tried the foreign-CA server"
    assert any("unknown ca" in error.lower() or "alert" in error.lower() for error in tls_errors), tls_errors[:3]


def check_second_run_idempotent(deployed):
    master_pid, workers = deployed.master_pid(), deployed.workers()
    counts, output = deployed.site()
    assert counts["changed"] == 0, output[-4000:]
    assert deployed.master_pid() == master_pid and deployed.workers() == workers


def record_step(deployed, app, step):
    path = deployed.state_file(app)
    with open(path, "w") as handle:
        json.dump({"app": app, "format": 1, "step": step}, handle)
    with open(path, "rb") as handle:
        return handle.read()


def check_recorded_step(deployed, servers, state_bytes):
    states = servers_state(deployed.admin_socket)
    assert states[("app-one", "cloud-one")]["weight"] == 25
    assert states[("app-one", "onprem-one")]["weight"] == 75
    assert "server cloud-one 127.0.0.1:%d" % PORTS["cloud-one"] in deployed.config_text()
    # haproxy.cfg carries app-one's initial_step (0); the recorded step is live and saved for a reload or a restart.
    assert re.search(r"server cloud-one .* weight 0\n", deployed.config_text())
    state_dir = os.path.dirname(os.path.dirname(deployed.state_file("app-one")))
    with open(os.path.join(state_dir, "server-state")) as handle:
        saved = [line.split() for line in handle if " app-one " in line and " cloud-one " in line]
    assert saved and saved[0][7] == "25", saved
    with open(deployed.state_file("app-one"), "rb") as handle:
        assert handle.read() == state_bytes, "the role changed the recorded step"

    wait_for_checks(deployed)
    before = len(servers["cloud-one"].proxied())
    answered_by = [get(HOST_ONE, "/req/split-%d" % index)[1] for index in range(20)]
    cloud_share = answered_by.count("cloud-one")
    assert 3 <= cloud_share <= 7, answered_by
    assert answered_by.count("onprem-one") == 20 - cloud_share
    new_cloud_requests = servers["cloud-one"].proxied()[before:]
    assert len(new_cloud_requests) == cloud_share
    assert all(request["host"] == HOST_ONE for request in new_cloud_requests)


def check_step_survives_rerun_and_restart(deployed, servers, state_bytes):
    counts, output = deployed.site()
    assert counts["changed"] == 0, output[-4000:]
    check_recorded_step(deployed, servers, state_bytes)

    old_master = deployed.master_pid()
    rc, output = deployed.playbook("stop.yml")
    assert rc == 0 and recap(output)["changed"] == 1, output[-4000:]
    assert deployed.master_pid() is None and not os.path.exists(deployed.pid_file)
    assert not is_haproxy_process(old_master)
    rc, output = deployed.playbook("stop.yml")
    assert rc == 0 and recap(output)["changed"] == 0, output[-4000:]

    counts, output = deployed.site()
    assert counts["changed"] >= 1 and deployed.master_pid() not in (None, old_master), output[-4000:]
    check_recorded_step(deployed, servers, state_bytes)


def check_hitless_reload(deployed):
    master_pid, workers_before = deployed.master_pid(), deployed.workers()
    results = {"ok": 0, "failed": []}
    stop = threading.Event()

    def traffic():
        for index in range(3000):
            if stop.is_set():
                break
            try:
                status, backend_server = get(HOST_ONE, "/req/reload-%d" % index)[:2]
                if status == 200 and backend_server in ("onprem-one", "cloud-one"):
                    results["ok"] += 1
                else:
                    results["failed"].append((index, status, backend_server))
            except (OSError, http.client.HTTPException) as exc:
                results["failed"].append((index, repr(exc)))
            time.sleep(0.005)

    thread = threading.Thread(target=traffic)
    thread.start()
    try:
        counts, output = deployed.site("-e", "haproxy_close_spread_time=2s")
        time.sleep(0.5)
    finally:
        stop.set()
        thread.join(timeout=60)
    assert counts["changed"] >= 1
    assert "close-spread-time 2s" in deployed.config_text()
    with open(deployed.config_file + ".previous") as handle:
        assert "close-spread-time 1s" in handle.read()
    assert deployed.master_pid() == master_pid, "the reload replaced the master"
    workers_after = deployed.workers()
    assert set(workers_after) - set(workers_before), (workers_before, workers_after)
    assert results["failed"] == [], results["failed"][:10]
    assert results["ok"] >= 20, results


def check_step_100_keeps_onprem_as_backup(deployed, servers):
    """At step 100 on-prem servers are rendered backup: with app-two's only cloud server DOWN
    (foreign CA), on-prem still serves every request (the field report's safety net)."""
    record_step(deployed, "app-two", 100)
    counts, output = deployed.site("-e", "haproxy_close_spread_time=2s")
    assert counts["changed"] >= 1, output[-4000:]
    config = deployed.config_text()
    assert re.search(r"server onprem-two 127\.0\.0\.1:%d .* weight 100 backup\n" % PORTS["onprem-two"], config)
    assert re.search(r"server cloud-two-foreign-ca .* weight 100\n", config)
    wait_for_checks(deployed)
    answers = [get(HOST_TWO, "/req/step100-%d" % index)[:2] for index in range(10)]
    assert answers == [(200, "onprem-two")] * 10
    assert servers["cloud-two-foreign-ca"].snapshot()[0] == []


def check_bad_models_refused(deployed):
    config_before = deployed.config_text()
    master_pid = deployed.master_pid()
    good = deployed.apps()
    bad_name = json.loads(json.dumps(good))
    bad_name[0]["name"] = "app;one"
    # The one validation names every problem at once: four defects of two apps in one run.
    bad_values = json.loads(json.dumps(good))
    bad_values[1]["initial_step"] = 150
    bad_values[0]["servers"][1]["verify"] = "none"
    bad_values[0]["retry"] = {"methods": ["GET", "POST"]}
    bad_values[1]["gate"] = {"alpha": 3}
    cases = ((bad_name, ['"app;one"']),
             (bad_values, ["initial_step 150", 'server "cloud-one": verify "none" is refused without insecure: true',
                           "app app-one retry: POST is not idempotent and must never be sent twice",
                           "gate thresholds of app app-two: threshold alpha must be between 0 and 1 (exclusive), got 3"]))
    for index, (apps, expected) in enumerate(cases):
        extra_vars = str(deployed.tmp_path / ("bad-%d.json" % index))
        with open(extra_vars, "w") as handle:
            json.dump({"cloudshift_apps": apps, "haproxy_close_spread_time": "2s"}, handle)
        rc, output = deployed.playbook("site.yml", "-e", "@" + extra_vars)
        assert rc != 0, output[-3000:]
        flat = re.sub(r"\s+", " ", output.replace("''", "'"))
        assert "Refuse a bad app model" in output, output[-3000:]
        for message in expected:
            assert message in flat, (message, output[-3000:])
        assert deployed.config_text() == config_before
        assert deployed.master_pid() == master_pid


def check_refused_config_changes_nothing(deployed):
    """A model that passes preflight but that HAProxy refuses (CA file missing) leaves both files as they were."""
    hosts_map = os.path.join(deployed.config_dir, "hosts.map")
    with open(hosts_map) as handle:
        map_before = handle.read()
    config_before = deployed.config_text()
    master_pid, workers = deployed.master_pid(), deployed.workers()
    apps = deployed.apps()
    apps[1]["host"] = "three.example.test"  # changes the map, which is rendered before the configuration
    extra_vars = str(deployed.tmp_path / "refused.json")
    with open(extra_vars, "w") as handle:
        json.dump({"cloudshift_apps": apps, "haproxy_close_spread_time": "2s",
                   "haproxy_ca_file": str(deployed.tmp_path / "missing-ca.crt")}, handle)
    rc, output = deployed.playbook("site.yml", "-e", "@" + extra_vars)
    assert rc != 0, output[-3000:]
    assert "HAProxy refused the new configuration" in output and "missing-ca.crt" in output, output[-3000:]
    with open(hosts_map) as handle:
        assert handle.read() == map_before
    assert deployed.config_text() == config_before
    assert [name for name in os.listdir(deployed.config_dir) if name.endswith("~")] == []
    assert deployed.master_pid() == master_pid and deployed.workers() == workers
    assert get(HOST_TWO, "/req/after-refused")[0] == 200


def check_retries_and_timings_ring(deployed):
    """Every backend retries a failed request once on another server, L7 conditions only for idempotent
    methods; the frontend logs each request to the timings ring; an app's retry overrides the role's."""
    config = deployed.config_text()
    assert "\nring cloudshift-timings\n    description" in config and "    format raw\n" in config
    assert "    log ring@cloudshift-timings local0 info\n" in config
    assert '    log-format "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %{+Q}r %pid.%rt"' in config
    for backend in ("app-one", "app-two"):
        section = config.split("backend %s\n" % backend, 1)[1].split("\nbackend ", 1)[0]
        assert "    retries 1\n    option redispatch 1\n" in section
        assert "    retry-on conn-failure empty-response response-timeout 502 503 504\n" in section
        assert "    http-request disable-l7-retry unless { method GET HEAD OPTIONS }\n" in section
    apps = deployed.apps()
    apps[0]["retry"] = {"retries": 2, "retry_on": ["conn-failure"]}
    extra_vars = str(deployed.tmp_path / "retry.json")
    with open(extra_vars, "w") as handle:
        json.dump({"cloudshift_apps": apps, "haproxy_close_spread_time": "2s"}, handle)
    rc, output = deployed.playbook("site.yml", "--check", "--diff", "-e", "@" + extra_vars)
    assert rc == 0, output[-4000:]
    assert "+    retries 2" in output and "+    retry-on conn-failure\n" in output
    assert "-    http-request disable-l7-retry unless { method GET HEAD OPTIONS }" in output
    assert deployed.config_text() == config


def check_insecure_warns_in_check_mode(deployed):
    config_before = deployed.config_text()
    apps = deployed.apps()
    apps[0]["servers"][1].update(verify="none", insecure=True)
    extra_vars = str(deployed.tmp_path / "insecure.json")
    with open(extra_vars, "w") as handle:
        json.dump({"cloudshift_apps": apps, "haproxy_close_spread_time": "2s"}, handle)
    rc, output = deployed.playbook("site.yml", "--check", "--diff", "-e", "@" + extra_vars)
    assert rc == 0, output[-4000:]
    assert "[WARNING]: app app-one server cloud-one" in output
    assert "ssl verify none" in output  # the diff of the configuration that would be rendered
    assert deployed.config_text() == config_before


def test_role_haproxy_end_to_end(deployment):
    deployed, servers = deployment
    check_first_run(deployed)
    check_routing_and_checks(deployed, servers)
    check_second_run_idempotent(deployed)

    state_bytes = record_step(deployed, "app-one", 25)
    counts, output = deployed.site()
    assert counts["changed"] >= 1, output[-4000:]
    check_recorded_step(deployed, servers, state_bytes)
    check_step_survives_rerun_and_restart(deployed, servers, state_bytes)

    check_hitless_reload(deployed)
    check_step_100_keeps_onprem_as_backup(deployed, servers)
    check_retries_and_timings_ring(deployed)
    check_bad_models_refused(deployed)
    check_refused_config_changes_nothing(deployed)
    check_insecure_warns_in_check_mode(deployed)


# A Lambda target: a server with a Host of its own ---------------------------------------------------

LAMBDA_HOST = "abcdefghij0123456789klmnopqrstuv.lambda-url.eu-west-3.on.aws"
LAMBDA_CHECK_HOST = "health.lambda.example.test"
HOST_THREE = "three.example.test"
LAMBDA_PORTS = {"onprem-three": 19105, "lambda-three": 19106}


class LambdaDeployment(Deployment):
    def apps(self):
        onprem = {"name": "onprem-three", "side": "onprem", "address": "127.0.0.1",
                  "port": LAMBDA_PORTS["onprem-three"], "inter": "500ms"}
        # The function URL answers under its own Host and certificate name; its health checks go to another Host
        # (an API Gateway custom domain would do the same).
        function = {"name": "lambda-three", "side": "cloud", "address": "127.0.0.1", "port": LAMBDA_PORTS["lambda-three"],
                    "host": LAMBDA_HOST, "check_host": LAMBDA_CHECK_HOST, "inter": "500ms"}
        return [{"name": "app-three", "host": HOST_THREE, "initial_step": 50, "health_check": {"path": "/health"},
                 "servers": [onprem, function]}]


def test_a_lambda_server_gets_its_own_host_and_sni_and_on_prem_the_apps(tmp_path):
    ca_key, ca_cert = make_ca("cloudshift lambda test CA")
    ca_file = write_ca(ca_cert, str(tmp_path / "ca.crt"))
    lambda_cert = make_server_cert(ca_key, ca_cert, LAMBDA_HOST, str(tmp_path), "lambda")
    assert_port_free(FRONTEND_PORT)
    onprem = Upstream("onprem-three", LAMBDA_PORTS["onprem-three"])
    function = Upstream("lambda-three", LAMBDA_PORTS["lambda-three"], cert=lambda_cert)
    deployed = LambdaDeployment(tmp_path, ca_file)
    deployed.write_inventory()
    try:
        deployed.site()
        config = deployed.config_text()
        assert re.search(r"server lambda-three abns@[0-9a-f]{8}:cloudshift-relay:app-three:lambda-three check", config)
        assert ("server lambda-three 127.0.0.1:%d ssl verify required sni str(%s) check-sni %s ca-file %s"
                % (LAMBDA_PORTS["lambda-three"], LAMBDA_HOST, LAMBDA_HOST, ca_file)) in config
        wait_for(lambda: all(state["up"] for key, state in servers_state(deployed.admin_socket).items()
                             if key[0] == "app-three"), what="both servers of app-three UP")
        answered = [get(HOST_THREE, "/req/three-%d" % index) for index in range(20)]
        assert all(status == 200 for status, _server, _body in answered), answered
        assert {server for _status, server, _body in answered} == {"onprem-three", "lambda-three"}
        assert function.proxied() and onprem.proxied()
        assert {request["host"] for request in function.proxied()} == {LAMBDA_HOST}
        assert set(function.snapshot()[1]) == {LAMBDA_HOST}  # the SNI of every TLS handshake, checks included
        assert {request["host"] for request in function.health_checks()} == {LAMBDA_CHECK_HOST}
        assert {request["host"] for request in onprem.proxied() + onprem.health_checks()} == {HOST_THREE}
        assert function.snapshot()[2] == []  # no TLS failure: the certificate's name is the function URL's

        # A hitless reload under traffic: the relay's abns@ listener passes to the new worker like the frontend's.
        failures, stop = [], threading.Event()

        def traffic():
            index = 0
            while not stop.is_set():
                index += 1
                try:
                    status, server, _body = get(HOST_THREE, "/req/reload-%d" % index)
                    if status != 200:
                        failures.append((index, status, server))
                except (OSError, http.client.HTTPException) as exc:
                    failures.append((index, repr(exc)))
                time.sleep(0.01)

        served_before = len(function.proxied())
        thread = threading.Thread(target=traffic)
        thread.start()
        try:
            counts, output = deployed.site("-e", "haproxy_close_spread_time=2s")
            time.sleep(1.0)
        finally:
            stop.set()
            thread.join(timeout=60)
        assert counts["changed"] >= 1 and "close-spread-time 2s" in deployed.config_text(), output[-3000:]
        assert failures == [] and len(function.proxied()) > served_before
    finally:
        deployed.kill()
        onprem.close()
        function.close()
