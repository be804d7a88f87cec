# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one validation of the app model (cloudshift_apps) and of the role variables of cloudshift.migration.haproxy.

settings_problems and apps_problems are a port of the role's preflight template (preflight_problems.j2):
the same checks in the same order, every sentence word for word, every value quoted as Ansible's to_json
quotes it. The helpers below do what the template's Jinja did where that decides a sentence: `| string`
is str(), `is match` is re.match (so a `$` also matches before a trailing newline), `| bool` is
Ansible's to_bool, Jinja's `unique` ignores case. Where the template failed (a key missing, a loop over
null or a number), these functions report the value instead: a missing key reads as null.

app_model_problems adds the problems of routes, retries, gate thresholds, the AWS side and shadow traffic.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import re
from collections.abc import Mapping

from ansible_collections.cloudshift.migration.plugins.module_utils import endpoint
from ansible_collections.cloudshift.migration.plugins.module_utils.approval import approval_problems
from ansible_collections.cloudshift.migration.plugins.module_utils.cloud_model import cloud_problems
from ansible_collections.cloudshift.migration.plugins.module_utils.gate import gate_problems
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.retry import retry_problems
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.routes import route_problems
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.shadow import shadow_problems
from ansible_collections.cloudshift.migration.plugins.module_utils.notify import webhook_problems
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.validation import (
    ADDRESS_PATTERN, HOST_PATTERN, describe_bad_name)

# roles/haproxy/defaults/main.yml, for the variables read here (haproxy_config_dir rendered as /etc/haproxy);
# a unit test keeps them equal.
DEFAULTS = {
    "haproxy_frontend_name": "cloudshift",
    "haproxy_frontend_bind": ["*:80"],
    "haproxy_default_backend": "",
    "haproxy_metrics_frontend_name": "cloudshift-metrics",
    "haproxy_metrics_bind": ["127.0.0.1:8405"],
    "haproxy_metrics_path": "/metrics",
    "haproxy_timeouts": {"connect": "5s", "client": "30s", "server": "30s", "check": "1s", "http_request": "10s",
                         "http_keep_alive": "10s", "queue": "30s"},
    "haproxy_hard_stop_after": "30s",
    "haproxy_close_spread_time": "1s",
    "haproxy_resolvers": {"name": "m6dns", "nameservers": [], "parse_resolv_conf": True, "hold_valid": "10s",
                          "accepted_payload_size": 8192},
    "haproxy_ca_file": "/etc/ssl/certs/ca-certificates.crt",
    "haproxy_stats_socket_mode": "600",
    "haproxy_stats_page": {"enabled": False, "bind": "127.0.0.1:8404", "uri": "/stats", "user": "cloudshift",
                           "password": "", "refresh": "10s"},
    "haproxy_stats_page_file": "/etc/haproxy/stats-page.cfg",
    "haproxy_config_file": "/etc/haproxy/haproxy.cfg",
    "haproxy_user": "haproxy",
    "haproxy_group": "haproxy",
    "haproxy_log_target": "stdout format raw local0",
    "haproxy_backup_weight": 100,
    "haproxy_maxconn": 20000,
    "haproxy_nbthread": 0,
    "haproxy_observe_error_limit": 1,
    "haproxy_service_timeout": 30,
    "haproxy_retries": 1,
    "haproxy_retry_on": ["conn-failure", "empty-response", "response-timeout", "502", "503", "504"],
    "haproxy_retry_methods": ["GET", "HEAD", "OPTIONS"],
    # The migration role's settings (its defaults): validated here, with the app model they apply to.
    "migration_gate_thresholds": {},
    "migration_aws": {},
    "migration_notify_webhooks": [],
}

