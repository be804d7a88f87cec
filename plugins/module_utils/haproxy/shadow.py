# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shadow traffic (docs/app-model.md, "Shadow traffic"): copies of a sampled share of an app's requests
sent to its cloud by the role's Lua action, the share read from the shadow map at every request.

Pure parts: the app model's `shadow` entry, the map value ("<percent>@<deadline>"), the counters the
Lua action prints on the runtime API (`cloudshift shadow`), replicate.yml's schedule and progress
line, and the equivalent GoReplay command. The store of the share per node is
<state_dir>/shadow/<app>.json, so a share survives a reload, a restart and a re-run of site.yml.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import time

from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.pcre import regex_problem_text
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.validation import ValidationError, validate_name
from ansible_collections.cloudshift.migration.plugins.module_utils.jsonfile import JsonFileError, read_json, write_json

SHADOW_KEYS = ("target", "allow", "deny", "host", "methods", "timeout_ms", "max_inflight", "initial_percent")
DEFAULTS = {"allow": ["^/"], "deny": [], "host": None, "methods": ["GET", "HEAD"], "timeout_ms": 2000,
            "max_inflight": 100, "initial_percent": 0}
# What the Lua action can send (HAProxy 2.6's httpclient has these verbs).
METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE")
BODY_METHODS = ("POST", "PUT", "DELETE")
TARGET_PATTERN = re.compile(r"^(https?)://([A-Za-z0-9.\-]+|\[[0-9A-Fa-f:]+\])(:[0-9]{1,5})?$")
HOST_PATTERN = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.\-]{0,251}[A-Za-z0-9])?(:[0-9]{1,5})?$")
COUNTER_NAMES = ("sampled", "sent", "dropped", "failed", "late", "inflight", "2xx", "3xx", "4xx", "5xx", "skipped")
# The report's GoReplay ramp: 1, 2, 5, 10% for 45 s, 20-80% for 60 s, then 100% for 7 h.
REPORT_SCHEDULE = [[1, 45], [2, 45], [5, 45], [10, 45], [20, 60], [40, 60], [60, 60], [80, 60], [100, 25200]]
MAX_STAGE_SECONDS = 7 * 86400
MAP_HEADER = "# cloudshift.migration shadow shares: <app> <percent>@<deadline> (rendered from the state store)"


class ShadowError(CloudshiftError):
    pass


def settings(shadow):
    """The app's shadow entry with the defaults filled in."""
    merged = dict(DEFAULTS)
    merged.update(dict((key, value) for key, value in (shadow or {}).items() if value is not None))
    merged["methods"] = [method.upper() for method in merged["methods"]]
    return merged


def cfg_word(regex):
    """A checked regex as one haproxy.cfg word: single-quoted, so HAProxy reads it verbatim ('#' starts no
    comment, a backslash stays, '$' expands nothing). Shadow checks refuse a regex holding a single quote."""
    if "'" in regex or "\n" in regex:
        raise ShadowError("cannot quote %r for haproxy.cfg" % (regex,))
    return "'%s'" % regex


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def shadow_problems(apps):
    """One sentence per bad value of every app's shadow entry, naming the app (empty: all is well)."""
    problems = []
    for app in apps or []:
        if not isinstance(app, dict) or app.get("shadow") is None:
            continue
        name, shadow = app.get("name", "?"), app["shadow"]
        prefix = "app %s shadow: " % name
        if not isinstance(shadow, dict):
            problems.append(prefix + "must be a dict (target, allow, deny...), got %r" % (shadow,))
            continue
        unknown = sorted(set(shadow) - set(SHADOW_KEYS))
        if unknown:
            problems.append(prefix + "unknown key%s %s (known: %s)" % (
                "s" if len(unknown) > 1 else "", ", ".join(unknown), ", ".join(SHADOW_KEYS)))
        problems += [prefix + problem for problem in _entry_problems(shadow)]
    return problems


