# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Service layer of the haproxy_map module: HAProxy routing maps changed live, file kept identical.

Facts checked on HAProxy 2.6.12 that shape this code:

* ``show map`` lists loaded maps as ``<id> (<file>) pattern loaded from file ...
  curr_ver=0 next_ver=0 entry_cnt=3``; ``show map <file>`` lists the current
  version as ``0x55d1c8a0 <key> <value>``, in file order; ``get map <file> <x>``
  names the match type of every converter using the map (``type=beg, ...``).
* ``prepare map`` answers ``New version created: N``; ``add map @N <file> <<``
  takes a payload of ``key value`` lines (raw: no backslash unescaping) and in
  interactive mode answers ``+ `` per line; ``commit map @N`` switches the map
  to version N at once (lookups only see the current version), so traffic never
  sees a half-written map. A request over ~16 KB made 2.6.12 abort: payloads are
  capped (client.MAX_PAYLOAD_REQUEST_BYTES).
* Arguments of ordinary commands (``set map``, ``del map``) are split on spaces
  and unescaped (``\\\\`` -> ``\\``, ``\\x`` -> ``x``); a line ending in ``<<``
  starts a payload; ``#<n>`` names an entry id. Keys and values are validated so
  none of this can bite, and backslashes are escaped for those commands.
* ``set map`` changes every entry with the key; ``del map`` removes every one;
  ``add map`` appends. Map writes are allowed at ``level user`` on 2.6, so the
  socket's level is checked (``show cli level``): this collection writes only
  through admin sockets.
* ``str``, ``beg`` and ``ip`` maps are trees (exact key, longest prefix, longest
  network): order is irrelevant. All other match types scan the entries in file
  order and the first match wins, so the order is kept.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os
import re
import stat
import time

from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError
from ansible_collections.cloudshift.migration.plugins.module_utils.fileio import atomic_write
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.client import (
    MAX_PAYLOAD_REQUEST_BYTES,
    AdminLevelError,
    CommandError,
    HAProxyError,
)
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.pcre import RegexError, validate_regex
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.validation import FORBIDDEN_DESCRIPTIONS

MATCH_METHODS = ("str", "beg", "sub", "dir", "dom", "end", "reg", "regm", "int", "ip")
TREE_MATCHES = frozenset(("str", "beg", "ip"))
REGEX_MATCHES = frozenset(("reg", "regm"))
STATES = ("present", "absent", "replace")
METHOD_NONE = "none"
METHOD_INCREMENTAL = "incremental"
METHOD_ATOMIC = "atomic-replace"
ENTRIES_PER_PAYLOAD = 500
MAX_ENTRY_BYTES = 4096
ADMIN_LEVEL = "admin"
CLI_LEVELS = ("user", "operator", "admin")
# Any token: 'get map' is only used to learn the match types of the converters using the map.
MATCH_PROBE = "cloudshift-match-probe"
FILE_HEADER = (
    "# Managed by cloudshift.migration.haproxy_map: this file is kept identical to the map HAProxy runs,\n"
    "# which the module changes live through the runtime API. Edits made here are overwritten.\n"
    "# One entry per line: <key> <value>. Used by HAProxy as: %s.\n"
    "# For regex maps (map_reg) and every other list match (sub, end, dir, dom, int) the FIRST\n"
    "# matching line wins, in file order: keep specific entries above general ones.\n"
    "# For str, beg and ip maps (trees) the order does not matter: the exact key, the longest\n"
    "# prefix or the longest network wins.\n"
)

_MAP_LIST_LINE = re.compile(r"\A(-?\d+) \((.*?)\) (.*)\Z")
_VERSION_FIELDS = re.compile(r"\b(curr_ver|next_ver|entry_cnt)=(\d+)")
_ENTRY_LINE = re.compile(r"\A0x[0-9a-fA-F]+ (\S+)(?: (.*))?\Z")
_MATCH_TYPE = re.compile(r"\btype=(\w+)")
_NEW_VERSION = re.compile(r"\ANew version created: (\d+)\Z")
_INT_KEY = re.compile(r"\A(?:-?\d+|-?\d+:(?:-?\d+)?|:-?\d+)\Z")


class MapError(CloudshiftError):
    """Anything the module refuses or could not do; the message names the bad value."""


def shown(text):
    """A key or value quoted for a message: verbatim (a regex's backslashes stay single) when
    printable, Python's repr otherwise so a newline or control character is visible."""
    if isinstance(text, str) and text.isprintable() and "'" not in text:
        return "'%s'" % text
    return repr(text)


