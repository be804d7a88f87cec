# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runtime API client against a real HAProxy 2.6. Ports 18000-18039."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

import unprivileged
from haproxy_process import HAProxyProcess, UpstreamServer

from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.client import (
    AdminLevelError,
    CommandError,
    RuntimeClient,
    SocketError,
    UnknownBackendError,
)
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.validation import ValidationError

COLLECTIONS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                           ".ansible", "collections")
NOBODY = 65534

UPSTREAM_PORTS = {"cloud1": 18001, "onprem1": 18002}
FRONTEND_PORT = 18010
TCP_STATS_PORT = 18011
CLOSED_PORT = 18012  # nothing listens here

CONFIG = """
global
    stats socket {workdir}/admin.sock mode 600 level admin
    stats socket {workdir}/user.sock mode 600 level user
    stats socket {workdir}/operator.sock mode 600 level operator
    stats socket ipv4@127.0.0.1:%(tcp)d level admin
    stats timeout 10s

defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s

frontend fe
    bind 127.0.0.1:%(frontend)d
    default_backend app1

backend app1
    balance roundrobin
    http-response add-header X-Backend-Server %%s
    option httpchk GET /HealthCheck
    server cloud1 127.0.0.1:%(cloud1)d check inter 200ms weight 25
    server onprem1 127.0.0.1:%(onprem1)d check inter 200ms weight 75
    server spare 127.0.0.1:%(onprem1)d backup

backend hashed
    balance uri
    server a 127.0.0.1:%(onprem1)d weight 10
""" % {"tcp": TCP_STATS_PORT, "frontend": FRONTEND_PORT, "cloud1": UPSTREAM_PORTS["cloud1"],
       "onprem1": UPSTREAM_PORTS["onprem1"]}


@pytest.fixture(scope="module")
def upstreams():
    servers = [UpstreamServer(name, port).start() for name, port in UPSTREAM_PORTS.items()]
    yield servers
    for server in servers:
        server.stop()


@pytest.fixture
def haproxy(tmp_path, upstreams):
    process = HAProxyProcess(CONFIG, tmp_path)
    process.start()
    yield process
    process.stop()


def test_get_and_set_weights_over_unix_socket(haproxy):
    client = RuntimeClient(haproxy.admin_socket)
    assert client.get_weight("app1", "cloud1") == (25, 25)
    sent = client.set_weights({("app1", "cloud1"): 40, ("app1", "onprem1"): 60})
    assert sent == ["set weight app1/cloud1 40", "set weight app1/onprem1 60"]
    assert haproxy.weights("app1") == {"cloud1": 40, "onprem1": 60, "spare": 1}
    assert client.get_weight("app1", "cloud1") == (40, 25)


def test_tcp_socket_forms(haproxy):
    for address in ("tcp:127.0.0.1:%d" % TCP_STATS_PORT, "127.0.0.1:%d" % TCP_STATS_PORT):
        client = RuntimeClient(address)
        assert client.get_weight("app1", "onprem1") == (75, 75)
    RuntimeClient("tcp:127.0.0.1:%d" % TCP_STATS_PORT).set_weights({("app1", "onprem1"): 70})
    assert haproxy.weights("app1")["onprem1"] == 70


def cumulated_connections(haproxy):
    line = [line for line in haproxy.runtime("show info").splitlines() if line.startswith("CumConns:")][0]
    return int(line.split(":")[1])


def test_batch_uses_one_connection(haproxy):
    # CumConns counts health-check connections too: stop the checks so only CLI connections count
    for server in ("cloud1", "onprem1"):
        assert haproxy.runtime("disable health app1/%s" % server).strip() == ""
    time.sleep(0.5)  # let a check already in flight finish
    client = RuntimeClient(haproxy.admin_socket)
    before = cumulated_connections(haproxy)  # counts every CLI connection, this one included
    replies = client.run(["get weight app1/cloud1", "set weight app1/cloud1 30", "get weight app1/cloud1",
                          "show servers state app1"])
    assert replies[0] == "25 (initial 25)"
    assert replies[1] == ""
    assert replies[2] == "30 (initial 25)"
    assert replies[3].startswith("1\n# be_id be_name srv_id srv_name")
    assert cumulated_connections(haproxy) == before + 2


def test_show_stat_and_servers_state_parsed(haproxy):
    haproxy.wait_servers_up("app1", ["cloud1", "onprem1"])
    client = RuntimeClient(haproxy.admin_socket)
    rows = dict((row["svname"], row) for row in client.show_stat() if row["pxname"] == "app1")
    assert rows["cloud1"]["status"] == "UP"
    assert rows["cloud1"]["weight"] == 25
    assert rows["cloud1"]["bck"] == 0
    assert rows["spare"]["bck"] == 1
    assert rows["cloud1"]["check_status"] == "L7OK"
    assert rows["cloud1"]["check_code"] == 200
    assert rows["BACKEND"]["algo"] == "roundrobin"
    states = client.show_servers_state("app1")
    assert [row["srv_name"] for row in states] == ["cloud1", "onprem1", "spare"]
    assert states[0]["srv_uweight"] == 25 and states[0]["srv_iweight"] == 25
    assert set(row["be_name"] for row in client.show_servers_state()) >= {"app1", "hashed"}


