# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""haproxy_map against a real HAProxy routing real requests with map_beg and map_reg. Ports 18100-18199.

Backends answer their own name with 'http-request return', so a response body says which
backend the map chose, without upstream servers.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import http.client
import threading
import time

import pytest

from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.client import RuntimeClient
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.maps import (
    manage_map,
    payload_batches,
    replace_atomically,
)
from haproxy_process import HAProxyProcess, run_ansible_module, run_ansible_tasks

MODULE = "cloudshift.migration.haproxy_map"
# Three frontend ports per test, from 18100: (map_beg, map_reg, 10k map_str).
PORT_BASES = dict((name, 18100 + 3 * index) for index, name in enumerate([
    "test_present_on_a_prefix_map",
    "test_present_on_a_regex_map_before_the_catch_all",
    "test_absent",
    "test_replace_with_diff",
    "test_check_mode_changes_nothing",
    "test_file_drift_is_reported_and_fixed",
    "test_bad_inputs_change_nothing",
    "test_regex_errors_match_haproxy_own_verdict",
    "test_atomic_replace_of_10000_entries_under_traffic",
    "test_a_failure_before_commit_leaves_the_live_map_untouched",
]))
BIG_KEYS = 10000
# Keys the 10k-map frontend looks up in every request: first, middle and last of the map.
PROBED_KEYS = ["/k%05d" % index for index in (0, 2500, 5000, 7500, BIG_KEYS - 1)]
BACKENDS = ["bk_default", "bk_onprem", "bk_cloud", "bk_mixed", "bk_critical", "bk_hc"]

CONFIG = """
global
    stats socket {workdir}/admin.sock mode 600 level admin
    stats socket {workdir}/user.sock mode 600 level user
    # One thread: a request's lookups and a runtime API command never interleave, so
    # several lookups in one request see one state of the map (see the 10k test).
    nbthread 1

defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s

frontend fe_beg
    bind 127.0.0.1:%(beg)d
    # a map whose values must be integers: HAProxy itself refuses other values
    http-request set-var(txn.weight) str(x),map_str_int({workdir}/ints.map,0)
    use_backend %%[base,map_beg({workdir}/routes.map,bk_default)]

frontend fe_reg
    bind 127.0.0.1:%(reg)d
    use_backend %%[base,map_reg({workdir}/routes_reg.map,bk_default)]

frontend fe_big
    bind 127.0.0.1:%(big)d
    http-request return status 200 content-type text/plain lf-string "%(probes)s %%[path,map_str({workdir}/big.map,none)]"
%(backends)s
"""

ROUTES = [("app.test/v1/", "bk_onprem"), ("app.test/v2/", "bk_cloud")]
REG_ROUTES = [
    (r"application-02\.6play\.fr\/v2\/critical\/(\w{1,45})\/payments\/", "bk_critical"),
    (r"application-02\.6play\.fr\/v2\/customers\/", "bk_mixed"),
    (r"application-02\.6play\.fr\/v2\/", "bk_cloud"),
    (r"application-02\.6play\.fr\/", "bk_onprem"),
]
HOST = "application-02.6play.fr"


def config_text(base):
    probes = " ".join("%%[str(%s),map_str({workdir}/big.map,none)]" % key for key in PROBED_KEYS)
    backends = "".join("\nbackend %s\n    http-request return status 200 content-type text/plain string %s\n"
                       % (name, name) for name in BACKENDS)
    return CONFIG % {"beg": base, "reg": base + 1, "big": base + 2, "probes": probes, "backends": backends}


def write_map(path, entries, header="# written by the test\n"):
    with open(str(path), "w") as stream:
        stream.write(header + "".join("%s %s\n" % entry for entry in entries))


def file_entries(path):
    entries = []
    with open(str(path)) as stream:
        for line in stream:
            line = line.strip()
            if line and not line.startswith("#"):
                key, value = line.split(None, 1)
                entries.append((key, value))
    return entries


