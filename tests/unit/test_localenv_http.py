"""The upstream daemon's HTTP/1.1 parser and response builder (pure functions)."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "scripts"))

from localenv import httpproto  # noqa: E402


def test_incomplete_head_waits():
    assert httpproto.parse_head(b"GET / HTTP/1.1\r\nHost: a\r\n") is None


def test_head_with_content_length_body():
    raw = b"POST /x?y=1 HTTP/1.1\r\nHost: app.example\r\nContent-Length: 5\r\n\r\nhelloGET"
    head, consumed = httpproto.parse_head(raw)
    assert (head.method, head.path, head.query, head.host) == ("POST", "/x", "y=1", "app.example")
    assert head.keep_alive and head.content_length == 5
    assert httpproto.parse_body(head, raw[consumed:]) == (b"hello", 5)
    assert httpproto.parse_body(head, raw[consumed:consumed + 3]) is None


@pytest.mark.parametrize("version, connection, keep_alive", [
    ("HTTP/1.1", None, True), ("HTTP/1.1", "close", False), ("HTTP/1.1", "Close", False),
    ("HTTP/1.0", None, False), ("HTTP/1.0", "keep-alive", True),
])
def test_keep_alive_rules(version, connection, keep_alive):
    raw = "GET / %s\r\n%s\r\n" % (version, "Connection: %s\r\n" % connection if connection else "")
    head, _rest = httpproto.parse_head(raw.encode())
    assert head.keep_alive is keep_alive


def test_chunked_body_with_trailers():
    head, consumed = httpproto.parse_head(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
    body = b"3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT"
    assert httpproto.parse_body(head, body) == (b"abcde", len(body) - 4)
    assert httpproto.parse_body(head, b"3\r\nab") is None
    assert httpproto.parse_body(head, b"0\r\n\r\n") == (b"", 5)


@pytest.mark.parametrize("raw, status, named", [
    (b"GARBAGE\r\n\r\n", 400, "GARBAGE"),
    (b"GET / HTTP/2.0\r\n\r\n", 400, "HTTP/2.0"),
    (b"GET / HTTP/1.1\r\nno colon\r\n\r\n", 400, "no colon"),
    (b"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, "-1"),
    (b"GET / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "gzip"),
])
def test_malformed_heads_are_refused(raw, status, named):
    with pytest.raises(httpproto.HttpError) as raised:
        httpproto.parse_head(raw)
    assert raised.value.status == status and named in raised.value.message


def test_oversized_head_is_refused():
    with pytest.raises(httpproto.HttpError) as raised:
        httpproto.parse_head(b"GET / HTTP/1.1\r\nX: " + b"a" * (httpproto.MAX_HEAD_BYTES + 1))
    assert raised.value.status == 431


def test_build_response():
    response = httpproto.build_response(503, b"down\n", (("X-Upstream", "a-cloud"),), keep_alive=False)
    assert response.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
    assert b"\r\nContent-Length: 5\r\n" in response and b"\r\nX-Upstream: a-cloud\r\n" in response
    assert b"\r\nConnection: close\r\n" in response and response.endswith(b"\r\n\r\ndown\n")
    head_only = httpproto.build_response(200, b"body", head_only=True)
    assert head_only.endswith(b"Content-Length: 4\r\n\r\n")
