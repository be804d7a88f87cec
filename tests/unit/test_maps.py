# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure parts of haproxy_map: validation, parsing of replies captured from HAProxy 2.6.12, planning."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy import maps
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.client import strip_payload_markers
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.maps import MapError

MAP = "/etc/haproxy/routes_reg.map"
SHOW_MAP_LIST = (
    "# id (file) description\n"
    "0 (/tmp/mapexp/routes.map) pattern loaded from file '/tmp/mapexp/routes.map' used by map at file "
    "'h.cfg' line 12. curr_ver=0 next_ver=1 entry_cnt=2\n"
    "1 (/tmp/mapexp/reg.map) pattern loaded from file '/tmp/mapexp/reg.map' used by map at file "
    "'h.cfg' line 12. curr_ver=3 next_ver=3 entry_cnt=3\n")
SHOW_MAP_ENTRIES = (
    "0x55862a75ca00 application-02\\.6play\\.fr\\/v2\\/critical\\/(\\w{1,45})\\/payments\\/ bk_crit\n"
    "0x55862a75ca70 application-02\\.6play\\.fr\\/v2\\/ bk_cloud\n"
    "0x55862a75cb10 application-02\\.6play\\.fr\\/ bk_onprem\n")
GET_MAP_TWO_CONVERTERS = ("type=beg, case=sensitive, found=yes, idx=tree, key=\"/a\", value=\"bk_a\", type=\"str\"\n"
                          "type=reg, case=sensitive, found=no\n")


# ---------------------------------------------------------------- validation

@pytest.mark.parametrize("token, reason", [
    ("a b", "a space"),
    ("a\tb", "a tab"),
    ("a\nb", "a newline"),
    ("a\rb", "a carriage return"),
    ("a;b", "a ';'"),
    (u"a\u00a0b", "whitespace"),
    ("a\x01b", "control character"),
    ("", "empty"),
    ("key<<", "'<<'"),
    (5, "not a string"),
])
def test_tokens_that_would_break_the_cli_or_the_file(token, reason):
    assert reason in maps.describe_bad_token(token, is_key=True)
    if token != "":
        assert reason in maps.describe_bad_token(token, is_key=False)


def test_regex_backslashes_are_fine_and_hash_only_matters_at_the_start_of_a_key():
    assert maps.describe_bad_token(r"application-02\.6play\.fr\/v2\/", is_key=True) is None
    assert "starts with '#'" in maps.describe_bad_token("#1", is_key=True)
    assert maps.describe_bad_token("#1", is_key=False) is None
    assert maps.describe_bad_token("a#b", is_key=True) is None


@pytest.mark.parametrize("path, reason", [
    ("routes.map", "not an absolute path"),
    ("/etc/haproxy/my routes.map", "a space"),
    ("/etc/x.map;show", "a ';'"),
])
def test_map_path_validation_names_the_path(path, reason):
    with pytest.raises(MapError) as caught:
        maps.validate_map_path(path)
    assert repr(path) in str(caught.value) and reason in str(caught.value)


def test_validate_entries_names_every_bad_value():
    entries = [{"key": "/ok", "value": "bk"}, {"key": "/a b", "value": "bk"}, {"key": "/c", "value": "x;y"},
               {"key": "/d"}, {"key": "/ok", "value": "other"}]
    with pytest.raises(MapError) as caught:
        maps.validate_entries(entries, "present", MAP)
    message = str(caught.value)
    assert "invalid key '/a b' in entries[1] for map %s: it contains a space" % MAP in message
    assert "invalid value 'x;y' for key '/c' in entries[2]" in message
    assert "entries[3] (key '/d') has no value: state=present needs one" in message
    assert "key '/ok' is given 2 times (entries[0], entries[4])" in message


def test_absent_entries_need_no_value_and_replace_may_be_empty():
    assert maps.validate_entries([{"key": "/a"}], "absent", MAP) == [("/a", None)]
    assert maps.validate_entries([], "replace", MAP) == []
    with pytest.raises(MapError, match="state=present needs at least one entry"):
        maps.validate_entries([], "present", MAP)


def test_typed_keys_follow_the_match_type():
    assert maps.validate_entries([{"key": "10:20", "value": "a"}, {"key": "-3", "value": "b"}],
                                 "present", MAP, ["int"])
    with pytest.raises(MapError, match="invalid key '1x'.*not an integer"):
        maps.validate_entries([{"key": "1x", "value": "a"}], "present", MAP, ["int"])
    assert maps.validate_entries([{"key": "10.0.0.0/8", "value": "a"}, {"key": "::1", "value": "b"}],
                                 "present", MAP, ["ip"])
    with pytest.raises(MapError, match="invalid key 'host.example'.*not an IPv4/IPv6"):
        maps.validate_entries([{"key": "host.example", "value": "a"}], "present", MAP, ["ip"])