# The template's patterns, but anchored with \Z (Jinja's `$` let a value end with a newline through) and with bind
# lines split on spaces and tabs only (\s let a newline, and so a second configuration line, through).
NAME = re.compile(r"^(?!\.{1,2}$)[A-Za-z0-9_.:-]{1,128}\Z")
HOST = HOST_PATTERN
ADDRESS = ADDRESS_PATTERN
TIME = re.compile(r"^[0-9]+(us|ms|s|m|h|d)?\Z")
URL_PATH = re.compile(r"^/[A-Za-z0-9._~!$&()*+,;=:@%/?-]*\Z")
STATUSES = re.compile(r"^[1-5][0-9]{2}(-[1-5][0-9]{2})?(,[1-5][0-9]{2}(-[1-5][0-9]{2})?)*\Z")
FILE_PATH = re.compile(r"""^/[^\s#"'\\]+\Z""")
INTEGER = re.compile(r"^-?[0-9]+\Z")
DIGITS = re.compile(r"^[0-9]+\Z")
PORT = re.compile(r"^[0-9]{1,5}\Z")
BIND_LINE = re.compile(r"^[^\s#]+([ \t]+[^\s#]+)*\Z")
PLAIN_PATH = re.compile(r"^/[A-Za-z0-9._~/-]*\Z")
NAMESERVER = re.compile(r"^[A-Za-z0-9._:\[\]-]+:[0-9]{1,5}\Z")
OCTAL_MODE = re.compile(r"^[0-7]{3,4}\Z")
LOOPBACK_BIND = re.compile(
    r"^(127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}|\[::1\]|localhost|ipv4@127\.[0-9.]+|ipv6@::1):[0-9]{1,5}\Z")
STATS_USER = re.compile(r"^[A-Za-z0-9_.-]{1,64}\Z")
LINE_BREAK = re.compile("[\r\n]")
ACCOUNT = re.compile(r"^[A-Za-z0-9_.-]*\Z")
LOG_TARGET = re.compile(r"^[^\n\r#]*\Z")

TIMEOUT_KEYS = ("connect", "client", "server", "check", "http_request", "http_keep_alive", "queue")
STATS_PAGE_KEYS = ("enabled", "bind", "uri", "user", "password", "refresh")
BOOLEAN_TEXTS = ("true", "false", "yes", "no", "1", "0")
TIME_SETTINGS = ("haproxy_hard_stop_after", "haproxy_close_spread_time")
ACCOUNT_SETTINGS = ("haproxy_user", "haproxy_group")
INTEGER_SETTINGS = (("haproxy_backup_weight", 0, 256), ("haproxy_maxconn", 1, 10000000),
                    ("haproxy_nbthread", 0, 4096), ("haproxy_observe_error_limit", 1, 1000000),
                    ("haproxy_service_timeout", 1, 3600))
SIDES = ("onprem", "cloud")
INTERNAL_BACKEND = "cloudshift-unknown-host"
BAD_NAME = "is not valid for HAProxy (only letters, digits and '_', '.', ':', '-', at most 128)"

# Ansible's to_bool (the `bool` filter).
TRUE_TEXTS = frozenset(("yes", "on", "true", "1"))
FALSE_TEXTS = frozenset(("no", "off", "false", "0"))


def bad_name_text(name):
    """Why a name is refused, in the words the runtime API's name check (validation.describe_bad_name) uses."""
    reason = describe_bad_name(name)
    return "is not valid for HAProxy (%s)" % reason if reason else BAD_NAME


# ------------------------------------------------------------------ what the template's Jinja did


def _json(value):
    """A value as Ansible's to_json shows it (json.dumps, ASCII only): a newline or a quote is shown, not obeyed."""
    return json.dumps(_plain(value), default=str)


def _plain(value):
    """value as to_json reads it: containers item by item (an Ansible lazy container renders an item when it is
    read, json.dumps would read a list's storage), sets as lists, dates as ISO text."""
    if isinstance(value, Mapping):
        return dict((_plain_key(key), _plain(item)) for key, item in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(item) for item in value]
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return value


def _plain_key(key):
    return key if key is None or isinstance(key, (str, int, float)) else str(key)


def _text(value):
    """`value | string`, which is also what `is match` reads."""
    return value if isinstance(value, str) else str(value)