class Rig:
    def __init__(self, haproxy, base, workdir):
        self.haproxy = haproxy
        self.beg_port, self.reg_port, self.big_port = base, base + 1, base + 2
        self.routes = str(workdir / "routes.map")
        self.reg = str(workdir / "routes_reg.map")
        self.big = str(workdir / "big.map")
        self.admin = haproxy.admin_socket
        self.user_socket = str(workdir / "user.sock")

    def live(self, map_path):
        """Entries from 'show map' on a fresh connection, parsed here (independent of the module)."""
        entries = []
        for line in self.haproxy.runtime("show map %s" % map_path).splitlines():
            if line.strip():
                _entry_id, key, value = line.split(" ", 2)
                entries.append((key, value))
        return entries

    def maps_listing(self):
        return self.haproxy.runtime("show map")

    def route(self, port, host, path):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", path, headers={"Host": host})
            response = connection.getresponse()
            return response.read().decode().strip()
        finally:
            connection.close()

    def beg_route(self, path):
        return self.route(self.beg_port, "app.test", path)

    def reg_route(self, path):
        return self.route(self.reg_port, HOST, path)

    def assert_file_is_live(self, map_path):
        assert file_entries(map_path) == self.live(map_path)

    def args(self, map_path, **extra):
        args = {"socket": self.admin, "map": map_path}
        args.update(extra)
        return args


@pytest.fixture
def rig(tmp_path, request):
    base = PORT_BASES[request.node.name]
    write_map(tmp_path / "routes.map", ROUTES)
    write_map(tmp_path / "routes_reg.map", REG_ROUTES)
    write_map(tmp_path / "ints.map", [("a", "1")])
    write_map(tmp_path / "big.map", [("/k%05d" % index, "old") for index in range(BIG_KEYS)])
    haproxy = HAProxyProcess(config_text(base), tmp_path)
    haproxy.start()
    request.addfinalizer(haproxy.stop)
    return Rig(haproxy, base, tmp_path)


def entries_arg(entries):
    return [{"key": key, "value": value} for key, value in entries]


def test_present_on_a_prefix_map(rig):
    assert rig.beg_route("/v3/x") == "bk_default"
    assert rig.beg_route("/v1/x") == "bk_onprem"
    wanted = [("app.test/v3/", "bk_cloud"), ("app.test/v1/", "bk_cloud")]
    first, second = run_ansible_tasks([(MODULE, rig.args(rig.routes, entries=entries_arg(wanted)))] * 2)

    assert first["changed"] is True, first
    assert first["method"] == "incremental"
    assert first["added"] == [{"key": "app.test/v3/", "value": "bk_cloud"}]
    assert first["changed_values"] == [{"key": "app.test/v1/", "before": "bk_onprem", "after": "bk_cloud"}]
    assert first["match_types"] == ["beg"] and first["ordered"] is False
    assert first["commands_count"] == 2
    assert first["entries_before"] == entries_arg(ROUTES)
    assert first["entries_after"] == entries_arg([("app.test/v1/", "bk_cloud"), ("app.test/v2/", "bk_cloud"),
                                                  ("app.test/v3/", "bk_cloud")])
    assert second["changed"] is False and second["method"] == "none" and second["file_drift"] is False

    assert rig.beg_route("/v3/x") == "bk_cloud"
    assert rig.beg_route("/v1/x") == "bk_cloud"
    assert rig.beg_route("/v2/x") == "bk_cloud"
    assert rig.beg_route("/other") == "bk_default"
    assert rig.live(rig.routes) == [(e["key"], e["value"]) for e in first["entries_after"]]
    rig.assert_file_is_live(rig.routes)
    with open(rig.routes) as stream:
        assert stream.read().startswith("# Managed by cloudshift.migration.haproxy_map")


