# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure parts of the runtime API client, on transcripts captured from HAProxy 2.6.12."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.client import (
    RuntimeClient,
    SocketError,
    parse_socket_address,
    reply_body,
    reply_is_complete,
    set_weight_command,
    split_transcript,
)
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.parsing import ParseError
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.validation import ValidationError

# "prompt", "get weight app1/cloud1", "set weight app1/cloud1 30", "set weight app1/nope 3",
# "get weight app1/cloud1", "set weight nob/x 3" sent in one interactive session.
TRANSCRIPT = (b"\n> 25 (initial 25)\n\n> \n> No such server.\n\n> 30 (initial 25)\n\n> "
              b"No such backend.\n\n> ")
# Error bodies do not always end with a newline: "set weight app1/cloud1 abc".
GARBAGE_WEIGHT_REPLY = b"Empty weight string empty or preceded by garbage\n> "
STATIC_LB_REPLY = b"Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.\n\n> "
USER_LEVEL_REPLY = b"Permission denied\n\n> "


def test_split_transcript_one_reply_per_command():
    assert split_transcript(TRANSCRIPT) == [
        "",  # prompt
        "25 (initial 25)",
        "",  # a successful set weight answers nothing
        "No such server.",
        "30 (initial 25)",
        "No such backend.",
    ]


def test_split_transcript_needs_a_final_prompt():
    with pytest.raises(ParseError):
        split_transcript(b"\n> 25 (initial 25)\n")


@pytest.mark.parametrize("buffer, complete, body", [
    (b"\n> ", True, ""),
    (b"25 (initial 25)\n\n> ", True, "25 (initial 25)"),
    (GARBAGE_WEIGHT_REPLY, True, "Empty weight string empty or preceded by garbage"),
    (STATIC_LB_REPLY, True, "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'."),
    (USER_LEVEL_REPLY, True, "Permission denied"),
    (b"# pxname,svname,qcur\napp1,cloud1,0\n", False, None),
    (b"# pxname,svname,qcur\napp1,cloud1,0\n\n", False, None),
    (b"", False, None),
])
def test_reply_complete_only_at_the_prompt(buffer, complete, body):
    assert reply_is_complete(buffer) is complete
    if complete:
        assert reply_body(buffer) == body


def test_multi_line_body_kept_whole():
    buffer = b"1\n# be_id be_name srv_id\n3 app1 1\n\n> "
    assert reply_body(buffer) == "1\n# be_id be_name srv_id\n3 app1 1"


@pytest.mark.parametrize("address, expected", [
    ("/run/haproxy/admin.sock", ("unix", "/run/haproxy/admin.sock")),
    ("unix:/run/haproxy/admin.sock", ("unix", "/run/haproxy/admin.sock")),
    ("./admin.sock", ("unix", "./admin.sock")),
    ("admin.sock", ("unix", "admin.sock")),
    ("tcp:127.0.0.1:9999", ("tcp", ("127.0.0.1", 9999))),
    ("127.0.0.1:9999", ("tcp", ("127.0.0.1", 9999))),
    ("ipv4@127.0.0.1:9999", ("tcp", ("127.0.0.1", 9999))),
    ("localhost:9999", ("tcp", ("localhost", 9999))),
    ("[::1]:9999", ("tcp", ("::1", 9999))),
    ("tcp:[::1]:9999", ("tcp", ("::1", 9999))),
])
def test_socket_addresses(address, expected):
    assert parse_socket_address(address) == expected


@pytest.mark.parametrize("address", ["", "   ", None, "tcp:127.0.0.1", "tcp:127.0.0.1:99999", "127.0.0.1:0"])
def test_bad_socket_addresses_named(address):
    with pytest.raises(SocketError) as info:
        RuntimeClient(address)
    if address and address.strip():
        assert repr(address) in str(info.value) or address.split(":")[-1] in str(info.value)


def test_set_weight_command():
    assert set_weight_command("application-01", "aws-prod-Kubernetes-application-01", 25) == \
        "set weight application-01/aws-prod-Kubernetes-application-01 25"
    assert set_weight_command("b", "s", 0) == "set weight b/s 0"
    assert set_weight_command("b", "s", 256) == "set weight b/s 256"


@pytest.mark.parametrize("weight", [-1, 257, 2.5, "25", True, None])
def test_set_weight_command_refuses_bad_weights(weight):
    with pytest.raises(ValueError) as info:
        set_weight_command("b", "s", weight)
    assert repr(weight) in str(info.value)


@pytest.mark.parametrize("backend, server, bad", [
    ("b;shutdown sessions", "s", "'b;shutdown sessions'"),
    ("b", "s 1", "'s 1'"),
    ("b", "s\nset weight b/t 0", "newline"),
    ("b", "s\\x", "backslash"),
    ("b/c", "s", "'b/c'"),
])
def test_set_weight_command_refuses_bad_names(backend, server, bad):
    with pytest.raises(ValidationError) as info:
        set_weight_command(backend, server, 1)
    assert bad in str(info.value)


def test_client_validates_before_connecting(tmp_path):
    # the socket does not exist, so reaching it would raise SocketError instead
    client = RuntimeClient(str(tmp_path / "absent.sock"))
    with pytest.raises(ValidationError):
        client.get_weight("app;1", "s")
    with pytest.raises(ValidationError):
        client.show_servers_state("app 1")
    with pytest.raises(ValidationError):
        client.read_backends(["ok", "not ok"])
    with pytest.raises(SocketError) as info:
        client.get_weight("app1", "s")
    assert str(tmp_path / "absent.sock") in str(info.value)