def _matches(pattern, value):
    """`value | string is match(pattern)`."""
    return pattern.match(_text(value)) is not None


def _is_matching_string(pattern, value):
    """`value is string and value is match(pattern)`."""
    return isinstance(value, str) and pattern.match(value) is not None


def _get(value, key, default=None):
    """`value.key | default(default)`: the default when value is not a mapping or has no such key."""
    if isinstance(value, Mapping) and key in value:
        return value[key]
    return default


def _is_collection(value):
    """What a Jinja for loop goes through, a string aside: a list's items or a mapping's keys."""
    return isinstance(value, (list, tuple, Mapping))


def _contains(container, item):
    """`item in container`; False where Jinja failed (a container that is not one, an unhashable key)."""
    try:
        return item in container
    except TypeError:
        return False


def _to_bool(value):
    """Ansible's `| bool`: yes/on/true/1 in any case, a number equal to 1; anything else is false."""
    if isinstance(value, str):
        value = value.lower()
    elif isinstance(value, int):
        value = str(value).lower()
    try:
        if value in TRUE_TEXTS:
            return True
        if value in FALSE_TEXTS:
            return False
        return value == 1
    except TypeError:
        return False


def _is_whole_number(value, pattern, low, high=None):
    """`value | string is match(pattern) and low <= value | int <= high`."""
    text = _text(value)
    if pattern.match(text) is None:
        return False
    try:
        number = int(text)
    except ValueError:  # more digits than Python converts: out of every range here
        return False
    return low <= number and (high is None or number <= high)


def _reported_duplicates(values):
    """The values used more than once, in the order they first appear (case counts: HAProxy's names are
    case-sensitive; hosts are compared lower-cased by their caller)."""
    reported = []
    for value in values:
        if values.count(value) > 1 and value not in reported:
            reported.append(value)
    return reported


def _with_defaults(settings):
    merged = dict(DEFAULTS)
    merged.update(settings or {})
    return merged


# ------------------------------------------------------------------ role variables


def _frontend_name_problems(settings):
    name = settings["haproxy_frontend_name"]
    if _is_matching_string(NAME, name):
        return []
    return ["haproxy_frontend_name %s is not a valid HAProxy name (letters, digits, '_', '.', ':', '-')" % _json(name)]


def _bad_bind_lines(variable, binds):
    return ["%s item %s is not a valid bind line (no newline, no '#')" % (variable, _json(bind))
            for bind in binds if not _is_matching_string(BIND_LINE, bind)]


def _frontend_bind_problems(settings):
    binds = settings["haproxy_frontend_bind"]
    if not _is_collection(binds) or len(binds) == 0:
        return ["haproxy_frontend_bind %s must be a non-empty list of addresses" % _json(binds)]
    return _bad_bind_lines("haproxy_frontend_bind", binds)


def _metrics_bind_problems(settings):
    binds = settings["haproxy_metrics_bind"]
    if not _is_collection(binds):
        return ["haproxy_metrics_bind %s must be a list of addresses (empty: no metrics frontend)" % _json(binds)]
    shared = ["haproxy_metrics_bind item %s is also in haproxy_frontend_bind: the metrics need a listener of their own"
              % _json(bind) for bind in binds if _contains(settings["haproxy_frontend_bind"], bind)]
    return _bad_bind_lines("haproxy_metrics_bind", binds) + shared


def _metrics_path_problems(settings):
    path = settings["haproxy_metrics_path"]
    if _is_matching_string(PLAIN_PATH, path):
        return []
    return ["haproxy_metrics_path %s is not a path (/ then letters, digits, '.', '_', '~', '-', '/')" % _json(path)]


def _metrics_frontend_name_problems(settings):
    name = settings["haproxy_metrics_frontend_name"]
    if _is_matching_string(NAME, name) and name != settings["haproxy_frontend_name"]:
        return []
    return ["haproxy_metrics_frontend_name %s is not a valid HAProxy name distinct from haproxy_frontend_name"
            % _json(name)]


