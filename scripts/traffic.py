"""Send real requests through HAProxy and count who served them (X-Backend-Server).

Used by `make demo`, the integration tests and the benchmarks:

    python scripts/traffic.py --host application-01.6play.fr --count 2000 [--url http://127.0.0.1:8080/]
"""

import argparse
import collections
import http.client
import json
import socket
import sys
import threading
import time
import urllib.parse


class TrafficResult:
    def __init__(self):
        self.by_server = collections.Counter()
        self.by_status = collections.Counter()
        self.errors = collections.Counter()
        self.sent = 0
        # A reused keep-alive connection closed under a GET (a reload's old worker leaving): retried once on a
        # new connection, as HTTP clients do for idempotent requests (RFC 9110, 9.2.2); counted apart from failures.
        self.keepalive_races = 0
        self.lock = threading.Lock()

    def merge(self, other):
        with self.lock:
            self.by_server.update(other.by_server)
            self.by_status.update(other.by_status)
            self.errors.update(other.errors)
            self.sent += other.sent
            self.keepalive_races += other.keepalive_races

    @property
    def failed(self):
        """Requests that did not get a 2xx/3xx answer (HTTP errors and socket errors)."""
        return sum(self.errors.values()) + sum(n for status, n in self.by_status.items() if status >= 400)

    def share(self, predicate):
        """Percent of answered requests whose X-Backend-Server satisfies predicate."""
        answered = sum(self.by_server.values())
        if not answered:
            return None
        return 100.0 * sum(n for name, n in self.by_server.items() if predicate(name)) / answered

    def as_dict(self):
        return {"sent": self.sent, "by_server": dict(self.by_server),
                "by_status": {str(k): v for k, v in self.by_status.items()},
                "errors": dict(self.errors), "failed": self.failed, "keepalive_races": self.keepalive_races}


def _connection(parsed, timeout):
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    if parsed.scheme == "https":
        return http.client.HTTPSConnection(parsed.hostname, port, timeout=timeout)
    return http.client.HTTPConnection(parsed.hostname, port, timeout=timeout)


def _get(conn, path, host, keepalive):
    conn.request("GET", path, headers={"Host": host, "Connection": "keep-alive" if keepalive else "close"})
    response = conn.getresponse()
    response.read()
    return response


def send(url, host, count, path="/", timeout=5.0, keepalive=True, result=None, stop=None):
    """Send count requests (keep-alive by default); return a TrafficResult."""
    parsed = urllib.parse.urlsplit(url)
    result = result or TrafficResult()
    conn = None
    served_on_conn = 0
    for _request in range(count):
        if stop is not None and stop.is_set():
            break
        if conn is None:
            conn = _connection(parsed, timeout)
            served_on_conn = 0
        try:
            try:
                response = _get(conn, path, host, keepalive)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                if not served_on_conn:
                    raise
                with result.lock:
                    result.keepalive_races += 1
                conn.close()
                conn = _connection(parsed, timeout)
                served_on_conn = 0
                response = _get(conn, path, host, keepalive)
            served_on_conn += 1
            server = response.getheader("X-Backend-Server") or "(none)"
            with result.lock:
                result.sent += 1
                result.by_status[response.status] += 1
                result.by_server[server] += 1
            if not keepalive or response.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException) as exc:
            with result.lock:
                result.sent += 1
                result.errors[type(exc).__name__] += 1
            conn.close()
            conn = None
    if conn is not None:
        conn.close()
    return result


def send_concurrently(url, host, count, workers=4, **kwargs):
    result = TrafficResult()
    per_worker = [count // workers + (1 if i < count % workers else 0) for i in range(workers)]
    threads = [threading.Thread(target=send, args=(url, host, n), kwargs=dict(kwargs, result=result))
               for n in per_worker if n]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return result


def send_for(url, host, seconds, workers=4, max_requests=10000000, **kwargs):
    """Send from several keep-alive connections for a duration; return one TrafficResult."""
    result = TrafficResult()
    stop = threading.Event()
    threads = [threading.Thread(target=send, args=(url, host, max_requests), kwargs=dict(kwargs, result=result, stop=stop))
               for _worker in range(workers)]
    for thread in threads:
        thread.start()
    stop.wait(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    return result


class BackgroundTraffic:
    """Steady traffic in a thread until stopped: for proving a change drops no request."""

    def __init__(self, url, host, path="/", timeout=5.0, max_requests=200000, max_seconds=120, workers=1):
        self.result = TrafficResult()
        self._stop = threading.Event()
        self._args = (url, host, max_requests)
        self._kwargs = dict(path=path, timeout=timeout, result=self.result, stop=self._stop)
        self._deadline = max_seconds
        self._threads = [threading.Thread(target=self._run, daemon=True) for _worker in range(workers)]
        self._timer = threading.Timer(self._deadline, self._stop.set)

    def _run(self):
        send(*self._args, **self._kwargs)

    def __enter__(self):
        self._timer.start()
        for thread in self._threads:
            thread.start()
        time.sleep(0.2)
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._timer.cancel()
        for thread in self._threads:
            thread.join()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080/")
    parser.add_argument("--host", required=True)
    parser.add_argument("--path", default="/")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=float, help="send for this long instead of --count requests (at most 3600)")
    args = parser.parse_args(argv)
    if args.count < 1 or args.count > 1000000:
        parser.error("--count must be between 1 and 1000000, got %d" % args.count)
    if args.workers < 1 or args.workers > 256:
        parser.error("--workers must be between 1 and 256, got %d" % args.workers)
    if args.seconds is not None:
        if not 0 < args.seconds <= 3600:
            parser.error("--seconds must be above 0 and at most 3600, got %g" % args.seconds)
        result = send_for(args.url, args.host, args.seconds, workers=args.workers, path=args.path)
    else:
        result = send_concurrently(args.url, args.host, args.count, workers=args.workers, path=args.path)
    json.dump(result.as_dict(), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0 if not result.failed else 1


if __name__ == "__main__":
    socket.setdefaulttimeout(10)
    sys.exit(main())