# ---------------------------------------------------------------- validation (pure)

def describe_bad_token(text, is_key):
    """Why a key or value would break the CLI or the map file, or None when it is fine."""
    if not isinstance(text, str):
        return "it is a %s, not a string" % type(text).__name__
    if not text:
        return "it is empty"
    for char, description in FORBIDDEN_DESCRIPTIONS:
        if char != "\\" and char in text:
            return "it contains %s" % description
    if any(char.isspace() for char in text):
        return "it contains whitespace"
    if any(ord(char) < 32 or ord(char) == 127 for char in text):
        return "it contains a control character"
    if is_key and text.startswith("#"):
        return "it starts with '#' (a comment in the map file, an entry id for the runtime API)"
    if text.endswith("<<"):
        return "it ends with '<<' (the runtime API would wait for a payload)"
    return None


def validate_map_path(map_path):
    """The map's file path as HAProxy knows it, or MapError naming it."""
    if not isinstance(map_path, str) or not map_path:
        raise MapError("map must be the absolute path of a map file HAProxy has loaded, got %r" % (map_path,))
    reason = describe_bad_token(map_path, is_key=True)
    if reason is None and not map_path.startswith("/"):
        reason = "it is not an absolute path (give the path used in the HAProxy configuration)"
    if reason:
        raise MapError("invalid map %s: %s" % (shown(map_path), reason))
    return map_path


def _check_typed_key(key, methods):
    if "int" in methods and not _INT_KEY.match(key):
        return "it is not an integer or a range (min:max) as an int map needs"
    if "ip" in methods:
        try:
            ipaddress.ip_network(key, strict=False)
        except ValueError:
            return "it is not an IPv4/IPv6 address or network as an ip map needs"
    return None


def validate_entries(entries, state, map_path, methods=()):
    """[(key, value)] from the module's entries, or MapError naming every bad one.

    value is None for state=absent entries given without one. Regexes are checked
    separately (check_regexes) once the match type is known.
    """
    if state not in STATES:
        raise MapError("state must be one of %s, got %r" % (", ".join(STATES), state))
    if entries is None:
        entries = []
    if not isinstance(entries, (list, tuple)):
        raise MapError("entries must be a list of {key, value}, got %r" % (entries,))
    if state != "replace" and not entries:
        raise MapError("state=%s needs at least one entry" % state)
    problems = []
    result = []
    positions = {}
    for index, entry in enumerate(entries):
        where = "entries[%d]" % index
        if not isinstance(entry, dict) or "key" not in entry:
            problems.append("%s must be a dict with a key (and a value), got %r" % (where, entry))
            continue
        key, value = entry.get("key"), entry.get("value")
        key_reason = describe_bad_token(key, is_key=True) or _check_typed_key(key, methods)
        if key_reason:
            problems.append("invalid key %s in %s for map %s: %s" % (shown(key), where, map_path, key_reason))
        value_reason = None
        if value is None and state != "absent":
            value_reason = "missing"
            problems.append("%s (key %s) has no value: state=%s needs one" % (where, shown(key), state))
        elif value is not None:
            value_reason = describe_bad_token(value, is_key=False)
            if value_reason:
                problems.append("invalid value %s for key %s in %s for map %s: %s"
                                % (shown(value), shown(key), where, map_path, value_reason))
        if not key_reason and not value_reason and \
                len(key.encode("utf-8")) + len((value or "").encode("utf-8")) + 1 > MAX_ENTRY_BYTES:
            problems.append("%s (key %s...) is longer than %d bytes" % (where, shown(key[:40]), MAX_ENTRY_BYTES))
        if isinstance(key, str):
            positions.setdefault(key, []).append(index)
        result.append((key, value))
    for key, indexes in positions.items():
        if len(indexes) > 1:
            problems.append("key %s is given %d times (entries[%s]) for map %s: each key must appear once"
                            % (shown(key), len(indexes), "], entries[".join(str(i) for i in indexes), map_path))
    if problems:
        raise MapError("; ".join(problems))
    return result


def check_regexes(entries, map_path, methods):
    """Compile every key with PCRE2 when the map is a regex map; MapError listing every bad one."""
    regex_methods = [method for method in methods if method in REGEX_MATCHES]
    if not regex_methods:
        return
    problems = []
    for key, _value in entries:
        for method in regex_methods:
            try:
                validate_regex(key, "map %s" % map_path, capture=(method == "regm"))
            except RegexError as exc:
                problems.append(str(exc))
                break
    if problems:
        raise MapError("; ".join(problems))


