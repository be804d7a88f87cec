"""The pure parts of shadow traffic: the app model's shadow entry, the map value and file, the counters,
replicate.yml's schedule and progress line, and the GoReplay command."""

import pytest

from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy import shadow, shadow_service
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.maps import MapError

GOOD = {"target": "https://application-02.6play.fr", "allow": ["/v2"], "deny": ["/v2/critical/sensible_datas/payments/"]}


def app(**changes):
    entry = dict(GOOD)
    entry.update(changes)
    return {"name": "application-02", "host": "application-02.6play.fr", "shadow": entry}


def test_a_good_entry_has_no_problem():
    assert shadow.shadow_problems([app(), {"name": "no-shadow"}]) == []


@pytest.mark.parametrize("changes, message", [
    ({"target": "https://application-02.6play.fr/v2"}, "invalid target 'https://application-02.6play.fr/v2'"),
    ({"target": "ftp://x"}, "invalid target 'ftp://x'"),
    ({"target": "https://x:70000"}, "invalid target 'https://x:70000'"),
    ({"deny": ["(unclosed"]}, "invalid deny regex '(unclosed': missing closing parenthesis"),
    ({"allow": ["/a b"]}, "invalid allow regex '/a b': it holds white space"),
    ({"deny": ["/it's"]}, "invalid deny regex \"/it's\": it holds a single quote, which haproxy.cfg cannot quote"),
    ({"allow": []}, "allow is empty"),
    ({"methods": ["GET", "PATCH"]}, "cannot copy method PATCH"),
    ({"methods": []}, "methods must be a non-empty list"),
    ({"max_inflight": 0}, "invalid max_inflight 0"),
    ({"timeout_ms": "2s"}, "invalid timeout_ms '2s'"),
    ({"initial_percent": 101}, "invalid initial_percent 101"),
    ({"host": "bad host"}, "invalid host 'bad host'"),
    ({"rate": 5}, "unknown key rate"),
])
def test_bad_entries_are_named(changes, message):
    problems = shadow.shadow_problems([app(**changes)])
    assert any(problem.startswith("app application-02 shadow: " + message) for problem in problems), problems


@pytest.mark.parametrize("regex", [r"^/v1/(?#legacy)", r"^/admin\b", "#/payments/", r"\\", "$HOME"])
def test_a_regex_reaches_haproxy_cfg_as_one_verbatim_word(regex):
    # Single quotes: HAProxy reads no comment, escape or variable inside them (configuration manual 2.2).
    assert shadow.shadow_problems([app(deny=[regex])]) == []
    assert shadow.cfg_word(regex) == "'" + regex + "'"


def test_map_value_round_trip_and_lease():
    assert shadow.map_value(10, 1796280000) == "10@1796280000"
    assert shadow.parse_map_value("10@1796280000") == (10, 1796280000)
    assert shadow.parse_map_value("25") == (25, 0)
    assert shadow.parse_map_value(None) == (0, 0)
    assert shadow.effective_percent(10, 100, now=99) == 10
    assert shadow.effective_percent(10, 100, now=101) == 0
    assert shadow.effective_percent(10, 0, now=10 ** 10) == 10


def test_the_map_file_from_the_store_and_with_one_share_changed():
    results = [{"item": app(), "recorded": {"percent": 10, "deadline": 0}},
               {"item": dict(app(), name="application-03"), "recorded": None},
               {"item": dict(app(initial_percent=5), name="application-04"), "recorded": None},
               {"item": dict(app(), name="application-05"), "recorded": {"percent": 50, "deadline": 100}}]
    text = shadow.map_content(results, now=200)
    assert text.splitlines()[1:] == ["application-02 10@0", "application-04 5@0"]
    changed = shadow.file_with_share(text, "application-02", 0, 0)
    assert changed.splitlines()[1:] == ["application-04 5@0"]
    assert shadow.file_with_share("", "application-02", 30, 9).splitlines()[1:] == ["application-02 30@9"]


