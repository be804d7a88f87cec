# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Client for HAProxy's runtime API (the stats socket), unix or TCP.

A batch of commands shares one connection in interactive mode: the client sends
``prompt``, then one command at a time, and reads each reply up to the prompt.
As checked on HAProxy 2.6, every reply in that mode is ``<body>\\n> ``: the body
is empty for a successful ``set weight``, and may or may not end with its own
newline (``No such server.\\n`` vs ``Empty weight string ...``).
Sending one command at a time (rather than all at once) ties each reply to
its command even when a body happens to contain ``\\n> ``.

HAProxy returns no status code: a non-empty reply to a ``set`` command is an
error, raised with HAProxy's own words and the command that caused it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import re
import socket
import time

from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.parsing import (
    ParseError,
    parse_get_weight,
    parse_servers_state,
    parse_show_stat,
)
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.validation import validate_name
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.weights import MAX_WEIGHT

PROMPT = b"\n> "
DEFAULT_TIMEOUT = 5.0
READ_SIZE = 65536
# Well under HAProxy's 16 KB CLI buffer (a 16384-byte payload request made 2.6.12 abort).
MAX_PAYLOAD_REQUEST_BYTES = 12000
PERMISSION_DENIED_REPLY = "Permission denied"
# HAProxy 2.6's replies to "show stat <name> -1 -1" and "show servers state <name>" for an unknown proxy.
UNKNOWN_BACKEND_REPLIES = ("No such proxy.", "Can't find backend.")
_TCP_PATTERN = re.compile(r"\A(?:tcp:|ipv4@|ipv6@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})\Z")


class HAProxyError(CloudshiftError):
    """Base class of every error raised by this client."""


class SocketError(HAProxyError):
    """The stats socket cannot be reached, or did not answer in time."""


class CommandError(HAProxyError):
    """HAProxy answered a command with an error message."""

    def __init__(self, message, command=None, reply=None, applied=None):
        super(CommandError, self).__init__(message)
        self.command = command
        self.reply = reply
        self.applied = list(applied or [])


class AdminLevelError(CommandError):
    """HAProxy refused a command because the socket is not at admin level."""


class UnknownBackendError(CommandError):
    """HAProxy has no backend of that name."""


def parse_socket_address(address):
    """('unix', path) or ('tcp', (host, port)) from a socket option.

    TCP forms: ``tcp:127.0.0.1:9999``, ``127.0.0.1:9999``, ``ipv4@127.0.0.1:9999``,
    ``[::1]:9999``. Anything else is a unix socket path (``unix:`` prefix allowed).
    """
    if not isinstance(address, str) or not address.strip():
        raise SocketError("the HAProxy stats socket address is empty: give a unix socket path "
                          "(e.g. /run/haproxy/admin.sock) or tcp:HOST:PORT")
    address = address.strip()
    if address.startswith("unix:"):
        return "unix", address[len("unix:"):]
    if address.startswith("/") or address.startswith("."):
        return "unix", address
    match = _TCP_PATTERN.match(address)
    if match:
        host, port = match.group(1), int(match.group(2))
        if not 1 <= port <= 65535:
            raise SocketError("invalid port %d in HAProxy stats socket address %r" % (port, address))
        return "tcp", (host.strip("[]"), port)
    if address.startswith("tcp:"):
        raise SocketError("invalid HAProxy stats socket address %r: expected tcp:HOST:PORT" % address)
    return "unix", address


def reply_is_complete(buffer):
    """Whether bytes read after a command hold its whole reply (they end with the prompt)."""
    return buffer.endswith(PROMPT)


def reply_body(buffer):
    """The text of one interactive-mode reply without its trailing prompt, stripped."""
    if buffer.endswith(PROMPT):
        buffer = buffer[:-len(PROMPT)]
    return buffer.decode("utf-8", "replace").strip("\n")


def split_transcript(transcript):
    """Replies of a whole interactive session transcript, in order (``prompt``'s own reply first).

    Only for transcripts whose bodies never contain ``\\n> `` (true of the commands used here).
    """
    if not transcript.endswith(PROMPT):
        raise ParseError("transcript does not end with HAProxy's prompt: %r" % transcript[-40:])
    parts = transcript[:-len(PROMPT)].split(PROMPT)
    return [part.decode("utf-8", "replace").strip("\n") for part in parts]


def strip_payload_markers(reply):
    """A payload command's reply without the ``+ `` HAProxy writes for each payload line it reads."""
    while reply.startswith("+ "):
        reply = reply[2:]
    return reply.strip("\n")


def set_weight_command(backend, server, weight):
    validate_name(backend, "backend")
    validate_name(server, "server")
    if isinstance(weight, bool) or not isinstance(weight, int) or not 0 <= weight <= MAX_WEIGHT:
        raise ValueError("invalid weight %r for server %s/%s: expected an integer 0-%d"
                         % (weight, backend, server, MAX_WEIGHT))
    return "set weight %s/%s %d" % (backend, server, weight)


