"""democtl: drive the embedded local environment (PKI, upstream daemon, faults, counters).

Exit codes: 0 success, 1 runtime failure (daemon unreachable, cannot start...),
2 bad arguments (nothing changed), 3 `status` while the daemon is not running.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time

from . import aws, pki
from .config import APP_NAMES, APPS, LOOPBACK, MODES, SIDES, SLOW_DELAY_SECONDS, ConfigError, Layout, \
    validate_fault, validate_upstream
from .control import ControlClient, ControlError, DaemonUnavailable, port_listens

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_NOT_RUNNING = 0, 1, 2, 3
START_TIMEOUT_SECONDS = 15.0
STOP_TIMEOUT_SECONDS = 5.0
DEMOCTL = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "democtl")


class UsageError(Exception):
    """Bad command-line value: reported with exit code 2 before anything changes."""


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def build_parser():
    parser = ArgumentParser(
        prog="democtl", description="Control the local upstreams of the cloudshift demo. "
        "Environment: CLOUDSHIFT_RUN_DIR (default <repo>/.run), CLOUDSHIFT_PORT_OFFSET (default 0).")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    commands.required = True
    commands.add_parser("pki", help="create the local CA, rogue CA and server certificates if missing")
    commands.add_parser("start", help="start the upstream daemon (idempotent)")
    commands.add_parser("stop", help="stop the upstream daemon (idempotent)")
    status = commands.add_parser("status", help="show every upstream: address, mode, hits")
    status.add_argument("--json", action="store_true", help="print the raw JSON status")
    fault = commands.add_parser("fault", help="set the fault mode of one upstream")
    fault.add_argument("app", help="one of: " + ", ".join(APP_NAMES))
    fault.add_argument("side", help="one of: " + ", ".join(SIDES))
    fault.add_argument("mode", help="one of: " + ", ".join(MODES))
    fault.add_argument("--delay", type=float, metavar="SECONDS",
                       help="delay of the answers in mode slow or appslow (default %g)" % SLOW_DELAY_SECONDS)
    hits = commands.add_parser("hits", help="print the request count of one upstream (health checks excluded)")
    hits.add_argument("app", help="one of: " + ", ".join(APP_NAMES))
    hits.add_argument("side", help="one of: " + ", ".join(SIDES))
    commands.add_parser("reset", help="zero every request and health-check count")
    elb = commands.add_parser("elb", help="set the health of an app's ELB targets in the local AWS (moto)")
    elb.add_argument("app", help="one of: " + ", ".join(APP_NAMES))
    elb.add_argument("mode", help="one of: " + ", ".join(aws.ELB_MODES))
    dns = commands.add_parser("dns", help="print an app's address records in the local AWS (moto)")
    dns.add_argument("app", help="one of: " + ", ".join(APP_NAMES))
    commands.add_parser("describe", help="print the JSON description of ports and paths")
    commands.add_parser("serve", help=argparse.SUPPRESS)
    return parser


def parse_args(argv):
    """Parse and validate argv; raise UsageError naming the bad value."""
    args = build_parser().parse_args(argv)
    if args.command == "fault":
        error = validate_fault(args.app, args.side, args.mode, args.delay)
        if error:
            raise UsageError(error)
    elif args.command == "hits":
        error = validate_upstream(args.app, args.side)
        if error:
            raise UsageError(error)
    elif args.command in ("elb", "dns"):
        if args.app not in APP_NAMES:
            raise UsageError("unknown app %r (expected one of: %s)" % (args.app, ", ".join(APP_NAMES)))
        if args.command == "elb" and args.mode not in aws.ELB_MODES:
            raise UsageError("unknown ELB mode %r (expected one of: %s)" % (args.mode, ", ".join(aws.ELB_MODES)))
    return args


# -- daemon process helpers ---------------------------------------------------------------

def read_pid(layout):
    try:
        with open(layout.pid_file) as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return None


def is_our_daemon(pid):
    """True when pid is alive and is a `democtl serve` process (not a recycled pid)."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            argv = handle.read().split(b"\0")
    except OSError:
        return False
    return any(arg.endswith(b"democtl") for arg in argv) and b"serve" in argv


def running_pid(layout):
    pid = read_pid(layout)
    return pid if pid is not None and is_our_daemon(pid) else None


def all_ports(layout):
    ports = [layout.control_port]
    for app in APPS:
        ports += [layout.upstream_port(app.name, side) for side in SIDES]
    return ports


def log_tail(layout, lines=15):
    try:
        with open(layout.log_file) as handle:
            return "".join(handle.readlines()[-lines:])
    except OSError:
        return ""


# -- commands -----------------------------------------------------------------------------

def cmd_pki(layout, _args):
    written = pki.ensure_pki(layout)
    print("PKI in %s: %s" % (layout.pki_dir, "created %d files" % len(written) if written else "up to date"))
    return EXIT_OK


def cmd_start(layout, _args):
    os.makedirs(layout.run_dir, exist_ok=True)
    code = start_upstreams(layout)
    if code == EXIT_OK:
        print(aws.start(layout))
    return code