def test_regexes_are_checked_only_for_regex_maps_and_all_are_reported():
    entries = [("app\\/v2\\/(", "a"), ("ok", "b"), ("[z-a]", "c")]
    maps.check_regexes(entries, MAP, ["beg"])
    with pytest.raises(MapError) as caught:
        maps.check_regexes(entries, MAP, ["reg"])
    message = str(caught.value)
    assert "invalid regex 'app\\/v2\\/(' for map %s: missing closing parenthesis at offset 10" % MAP in message
    assert "invalid regex '[z-a]' for map %s: range out of order in character class at offset 3" % MAP in message


# ---------------------------------------------------------------- parsing and rendering

def test_parse_map_list():
    loaded = maps.parse_map_list(SHOW_MAP_LIST)
    assert [(m["id"], m["file"], m["curr_ver"], m["next_ver"], m["entry_cnt"]) for m in loaded] == [
        (0, "/tmp/mapexp/routes.map", 0, 1, 2), (1, "/tmp/mapexp/reg.map", 3, 3, 3)]


def test_parse_map_entries_drops_entry_ids_and_keeps_order():
    assert maps.parse_map_entries(SHOW_MAP_ENTRIES) == [
        ("application-02\\.6play\\.fr\\/v2\\/critical\\/(\\w{1,45})\\/payments\\/", "bk_crit"),
        ("application-02\\.6play\\.fr\\/v2\\/", "bk_cloud"),
        ("application-02\\.6play\\.fr\\/", "bk_onprem"),
    ]
    assert maps.parse_map_entries("\n") == []
    assert maps.parse_map_entries("0x1 /z c d\n") == [("/z", "c d")]
    with pytest.raises(MapError, match="unexpected line"):
        maps.parse_map_entries("Unknown map identifier. Please use #<id> or <file>.\n")


def test_parse_match_types_and_prepare_reply():
    assert maps.parse_match_types(GET_MAP_TWO_CONVERTERS) == ["beg", "reg"]
    assert maps.parse_prepare_reply("New version created: 12\n") == 12
    assert maps.parse_prepare_reply("Unknown map identifier.") is None


def test_map_file_round_trip_and_header():
    entries = maps.parse_map_entries(SHOW_MAP_ENTRIES)
    text = maps.render_map_file(entries, ["reg"])
    assert maps.parse_map_file(text) == entries
    assert text.startswith("# Managed by cloudshift.migration.haproxy_map")
    assert "Used by HAProxy as: reg." in text and "the FIRST\n# matching line wins, in file order" in text
    assert text.endswith(maps.entries_text(entries))


def test_parse_map_file_as_haproxy_reads_it():
    text = "#HOST Header   #HAP backend\n\n  /a\t  bk_a  \n# Catch ALL\n/ bk_default\r\n"
    assert maps.parse_map_file(text) == [("/a", "bk_a"), ("/", "bk_default")]


def test_arguments_escape_backslashes_payload_markers_are_stripped():
    assert maps.escape_argument(r"a\.b\/") == r"a\\.b\\/"
    assert strip_payload_markers("+ + + + ") == ""
    assert strip_payload_markers("+ + Missing value for key 'x'.\n") == "Missing value for key 'x'."


# ---------------------------------------------------------------- planning

LIVE = [("/a", "bk_a"), ("/b", "bk_b"), ("/", "bk_default")]


def test_is_ordered():
    assert not maps.is_ordered(["beg"]) and not maps.is_ordered(["str", "ip"])
    assert maps.is_ordered(["reg"]) and maps.is_ordered(["beg", "reg"]) and maps.is_ordered([])


def test_present_on_a_tree_map_sets_changed_values_and_appends_new_keys():
    plan = maps.plan_change(LIVE, [("/b", "bk_new"), ("/c", "bk_c")], "present", False, MAP)
    assert plan["method"] == "incremental"
    assert plan["operations"] == [("set", "/b", "bk_new"), ("add", "/c", "bk_c")]
    assert plan["target"] == [("/a", "bk_a"), ("/b", "bk_new"), ("/", "bk_default"), ("/c", "bk_c")]
    assert plan["changed_values"] == [{"key": "/b", "before": "bk_b", "after": "bk_new"}]
    assert plan["added"] == [{"key": "/c", "value": "bk_c"}]


def test_present_with_nothing_to_do():
    plan = maps.plan_change(LIVE, [("/b", "bk_b")], "present", True, MAP)
    assert plan["method"] == "none" and plan["target"] == LIVE and plan["operations"] == []


def test_present_on_an_ordered_map_appends_when_the_new_entry_is_last():
    plan = maps.plan_change(LIVE, [("/", "bk_default"), ("/z", "bk_z")], "present", True, MAP)
    assert plan["method"] == "incremental"
    assert plan["target"] == LIVE + [("/z", "bk_z")]


def test_present_on_an_ordered_map_replaces_atomically_when_the_new_entry_goes_before_a_catch_all():
    plan = maps.plan_change(LIVE, [("/v2/hc", "bk_hc"), ("/", "bk_default")], "present", True, MAP)
    assert plan["method"] == "atomic-replace"
    assert plan["target"] == [("/a", "bk_a"), ("/b", "bk_b"), ("/v2/hc", "bk_hc"), ("/", "bk_default")]
    assert plan["operations"] == []


