"""Client of the upstream daemon's control API (stdlib only)."""

import http.client
import json
import socket
from urllib.parse import urlencode

from .config import LOOPBACK

TIMEOUT_SECONDS = 5.0


class DaemonUnavailable(RuntimeError):
    pass


class ControlError(RuntimeError):
    """The daemon refused a request (status 4xx/5xx); message is its error text."""


class ControlClient:
    def __init__(self, port, timeout=TIMEOUT_SECONDS):
        self.port = port
        self.timeout = timeout

    def _call(self, method, path, document=None):
        body = None if document is None else json.dumps(document).encode()
        headers = {"Content-Type": "application/json"} if body is not None else {}
        connection = http.client.HTTPConnection(LOOPBACK, self.port, timeout=self.timeout)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as error:
            raise DaemonUnavailable("control API on %s:%d unreachable: %s"
                                    % (LOOPBACK, self.port, error))
        finally:
            connection.close()
        try:
            answer = json.loads(raw.decode("utf-8"))
        except ValueError:
            raise ControlError("control API answered %d with non-JSON %r" % (response.status, raw[:200]))
        if response.status >= 400:
            raise ControlError(answer.get("error", "control API answered %d" % response.status))
        return answer

    def status(self):
        return self._call("GET", "/status")

    def hits(self, app, side):
        return self._call("GET", "/hits?" + urlencode({"app": app, "side": side}))

    def fault(self, app, side, mode, delay=None):
        request = {"app": app, "side": side, "mode": mode}
        if delay is not None:
            request["delay"] = delay
        return self._call("POST", "/fault", request)

    def reset(self):
        return self._call("POST", "/reset", {})


def port_listens(port):
    try:
        with socket.create_connection((LOOPBACK, port), timeout=0.5):
            return True
    except OSError:
        return False