def test_present_on_a_regex_map_before_the_catch_all(rig):
    health = r"application-02\.6play\.fr\/v2\/HealthCheck"
    assert rig.reg_route("/v2/HealthCheck") == "bk_cloud"
    wanted = [(health, "bk_hc"), (r"application-02\.6play\.fr\/v2\/", "bk_cloud")]
    first, second, appended = run_ansible_tasks([
        (MODULE, rig.args(rig.reg, match="reg", entries=entries_arg(wanted))),
        (MODULE, rig.args(rig.reg, entries=entries_arg(wanted))),
        # A new entry that is last in the wanted order is simply appended.
        (MODULE, rig.args(rig.reg, entries=entries_arg([(r"application-02\.6play\.fr\/", "bk_onprem"),
                                                        (r"^zz\.example\/", "bk_mixed")]))),
    ])
    assert first["changed"] is True, first
    assert first["method"] == "atomic-replace"  # appending would put it after the \/v2\/ catch-all
    assert isinstance(first["version"], int) and first["version"] >= 1
    assert [e["key"] for e in first["entries_after"]] == [REG_ROUTES[0][0], REG_ROUTES[1][0], health,
                                                          REG_ROUTES[2][0], REG_ROUTES[3][0]]
    assert second["changed"] is False and second["match_types"] == ["reg"]
    assert appended["changed"] is True and appended["method"] == "incremental", appended
    assert appended["entries_after"][-1] == {"key": r"^zz\.example\/", "value": "bk_mixed"}

    assert rig.reg_route("/v2/HealthCheck") == "bk_hc"
    assert rig.reg_route("/v2/other") == "bk_cloud"
    assert rig.reg_route("/v2/critical/sensible_datas/payments/") == "bk_critical"
    assert rig.reg_route("/v2/customers/") == "bk_mixed"
    assert rig.reg_route("/admin/") == "bk_onprem"
    assert rig.route(rig.reg_port, "zz.example", "/") == "bk_mixed"
    rig.assert_file_is_live(rig.reg)


def test_absent(rig):
    assert rig.reg_route("/v2/customers/") == "bk_mixed"
    keys = [{"key": REG_ROUTES[1][0]}, {"key": r"not\/there\/"}]
    first, second = run_ansible_tasks([(MODULE, rig.args(rig.reg, state="absent", entries=keys))] * 2)
    assert first["changed"] is True and first["method"] == "incremental", first
    assert first["removed"] == entries_arg([REG_ROUTES[1]])
    assert first["commands_count"] == 1
    assert second["changed"] is False
    assert rig.reg_route("/v2/customers/") == "bk_cloud"  # now caught by \/v2\/
    assert rig.live(rig.reg) == [REG_ROUTES[0], REG_ROUTES[2], REG_ROUTES[3]]
    rig.assert_file_is_live(rig.reg)


def test_replace_with_diff(rig):
    new = [(r"application-02\.6play\.fr\/v2\/customers\/", "bk_cloud"),
           (r"application-02\.6play\.fr\/v1\/", "bk_mixed"),
           (r"application-02\.6play\.fr\/", "bk_onprem")]
    first = run_ansible_module(MODULE, rig.args(rig.reg, state="replace", match="reg", entries=entries_arg(new)),
                               diff=True)
    assert first["changed"] is True and first["method"] == "atomic-replace", first
    assert first["removed"] == entries_arg([REG_ROUTES[0], REG_ROUTES[2]])
    assert first["added"] == entries_arg([new[1]])
    assert first["changed_values"] == [{"key": new[0][0], "before": "bk_mixed", "after": "bk_cloud"}]
    assert first["commands_count"] == 3
    live_diff = first["diff"][0]
    assert live_diff["before"] == "".join("%s %s\n" % entry for entry in REG_ROUTES)
    assert live_diff["after"] == "".join("%s %s\n" % entry for entry in new)
    assert rig.live(rig.reg) == new
    rig.assert_file_is_live(rig.reg)
    assert rig.reg_route("/v2/customers/") == "bk_cloud"
    assert rig.reg_route("/v1/x") == "bk_mixed"
    assert rig.reg_route("/v2/critical/x/payments/") == "bk_onprem"

    again = run_ansible_module(MODULE, rig.args(rig.reg, state="replace", entries=entries_arg(new)), diff=True)
    assert again["changed"] is False and again["method"] == "none"
    assert again["diff"][0]["before"] == again["diff"][0]["after"]