def _timeouts_problems(settings):
    timeouts = settings["haproxy_timeouts"]
    if not isinstance(timeouts, Mapping):
        return ["haproxy_timeouts must be a mapping (%s), got %s" % (", ".join(TIMEOUT_KEYS), _json(timeouts))]
    problems = []
    for key in TIMEOUT_KEYS:
        value = _text(_get(timeouts, key, ""))
        if value and not TIME.match(value):
            problems.append("haproxy_timeouts.%s %s is not a time (like 500ms, 5s, 1m)" % (key, _json(value)))
    return problems + ["haproxy_timeouts has an unknown key %s" % _json(key)
                       for key in timeouts if key not in TIMEOUT_KEYS]


def _time_settings_problems(settings):
    return ["%s %s is not a time (like 500ms, 5s, 1m)" % (variable, _json(settings[variable]))
            for variable in TIME_SETTINGS if not _matches(TIME, settings[variable])]


def _resolvers_problems(settings):
    resolvers = settings["haproxy_resolvers"]
    problems = []
    name = _get(resolvers, "name", "m6dns")
    if not _matches(NAME, name):
        problems.append("haproxy_resolvers.name %s is not a valid HAProxy name" % _json(name))
    hold_valid = _get(resolvers, "hold_valid", "10s")
    if not _matches(TIME, hold_valid):
        problems.append("haproxy_resolvers.hold_valid %s is not a time" % _json(hold_valid))
    nameservers = _get(resolvers, "nameservers", [])
    if isinstance(nameservers, str) or _is_collection(nameservers):
        problems += ["haproxy_resolvers.nameservers item %s is not address:port" % _json(nameserver)
                     for nameserver in nameservers if not _is_matching_string(NAMESERVER, nameserver)]
    else:
        problems.append("haproxy_resolvers.nameservers must be a list of address:port, got %s" % _json(nameservers))
    if not nameservers and not _to_bool(_get(resolvers, "parse_resolv_conf", True)):
        problems.append("haproxy_resolvers needs nameservers or parse_resolv_conf: true")
    return problems


def _ca_file_problems(settings):
    ca_file = settings["haproxy_ca_file"]
    if _matches(FILE_PATH, ca_file):
        return []
    return ["haproxy_ca_file %s is not an absolute path without spaces" % _json(ca_file)]


def _stats_socket_mode_problems(settings):
    mode = settings["haproxy_stats_socket_mode"]
    if not _matches(OCTAL_MODE, mode):
        return ['haproxy_stats_socket_mode %s is not an octal mode like "600"' % _json(mode)]
    if _text(mode)[-1] != "0":
        return ['haproxy_stats_socket_mode %s lets every local user reach the admin socket (and take over HAProxy): '
                'use "600" (or "660" for the group %s)' % (_json(mode), _json(settings["haproxy_group"]))]
    return []


def _stats_page_problems(settings):
    page = settings["haproxy_stats_page"]
    problems = []
    if not isinstance(page, Mapping):
        problems.append("haproxy_stats_page must be a mapping (enabled, bind, uri, user, password, refresh), got %s"
                        % _json(page))
        page = {}
    problems += ["haproxy_stats_page has an unknown key %s (enabled, bind, uri, user, password, refresh)" % _json(key)
                 for key in page if key not in STATS_PAGE_KEYS]
    enabled = _get(page, "enabled", False)
    if _text(enabled).lower() not in BOOLEAN_TEXTS:
        problems.append("haproxy_stats_page.enabled %s is not true or false" % _json(enabled))
    elif _to_bool(enabled):
        problems += _enabled_stats_page_problems(page, settings)
    return problems


