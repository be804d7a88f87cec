"""Where everything of the local environment lives: apps, ports, run directory, PKI files.

Pure values only; nothing here touches the network or the disk.
"""

import os
from dataclasses import dataclass

LOOPBACK = "127.0.0.1"
HEALTH_PATH = "/HealthCheck"

# The upstreams of each app: on-prem (HTTP), cloud (HTTPS) and a second cloud upstream (HTTPS) that
# the local inventory leaves unused; the drills add it as a second cloud server ("one of two pods").
SIDES = ("onprem", "cloud", "cloud2")
TLS_SIDES = ("cloud", "cloud2")
SECOND_CLOUD_PORT_SHIFT = 100
MODES = ("ok", "error", "slow", "down", "badcert", "apperror", "appslow", "app404")
# Modes that only make sense for a TLS upstream.
TLS_ONLY_MODES = ("badcert",)
# Modes that take a delay (seconds, --delay); the others ignore it.
DELAY_MODES = ("slow", "appslow")
SLOW_DELAY_SECONDS = 1.5
MAX_DELAY_SECONDS = 60.0

HAPROXY_BASE_PORT = 8080
CONTROL_BASE_PORT = 8099
MOTO_BASE_PORT = 4566


@dataclass(frozen=True)
class AppSpec:
    name: str
    host: str
    onprem_base_port: int
    cloud_base_port: int


APPS = (
    AppSpec("application-01", "application-01.6play.fr", 8181, 8443),
    AppSpec("application-02", "application-02.6play.fr", 8182, 8444),
)
APP_NAMES = tuple(app.name for app in APPS)


class ConfigError(ValueError):
    """A bad environment value (offset, run dir)."""


def repo_root():
    """The checkout root: parent of scripts/."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def port_offset_from(environ):
    raw = environ.get("CLOUDSHIFT_PORT_OFFSET", "0").strip() or "0"
    try:
        offset = int(raw)
    except ValueError:
        raise ConfigError("CLOUDSHIFT_PORT_OFFSET must be an integer, got %r" % raw)
    highest_base = max(max(a.onprem_base_port, a.cloud_base_port + SECOND_CLOUD_PORT_SHIFT) for a in APPS)
    if offset < -1024 or highest_base + offset > 65535:
        raise ConfigError("CLOUDSHIFT_PORT_OFFSET %r puts ports outside 1024-65535" % raw)
    return offset


def run_dir_from(environ):
    raw = environ.get("CLOUDSHIFT_RUN_DIR", "")
    return os.path.abspath(raw) if raw else os.path.join(repo_root(), ".run")


def app_by_name(name):
    for app in APPS:
        if app.name == name:
            return app
    raise KeyError(name)


@dataclass(frozen=True)
class Layout:
    """Every port and path of one local environment."""

    run_dir: str
    port_offset: int

    @classmethod
    def from_environ(cls, environ=None):
        environ = os.environ if environ is None else environ
        return cls(run_dir_from(environ), port_offset_from(environ))

    # ports
    @property
    def control_port(self):
        return CONTROL_BASE_PORT + self.port_offset

    @property
    def haproxy_port(self):
        return HAPROXY_BASE_PORT + self.port_offset

    @property
    def moto_port(self):
        return MOTO_BASE_PORT + self.port_offset

    def upstream_port(self, app_name, side):
        app = app_by_name(app_name)
        base = app.onprem_base_port if side == "onprem" else app.cloud_base_port
        if side == "cloud2":
            base += SECOND_CLOUD_PORT_SHIFT
        return base + self.port_offset

    # paths
    @property
    def pki_dir(self):
        return os.path.join(self.run_dir, "pki")

    @property
    def pid_file(self):
        return os.path.join(self.run_dir, "upstreams.pid")

    @property
    def log_file(self):
        return os.path.join(self.run_dir, "upstreams.log")

    @property
    def description_file(self):
        return os.path.join(self.run_dir, "upstreams.json")

    def pki_path(self, filename):
        return os.path.join(self.pki_dir, filename)

    @property
    def ca_file(self):
        return self.pki_path("ca.crt")

    @property
    def rogue_ca_file(self):
        return self.pki_path("rogue-ca.crt")

    def server_cert(self, app_name, rogue=False):
        suffix = "-rogue" if rogue else ""
        return (self.pki_path("%s%s.crt" % (app_name, suffix)),
                self.pki_path("%s%s.key" % (app_name, suffix)))

    def describe(self, pid=None):
        """The JSON-ready description written to upstreams.json."""
        apps = []
        for app in APPS:
            cert, key = self.server_cert(app.name)
            rogue_cert, rogue_key = self.server_cert(app.name, rogue=True)
            apps.append({
                "name": app.name,
                "host": app.host,
                "health_path": HEALTH_PATH,
                "onprem": {"address": LOOPBACK, "port": self.upstream_port(app.name, "onprem"),
                           "tls": False},
                "cloud": {"address": LOOPBACK, "port": self.upstream_port(app.name, "cloud"),
                          "tls": True, "cert": cert, "key": key,
                          "rogue_cert": rogue_cert, "rogue_key": rogue_key},
                "cloud2": {"address": LOOPBACK, "port": self.upstream_port(app.name, "cloud2"),
                           "tls": True, "cert": cert, "key": key,
                           "rogue_cert": rogue_cert, "rogue_key": rogue_key},
            })
        return {
            "format": 1,
            "pid": pid,
            "run_dir": self.run_dir,
            "port_offset": self.port_offset,
            "pid_file": self.pid_file,
            "log_file": self.log_file,
            "haproxy": {"address": LOOPBACK, "port": self.haproxy_port},
            "aws": {"endpoint_url": "http://%s:%d" % (LOOPBACK, self.moto_port), "region": "eu-west-3",
                    "dir": os.path.join(self.run_dir, "aws")},
            "control": {"address": LOOPBACK, "port": self.control_port},
            "pki": {"dir": self.pki_dir, "ca_file": self.ca_file,
                    "rogue_ca_file": self.rogue_ca_file},
            "apps": apps,
        }


def validate_fault(app_name, side, mode, delay=None):
    """Return an error message naming the bad value, or None when the fault is valid."""
    if app_name not in APP_NAMES:
        return "unknown app %r (expected one of: %s)" % (app_name, ", ".join(APP_NAMES))
    if side not in SIDES:
        return "unknown side %r (expected one of: %s)" % (side, ", ".join(SIDES))
    if mode not in MODES:
        return "unknown mode %r (expected one of: %s)" % (mode, ", ".join(MODES))
    if mode in TLS_ONLY_MODES and side not in TLS_SIDES:
        return "mode %r needs a TLS upstream; side %r is plain HTTP (use side 'cloud')" % (mode, side)
    if delay is not None:
        if mode not in DELAY_MODES:
            return "a delay only goes with mode %s, not %r" % (" or ".join(DELAY_MODES), mode)
        if isinstance(delay, bool) or not isinstance(delay, (int, float)) or not 0 < delay <= MAX_DELAY_SECONDS:
            return "delay must be a number of seconds above 0 and at most %g, got %r" % (MAX_DELAY_SECONDS, delay)
    return None


def validate_upstream(app_name, side):
    if app_name not in APP_NAMES:
        return "unknown app %r (expected one of: %s)" % (app_name, ", ".join(APP_NAMES))
    if side not in SIDES:
        return "unknown side %r (expected one of: %s)" % (side, ", ".join(SIDES))
    return None