# ---------------------------------------------------------------- parsing and rendering (pure)

def parse_map_list(text):
    """Loaded maps from a ``show map`` reply: [{id, file, description, curr_ver, next_ver, entry_cnt}]."""
    maps = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        match = _MAP_LIST_LINE.match(line)
        if not match:
            raise MapError("unexpected line in HAProxy's 'show map' reply: %r" % line)
        info = {"id": int(match.group(1)), "file": match.group(2), "description": match.group(3)}
        info.update({"curr_ver": None, "next_ver": None, "entry_cnt": None})
        for name, number in _VERSION_FIELDS.findall(match.group(3)):
            info[name] = int(number)
        maps.append(info)
    return maps


def parse_map_entries(text):
    """[(key, value)] from a ``show map <map>`` reply, in order (entry ids dropped)."""
    entries = []
    for line in text.splitlines():
        if not line.strip():
            continue
        match = _ENTRY_LINE.match(line)
        if not match:
            raise MapError("unexpected line in HAProxy's 'show map' reply: %r" % line)
        entries.append((match.group(1), match.group(2) or ""))
    return entries


def parse_match_types(text):
    """Match types of the converters using a map, from a ``get map`` reply (``type=beg, ...``)."""
    types = []
    for found in _MATCH_TYPE.findall(text):
        if found not in types:
            types.append(found)
    return types


def parse_prepare_reply(text):
    match = _NEW_VERSION.match(text.strip())
    return int(match.group(1)) if match else None


def parse_map_file(text):
    """[(key, value)] of a map file as HAProxy reads it: '#' lines and blank lines skipped,
    the key is the first word, the value the rest of the line."""
    entries = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 1)
        entries.append((parts[0], parts[1].strip() if len(parts) > 1 else ""))
    return entries


def entries_text(entries):
    """``key value`` lines, in order (diff mode, and the body of the map file)."""
    return "".join("%s %s\n" % (key, value) for key, value in entries)


def render_map_file(entries, methods):
    return FILE_HEADER % (", ".join(methods) or "unknown match type") + entries_text(entries)


def escape_argument(text):
    """A key or value as an argument of ``set map``/``del map`` (the CLI unescapes backslashes)."""
    return text.replace("\\", "\\\\")


def as_dicts(entries):
    return [{"key": key, "value": value} for key, value in entries]


# ---------------------------------------------------------------- planning (pure)

def is_ordered(methods):
    """Whether the order of the entries can change what a lookup returns (first match wins)."""
    return not methods or any(method not in TREE_MATCHES for method in methods)


def _first_values(entries):
    values = {}
    for key, value in entries:
        values.setdefault(key, value)
    return values


def _counts(entries):
    counts = {}
    for key, _value in entries:
        counts[key] = counts.get(key, 0) + 1
    return counts


def _new_plan(live, target, method, operations=()):
    return {"target": list(target), "method": method, "operations": list(operations),
            "added": [], "removed": [], "changed_values": [], "order_changed": False, "warnings": []}


def plan_absent(live, keys):
    keys = [key for key, _value in keys]
    wanted = set(keys)
    target = [(key, value) for key, value in live if key not in wanted]
    present = [key for key in keys if key in _first_values(live)]
    plan = _new_plan(live, target, METHOD_INCREMENTAL if present else METHOD_NONE,
                     [("del", key, None) for key in present])
    plan["removed"] = as_dicts([(key, value) for key, value in live if key in wanted])
    return plan


def _first_positions(entries):
    positions = {}
    for index, (key, _value) in enumerate(entries):
        positions.setdefault(key, index)
    return positions


def _insert_new_entries(updated, desired, live_keys):
    """Place the keys of desired that are not live: each run of new entries goes right after
    the desired entry before it, or before the desired entry after it, or at the end."""
    after, before, at_end = {}, {}, []
    run, run_start = [], 0
    for index, (key, value) in enumerate(desired + [(None, None)]):
        if key is not None and key not in live_keys:
            if not run:
                run_start = index
            run.append((key, value))
            continue
        if run:
            if run_start > 0:
                after[desired[run_start - 1][0]] = run
            elif key is not None:
                before[key] = run
            else:
                at_end.extend(run)
            run = []
    target, placed = [], set()
    for key, value in updated:
        first = key not in placed
        placed.add(key)
        if first:
            target.extend(before.get(key, ()))
        target.append((key, value))
        if first:
            target.extend(after.get(key, ()))
    return target + at_end