def test_counters_are_parsed_and_their_change_survives_a_restart():
    text = ("# app sampled sent dropped failed late inflight 2xx 3xx 4xx 5xx skipped\n"
            "application-01 100 90 5 3 1 2 80 5 3 2 0\n")
    counters = shadow.parse_counters(text)["application-01"]
    assert counters["sent"] == 90 and counters["5xx"] == 2 and counters["inflight"] == 2
    later = dict(counters, sampled=150, sent=130, **{"5xx": 12})
    delta = shadow.counter_delta(counters, later)
    assert delta["sampled"] == 50 and delta["sent"] == 40 and delta["5xx"] == 10 and delta["inflight"] == 2
    restarted = dict(shadow.zero_counters(), sampled=7, sent=7, **{"2xx": 7})
    assert shadow.counter_delta(counters, restarted)["sampled"] == 7
    assert shadow.error_share(dict(shadow.zero_counters(), sent=90, failed=10, **{"5xx": 10})) == 20.0
    assert shadow.error_share(shadow.zero_counters()) is None
    with pytest.raises(shadow.ShadowError, match="Unknown command"):
        shadow.parse_counters("Unknown command. Please enter one of the following commands only :")


@pytest.mark.parametrize("schedule, message", [
    ([], "schedule must be a non-empty list"),
    ([[10, 45], [101, 5]], "stage 2 of the schedule has percent 101"),
    ([[10, 0]], "stage 1 of the schedule lasts 0 s"),
    ([[10]], "stage 1 of the schedule is [10]"),
    ([["10", 5]], "stage 1 of the schedule is ['10', 5]"),
])
def test_schedule_problems(schedule, message):
    problems = shadow.schedule_problems(schedule)
    assert any(problem.startswith(message) for problem in problems), problems


def test_the_reports_schedule_is_valid_and_lasts_about_seven_hours_and_a_quarter():
    assert shadow.schedule_problems(shadow.REPORT_SCHEDULE) == []
    assert sum(seconds for _percent, seconds in shadow.REPORT_SCHEDULE) == 4 * 45 + 4 * 60 + 7 * 3600


def test_progress_line_adds_the_nodes_up():
    one = dict(shadow.zero_counters(), sampled=10, sent=8, dropped=1, failed=1, **{"2xx": 7, "5xx": 1})
    line = shadow.stage_progress("application-01", 2, 9, [2, 45], [one, one])
    assert line == ("stage 2/9 | application-01 | 2% for 45 s | copies sampled 20, sent 16, dropped 2, failed 2 (late 0) | "
                    "shadow 2xx 14 3xx 0 4xx 0 5xx 2 | shadow errors 22.22%")


def test_the_goreplay_command_matches_the_reports_flags():
    argv = shadow.gor_command("application-02", GOOD, 10, exit_after=25200)
    assert argv[:3] == ["gor", "--input-raw", ":80"]
    assert ["--http-allow-url", "/v2"] == argv[3:5]
    assert ["--http-disallow-url", "/v2/critical/sensible_datas/payments/"] == argv[5:7]
    assert "--http-original-host" in argv and argv[-2:] == ["--exit-after", "25200s"]
    assert argv[argv.index("--output-http") + 1] == "https://application-02.6play.fr/|10%"
    line = shadow.gor_command_line(argv)
    assert "'https://application-02.6play.fr/|10%'" in line  # the pipe is quoted for the shell
    with_host = shadow.gor_command("application-02", dict(GOOD, host="shadow.6play.fr", methods=["GET"]), 5)
    assert ["--http-set-header", "Host: shadow.6play.fr"] == with_host[with_host.index("--http-set-header"):][:2]
    assert "--http-original-host" not in with_host and "--http-allow-method=GET" in with_host


@pytest.mark.parametrize("changes, message", [
    ({"percent": 101}, "invalid percent 101"),
    ({"lease_seconds": -1}, "invalid lease_seconds -1"),
    ({"state": "query", "hold_seconds": 5}, "hold_seconds goes with state=present"),
    ({"read_live": False}, "read_live=false only reads the node's store"),
    ({"map_file": "shadow.map"}, "it is not an absolute path"),
])
def test_module_input_is_refused_before_the_socket(changes, message):
    params = {"app": "application-01", "map_file": "/etc/haproxy/shadow.map", "state": "present", "percent": 10,
              "lease_seconds": 0, "hold_seconds": 0, "read_live": True}
    params.update(changes)
    with pytest.raises((shadow.ShadowError, MapError), match=message):
        shadow_service.validate(params)