class RuntimeSession:
    """One open connection to the stats socket in interactive mode."""

    def __init__(self, address, timeout=DEFAULT_TIMEOUT):
        self.address = address
        self.timeout = float(timeout)
        self.family, self.target = parse_socket_address(address)
        self._sock = None

    def describe(self):
        if self.family == "unix":
            return "HAProxy stats socket %s" % self.target
        return "HAProxy stats socket tcp:%s:%d" % self.target

    def open(self):
        family = socket.AF_UNIX if self.family == "unix" else None
        try:
            if family == socket.AF_UNIX:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(self.timeout)
                try:
                    sock.connect(self.target)
                except Exception:
                    sock.close()
                    raise
            else:
                sock = socket.create_connection(self.target, timeout=self.timeout)
        except socket.timeout:
            raise SocketError("timed out after %gs connecting to %s" % (self.timeout, self.describe()))
        except (IOError, OSError) as exc:
            raise SocketError(self._connect_error(exc))
        self._sock = sock
        try:
            self.execute("prompt", expect_empty=True)
        except Exception:
            self._sock = None
            sock.close()
            raise
        return self

    def _connect_error(self, exc):
        where = self.describe()
        code = getattr(exc, "errno", None)
        if code == errno.ENOENT:
            return ("%s does not exist: is HAProxy running, with 'stats socket %s level admin' "
                    "in its global section?" % (where, self.target))
        if code in (errno.EACCES, errno.EPERM):
            return ("permission denied opening %s: run the task as a user allowed to use it "
                    "(become: true) or check the socket's mode, user and group" % where)
        if code == errno.ECONNREFUSED:
            return "connection refused by %s: HAProxy is not running or the socket is stale" % where
        if code == errno.ENOTSOCK:
            return "%s is not a socket" % where
        return "cannot connect to %s: %s" % (where, exc)

    def close(self):
        if self._sock is not None:
            try:
                self._sock.sendall(b"quit\n")
            except (IOError, OSError):
                pass
            self._sock.close()
            self._sock = None

    def __enter__(self):
        return self.open()

    def __exit__(self, *exc_info):
        self.close()

    def execute(self, command, expect_empty=False):
        """Send one command and return HAProxy's reply text (prompt removed).

        With expect_empty, any reply is an error and raised as CommandError
        (AdminLevelError when HAProxy says "Permission denied").
        """
        if "\n" in command or "\r" in command or ";" in command:
            raise ValueError("refusing to send a command holding a newline or ';': %r" % command)
        return self._exchange(command, command.encode("utf-8") + b"\n", expect_empty)

    def execute_payload(self, command, lines, expect_empty=False):
        """Send ``<command> <<`` followed by lines (the payload, ended by an empty line); return the reply.

        In interactive mode HAProxy 2.6 answers each payload line with ``+ `` before
        the reply itself: those markers are removed. The whole request must fit
        HAProxy's CLI buffer (tune.bufsize, 16 KB by default): 2.6.12 was seen to
        abort on a 16384-byte request, so anything over MAX_PAYLOAD_REQUEST_BYTES is refused.
        """
        if "\n" in command or "\r" in command or ";" in command:
            raise ValueError("refusing to send a command holding a newline or ';': %r" % command)
        lines = list(lines)
        for line in lines:
            if not line or "\n" in line or "\r" in line:
                raise ValueError("refusing a payload line that is empty or holds a newline: %r" % line)
        data = ("%s <<\n%s\n\n" % (command, "\n".join(lines))).encode("utf-8")
        if len(data) > MAX_PAYLOAD_REQUEST_BYTES:
            raise ValueError("refusing a %d-byte request to %s: at most %d bytes fit HAProxy's CLI buffer"
                             % (len(data), self.describe(), MAX_PAYLOAD_REQUEST_BYTES))
        return self._exchange(command + " <<", data, expect_empty, payload=True)

    def _exchange(self, command, data, expect_empty, payload=False):
        if self._sock is None:
            raise SocketError("no open connection to %s" % self.describe())
        try:
            self._sock.sendall(data)
            reply = self._read_reply(command)
            if payload:
                reply = strip_payload_markers(reply)
        except socket.timeout:
            raise SocketError("timed out after %gs waiting for HAProxy's reply to '%s' on %s"
                              % (self.timeout, command, self.describe()))
        except (IOError, OSError) as exc:
            raise SocketError("lost the connection to %s while sending '%s': %s" % (self.describe(), command, exc))
        if reply.strip() == PERMISSION_DENIED_REPLY:
            raise AdminLevelError(
                "HAProxy answered 'Permission denied' to '%s' on %s: this socket is not at admin level "
                "(use a 'stats socket ... level admin' socket)" % (command, self.describe()),
                command=command, reply=reply)
        if expect_empty and reply.strip():
            raise CommandError("HAProxy refused '%s' on %s: %s" % (command, self.describe(), reply.strip()),
                               command=command, reply=reply)
        return reply

    def _read_reply(self, command):
        deadline = time.monotonic() + self.timeout
        buffer = b""
        while not reply_is_complete(buffer):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise socket.timeout()
            self._sock.settimeout(remaining)
            chunk = self._sock.recv(READ_SIZE)
            if not chunk:
                raise SocketError("%s closed the connection before answering '%s' (received %r)"
                                  % (self.describe(), command, buffer[-200:]))
            buffer += chunk
        return reply_body(buffer)