def _entry_problems(shadow):
    problems = []
    target = shadow.get("target")
    match = TARGET_PATTERN.match(target) if isinstance(target, str) else None
    if not match or (match.group(3) and not 1 <= int(match.group(3)[1:]) <= 65535):
        problems.append("invalid target %r: scheme://host[:port] with no path (the request's path and query "
                        "are appended), e.g. https://application-02.6play.fr" % (target,))
    merged = settings(dict((key, value) for key, value in shadow.items() if key in SHADOW_KEYS and key != "methods"))
    for key in ("allow", "deny"):
        regexes = merged[key]
        if not isinstance(regexes, list) or not all(isinstance(item, str) for item in regexes):
            problems.append("%s must be a list of path regexes, got %r" % (key, regexes))
            continue
        for regex in regexes:
            problem = regex_problem_text(regex) if regex.strip() else "it is empty"
            if problem is None and re.search(r"\s", regex):
                problem = "it holds white space (write \\s)"
            if problem is None and "'" in regex:
                problem = "it holds a single quote, which haproxy.cfg cannot quote (write \\x27)"
            if problem:
                problems.append("invalid %s regex %r: %s" % (key, regex, problem))
    if merged["allow"] == []:
        problems.append("allow is empty: no path would ever be copied (allow '^/' copies every path)")
    host = merged["host"]
    if host is not None and not (isinstance(host, str) and HOST_PATTERN.match(host)):
        problems.append("invalid host %r: a host name (or omit it to keep the request's Host)" % (host,))
    methods = shadow.get("methods", DEFAULTS["methods"])
    if not isinstance(methods, list) or not methods or not all(isinstance(item, str) for item in methods):
        problems.append("methods must be a non-empty list of %s, got %r" % ("/".join(METHODS), methods))
    else:
        bad = [item for item in methods if item.upper() not in METHODS]
        if bad:
            problems.append("cannot copy method%s %s: the copies can be %s" % (
                "s" if len(bad) > 1 else "", ", ".join(bad), ", ".join(METHODS)))
    for key, low, high in (("timeout_ms", 1, 600000), ("max_inflight", 1, 100000), ("initial_percent", 0, 100)):
        value = merged[key]
        if not _is_int(value) or not low <= value <= high:
            problems.append("invalid %s %r: an integer from %d to %d" % (key, value, low, high))
    return problems


# -- the map value --------------------------------------------------------------------------------

def map_value(percent, deadline=0):
    """<percent>@<deadline>: one token, as the runtime API's set/add map take a value without spaces."""
    return "%d@%d" % (percent, deadline)


def parse_map_value(text):
    """(percent, deadline) of a shadow map value; (0, 0) when it is missing or unreadable."""
    match = re.match(r"^\s*(\d+)(?:@(\d+))?", text or "")
    if not match:
        return 0, 0
    return int(match.group(1)), int(match.group(2) or 0)


def effective_percent(percent, deadline, now=None):
    """The share the Lua action applies: 0 once a lease (deadline) has passed."""
    now = time.time() if now is None else now
    return 0 if deadline and now > deadline else percent


# -- the counters ---------------------------------------------------------------------------------

def parse_counters(text):
    """{app: {counter: int}} from the reply of `cloudshift shadow`."""
    counters = {}
    for line in (text or "").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        if len(fields) != len(COUNTER_NAMES) + 1 or not all(field.isdigit() for field in fields[1:]):
            raise ShadowError("unexpected line in the reply of `cloudshift shadow`: %r (is the role's Lua file loaded?)"
                              % line)
        counters[fields[0]] = dict(zip(COUNTER_NAMES, (int(field) for field in fields[1:])))
    return counters


def zero_counters():
    return dict((name, 0) for name in COUNTER_NAMES)


def counter_delta(before, after):
    """after - before, counter by counter (a reload in between restarts them: then after alone)."""
    before = before or zero_counters()
    if any(after.get(name, 0) < before.get(name, 0) for name in COUNTER_NAMES if name != "inflight"):
        before = zero_counters()
    delta = dict((name, after.get(name, 0) - before.get(name, 0)) for name in COUNTER_NAMES)
    delta["inflight"] = after.get("inflight", 0)
    return delta


def error_share(counters):
    """Percent of the copies that failed or got a 5xx, of those that ended (None when none ended)."""
    ended = counters["sent"] + counters["failed"]
    if ended == 0:
        return None
    return 100.0 * (counters["failed"] + counters["5xx"]) / ended


def add_counters(items):
    total = zero_counters()
    for item in items:
        for name in COUNTER_NAMES:
            total[name] += item.get(name, 0)
    return total


# -- replicate.yml --------------------------------------------------------------------------------

def schedule_problems(schedule):
    """Why a schedule ([[percent, seconds], ...]) cannot be walked, one sentence each."""
    if not isinstance(schedule, list) or not schedule:
        return ["schedule must be a non-empty list of [percent, seconds] stages, got %r" % (schedule,)]
    problems = []
    for index, stage in enumerate(schedule):
        if not isinstance(stage, (list, tuple)) or len(stage) != 2 or not all(_is_int(item) for item in stage):
            problems.append("stage %d of the schedule is %r: a stage is [percent, seconds], two integers"
                            % (index + 1, stage))
            continue
        percent, seconds = stage
        if not 0 <= percent <= 100:
            problems.append("stage %d of the schedule has percent %d: 0 to 100" % (index + 1, percent))
        if not 1 <= seconds <= MAX_STAGE_SECONDS:
            problems.append("stage %d of the schedule lasts %d s: 1 to %d" % (index + 1, seconds, MAX_STAGE_SECONDS))
    return problems