def start_upstreams(layout):
    pid = running_pid(layout)
    if pid is not None:
        print("upstreams already running (pid %d), control API on %s:%d"
              % (pid, LOOPBACK, layout.control_port))
        return EXIT_OK
    pki.ensure_pki(layout)
    busy = [port for port in all_ports(layout) if port_listens(port)]
    if busy:
        print("democtl: cannot start: port(s) %s already in use on %s (another environment? "
              "set CLOUDSHIFT_PORT_OFFSET)" % (", ".join(map(str, busy)), LOOPBACK), file=sys.stderr)
        return EXIT_FAILURE
    try:
        os.unlink(layout.pid_file)  # stale
    except FileNotFoundError:
        pass
    with open(layout.log_file, "ab") as log_handle:
        child = subprocess.Popen(
            [sys.executable, DEMOCTL, "serve"], stdin=subprocess.DEVNULL, stdout=log_handle,
            stderr=subprocess.STDOUT, start_new_session=True, close_fds=True,
            env=dict(os.environ, CLOUDSHIFT_RUN_DIR=layout.run_dir,
                     CLOUDSHIFT_PORT_OFFSET=str(layout.port_offset)))
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if child.poll() is not None:
            print("democtl: upstream daemon exited with code %d; log %s:\n%s"
                  % (child.returncode, layout.log_file, log_tail(layout)), file=sys.stderr)
            return EXIT_FAILURE
        if read_pid(layout) == child.pid and all(port_listens(port) for port in all_ports(layout)):
            print("upstreams started (pid %d): %s; control API on %s:%d"
                  % (child.pid, ", ".join("%s %s:%d" % (label, LOOPBACK, port)
                                          for label, port in upstream_ports(layout)),
                     LOOPBACK, layout.control_port))
            return EXIT_OK
        time.sleep(0.05)
    child.terminate()
    print("democtl: upstream daemon not ready after %.0fs; log %s:\n%s"
          % (START_TIMEOUT_SECONDS, layout.log_file, log_tail(layout)), file=sys.stderr)
    return EXIT_FAILURE


def upstream_ports(layout):
    return [("%s-%s" % (app.name, side), layout.upstream_port(app.name, side))
            for app in APPS for side in SIDES]


def cmd_stop(layout, _args):
    print(aws.stop(layout))
    pid = running_pid(layout)
    if pid is None:
        if os.path.exists(layout.pid_file):
            os.unlink(layout.pid_file)
        print("upstreams not running")
        return EXIT_OK
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    while is_our_daemon(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if is_our_daemon(pid):
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)
    try:
        os.unlink(layout.pid_file)
    except FileNotFoundError:
        pass
    print("upstreams stopped (pid %d)" % pid)
    return EXIT_OK


def _format_seen(seen):
    if not seen:
        return "-"
    return "host=%s sni=%s" % (seen.get("host") or "-", seen.get("sni") or "-")


def format_status(status):
    header = ("UPSTREAM", "ADDRESS", "TLS", "MODE", "LISTEN", "HITS", "CHECKS", "503s",
              "LAST REQUEST", "LAST CHECK")
    rows = [header]
    for upstream in status["upstreams"]:
        rows.append((
            "%s-%s" % (upstream["app"], upstream["side"]),
            "%s:%d" % (upstream["address"], upstream["port"]),
            "yes" if upstream["tls"] else "no", upstream["mode"],
            "yes" if upstream["listening"] else "no",
            str(upstream["hits"]), str(upstream["health_checks"]), str(upstream["errors_sent"]),
            _format_seen(upstream["last_request"]), _format_seen(upstream["last_health_check"])))
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    return "daemon pid %d\n%s" % (status["pid"], "\n".join(lines))


def cmd_status(layout, args):
    try:
        status = ControlClient(layout.control_port).status()
    except DaemonUnavailable:
        print("upstreams not running (control API %s:%d)" % (LOOPBACK, layout.control_port))
        return EXIT_NOT_RUNNING
    print(json.dumps(status, indent=2, sort_keys=True) if args.json else format_status(status))
    return EXIT_OK


def cmd_fault(layout, args):
    answer = ControlClient(layout.control_port).fault(args.app, args.side, args.mode, args.delay)
    delay = " (%gs)" % answer["delay"] if answer.get("delay") is not None else ""
    print("%s %s: %s -> %s%s" % (args.app, args.side, answer["previous_mode"], answer["mode"], delay))
    return EXIT_OK


def cmd_hits(layout, args):
    print(ControlClient(layout.control_port).hits(args.app, args.side)["hits"])
    return EXIT_OK


def cmd_reset(layout, _args):
    ControlClient(layout.control_port).reset()
    print("counts reset")
    return EXIT_OK


def cmd_describe(layout, _args):
    print(json.dumps(layout.describe(pid=running_pid(layout)), indent=2, sort_keys=True))
    return EXIT_OK


def cmd_elb(layout, args):
    print(aws.guarded(layout, aws.set_elb, args.app, args.mode))
    return EXIT_OK


def cmd_dns(layout, args):
    print(aws.guarded(layout, aws.dns_record, args.app))
    return EXIT_OK


def cmd_serve(layout, _args):
    from .upstreams import run_daemon  # asyncio/ssl only needed in the daemon
    return run_daemon(layout)


COMMANDS = {"pki": cmd_pki, "start": cmd_start, "stop": cmd_stop, "status": cmd_status,
            "fault": cmd_fault, "hits": cmd_hits, "reset": cmd_reset, "describe": cmd_describe,
            "elb": cmd_elb, "dns": cmd_dns, "serve": cmd_serve}


def main(argv=None, environ=None):
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
        layout = Layout.from_environ(environ)
    except (UsageError, ConfigError) as error:
        print("democtl: error: %s" % error, file=sys.stderr)
        return EXIT_USAGE
    try:
        return COMMANDS[args.command](layout, args)
    except DaemonUnavailable as error:
        print("democtl: upstream daemon not running? %s (start it with scripts/democtl start)"
              % error, file=sys.stderr)
        return EXIT_FAILURE
    except (ControlError, pki.PkiError, aws.AwsEnvError, OSError) as error:
        print("democtl: %s" % error, file=sys.stderr)
        return EXIT_FAILURE
