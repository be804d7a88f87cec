"""A small HTTP/1.1 request parser and response builder (pure functions, no I/O).

Supports what HAProxy and test clients send: request line + headers, Content-Length and
chunked request bodies, keep-alive (HTTP/1.1 default, HTTP/1.0 opt-in), `Connection: close`,
`Expect: 100-continue` and HEAD.
"""

from dataclasses import dataclass, field

MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 16 * 1024 * 1024

REASONS = {
    100: "Continue", 200: "OK", 400: "Bad Request", 404: "Not Found",
    405: "Method Not Allowed", 413: "Payload Too Large", 431: "Request Header Fields Too Large",
    500: "Internal Server Error", 501: "Not Implemented", 503: "Service Unavailable",
}


class HttpError(Exception):
    """A request the server must refuse; the connection is closed after the answer."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class RequestHead:
    method: str
    target: str
    version: str
    headers: dict = field(default_factory=dict)  # lower-case name -> value (last one wins)
    content_length: int = 0
    chunked: bool = False
    keep_alive: bool = True
    expect_continue: bool = False

    @property
    def path(self):
        return self.target.split("?", 1)[0]

    @property
    def host(self):
        return self.headers.get("host")

    @property
    def query(self):
        return self.target.split("?", 1)[1] if "?" in self.target else ""


def parse_head(buffer):
    """Parse the request head at the start of buffer.

    Returns (RequestHead, bytes consumed), or None when the head is not complete yet.
    Raises HttpError on a malformed or oversized head.
    """
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        if len(buffer) > MAX_HEAD_BYTES:
            raise HttpError(431, "request head larger than %d bytes" % MAX_HEAD_BYTES)
        return None
    if end > MAX_HEAD_BYTES:
        raise HttpError(431, "request head larger than %d bytes" % MAX_HEAD_BYTES)
    lines = bytes(buffer[:end]).decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[0] or not parts[1]:
        raise HttpError(400, "malformed request line %r" % lines[0][:200])
    method, target, version = parts
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise HttpError(400, "unsupported HTTP version %r" % version[:20])
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise HttpError(400, "malformed header line %r" % line[:200])
        headers[name.lower()] = value.strip()
    head = RequestHead(method, target, version, headers)
    connection = headers.get("connection", "").lower()
    if version == "HTTP/1.1":
        head.keep_alive = "close" not in connection
    else:
        head.keep_alive = "keep-alive" in connection
    head.expect_continue = headers.get("expect", "").lower() == "100-continue"
    transfer_encoding = headers.get("transfer-encoding", "").lower()
    if transfer_encoding:
        if transfer_encoding != "chunked":
            raise HttpError(501, "unsupported transfer-encoding %r" % transfer_encoding)
        head.chunked = True
    elif "content-length" in headers:
        raw_length = headers["content-length"]
        if not raw_length.isdigit():
            raise HttpError(400, "bad content-length %r" % raw_length[:50])
        head.content_length = int(raw_length)
        if head.content_length > MAX_BODY_BYTES:
            raise HttpError(413, "body of %d bytes is too large" % head.content_length)
    return head, end + 4


def parse_body(head, buffer):
    """Take the body of head from the start of buffer.

    Returns (body bytes, bytes consumed), or None when the body is not complete yet.
    """
    if head.chunked:
        return _parse_chunked(buffer)
    if len(buffer) < head.content_length:
        return None
    return bytes(buffer[:head.content_length]), head.content_length


def _parse_chunked(buffer):
    position = 0
    chunks = []
    total = 0
    while True:
        line_end = buffer.find(b"\r\n", position)
        if line_end < 0:
            return None
        size_field = bytes(buffer[position:line_end]).split(b";", 1)[0].strip()
        try:
            size = int(size_field, 16)
        except ValueError:
            raise HttpError(400, "bad chunk size %r" % size_field[:20])
        total += size
        if total > MAX_BODY_BYTES:
            raise HttpError(413, "chunked body too large")
        data_start = line_end + 2
        if size == 0:
            # Skip trailers up to the empty line.
            trailer_end = buffer.find(b"\r\n\r\n", line_end)
            if buffer[data_start:data_start + 2] == b"\r\n":
                return b"".join(chunks), data_start + 2
            if trailer_end < 0:
                return None
            return b"".join(chunks), trailer_end + 4
        if len(buffer) < data_start + size + 2:
            return None
        chunks.append(bytes(buffer[data_start:data_start + size]))
        position = data_start + size + 2


def build_response(status, body=b"", headers=(), keep_alive=True, head_only=False,
                   content_type="text/plain; charset=utf-8"):
    """Serialize a complete HTTP/1.1 response."""
    lines = ["HTTP/1.1 %d %s" % (status, REASONS.get(status, "Unknown")),
             "Content-Type: " + content_type,
             "Content-Length: %d" % len(body)]
    lines.extend("%s: %s" % (name, value) for name, value in headers)
    if not keep_alive:
        lines.append("Connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head if head_only else head + body


CONTINUE_RESPONSE = b"HTTP/1.1 100 Continue\r\n\r\n"