def test_check_mode_changes_nothing(rig):
    with open(rig.reg) as stream:
        reg_file = stream.read()
    with open(rig.routes) as stream:
        routes_file = stream.read()
    listing = rig.maps_listing()
    results = run_ansible_tasks([
        (MODULE, rig.args(rig.reg, state="replace", entries=entries_arg(REG_ROUTES[::-1]))),
        (MODULE, rig.args(rig.reg, entries=entries_arg([(r"new\/", "bk_hc")]))),
        (MODULE, rig.args(rig.routes, state="absent", entries=[{"key": "app.test/v1/"}])),
        (MODULE, rig.args(rig.routes, entries=entries_arg([("app.test/v2/", "bk_mixed")]))),
    ], check=True, diff=True)
    assert [r["changed"] for r in results] == [True, True, True, True], results
    assert [r["method"] for r in results] == ["atomic-replace", "incremental", "incremental", "incremental"]
    assert results[0]["version"] is None and results[0]["commands_count"] == 3
    assert results[0]["entries_after"] == entries_arg(REG_ROUTES[::-1])
    # the test's files have no managed header but the same entries: no drift, nothing to rewrite yet
    assert results[0]["file_drift"] is False

    assert rig.maps_listing() == listing  # no version prepared, no entry added
    assert rig.live(rig.reg) == REG_ROUTES and rig.live(rig.routes) == ROUTES
    with open(rig.reg) as stream:
        assert stream.read() == reg_file
    with open(rig.routes) as stream:
        assert stream.read() == routes_file
    assert rig.beg_route("/v1/x") == "bk_onprem" and rig.beg_route("/v2/x") == "bk_cloud"


def test_file_drift_is_reported_and_fixed(rig, tmp_path):
    write_map(rig.routes, ROUTES[:1])  # someone edited the file: it lost an entry HAProxy still runs
    elsewhere = str(tmp_path / "copy.map")
    drift, fixed, untouched, copy = run_ansible_tasks([
        (MODULE, rig.args(rig.routes, entries=entries_arg(ROUTES[1:]))),
        (MODULE, rig.args(rig.routes, entries=entries_arg(ROUTES[1:]))),
        (MODULE, rig.args(rig.routes, entries=entries_arg([("app.test/v9/", "bk_hc")]), write_file=False)),
        (MODULE, rig.args(rig.routes, entries=entries_arg([("app.test/v9/", "bk_hc")]), file_path=elsewhere)),
    ])
    assert drift["changed"] is True and drift["method"] == "none" and drift["file_drift"] is True, drift
    assert drift["file_changed"] is True
    assert any("differed from the live map" in warning for warning in drift.get("warnings", []))
    assert fixed["changed"] is False and fixed["file_drift"] is False
    assert untouched["changed"] is True and untouched["file_path"] is None and untouched["file_changed"] is False
    assert copy["changed"] is True and copy["file_drift"] is True and copy["method"] == "none"
    assert file_entries(rig.routes) == ROUTES  # written by the first task, untouched by the third
    assert rig.live(rig.routes) == ROUTES + [("app.test/v9/", "bk_hc")]
    assert file_entries(elsewhere) == rig.live(rig.routes)
    assert rig.beg_route("/v9/") == "bk_hc"


def test_bad_inputs_change_nothing(rig):
    with open(rig.reg) as stream:
        reg_file = stream.read()
    listing = rig.maps_listing()
    bad_regex = r"application-02\.6play\.fr\/v2\/("
    cases = [
        (rig.args(rig.reg, match="reg", state="replace", entries=entries_arg([(bad_regex, "bk_hc")] + REG_ROUTES)),
         "invalid regex '%s' for map %s: missing closing parenthesis at offset 32" % (bad_regex, rig.reg)),
        # match not given: HAProxy says the map is a regex map, and the regex is still checked first
        (rig.args(rig.reg, entries=entries_arg([(r"a\/[z-a]", "bk_hc")])),
         "invalid regex 'a\\/[z-a]' for map %s: range out of order in character class at offset 6" % rig.reg),
        (rig.args(rig.reg, entries=entries_arg([("with space", "bk_hc")])),
         "invalid key 'with space' in entries[0] for map %s: it contains a space" % rig.reg),
        (rig.args(rig.reg, entries=entries_arg([("line\nbreak", "bk_hc")])),
         "invalid key 'line\\nbreak' in entries[0] for map %s: it contains a newline" % rig.reg),
        (rig.args(rig.reg, entries=entries_arg([("semi;colon", "bk_hc")])),
         "invalid key 'semi;colon' in entries[0] for map %s: it contains a ';'" % rig.reg),
        (rig.args(rig.reg, entries=entries_arg([("ok", "bk_hc;show")])),
         "invalid value 'bk_hc;show' for key 'ok' in entries[0]"),
        (rig.args(rig.reg, state="replace", entries=entries_arg(REG_ROUTES + [(REG_ROUTES[0][0], "bk_hc")])),
         "key '%s' is given 2 times (entries[0], entries[4])" % REG_ROUTES[0][0]),
        (rig.args("/etc/haproxy/unknown.map", entries=entries_arg([("a", "b")])),
         "HAProxy has no map loaded from /etc/haproxy/unknown.map (maps loaded: "),
        (dict(rig.args(rig.reg, entries=entries_arg([(r"new\/", "bk_hc")])), socket=rig.user_socket),
         "is at level 'user': cloudshift.migration changes maps only through an admin socket"),
        (rig.args(rig.reg, entries=entries_arg([(r"new\/", "bk_hc")]), match="beg"),
         "map %s is used by HAProxy with match type reg, not beg" % rig.reg),
    ]
    results = run_ansible_tasks([(MODULE, args) for args, _message in cases])
    for (args, message), result in zip(cases, results):
        assert result.get("failed") is True, (args, result)
        assert message in result["msg"], (message, result["msg"])
        assert result.get("changed", False) is False
    unknown_map_message = results[7]["msg"]
    assert all(path in unknown_map_message for path in (rig.routes, rig.reg, rig.big)), unknown_map_message
    assert rig.maps_listing() == listing  # same entries, versions and counts: no version left prepared
    assert rig.live(rig.reg) == REG_ROUTES
    with open(rig.reg) as stream:
        assert stream.read() == reg_file
    assert rig.reg_route("/v2/customers/") == "bk_mixed"