def plan_present(live, desired, ordered, map_path):
    live_values = _first_values(live)
    counts = _counts(live)
    wanted = dict(desired)
    warnings = []
    if ordered:
        first = _first_positions(live)
        positions = [(first[key], key) for key, _value in desired if key in live_values]
        for (before_position, before_key), (after_position, after_key) in zip(positions, positions[1:]):
            if after_position < before_position:
                raise MapError(
                    "entries %s and %s are in the opposite order in map %s, whose first match wins: "
                    "state=present does not move entries already there; use state=replace to set the "
                    "whole map in order" % (shown(before_key), shown(after_key), map_path))
    updated = [(key, wanted.get(key, value)) for key, value in live]
    new_entries = [(key, value) for key, value in desired if key not in live_values]
    if ordered:
        target = _insert_new_entries(updated, desired, live_values)
    else:
        target = updated + new_entries
    stale_keys = set(key for key, value in live if key in wanted and wanted[key] != value)
    operations = []
    changed_values = []
    for key, value in desired:
        if key not in live_values:
            continue
        if key in stale_keys:
            operations.append(("set", key, value))
            changed_values.append({"key": key, "before": live_values[key], "after": value})
            if counts[key] > 1:
                warnings.append("key %s appears %d times in map %s: 'set map' gave all of them the value %s"
                                % (shown(key), counts[key], map_path, shown(value)))
    operations.extend(("add", key, value) for key, value in new_entries)
    if target == live:
        method = METHOD_NONE
    elif target == updated + new_entries:
        method = METHOD_INCREMENTAL
    else:
        method = METHOD_ATOMIC
        operations = []
    plan = _new_plan(live, target, method, operations)
    plan["added"] = as_dicts(new_entries)
    plan["changed_values"] = changed_values
    plan["warnings"] = warnings
    return plan


def plan_replace(live, desired):
    live_values = _first_values(live)
    wanted = dict(desired)
    plan = _new_plan(live, desired, METHOD_NONE if desired == live else METHOD_ATOMIC)
    plan["added"] = as_dicts([(key, value) for key, value in desired if key not in live_values])
    plan["removed"] = as_dicts([(key, value) for key, value in live if key not in wanted])
    plan["changed_values"] = [{"key": key, "before": live_values[key], "after": value}
                              for key, value in desired if key in live_values and live_values[key] != value]
    common_live = [key for key, _value in live if key in wanted]
    common_desired = [key for key, _value in desired if key in live_values]
    plan["order_changed"] = common_live != common_desired
    return plan


def plan_change(live, desired, state, ordered, map_path):
    """What to do to turn the live entries into what state/desired ask for.

    Returns {target, method, operations, added, removed, changed_values, order_changed, warnings};
    operations (for the incremental method) are ("set"|"del"|"add", key, value).
    """
    if state == "absent":
        return plan_absent(live, desired)
    if state == "present":
        return plan_present(live, desired, ordered, map_path)
    return plan_replace(live, desired)


def payload_batches(lines, command, max_entries=ENTRIES_PER_PAYLOAD, max_bytes=MAX_PAYLOAD_REQUEST_BYTES):
    """Split payload lines into batches whose whole request (command, lines, end) fits max_bytes."""
    overhead = len(("%s <<\n\n\n" % command).encode("utf-8"))
    batches, batch, size = [], [], overhead
    for line in lines:
        length = len(line.encode("utf-8")) + 1
        if overhead + length > max_bytes:
            raise MapError("map entry %r... is too long for one runtime API request" % line[:60])
        if batch and (len(batch) >= max_entries or size + length > max_bytes):
            batches.append(batch)
            batch, size = [], overhead
        batch.append(line)
        size += length
    if batch:
        batches.append(batch)
    return batches


def count_commands(plan, map_path):
    """How many runtime API commands the plan sends (a payload counts as one)."""
    lines = ["%s %s" % entry for entry in plan["target"]]
    if plan["method"] == METHOD_ATOMIC:
        return 2 + len(payload_batches(lines, "add map @4294967295 %s" % map_path))
    if plan["method"] == METHOD_INCREMENTAL:
        adds = ["%s %s" % (key, value) for action, key, value in plan["operations"] if action == "add"]
        others = [op for op in plan["operations"] if op[0] != "add"]
        return len(others) + len(payload_batches(adds, "add map %s" % map_path))
    return 0