def progress_line(app, index, total, percent, seconds, counters):
    share = error_share(counters)
    return ("stage %d/%d | %s | %d%% for %d s | copies sampled %d, sent %d, dropped %d, failed %d (late %d) | "
            "shadow 2xx %d 3xx %d 4xx %d 5xx %d | shadow errors %s"
            % (index, total, app, percent, seconds, counters["sampled"], counters["sent"], counters["dropped"],
               counters["failed"], counters["late"], counters["2xx"], counters["3xx"], counters["4xx"],
               counters["5xx"], "-" if share is None else "%.2f%%" % share))


# -- GoReplay, for those who already run it ----------------------------------------------------------

def gor_command(app, shadow, percent, listen=":80", exit_after=None, binary="gor"):
    """The argv of the GoReplay command that copies what the Lua action would (for a fixed percent)."""
    merged = settings(shadow)
    argv = [binary, "--input-raw", listen]
    for regex in merged["allow"]:
        argv += ["--http-allow-url", regex]
    for regex in merged["deny"]:
        argv += ["--http-disallow-url", regex]
    argv += ["--http-allow-method=%s" % method for method in merged["methods"]]
    argv += ["--output-http", "%s|%d%%" % (merged["target"].rstrip("/") + "/", percent)]
    if merged["host"] is None:
        argv.append("--http-original-host")
    else:
        argv += ["--http-set-header", "Host: %s" % merged["host"]]
    argv += ["--output-http-timeout", "%dms" % merged["timeout_ms"],
             "--output-http-workers", str(merged["max_inflight"])]
    if exit_after:
        argv += ["--exit-after", "%ds" % exit_after]
    return argv


def shell_quote(argument):
    if re.match(r"^[A-Za-z0-9_./:=%@,+-]+$", argument):
        return argument
    return "'" + argument.replace("'", "'\"'\"'") + "'"


def gor_command_line(argv):
    return " ".join(shell_quote(argument) for argument in argv)


# -- the store ------------------------------------------------------------------------------------

def store_path(state_dir, app):
    return os.path.join(state_dir, "shadow", validate_name(app, "app") + ".json")


def read_store(state_dir, app):
    """{percent, deadline, updated_at} recorded for the app, or None."""
    path = store_path(state_dir, app)
    try:
        data = read_json(path, "shadow state file")
    except JsonFileError as exc:
        raise ValidationError(str(exc))
    if data is None:
        return None
    if not isinstance(data, dict) or not _is_int(data.get("percent")) or not 0 <= data["percent"] <= 100:
        raise ValidationError("the shadow state file %s holds no percent from 0 to 100: %r" % (path, data))
    return data


def write_store(state_dir, app, percent, deadline, by=None):
    data = {"app": app, "percent": percent, "deadline": deadline,
            "updated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "by": by}
    try:
        write_json(store_path(state_dir, app), data, "shadow state file", mode=0o640, indent=2)
    except JsonFileError as exc:
        raise ValidationError(str(exc))
    return data


def map_content(recorded_results, now=None):
    """The shadow map file from configure.yml's reads of the store (one result per shadowed app, with its
    app model entry as `item`): each app's recorded share, else its initial_percent; none at 0 or past its lease."""
    now = time.time() if now is None else now
    lines = []
    for result in recorded_results or []:
        app = result["item"]
        recorded = result.get("recorded")
        if recorded:
            percent, deadline = recorded["percent"], recorded.get("deadline") or 0
        else:
            percent, deadline = settings(app["shadow"])["initial_percent"], 0
        if effective_percent(percent, deadline, now) > 0:
            lines.append("%s %s\n" % (validate_name(app["name"], "app"), map_value(percent, deadline)))
    return MAP_HEADER + "\n" + "".join(lines)


def stage_progress(app, index, total, stage, node_counters):
    """replicate.yml's line for one stage: the copies of every node added up."""
    return progress_line(app, index, total, stage[0], stage[1], add_counters(node_counters))


def file_with_share(text, app, percent, deadline):
    """The shadow map file's text with the app's line set (or removed at 0), the other lines kept."""
    kept = [line for line in (text or "").splitlines() if not line.split() or line.split()[0] != app]
    if not any(line.startswith("#") for line in kept):
        kept.insert(0, MAP_HEADER)
    if percent > 0:
        kept.append("%s %s" % (app, map_value(percent, deadline)))
    return "\n".join(kept) + "\n"