def _enabled_stats_page_problems(page, settings):
    problems = []
    bind = _get(page, "bind", "127.0.0.1:8404")
    if not _is_matching_string(LOOPBACK_BIND, bind):
        problems.append("haproxy_stats_page.bind %s is not a loopback address:port (127.0.0.1:8404, [::1]:8404): "
                        "the stats page stays on loopback (reach it through an SSH tunnel)" % _json(bind))
    elif _contains(settings["haproxy_frontend_bind"], bind) or _contains(settings["haproxy_metrics_bind"], bind):
        problems.append("haproxy_stats_page.bind %s is also a bind of the traffic or metrics frontend: the stats page "
                        "needs a listener of its own" % _json(bind))
    user = _get(page, "user", "cloudshift")
    if not _is_matching_string(STATS_USER, user):
        problems.append("haproxy_stats_page.user %s is not a user name (letters, digits, '_', '.', '-')" % _json(user))
    password = _get(page, "password", "")
    if not isinstance(password, str) or len(password) < 8 or LINE_BREAK.search(password):
        problems.append("haproxy_stats_page.password is missing, shorter than 8 characters or holds a newline (its "
                        "value is not shown): the stats page is only served behind a user and password (put it in "
                        "Ansible Vault)")
    uri = _get(page, "uri") or "/stats"
    if not _matches(PLAIN_PATH, uri):
        problems.append("haproxy_stats_page.uri %s is not a path (/ then letters, digits, '.', '_', '~', '-', '/')"
                        % _json(uri))
    refresh = _get(page, "refresh") or "10s"
    if not _matches(TIME, refresh):
        problems.append("haproxy_stats_page.refresh %s is not a time (like 10s)" % _json(refresh))
    return problems


def _stats_page_file_problems(settings):
    path = settings["haproxy_stats_page_file"]
    if _matches(FILE_PATH, path) and path != settings["haproxy_config_file"]:
        return []
    return ["haproxy_stats_page_file %s is not an absolute path without spaces, apart from haproxy_config_file"
            % _json(path)]


def _account_problems(settings):
    return ["%s %s is not a valid user or group name" % (variable, _json(settings[variable]))
            for variable in ACCOUNT_SETTINGS if not _matches(ACCOUNT, settings[variable])]


def _log_target_problems(settings):
    target = settings["haproxy_log_target"]
    if _matches(LOG_TARGET, target):
        return []
    return ["haproxy_log_target %s holds a newline or a '#'" % _json(target)]


def _integer_settings_problems(settings):
    return ["%s %s is not an integer from %d to %d" % (variable, _json(settings[variable]), low, high)
            for variable, low, high in INTEGER_SETTINGS
            if not _is_whole_number(settings[variable], INTEGER, low, high)]


SETTINGS_CHECKS = (
    _frontend_name_problems, _frontend_bind_problems, _metrics_bind_problems, _metrics_path_problems,
    _metrics_frontend_name_problems, _timeouts_problems, _time_settings_problems, _resolvers_problems,
    _ca_file_problems, _stats_socket_mode_problems, _stats_page_problems, _stats_page_file_problems,
    _account_problems, _log_target_problems, _integer_settings_problems,
)


def settings_problems(settings):
    """One sentence per problem in the role variables (missing ones take the role's defaults), [] when all is well."""
    settings = _with_defaults(settings)
    return [problem for check in SETTINGS_CHECKS for problem in check(settings)]


# ------------------------------------------------------------------ the app model