# ---------------------------------------------------------------- runtime API

def _map_info(maps, map_path):
    for info in maps:
        if info["file"] == map_path:
            return info
    return None


def read_map(client, map_path):
    """The map as HAProxy runs it, read in one session.

    Returns {level, maps, info, entries, match_types}. MapError when the map is not
    loaded (naming the loaded ones), AdminLevelError when the socket is not admin.
    """
    with client.session() as session:
        level = session.execute("show cli level").strip()
        if level in CLI_LEVELS and level != ADMIN_LEVEL:
            raise AdminLevelError(
                "%s is at level '%s': cloudshift.migration changes maps only through an admin socket "
                "('stats socket ... level admin')" % (client.describe(), level), command="show cli level",
                reply=level)
        maps = parse_map_list(session.execute("show map"))
        info = _map_info(maps, map_path)
        if info is None:
            raise MapError("HAProxy has no map loaded from %s (maps loaded: %s): give the path exactly as "
                           "the configuration uses it" % (map_path, ", ".join(m["file"] for m in maps) or "none"))
        reply = session.execute("show map %s" % map_path)
        entries = parse_map_entries(reply)
        match_types = parse_match_types(session.execute("get map %s %s" % (map_path, MATCH_PROBE)))
    return {"level": level, "maps": maps, "info": info, "entries": entries, "match_types": match_types}


def read_entries(client, map_path):
    return parse_map_entries(client.run(["show map %s" % map_path])[0])


def apply_incremental(client, map_path, operations):
    """set/del commands, then the new entries appended with one payload per batch. Returns the count."""
    applied = []
    adds = ["%s %s" % (key, value) for action, key, value in operations if action == "add"]
    with client.session() as session:
        try:
            for action, key, value in operations:
                if action == "set":
                    command = "set map %s %s %s" % (map_path, escape_argument(key), escape_argument(value))
                elif action == "del":
                    command = "del map %s %s" % (map_path, escape_argument(key))
                else:
                    continue
                session.execute(command, expect_empty=True)
                applied.append(command)
            for batch in payload_batches(adds, "add map %s" % map_path):
                session.execute_payload("add map %s" % map_path, batch, expect_empty=True)
                applied.append("add map %s << (%d entries)" % (map_path, len(batch)))
        except CommandError as exc:
            if applied:
                exc.args = ("%s (already applied before it: %s)" % (exc.args[0], "; ".join(applied)),)
            exc.applied = list(applied)
            raise
    return len(applied)


def _discard_version(client, map_path, version):
    """Drop a prepared, uncommitted version; never the live one. Returns a sentence for the error."""
    try:
        with client.session() as session:
            info = _map_info(parse_map_list(session.execute("show map")), map_path)
            if info is not None and info["curr_ver"] == version:
                return "version %d had been committed before the error: it is live" % version
            session.execute("clear map @%d %s" % (version, map_path), expect_empty=True)
    except (HAProxyError, MapError, ValueError) as exc:
        return "discarding prepared version %d failed too (%s); it is not live" % (version, exc)
    return "prepared version %d discarded, live map untouched" % version


def replace_atomically(client, map_path, entries):
    """prepare map -> add map @version (payload batches) -> commit map. Returns (version, commands_count).

    Anything failing before the commit discards the prepared version: the live map never changes.
    """
    lines = ["%s %s" % entry for entry in entries]
    version = None
    count = 0
    try:
        with client.session() as session:
            reply = session.execute("prepare map %s" % map_path)
            count += 1
            version = parse_prepare_reply(reply)
            if version is None:
                raise CommandError("HAProxy refused 'prepare map %s' on %s: %s"
                                   % (map_path, client.describe(), reply.strip()),
                                   command="prepare map %s" % map_path, reply=reply)
            add_command = "add map @%d %s" % (version, map_path)
            for batch in payload_batches(lines, add_command):
                session.execute_payload(add_command, batch, expect_empty=True)
                count += 1
            session.execute("commit map @%d %s" % (version, map_path), expect_empty=True)
            count += 1
    except (HAProxyError, ValueError) as exc:
        if version is not None:
            exc.args = ("%s (%s)" % (exc.args[0], _discard_version(client, map_path, version)),)
        raise
    return version, count


def write_file_atomically(path, text):
    """Write text to path through a temporary file in the same directory and a rename,
    keeping the mode and owner of the file it replaces."""
    target = os.path.realpath(path)
    mode, owner = 0o644, None
    if os.path.exists(target):
        current = os.stat(target)
        mode = stat.S_IMODE(current.st_mode)
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            owner = (current.st_uid, current.st_gid)
    atomic_write(target, text, mode=mode, owner=owner)