def test_haproxy_error_replies_carry_haproxys_words_and_command(haproxy):
    client = RuntimeClient(haproxy.admin_socket)
    with pytest.raises(CommandError) as info:
        client.set_weights({("hashed", "a"): 5})
    assert "set weight hashed/a 5" in str(info.value)
    assert "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'." in str(info.value)
    with pytest.raises(CommandError) as info:
        client.set_weights({("app1", "cloud1"): 10, ("app1", "ghost"): 10})
    assert "No such server." in str(info.value)
    assert "set weight app1/ghost 10" in str(info.value)
    assert info.value.applied == ["set weight app1/cloud1 10"]
    with pytest.raises(CommandError) as info:
        client.get_weight("nobackend", "x")
    assert "No such backend." in str(info.value)
    with pytest.raises(UnknownBackendError) as info:
        client.read_backends(["app1", "nobackend"])
    assert "nobackend" in str(info.value)


def test_user_and_operator_level_sockets_are_reported(haproxy, tmp_path):
    for level in ("user", "operator"):
        client = RuntimeClient(str(tmp_path / ("%s.sock" % level)))
        assert client.get_weight("app1", "cloud1") == (25, 25)
        with pytest.raises(AdminLevelError) as info:
            client.set_weights({("app1", "cloud1"): 50})
        assert "admin level" in str(info.value)
        assert "%s.sock" % level in str(info.value)
    assert haproxy.weights("app1")["cloud1"] == 25


def test_names_validated_before_connecting(tmp_path):
    client = RuntimeClient(str(tmp_path / "absent.sock"))
    for backend, server in (("app1;shutdown", "x"), ("app1", "a b"), ("app1", "x\nset weight app1/y 0"),
                            ("app1", "x\\y")):
        with pytest.raises(ValidationError) as info:
            client.set_weights({(backend, server): 1})
        assert repr(backend if backend != "app1" else server) in str(info.value)
    with pytest.raises(ValueError) as info:
        client.set_weights({("app1", "cloud1"): 257})
    assert "257" in str(info.value)


def test_socket_errors_name_the_socket(tmp_path):
    missing = str(tmp_path / "missing.sock")
    with pytest.raises(SocketError) as info:
        RuntimeClient(missing).show_stat()
    assert missing in str(info.value) and "does not exist" in str(info.value)

    stale = str(tmp_path / "stale.sock")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(stale)
    listener.close()  # the path stays, nobody listens: a stale socket
    with pytest.raises(SocketError) as info:
        RuntimeClient(stale).show_stat()
    assert stale in str(info.value) and "refused" in str(info.value)

    with pytest.raises(SocketError) as info:
        RuntimeClient("tcp:127.0.0.1:%d" % CLOSED_PORT).show_stat()
    assert "127.0.0.1:%d" % CLOSED_PORT in str(info.value) and "refused" in str(info.value)


def test_permission_denied_on_socket_file():
    """A socket file the user may not write: connect() fails with EACCES (checked as an unprivileged user)."""
    directory = tempfile.mkdtemp(prefix="cloudshift-perm-", dir="/tmp")  # not under a TMPDIR nobody cannot enter
    path = os.path.join(directory, "locked.sock")
    listener = socket.socket(socket.AF_UNIX)
    try:
        os.chmod(directory, 0o755)
        listener.bind(path)
        listener.listen(1)
        os.chmod(path, 0o600)
        code = ("from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.client import "
                "RuntimeClient, SocketError\n"
                "try:\n    RuntimeClient(%r).show_stat()\nexcept SocketError as exc:\n    print(exc)\n" % path)
        if os.geteuid() == 0:
            # root ignores file modes: run the client as nobody with the system python, from a world-readable copy
            # of the collection (the checkout and its venv may sit where nobody cannot enter)
            tree = unprivileged.readable_tree()
            try:
                result = subprocess.run([unprivileged.NOBODY_PYTHON, "-c", code], env={"PYTHONPATH": tree}, cwd="/",
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                                        preexec_fn=lambda: (os.setgid(NOBODY), os.setuid(NOBODY)), timeout=30,
                                        check=False)
            finally:
                shutil.rmtree(tree)
        else:
            os.chmod(path, 0)
            result = subprocess.run(["python3", "-c", code], env={"PYTHONPATH": COLLECTIONS},
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                                    timeout=30, check=False)
        assert "permission denied opening HAProxy stats socket %s" % path in result.stdout, result.stdout
    finally:
        listener.close()
        os.unlink(path)
        os.rmdir(directory)


def test_read_timeout_names_socket_and_command(tmp_path):
    path = str(tmp_path / "silent.sock")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen(1)  # accepts (kernel backlog) but never answers
    try:
        with pytest.raises(SocketError) as info:
            RuntimeClient(path, timeout=0.3).show_stat()
        message = str(info.value)
        assert "timed out after 0.3s" in message and path in message and "'prompt'" in message
    finally:
        listener.close()
