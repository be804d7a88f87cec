"""The upstream daemon: every app's on-prem (HTTP) and cloud (HTTPS) upstream plus the
control API, in one asyncio process.

Each upstream counts the requests it receives (health checks to HEALTH_PATH apart), records
the Host header and SNI of the last request, and obeys a fault mode:
ok, error (503 to everything), slow (answers after SLOW_DELAY_SECONDS), app404 (404 to everything but the
health page: a rewrite that lost a route), down (listening socket closed, open connections closed) and badcert (cloud only: new TLS handshakes get the
certificate signed by the rogue CA).
"""

import asyncio
import json
import os
import signal
import ssl
import sys
import time
from dataclasses import dataclass
from urllib.parse import parse_qs

from . import httpproto
from .config import APPS, DELAY_MODES, HEALTH_PATH, LOOPBACK, SIDES, SLOW_DELAY_SECONDS, TLS_SIDES, \
    validate_fault, validate_upstream

SNI_ATTRIBUTE = "cloudshift_sni"


@dataclass
class Reply:
    status: int
    body: bytes
    headers: tuple = ()
    delay: float = 0.0
    content_type: str = "text/plain; charset=utf-8"


def log(message):
    sys.stderr.write("%s %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%S"), message))
    sys.stderr.flush()


class HttpServerProtocol(asyncio.Protocol):
    """One HTTP/1.1 connection: parses requests in order and answers them one at a time
    (pipelined requests wait for the previous answer, delayed or not)."""

    def __init__(self, handler, connections):
        self.handler = handler
        self.connections = connections
        self.transport = None
        self.buffer = bytearray()
        self.head = None
        self.busy = False
        self.closing = False
        self.pending = None  # TimerHandle or Task of the answer in progress
        self.sni = None

    def connection_made(self, transport):
        self.transport = transport
        self.connections.add(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is not None:
            self.sni = getattr(ssl_object, SNI_ATTRIBUTE, None)

    def connection_lost(self, exc):
        self.connections.discard(self.transport)
        self.closing = True
        if self.pending is not None:
            self.pending.cancel()

    def data_received(self, data):
        self.buffer += data
        self._process()

    def eof_received(self):
        # The client closed its side: a plain-TCP connection stays half-open to finish the
        # answer in progress (TLS transports cannot stay half-open).
        self.closing = True
        return self.busy and self.transport.get_extra_info("ssl_object") is None

    def _process(self):
        while not self.busy and not self.transport.is_closing():
            try:
                if self.head is None:
                    parsed = httpproto.parse_head(self.buffer)
                    if parsed is None:
                        return
                    self.head, consumed = parsed
                    del self.buffer[:consumed]
                    if self.head.expect_continue and (self.head.content_length or self.head.chunked) \
                            and not self.buffer:
                        self.transport.write(httpproto.CONTINUE_RESPONSE)
                parsed_body = httpproto.parse_body(self.head, self.buffer)
                if parsed_body is None:
                    return
            except httpproto.HttpError as error:
                self.transport.write(httpproto.build_response(
                    error.status, (error.message + "\n").encode(), keep_alive=False))
                self.transport.close()
                return
            body, consumed = parsed_body
            del self.buffer[:consumed]
            head, self.head = self.head, None
            self._dispatch(head, body)

    def _dispatch(self, head, body):
        try:
            reply = self.handler(head, body, self.sni)
        except Exception as error:  # a bug must not kill the daemon
            log("handler error: %r" % (error,))
            reply = Reply(500, b"internal error\n")
        if asyncio.iscoroutine(reply):
            self.busy = True
            self.pending = asyncio.ensure_future(reply)
            self.pending.add_done_callback(lambda task: self._finish_task(head, task))
        elif reply.delay > 0:
            self.busy = True
            self.pending = asyncio.get_running_loop().call_later(
                reply.delay, self._send, head, reply)
        else:
            self._send(head, reply)

    def _finish_task(self, head, task):
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            log("handler error: %r" % (error,))
            self._send(head, Reply(500, b"internal error\n"))
        else:
            self._send(head, task.result())

    def _send(self, head, reply):
        self.pending = None
        self.busy = False
        if self.transport.is_closing():
            return
        keep_alive = head.keep_alive and not self.closing
        self.transport.write(httpproto.build_response(
            reply.status, reply.body, reply.headers, keep_alive=keep_alive,
            head_only=head.method == "HEAD", content_type=reply.content_type))
        if not keep_alive:
            self.transport.close()
        elif self.buffer:
            self._process()


class Upstream:
    """State and sockets of one upstream (one app, one side)."""

    def __init__(self, app, side, port, cert_files=None, rogue_cert_files=None):
        self.app = app
        self.side = side
        self.port = port
        self.tls = cert_files is not None
        self.mode = "ok"
        self.delay = SLOW_DELAY_SECONDS
        self.server = None
        self.connections = set()
        self.label = "%s-%s" % (app.name, side)
        self.headers = (("X-Upstream", self.label),)
        self.ok_body = ("%s %s\n" % (app.name, side)).encode()
        self.reset_counts()
        self.last_request = None
        self.last_health_check = None
        self.ssl_context = None
        if self.tls:
            self.good_context = self._server_context(*cert_files)
            self.rogue_context = self._server_context(*rogue_cert_files)
            self.ssl_context = self._server_context(*cert_files)
            self.ssl_context.sni_callback = self._choose_certificate

    @staticmethod
    def _server_context(cert, key):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(cert, key)
        context.set_alpn_protocols(["http/1.1"])
        # No TLS session resumption: a resumed session skips the certificate, and HAProxy
        # resumes its check sessions, so `badcert` would go unnoticed.
        context.options |= ssl.OP_NO_TICKET
        context.num_tickets = 0
        return context

    def _choose_certificate(self, ssl_object, server_name, _context):
        # Called for every handshake (with or without SNI): the certificate is chosen per
        # connection, so `badcert` applies to new connections without a restart.
        setattr(ssl_object, SNI_ATTRIBUTE, server_name)
        ssl_object.context = self.rogue_context if self.mode == "badcert" else self.good_context
        return None

    def reset_counts(self):
        self.hits = 0
        self.health_checks = 0
        self.errors_sent = 0

    @property
    def listening(self):
        return self.server is not None

    async def listen(self):
        if self.server is None:
            loop = asyncio.get_running_loop()
            self.server = await loop.create_server(
                lambda: HttpServerProtocol(self.handle, self.connections),
                LOOPBACK, self.port, ssl=self.ssl_context, reuse_address=True, backlog=1024)

    def close_connections(self):
        for transport in list(self.connections):
            transport.close()

    async def stop_listening(self):
        if self.server is not None:
            server, self.server = self.server, None
            server.close()
            self.close_connections()
            await server.wait_closed()

    async def set_mode(self, mode, delay=None):
        previous, self.mode = self.mode, mode
        if mode in DELAY_MODES:
            self.delay = SLOW_DELAY_SECONDS if delay is None else float(delay)
        if mode == "down":
            await self.stop_listening()
        else:
            await self.listen()
        if mode == "badcert" and previous != "badcert":
            # Reused connections would keep the good certificate: make clients reconnect.
            self.close_connections()
        return previous

    def handle(self, head, _body, sni):
        seen = {"method": head.method, "path": head.path, "host": head.host, "sni": sni,
                "at": time.time()}
        health_check = head.path == HEALTH_PATH
        if health_check:
            self.health_checks += 1
            self.last_health_check = seen
            ok_body = b"OK\n"
        else:
            self.hits += 1
            self.last_request = seen
            ok_body = self.ok_body
        # apperror / appslow leave the health page alone: the field report's failure no check saw.
        if self.mode == "error" or (self.mode == "apperror" and not health_check):
            self.errors_sent += 1
            return Reply(503, ("%s: fault %s\n" % (self.label, self.mode)).encode(), self.headers)
        if self.mode == "app404" and not health_check:
            return Reply(404, ("%s: not found (fault app404)\n" % self.label).encode(), self.headers)
        reply = Reply(200, ok_body, self.headers)
        if self.mode == "slow" or (self.mode == "appslow" and not health_check):
            reply.delay = self.delay
        return reply

    def status(self):
        return {
            "app": self.app.name, "side": self.side, "host": self.app.host,
            "address": LOOPBACK, "port": self.port, "tls": self.tls, "mode": self.mode,
            "delay": self.delay if self.mode in DELAY_MODES else None,
            "listening": self.listening, "open_connections": len(self.connections),
            "hits": self.hits, "health_checks": self.health_checks,
            "errors_sent": self.errors_sent,
            "last_request": self.last_request, "last_health_check": self.last_health_check,
        }


def json_reply(status, document):
    return Reply(status, (json.dumps(document, sort_keys=True) + "\n").encode(),
                 content_type="application/json")


class ControlApi:
    """GET /status, GET /hits?app=..&side=.., POST /fault {app, side, mode}, POST /reset."""

    def __init__(self, upstreams, started_at):
        self.upstreams = upstreams  # (app name, side) -> Upstream
        self.started_at = started_at

    def handle(self, head, body, _sni):
        route = (head.method, head.path)
        if route == ("GET", "/status"):
            return json_reply(200, self.status())
        if route == ("GET", "/hits"):
            query = {key: values[-1] for key, values in parse_qs(head.query).items()}
            app, side = query.get("app", ""), query.get("side", "")
            error = validate_upstream(app, side)
            if error:
                return json_reply(400, {"error": error})
            upstream = self.upstreams[(app, side)]
            return json_reply(200, {"app": app, "side": side, "hits": upstream.hits,
                                    "health_checks": upstream.health_checks})
        if route == ("POST", "/reset"):
            for upstream in self.upstreams.values():
                upstream.reset_counts()
            log("counts reset")
            return json_reply(200, {"reset": True})
        if route == ("POST", "/fault"):
            return self.fault(body)
        if head.path in ("/status", "/hits", "/reset", "/fault"):
            return json_reply(405, {"error": "method %r not allowed on %s" % (head.method, head.path)})
        return json_reply(404, {"error": "no route %s %s" % (head.method, head.path)})

    def status(self):
        return {"pid": os.getpid(), "started_at": self.started_at,
                "upstreams": [upstream.status() for upstream in self.upstreams.values()]}

    def fault(self, body):
        try:
            request = json.loads(body.decode("utf-8") or "{}")
        except ValueError as error:
            return json_reply(400, {"error": "body is not JSON: %s" % error})
        if not isinstance(request, dict):
            return json_reply(400, {"error": "body must be a JSON object, got %r" % (request,)})
        app, side, mode, delay = (request.get(key) for key in ("app", "side", "mode", "delay"))
        error = validate_fault(app, side, mode, delay)
        if error:
            return json_reply(400, {"error": error})
        return self._apply_fault(self.upstreams[(app, side)], mode, delay)

    async def _apply_fault(self, upstream, mode, delay=None):
        try:
            previous = await upstream.set_mode(mode, delay)
        except OSError as error:
            log("fault %s %s failed: %s" % (upstream.label, mode, error))
            return json_reply(500, {"error": "cannot apply %s to %s: %s" % (mode, upstream.label, error)})
        log("fault %s: %s -> %s" % (upstream.label, previous, mode))
        return json_reply(200, {"app": upstream.app.name, "side": upstream.side, "mode": mode,
                                "delay": upstream.delay if mode in DELAY_MODES else None,
                                "previous_mode": previous, "changed": previous != mode})


def build_upstreams(layout):
    upstreams = {}
    for app in APPS:
        for side in SIDES:
            tls = side in TLS_SIDES
            upstreams[(app.name, side)] = Upstream(
                app, side, layout.upstream_port(app.name, side),
                cert_files=layout.server_cert(app.name) if tls else None,
                rogue_cert_files=layout.server_cert(app.name, rogue=True) if tls else None)
    return upstreams


def _write_atomically(path, text):
    temporary = "%s.tmp-%d" % (path, os.getpid())
    with open(temporary, "w") as handle:
        handle.write(text)
    os.replace(temporary, path)


async def serve(layout):
    upstreams = build_upstreams(layout)
    control = ControlApi(upstreams, time.time())
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    for upstream in upstreams.values():
        await upstream.listen()
        tls_note = " (TLS)" if upstream.tls else ""
        log("listening %s on %s:%d%s" % (upstream.label, LOOPBACK, upstream.port, tls_note))
    control_connections = set()
    control_server = await loop.create_server(
        lambda: HttpServerProtocol(control.handle, control_connections),
        LOOPBACK, layout.control_port, reuse_address=True)
    log("control API on %s:%d" % (LOOPBACK, layout.control_port))
    _write_atomically(layout.description_file,
                      json.dumps(layout.describe(pid=os.getpid()), indent=2, sort_keys=True) + "\n")
    _write_atomically(layout.pid_file, "%d\n" % os.getpid())
    await stop.wait()
    log("stopping")
    control_server.close()
    for upstream in upstreams.values():
        await upstream.stop_listening()


def run_daemon(layout):
    """Entry point of `democtl serve` (foreground); returns the process exit code."""
    try:
        asyncio.run(serve(layout))
    except OSError as error:
        log("cannot start: %s" % error)
        return 1
    finally:
        try:
            with open(layout.pid_file) as handle:
                if handle.read().strip() == str(os.getpid()):
                    os.unlink(layout.pid_file)
        except OSError:
            pass
    log("stopped")
    return 0