def test_new_entries_go_right_after_the_entry_before_them():
    plan = maps.plan_change(LIVE, [("/a", "bk_a"), ("/x", "1"), ("/y", "2")], "present", True, MAP)
    assert plan["target"] == [("/a", "bk_a"), ("/x", "1"), ("/y", "2"), ("/b", "bk_b"), ("/", "bk_default")]
    # unordered map: same request, appended
    plan = maps.plan_change(LIVE, [("/a", "bk_a"), ("/x", "1"), ("/y", "2")], "present", False, MAP)
    assert plan["method"] == "incremental" and plan["target"][-2:] == [("/x", "1"), ("/y", "2")]


def test_present_without_any_live_key_appends_in_order():
    plan = maps.plan_change(LIVE, [("/x", "1"), ("/y", "2")], "present", True, MAP)
    assert plan["method"] == "incremental" and plan["target"] == LIVE + [("/x", "1"), ("/y", "2")]


def test_present_refuses_to_reorder_existing_entries_of_an_ordered_map():
    with pytest.raises(MapError, match="'/b' and '/a' are in the opposite order in map .*use state=replace"):
        maps.plan_change(LIVE, [("/b", "bk_b"), ("/a", "bk_a")], "present", True, MAP)
    assert maps.plan_change(LIVE, [("/b", "bk_b"), ("/a", "bk_a")], "present", False, MAP)["method"] == "none"


def test_present_on_a_duplicated_live_key_sets_every_copy_and_warns():
    live = [("/a", "1"), ("/b", "2"), ("/a", "3")]
    plan = maps.plan_change(live, [("/a", "9")], "present", True, MAP)
    assert plan["method"] == "incremental" and plan["operations"] == [("set", "/a", "9")]
    assert plan["target"] == [("/a", "9"), ("/b", "2"), ("/a", "9")]
    assert "appears 2 times" in plan["warnings"][0]


def test_absent_removes_every_occurrence_and_ignores_missing_keys():
    live = [("/a", "1"), ("/b", "2"), ("/a", "3")]
    plan = maps.plan_change(live, [("/a", None), ("/zz", None)], "absent", True, MAP)
    assert plan["method"] == "incremental" and plan["operations"] == [("del", "/a", None)]
    assert plan["target"] == [("/b", "2")]
    assert plan["removed"] == [{"key": "/a", "value": "1"}, {"key": "/a", "value": "3"}]
    assert maps.plan_change(live, [("/zz", None)], "absent", True, MAP)["method"] == "none"


def test_replace():
    assert maps.plan_change(LIVE, list(LIVE), "replace", True, MAP)["method"] == "none"
    plan = maps.plan_change(LIVE, [("/b", "bk_b"), ("/a", "bk_x"), ("/n", "bk_n")], "replace", True, MAP)
    assert plan["method"] == "atomic-replace"
    assert plan["added"] == [{"key": "/n", "value": "bk_n"}]
    assert plan["removed"] == [{"key": "/", "value": "bk_default"}]
    assert plan["changed_values"] == [{"key": "/a", "before": "bk_a", "after": "bk_x"}]
    assert plan["order_changed"] is True
    assert maps.plan_change(LIVE, [], "replace", True, MAP)["target"] == []


def test_payload_batches_fit_the_cli_buffer_and_the_entry_count():
    lines = ["/k%05d backend_%05d" % (index, index) for index in range(10000)]
    batches = maps.payload_batches(lines, "add map @1 %s" % MAP)
    assert sum(batches, []) == lines
    assert len(batches) == 20 and all(len(batch) <= 500 for batch in batches)
    long_lines = ["/" + "x" * 3000 + " v%d" % index for index in range(10)]
    batches = maps.payload_batches(long_lines, "add map @1 %s" % MAP)
    assert sum(batches, []) == long_lines
    for batch in batches:
        assert len(("add map @1 %s <<\n%s\n\n" % (MAP, "\n".join(batch))).encode()) <= 12000
    with pytest.raises(MapError, match="too long"):
        maps.payload_batches(["/" + "x" * 13000 + " v"], "add map %s" % MAP)


def test_count_commands():
    target = [("/k%05d" % index, "new") for index in range(10000)]
    plan = maps.plan_change([], target, "replace", False, MAP)
    assert maps.count_commands(plan, MAP) == 22  # prepare, 20 payloads of 500, commit
    plan = maps.plan_change(LIVE, [("/b", "x"), ("/c", "y"), ("/d", "z")], "present", False, MAP)
    assert maps.count_commands(plan, MAP) == 2  # set map, one add payload


def test_write_file_atomically_keeps_the_mode(tmp_path):
    path = tmp_path / "routes.map"
    path.write_text("/a bk_a\n")
    os.chmod(str(path), 0o640)
    maps.write_file_atomically(str(path), "/b bk_b\n")
    assert path.read_text() == "/b bk_b\n"
    assert os.stat(str(path)).st_mode & 0o777 == 0o640
    assert os.listdir(str(tmp_path)) == ["routes.map"]