def read_file(path):
    """The file's text, or None when it does not exist."""
    try:
        with open(path) as stream:
            return stream.read()
    except IOError as exc:
        if not os.path.exists(path):
            return None
        raise MapError("cannot read map file %s: %s" % (path, exc))


def check_file_writable(path):
    directory = os.path.dirname(os.path.realpath(path))
    if not os.path.isdir(directory):
        raise MapError("cannot write map file %s: directory %s does not exist" % (path, directory))
    if not os.access(directory, os.W_OK):
        raise MapError("cannot write map file %s: directory %s is not writable by this user (become: true?)"
                       % (path, directory))


def manage_map(client, map_path, entries, state, match=None, write_file=True, file_path=None, check_mode=False):
    """Bring map_path (live and on disk) to what state/entries ask; return the module result.

    Every input is validated, and the map read, before the first write reaches HAProxy.
    """
    map_path = validate_map_path(map_path)
    if match is not None and match not in MATCH_METHODS:
        raise MapError("match must be one of %s, got %r" % (", ".join(MATCH_METHODS), match))
    declared = [match] if match else []
    desired = validate_entries(entries, state, map_path, declared)
    check_regexes(desired, map_path, declared)
    file_path = file_path or map_path
    if write_file and not check_mode:
        check_file_writable(file_path)

    reading = read_map(client, map_path)
    live_types = reading["match_types"]
    if match and live_types and match not in live_types:
        raise MapError("map %s is used by HAProxy with match type %s, not %s (match)"
                       % (map_path, "/".join(live_types), match))
    methods = live_types or declared
    # The live types may say more than the declared one (a map used by map_reg too): check again.
    desired = validate_entries(entries, state, map_path, methods)
    check_regexes(desired, map_path, methods)
    live = reading["entries"]
    plan = plan_change(live, desired, state, is_ordered(methods), map_path)
    target = plan["target"]

    file_text = read_file(file_path) if write_file else None
    file_drift = bool(write_file) and (file_text is None or parse_map_file(file_text) != live)
    file_changed = bool(write_file) and (file_text is None or parse_map_file(file_text) != target)
    new_file_text = render_map_file(target, methods) if file_changed else file_text

    version = None
    commands_count = count_commands(plan, map_path)
    duration_ms = 0.0
    if not check_mode and plan["method"] != METHOD_NONE:
        started = time.monotonic()
        if plan["method"] == METHOD_ATOMIC:
            version, commands_count = replace_atomically(client, map_path, target)
        else:
            commands_count = apply_incremental(client, map_path, plan["operations"])
        duration_ms = round((time.monotonic() - started) * 1000.0, 1)
        after = read_entries(client, map_path)
        if after != target:
            raise MapError("after the change, HAProxy's map %s holds %d entries that differ from the %d planned "
                           "(was something else changing it at the same time?); the file was not written"
                           % (map_path, len(after), len(target)))
    if file_changed and not check_mode:
        write_file_atomically(file_path, new_file_text)

    warnings = list(plan["warnings"])
    if file_drift:
        state_of_file = "did not exist" if file_text is None else "differed from the live map"
        warnings.append("map file %s %s before this task%s"
                        % (file_path, state_of_file, "" if check_mode else "; it now holds the live map"))
    diffs = [{"before_header": "%s (live)" % map_path, "after_header": "%s (live)" % map_path,
              "before": entries_text(live), "after": entries_text(target)}]
    if file_changed:
        diffs.append({"before_header": "%s (file)" % file_path, "after_header": "%s (file)" % file_path,
                      "before": file_text or "", "after": new_file_text})
    return {
        "changed": plan["method"] != METHOD_NONE or file_changed,
        "map": map_path,
        "match_types": methods,
        "ordered": is_ordered(methods),
        "entries_before": as_dicts(live),
        "entries_after": as_dicts(target),
        "added": plan["added"],
        "removed": plan["removed"],
        "changed_values": plan["changed_values"],
        "order_changed": plan["order_changed"],
        "method": plan["method"],
        "version": version,
        "commands_count": commands_count,
        "duration_ms": duration_ms,
        "file_path": file_path if write_file else None,
        "file_drift": file_drift,
        "file_changed": file_changed,
        "warnings": warnings,
        "diff": diffs,
    }