def _server_problems(server, app_label, app_host=None):
    name = _get(server, "name")
    label = "%s server %s" % (app_label, _json(name))
    problems = []
    if not _is_matching_string(NAME, name):
        problems.append("%s: name %s %s" % (label, _json(name), bad_name_text(name)))
    side = _get(server, "side")
    if side not in SIDES:
        problems.append("%s: side %s is not onprem or cloud" % (label, _json(side)))
    address = _get(server, "address")
    if not _is_matching_string(ADDRESS, address):
        problems.append("%s: address %s is not a host name or IP address" % (label, _json(address)))
    port = _get(server, "port")
    if not _is_whole_number(port, PORT, 1, 65535):
        problems.append("%s: port %s is not from 1 to 65535" % (label, _json(port)))
    verify = _get(server, "verify")
    if verify is not None and verify not in ("required", "none"):
        problems.append("%s: verify %s is not required or none" % (label, _json(verify)))
    if (verify or "required") == "none" and not _to_bool(_get(server, "insecure", False)):
        problems.append('%s: verify "none" is refused without insecure: true (the server\'s certificate would not '
                        'be checked)' % label)
    ca_file = _get(server, "ca_file")
    if ca_file is not None and not _matches(FILE_PATH, ca_file):
        problems.append("%s: ca_file %s is not an absolute path without spaces" % (label, _json(ca_file)))
    inter = _get(server, "inter")
    if inter is not None and not _matches(TIME, inter):
        problems.append("%s: inter %s is not a time (like 500ms, 1s)" % (label, _json(inter)))
    for key in ("fall", "rise"):
        value = _get(server, key)
        if value is not None and not _is_whole_number(value, DIGITS, 1):
            problems.append("%s: %s %s is not a positive integer" % (label, key, _json(value)))
    return problems + _server_host_problems(server, label, app_host) + _server_discover_problems(server, label)


def _server_discover_problems(server, label):
    """Where deploy.yml finds a cloud server's endpoint in AWS (docs/app-model.md, "The deploy stage")."""
    discover = _get(server, "discover")
    if discover is None:
        return []
    if not isinstance(discover, Mapping):
        return ["%s: discover must be a mapping (service and cluster, or function and qualifier), got %s"
                % (label, _json(discover))]
    if _get(server, "side") != "cloud":
        return ["%s: discover is for a cloud server (deploy.yml finds its endpoint in AWS)" % label]
    unknown = sorted(set(discover) - set(endpoint.DISCOVER_KEYS))
    if unknown:
        plural = "s" if len(unknown) > 1 else ""
        return ["%s: discover has unknown key%s %s (known: %s)" % (label, plural, ", ".join(unknown),
                                                                   ", ".join(endpoint.DISCOVER_KEYS))]
    service = _get(discover, "service")
    if service is not None and not isinstance(service, Mapping):
        return ["%s: discover.service must be a mapping (namespace, name), got %s" % (label, _json(service))]
    return ["%s: discover: %s" % (label, problem) for problem in endpoint.discover_problems(endpoint.discover_params(discover))]


def _server_host_problems(server, label, app_host):
    """A server's own Host, SNI and health-check Host/SNI (a Lambda function URL, an API Gateway domain)."""
    problems = []
    for key in ("host", "check_host", "sni", "check_sni"):
        value = _get(server, key)
        if value is not None and not _is_matching_string(HOST, value):
            problems.append("%s: %s %s is not a valid host name" % (label, key, _json(value)))
    if problems:
        return problems
    side = _get(server, "side")
    tls = _to_bool(_get(server, "tls")) if _get(server, "tls") is not None else side == "cloud"
    for key in ("sni", "check_sni"):
        if _get(server, key) is not None and not tls:
            problems.append("%s: %s %s needs tls: true (a server without TLS sends no SNI)" % (label, key, _json(_get(server, key))))
    own_host = _get(server, "host") or app_host
    relayed = own_host != app_host or (_get(server, "check_host") or own_host) != app_host
    sni = _get(server, "sni") or (own_host if own_host != app_host else None)
    check_sni = _get(server, "check_sni")
    if relayed and check_sni is not None and check_sni != (sni or own_host):
        problems.append("%s: check_sni %s differs from the SNI %s its requests get: a server with its own host is "
                        "checked through its relay, with the same SNI" % (label, _json(check_sni), _json(sni or own_host)))
    return problems


def _servers_problems(servers, app_label, app_host=None):
    # A string or a mapping of servers failed the template unless empty, which was no servers: so is anything
    # but a list.
    servers = servers if isinstance(servers, (list, tuple)) else []
    server_names = [_text(_get(server, "name")) for server in servers]
    problems = ["%s: server name %s is used twice" % (app_label, _json(name))
                for name in _reported_duplicates(server_names)]
    problems += ["%s: has no %s server (at least one server per side)" % (app_label, side)
                 for side in SIDES if not any(_get(server, "side") == side for server in servers)]
    for server in servers:
        problems += _server_problems(server, app_label, app_host)
    return problems