def test_regex_errors_match_haproxy_own_verdict(rig):
    """The module's PCRE2 verdict equals HAProxy's for the same key (HAProxy refuses it, map unchanged)."""
    client = RuntimeClient(rig.admin)
    for regex in ["application-02\\.6play\\.fr\\/v2\\/(", "a{2,1}", "(?<=a+)b"]:
        reply = rig.haproxy.runtime("add map %s %s bk_hc" % (rig.reg, regex.replace("\\", "\\\\")))
        with pytest.raises(Exception) as caught:
            manage_map(client, rig.reg, [{"key": regex, "value": "bk_hc"}], "present")
        ours = str(caught.value)
        # HAProxy: regex '<regex>' is invalid (error=<reason>, erroffset=<offset>).
        reason = reply.split("error=", 1)[1].split(", erroffset=")[0]
        offset = reply.split("erroffset=", 1)[1].split(")")[0]
        assert "'%s'" % regex in reply
        assert ours.endswith(": %s at offset %s" % (reason, offset)), (ours, reply)
    assert rig.live(rig.reg) == REG_ROUTES


def test_a_failure_before_commit_leaves_the_live_map_untouched(rig, tmp_path):
    ints = str(tmp_path / "ints.map")
    with open(ints) as stream:
        file_before = stream.read()
    listing = rig.maps_listing()
    client = RuntimeClient(rig.admin)
    wanted = [{"key": "k%04d" % index, "value": str(index)} for index in range(1200)]
    wanted.append({"key": "last", "value": "not-a-number"})  # valid for the CLI, refused by HAProxy
    with pytest.raises(Exception) as caught:
        manage_map(client, ints, wanted, "replace")
    message = str(caught.value)
    assert "HAProxy refused 'add map @" in message and "not-a-number" in message, message
    assert "discarded, live map untouched" in message, message
    assert rig.live(ints) == [("a", "1")]
    with open(ints) as stream:
        assert stream.read() == file_before
    version = int(message.split("prepared version ")[1].split()[0])
    assert rig.haproxy.runtime("show map @%d %s" % (version, ints)).strip() == ""  # nothing of it is left
    assert curr_versions(listing, ints) and curr_versions(rig.maps_listing(), ints) == curr_versions(listing, ints)
    # (entry_cnt is not compared: HAProxy 2.6.12 decrements it for the refused entry it never counted)


def curr_versions(listing, map_path):
    return [line.split("curr_ver=")[1].split()[0] for line in listing.splitlines() if "(%s)" % map_path in line]


