"""The embedded local environment: real upstream daemon started by scripts/democtl, real
HTTP(S) requests over loopback. Ports: CLOUDSHIFT_PORT_OFFSET=20000 (28099, 28181-28182,
28443-28444)."""

import http.client
import json
import os
import signal
import socket
import ssl
import stat
import subprocess
import sys
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMOCTL = os.path.join(REPO, "scripts", "democtl")
OFFSET = 20000
CONTROL_PORT = 8099 + OFFSET
HOSTS = {"application-01": "application-01.6play.fr", "application-02": "application-02.6play.fr"}
PORTS = {("application-01", "onprem"): 8181 + OFFSET, ("application-02", "onprem"): 8182 + OFFSET,
         ("application-01", "cloud"): 8443 + OFFSET, ("application-02", "cloud"): 8444 + OFFSET}


class Env:
    def __init__(self, run_dir):
        self.run_dir = str(run_dir)
        self.environ = dict(os.environ, CLOUDSHIFT_RUN_DIR=self.run_dir,
                            CLOUDSHIFT_PORT_OFFSET=str(OFFSET))
        self.pki = os.path.join(self.run_dir, "pki")

    def democtl(self, *args, python=sys.executable):
        return subprocess.run([python, DEMOCTL] + list(args), env=self.environ,
                              capture_output=True, text=True, timeout=30, check=False)

    def ok(self, *args):
        result = self.democtl(*args)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result.stdout

    def status(self):
        document = json.loads(self.ok("status", "--json"))
        return {(u["app"], u["side"]): u for u in document["upstreams"]}

    def hits(self, app, side):
        return int(self.ok("hits", app, side).strip())

    def connection(self, app, side, cafile=None, timeout=5):
        port = PORTS[(app, side)]
        if side == "onprem":
            return http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        context = ssl.create_default_context(cafile=cafile or os.path.join(self.pki, "ca.crt"))
        # Connect to 127.0.0.1 but send SNI (and check the certificate) for the app host.
        connection = http.client.HTTPSConnection(HOSTS[app], port, timeout=timeout, context=context)
        connection._create_connection = lambda address, *a, **k: socket.create_connection(
            ("127.0.0.1", address[1]), *a, **k)
        return connection

    def request(self, app, side, path="/", method="GET", body=None, headers=None, **kwargs):
        connection = self.connection(app, side, **kwargs)
        try:
            connection.request(method, path, body=body,
                               headers=dict({"Host": HOSTS[app]}, **(headers or {})))
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    environment = Env(tmp_path_factory.mktemp("localenv-run"))
    try:
        environment.ok("start")
        yield environment
    finally:
        environment.democtl("stop")
        # Belt and braces: never leave a daemon behind, even if stop failed.
        try:
            with open(os.path.join(environment.run_dir, "upstreams.pid")) as handle:
                os.kill(int(handle.read()), signal.SIGKILL)
        except (OSError, ValueError):
            pass


def control(method, path, document=None):
    """Call the control API directly (faster than a democtl process per call)."""
    connection = http.client.HTTPConnection("127.0.0.1", CONTROL_PORT, timeout=5)
    try:
        connection.request(method, path, body=None if document is None else json.dumps(document))
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


@pytest.fixture(autouse=True)
def healthy(env):
    """Every test starts and ends with all upstreams in mode ok and zeroed counts."""
    assert control("POST", "/reset")[0] == 200
    yield
    for app, side in PORTS:
        assert control("POST", "/fault", {"app": app, "side": side, "mode": "ok"})[0] == 200