def _app_problems(app, reserved_names):
    name = _get(app, "name")
    label = "app %s" % _json(name)
    problems = []
    if not _is_matching_string(NAME, name):
        problems.append("%s: name %s %s" % (label, _json(name), bad_name_text(name)))
    elif name in reserved_names:
        problems.append("%s: name %s is reserved (frontend or internal backend name)" % (label, _json(name)))
    host = _get(app, "host")
    if not _is_matching_string(HOST, host):
        problems.append("%s: host %s is not a valid host name" % (label, _json(host)))
    initial_step = _get(app, "initial_step", 0)
    if not _is_whole_number(initial_step, INTEGER, 0, 100):
        problems.append("%s: initial_step %s is not an integer from 0 to 100" % (label, _json(initial_step)))
    health_check = _get(app, "health_check") or {}
    if not isinstance(health_check, Mapping):
        return problems + ["%s: health_check must be a mapping (path, expect_status), got %s" % (label, _json(health_check))]
    path = _get(health_check, "path") or "/"
    if not _matches(URL_PATH, path):
        problems.append("%s: health_check.path %s must start with '/' and hold only URL characters"
                        % (label, _json(path)))
    expect_status = _get(health_check, "expect_status")
    if expect_status is not None and not _matches(STATUSES, expect_status):
        problems.append("%s: health_check.expect_status %s is not a status, range or list (200, 200-399, 200,204)"
                        % (label, _json(expect_status)))
    if isinstance(app, Mapping):
        problems += approval_problems(app, label)
    return problems + _servers_problems(_get(app, "servers", []), label, _text(host))


def apps_problems(apps, settings=None):
    """One sentence per problem in the app model's own fields (names, hosts, steps, health checks, servers)."""
    settings = _with_defaults(settings)
    if not isinstance(apps, (list, tuple)):
        return ["cloudshift_apps must be a list of apps, got %s" % _json(apps)]
    app_names = [_text(_get(app, "name")) for app in apps]
    app_hosts = [_text(_get(app, "host")).lower() for app in apps]
    problems = ["app name %s is used by more than one app" % _json(name) for name in _reported_duplicates(app_names)]
    problems += ["host %s is used by more than one app" % _json(host) for host in _reported_duplicates(app_hosts)]
    default_backend = settings["haproxy_default_backend"]
    if default_backend and default_backend not in app_names:
        problems.append("haproxy_default_backend %s is not the name of an app of cloudshift_apps %s"
                        % (_json(default_backend), _json(app_names)))
    reserved_names = (INTERNAL_BACKEND, settings["haproxy_frontend_name"], settings["haproxy_metrics_frontend_name"])
    for app in apps:
        problems += _app_problems(app, reserved_names)
    return problems


def app_model_problems(apps, settings=None):
    """Every problem of the app model and the role variables, [] when all is well.

    In the preflight's order: the role variables, the apps' own fields, then routes, retries, gate thresholds,
    the AWS side (cloud, dns, migration_aws) and shadow traffic.
    """
    settings = _with_defaults(settings)
    # What is not a list has its sentence from apps_problems; the other checks see no apps.
    model = list(apps) if isinstance(apps, (list, tuple)) else []
    return (settings_problems(settings)
            + apps_problems(apps, settings)
            + route_problems(model)
            + retry_problems(model, settings["haproxy_retries"], settings["haproxy_retry_on"],
                             settings["haproxy_retry_methods"])
            + gate_problems(model, settings["migration_gate_thresholds"])
            + cloud_problems(model, settings["migration_aws"], settings["haproxy_ca_file"])
            + shadow_problems(model)
            + webhook_problems(settings["migration_notify_webhooks"]))