class TrafficChecker:
    """Requests on one keep-alive connection until stopped (bounded in count and time); each
    response holds the values of the probed keys and of the requested key, from one request."""

    def __init__(self, port, max_requests=50000, max_seconds=60.0):
        self.port = port
        self.max_requests = max_requests
        self.max_seconds = max_seconds
        self.responses = []  # (start, end, body)
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.error = None

    def _run(self):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        deadline = time.monotonic() + self.max_seconds
        try:
            for index in range(self.max_requests):
                if self.stop_event.is_set() or time.monotonic() > deadline:
                    break
                path = "/k%05d" % ((index * 7919) % BIG_KEYS)
                start = time.monotonic()
                connection.request("GET", path)
                body = connection.getresponse().read().decode().strip()
                self.responses.append((start, time.monotonic(), body))
        except Exception as exc:  # reported by the test
            self.error = exc
        finally:
            connection.close()

    def start(self):
        self.thread.start()
        self.wait_for(50)
        return self

    def wait_for(self, count, timeout=10.0):
        target = len(self.responses) + count
        deadline = time.monotonic() + timeout
        while len(self.responses) < target and time.monotonic() < deadline and self.thread.is_alive():
            time.sleep(0.005)

    def stop(self):
        self.wait_for(50)
        self.stop_event.set()
        self.thread.join(timeout=10)
        assert self.error is None, self.error

    def verdicts(self):
        """Counter-like dict: 'old', 'new', or 'mixed' for a response mixing states."""
        verdicts = {"old": 0, "new": 0, "mixed": 0}
        for _start, _end, body in self.responses:
            values = set(body.split())
            verdicts[values.pop() if values in ({"old"}, {"new"}) else "mixed"] += 1
        return verdicts

    def during(self, start, end):
        return [body for begin, finish, body in self.responses if finish >= start and begin <= end]


def replace_non_atomically(client, map_path, entries):
    """What the module must not do: empty the live map, then add the entries back in batches."""
    lines = ["%s %s" % entry for entry in entries]
    with client.session() as session:
        session.execute("clear map %s" % map_path, expect_empty=True)
        for batch in payload_batches(lines, "add map %s" % map_path):
            session.execute_payload("add map %s" % map_path, batch, expect_empty=True)
            time.sleep(0.005)  # a slow writer: leaves traffic time to meet the half-written map


def test_atomic_replace_of_10000_entries_under_traffic(rig):
    client = RuntimeClient(rig.admin, timeout=10)
    new_entries = [{"key": "/k%05d" % index, "value": "new"} for index in range(BIG_KEYS)]

    traffic = TrafficChecker(rig.big_port).start()
    started = time.monotonic()
    result = manage_map(client, rig.big, new_entries, "replace", match="str")
    finished = time.monotonic()
    traffic.stop()

    assert result["method"] == "atomic-replace" and result["commands_count"] == 22, result["commands_count"]
    verdicts = traffic.verdicts()
    assert verdicts["mixed"] == 0, verdicts
    assert verdicts["old"] > 0 and verdicts["new"] > 0, verdicts
    assert len(traffic.during(started, finished)) > 0  # traffic flowed while the module worked
    assert rig.live(rig.big) == [(e["key"], e["value"]) for e in new_entries]
    rig.assert_file_is_live(rig.big)
    print("\natomic replace of %d entries: %.1f ms from prepare to commit (%d commands), "
          "%.1f ms for the whole task; %d requests during the task, verdicts %s"
          % (BIG_KEYS, result["duration_ms"], result["commands_count"], (finished - started) * 1000.0,
             len(traffic.during(started, finished)), verdicts))

    # The same checker catches a non-atomic replace: proof that the assertion above can fail.
    back_to_old = [("/k%05d" % index, "old") for index in range(BIG_KEYS)]
    control = TrafficChecker(rig.big_port).start()
    replace_non_atomically(client, rig.big, back_to_old)
    control.stop()
    control_verdicts = control.verdicts()
    assert control_verdicts["mixed"] > 0, control_verdicts
    assert rig.live(rig.big) == back_to_old
    print("non-atomic control (clear + add in batches): verdicts %s" % control_verdicts)

    # Requests served between 'prepare map' and 'commit map' themselves, not only around them.
    again = TrafficChecker(rig.big_port).start()
    window_start = time.monotonic()
    version, count = replace_atomically(client, rig.big, [(e["key"], e["value"]) for e in new_entries])
    window_end = time.monotonic()
    again.stop()
    assert count == 22 and version > result["version"]
    during_replace = again.during(window_start, window_end)
    assert len(during_replace) > 0
    assert again.verdicts()["mixed"] == 0, again.verdicts()
    print("replace_atomically alone: %.1f ms, %d requests served during it, verdicts %s"
          % ((window_end - window_start) * 1000.0, len(during_replace), again.verdicts()))