def require_admin_level(session):
    """AdminLevelError unless the session's socket is at admin level (`show cli level`, HAProxy 2.0+)."""
    level = session.execute("show cli level").strip()
    if level != "admin":
        raise AdminLevelError(
            "%s is at level %r, not admin level: HAProxy would refuse the changes with 'Permission denied' "
            "(use a 'stats socket ... level admin' socket)" % (session.describe(), level or "unknown"),
            command="show cli level", reply=level)


class RuntimeClient:
    """HAProxy runtime API client; every public method uses one connection."""

    def __init__(self, address, timeout=DEFAULT_TIMEOUT):
        parse_socket_address(address)
        self.address = address
        self.timeout = timeout

    def session(self):
        return RuntimeSession(self.address, self.timeout)

    def describe(self):
        return self.session().describe()

    def run(self, commands):
        """Send commands in one batch; return the reply text of each."""
        with self.session() as session:
            return [session.execute(command) for command in commands]

    def get_weight(self, backend, server):
        """(current, initial) weight of one server."""
        command = "get weight %s/%s" % (validate_name(backend, "backend"), validate_name(server, "server"))
        reply = self.run([command])[0]
        try:
            return parse_get_weight(reply)
        except ParseError:
            raise CommandError("HAProxy refused '%s' on %s: %s" % (command, self.describe(), reply.strip()),
                               command=command, reply=reply)

    def set_weights(self, weights):
        """Apply {(backend, server): weight} in one batch; return the commands sent.

        Every name and weight is validated before the connection opens. HAProxy's
        first error stops the batch; CommandError.applied lists what went through.
        """
        commands = [set_weight_command(backend, server, weight)
                    for (backend, server), weight in sorted(weights.items())]
        applied = []
        with self.session() as session:
            for command in commands:
                try:
                    session.execute(command, expect_empty=True)
                except CommandError as exc:
                    exc.applied = list(applied)
                    if applied:
                        exc.args = ("%s (already applied before it: %s)" % (exc.args[0], "; ".join(applied)),)
                    raise
                applied.append(command)
        return commands

    def show_stat(self, backend=None):
        """Parsed ``show stat`` rows (only the backend's servers and its BACKEND line if given)."""
        command = "show stat"
        if backend is not None:
            command = "show stat %s -1 -1" % validate_name(backend, "backend")
        return self._parse(command, self.run([command])[0], parse_show_stat)

    def show_servers_state(self, backend=None):
        command = "show servers state"
        if backend is not None:
            command += " " + validate_name(backend, "backend")
        return self._parse(command, self.run([command])[0], parse_servers_state)

    def read_backends(self, backends, require_admin=False):
        """{backend: {"stat": [rows], "state": [rows]}} for several backends in one batch.

        Raises CommandError naming the backend when HAProxy does not know it. With require_admin, the
        socket's level is checked first (AdminLevelError): a plan made on a user-level socket would pass
        and its changes then be refused half-way.
        """
        for backend in backends:
            validate_name(backend, "backend")
        result = {}
        with self.session() as session:
            if require_admin:
                require_admin_level(session)
            for backend in backends:
                stat_command = "show stat %s -1 -1" % backend
                state_command = "show servers state %s" % backend
                stat_reply = session.execute(stat_command)
                state_reply = session.execute(state_command)
                if stat_reply.strip() in UNKNOWN_BACKEND_REPLIES or state_reply.strip() in UNKNOWN_BACKEND_REPLIES:
                    raise UnknownBackendError(
                        "HAProxy has no backend named %s (%s answered '%s' to '%s')"
                        % (backend, self.describe(), (state_reply.strip() or stat_reply.strip()), state_command),
                        command=state_command, reply=state_reply)
                stat = self._parse(stat_command, stat_reply, parse_show_stat)
                state = self._parse(state_command, state_reply, parse_servers_state)
                result[backend] = {"stat": stat, "state": state}
        return result

    def _parse(self, command, reply, parser):
        try:
            return parser(reply)
        except ParseError:
            raise CommandError("HAProxy refused '%s' on %s: %s" % (command, self.describe(), reply.strip()),
                               command=command, reply=reply)