def refused(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def test_start_is_idempotent_and_describes_ports(env):
    pid = json.loads(env.ok("status", "--json"))["pid"]
    again = env.democtl("start")
    assert again.returncode == 0 and "already running (pid %d)" % pid in again.stdout
    assert json.loads(env.ok("status", "--json"))["pid"] == pid
    with open(os.path.join(env.run_dir, "upstreams.json")) as handle:
        description = json.load(handle)
    assert description["pid"] == pid
    assert description["control"] == {"address": "127.0.0.1", "port": CONTROL_PORT}
    assert description["haproxy"]["port"] == 8080 + OFFSET
    ports = {(app["name"], side): app[side]["port"] for app in description["apps"] for side in ("onprem", "cloud")}
    assert ports == PORTS
    assert all(app["health_path"] == "/HealthCheck" for app in description["apps"])


def test_pki_files_keys_private_and_idempotent(env):
    names = sorted(os.listdir(env.pki))
    assert names == sorted(["ca.crt", "ca.key", "rogue-ca.crt", "rogue-ca.key"]
                           + ["%s%s.%s" % (app, rogue, ext) for app in HOSTS
                              for rogue in ("", "-rogue") for ext in ("crt", "key")])
    for name in names:
        if name.endswith(".key"):
            assert stat.S_IMODE(os.stat(os.path.join(env.pki, name)).st_mode) == 0o600, name
    before = {name: open(os.path.join(env.pki, name), "rb").read() for name in names}
    assert "up to date" in env.ok("pki")
    after = {name: open(os.path.join(env.pki, name), "rb").read() for name in names}
    assert before == after


def test_answers_any_path_and_method_with_upstream_header(env):
    for (app, side) in PORTS:
        status, headers, body = env.request(app, side, "/some/path?x=1", method="DELETE")
        assert status == 200
        assert headers["X-Upstream"] == "%s-%s" % (app, side)
        assert body == ("%s %s\n" % (app, side)).encode()
        assert int(headers["Content-Length"]) == len(body)
        status, _headers, body = env.request(app, side, "/HealthCheck")
        assert (status, body) == (200, b"OK\n")


def test_hits_exclude_health_checks_and_reset_zeroes(env):
    connection = env.connection("application-01", "cloud")
    try:
        for path in ("/a", "/HealthCheck", "/b", "/HealthCheck", "/c"):
            # One keep-alive connection for all five requests (like HAProxy's reuse).
            connection.request("GET", path, headers={"Host": HOSTS["application-01"]})
            response = connection.getresponse()
            assert response.status == 200
            response.read()
        for _attempt in range(2):
            connection.request("POST", "/body", body=b"x" * 5000, headers={"Host": HOSTS["application-01"]})
            response = connection.getresponse()
            assert response.status == 200
            response.read()
    finally:
        connection.close()
    assert env.hits("application-01", "cloud") == 5
    assert env.hits("application-01", "onprem") == 0
    assert env.hits("application-02", "cloud") == 0
    cloud = env.status()[("application-01", "cloud")]
    assert cloud["health_checks"] == 2
    assert cloud["last_request"]["host"] == HOSTS["application-01"]
    assert cloud["last_request"]["sni"] == HOSTS["application-01"]
    assert cloud["last_health_check"]["sni"] == HOSTS["application-01"]
    assert "application-01-cloud" in env.ok("status")
    assert env.ok("reset").strip() == "counts reset"
    assert env.hits("application-01", "cloud") == 0
    assert env.status()[("application-01", "cloud")]["health_checks"] == 0


def test_chunked_body_and_connection_close(env):
    raw = socket.create_connection(("127.0.0.1", PORTS[("application-02", "onprem")]), timeout=5)
    try:
        raw.sendall(b"POST /chunked HTTP/1.1\r\nHost: application-02.6play.fr\r\n"
                    b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
                    b"GET /last HTTP/1.1\r\nHost: application-02.6play.fr\r\nConnection: close\r\n\r\n")
        received = b""
        while True:
            chunk = raw.recv(65536)
            if not chunk:
                break  # the server closed the connection after the `Connection: close` request
            received += chunk
    finally:
        raw.close()
    assert received.count(b"HTTP/1.1 200 OK") == 2
    assert received.endswith(b"application-02 onprem\n")
    assert env.hits("application-02", "onprem") == 2


def test_error_mode_answers_503_to_everything_and_ok_heals(env):
    assert "ok -> error" in env.ok("fault", "application-02", "cloud", "error")
    for path in ("/", "/HealthCheck"):
        status, headers, _body = env.request("application-02", "cloud", path)
        assert status == 503
        assert headers["X-Upstream"] == "application-02-cloud"
    assert env.request("application-02", "onprem")[0] == 200  # other upstreams unaffected
    assert env.hits("application-02", "cloud") == 1  # a 503'd request was still received
    env.ok("fault", "application-02", "cloud", "ok")
    assert env.request("application-02", "cloud", "/HealthCheck")[0] == 200


def test_slow_mode_delays_answers_and_ok_heals(env):
    env.ok("fault", "application-01", "onprem", "slow")
    started = time.monotonic()
    status, _headers, _body = env.request("application-01", "onprem", "/HealthCheck")
    assert status == 200 and time.monotonic() - started >= 1.4
    env.ok("fault", "application-01", "onprem", "ok")
    started = time.monotonic()
    assert env.request("application-01", "onprem")[0] == 200
    assert time.monotonic() - started < 0.5


def test_down_mode_refuses_connections_and_ok_relistens(env):
    port = PORTS[("application-01", "onprem")]
    idle = env.connection("application-01", "onprem")
    idle.request("GET", "/", headers={"Host": HOSTS["application-01"]})
    idle.getresponse().read()
    env.ok("fault", "application-01", "onprem", "down")
    assert refused(port)
    # The open keep-alive connection was closed too, as by a crashed server.
    with pytest.raises((http.client.HTTPException, ConnectionError)):
        idle.request("GET", "/", headers={"Host": HOSTS["application-01"]})
        idle.getresponse().read()
    idle.close()
    status = env.status()[("application-01", "onprem")]
    assert status["mode"] == "down" and status["listening"] is False
    env.ok("fault", "application-01", "onprem", "ok")
    assert env.request("application-01", "onprem")[0] == 200


def test_badcert_presents_rogue_certificate_and_ok_heals(env):
    rogue_ca = os.path.join(env.pki, "rogue-ca.crt")
    env.ok("fault", "application-01", "cloud", "badcert")
    with pytest.raises(ssl.SSLCertVerificationError):
        env.request("application-01", "cloud")
    status, _headers, _body = env.request("application-01", "cloud", cafile=rogue_ca)
    assert status == 200  # the rogue certificate is valid for the host, just not trusted
    assert env.request("application-02", "cloud")[0] == 200
    env.ok("fault", "application-01", "cloud", "ok")
    assert env.request("application-01", "cloud")[0] == 200
    with pytest.raises(ssl.SSLCertVerificationError):
        env.request("application-01", "cloud", cafile=rogue_ca)


@pytest.mark.parametrize("args, named", [
    (["fault", "application-9", "cloud", "error"], "'application-9'"),
    (["fault", "application-01", "sky", "error"], "'sky'"),
    (["fault", "application-01", "cloud", "broken"], "'broken'"),
    (["fault", "application-01", "onprem", "badcert"], "'badcert'"),
    (["hits", "application-01", "middle"], "'middle'"),
    (["hits", "nope", "cloud"], "'nope'"),
    (["frobnicate"], "'frobnicate'"),
])
def test_bad_inputs_exit_2_naming_the_value_and_change_nothing(env, args, named):
    before = env.status()
    result = env.democtl(*args)
    assert result.returncode == 2
    assert named in result.stderr
    after = env.status()
    assert {key: value["mode"] for key, value in after.items()} == \
        {key: value["mode"] for key, value in before.items()}
    assert all(value["mode"] == "ok" for value in after.values())


def test_control_api_refuses_bad_fault_with_400(env):
    status, answer = control("POST", "/fault", {"app": "application-01", "side": "cloud", "mode": "melt"})
    assert status == 400 and "'melt'" in answer["error"]
    status, answer = control("GET", "/hits?app=application-01&side=up")
    assert status == 400 and "'up'" in answer["error"]
    assert control("GET", "/hits?app=application-01&side=cloud") == (
        200, {"app": "application-01", "side": "cloud", "hits": 0, "health_checks": 0})
    assert env.status()[("application-01", "cloud")]["mode"] == "ok"


def test_system_python_runs_control_commands(env):
    result = env.democtl("hits", "application-02", "cloud", python="/usr/bin/python3")
    assert result.returncode == 0 and result.stdout.strip() == "0"


def test_stop_is_idempotent_and_start_comes_back(env):
    assert "stopped" in env.ok("stop")
    assert all(refused(port) for port in list(PORTS.values()) + [CONTROL_PORT])
    assert "not running" in env.ok("stop")
    assert env.democtl("status").returncode == 3
    assert env.democtl("hits", "application-01", "cloud").returncode == 1
    assert "started" in env.ok("start")
    assert env.request("application-02", "cloud")[0] == 200
