# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Testinfra checks of the molecule scenario `haproxy` (HAProxy run by the role without systemd)."""

import pytest


@pytest.fixture(scope="module")
def paths(host):
    variables = host.ansible.get_variables()
    root = variables["molecule_haproxy_root"]
    return {"root": root, "port": int(variables["molecule_haproxy_port"]),
            "config": root + "/etc/haproxy.cfg", "admin_socket": root + "/run/admin.sock",
            "master_socket": root + "/run/master.sock", "pid_file": root + "/run/haproxy.pid",
            "stats_page": root + "/etc/stats-page.cfg"}


def test_haproxy_master_worker_running(host, paths):
    master_pid = int(host.file(paths["pid_file"]).content_string.strip())
    cmdline = host.file("/proc/%d/cmdline" % master_pid).content_string.split("\0")
    assert "haproxy" in cmdline[0]
    assert "-W" in cmdline and paths["config"] in cmdline
    workers = host.check_output("pgrep -P %d" % master_pid).split()
    assert workers, "the HAProxy master has no worker"


def test_sockets_are_private(host, paths):
    for socket_path in (paths["admin_socket"], paths["master_socket"]):
        socket_file = host.file(socket_path)
        assert socket_file.is_socket
        assert socket_file.mode == 0o600
        assert socket_file.uid == 0


def test_the_master_loads_the_stats_page_file_after_the_configuration(host, paths):
    master_pid = int(host.file(paths["pid_file"]).content_string.strip())
    cmdline = host.file("/proc/%d/cmdline" % master_pid).content_string.split("\0")
    assert cmdline[cmdline.index(paths["config"]) + 1:cmdline.index(paths["config"]) + 3] == ["-f", paths["stats_page"]]


def test_the_stats_page_password_is_only_hashed_in_a_private_file(host, paths):
    stats_page = host.file(paths["stats_page"])
    assert stats_page.mode == 0o600 and stats_page.uid == 0
    assert stats_page.contains("user molecule password \\$6\\$")
    assert not stats_page.contains("molecule-stats-password")
    assert not host.file(paths["config"]).contains("molecule-stats-password")


def test_the_stats_page_asks_for_the_password(host, paths):
    probe = ("python3 -c \"import base64, urllib.request as u, urllib.error as e\n"
             "def get(auth):\n"
             "    request = u.Request('http://127.0.0.1:%d/stats', headers=auth)\n"
             "    try:\n"
             "        return u.urlopen(request, timeout=5).status\n"
             "    except e.HTTPError as error:\n"
             "        return error.code\n"
             "good = {'Authorization': 'Basic ' + base64.b64encode(b'molecule:molecule-stats-password').decode()}\n"
             "bad = {'Authorization': 'Basic ' + base64.b64encode(b'molecule:wrong').decode()}\n"
             "print(get({}), get(bad), get(good))\"" % (paths["port"] + 4))
    assert host.check_output(probe).split() == ["401", "401", "200"]


def test_config_holds_the_backend(host, paths):
    config = host.file(paths["config"])
    assert config.contains("^backend molecule-app$")
    assert config.contains("server cloud-molecule-app 127.0.0.1:19502 check ssl verify required")
    assert config.contains("weight 10$")
    assert host.run("haproxy -c -q -f %s" % paths["config"]).rc == 0


def test_frontend_listening_and_answering(host, paths):
    assert host.socket("tcp://127.0.0.1:%d" % paths["port"]).is_listening
    status = host.check_output(
        "python3 -c \"import http.client as h; c = h.HTTPConnection('127.0.0.1', %d, timeout=5); "
        "c.request('GET', '/', headers={'Host': 'nobody.example.test'}); print(c.getresponse().status)\""
        % paths["port"])
    assert status.strip() == "404"


def test_metrics_frontend_serves_the_exporter(host, paths):
    metrics_port = paths["port"] + 5
    assert host.socket("tcp://127.0.0.1:%d" % metrics_port).is_listening
    body = host.check_output(
        "python3 -c \"import urllib.request as u; print(u.urlopen('http://127.0.0.1:%d/metrics', timeout=5).read().decode())\""
        % metrics_port)
    assert 'haproxy_server_weight{proxy="molecule-app",server="cloud-molecule-app"} 10' in body
