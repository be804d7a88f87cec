# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Regex validation with the PCRE2 library HAProxy uses (libpcre2-8, through ctypes)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy import pcre

FIELD_REPORT_REGEXES = [
    r"application-02\.6play\.fr\/v2\/critical\/(\w{1,45})\/payments\/",
    r"application-02\.6play\.fr\/v2\/customers\/",
    r"application-02\.6play\.fr\/v2\/",
    r"application-02\.6play\.fr\/v1\/",
    r"application-02\.6play\.fr\/",
]


def test_the_library_haproxy_uses_is_loaded():
    assert pcre.pcre2_available()
    assert pcre.engine().startswith("PCRE2 10.")


@pytest.mark.parametrize("regex", FIELD_REPORT_REGEXES + [r"^/api/(?<name>\w+)$", r"\p{L}+", r"(?i)^/Admin"])
def test_valid_regexes(regex):
    assert pcre.regex_problem(regex) is None
    assert pcre.validate_regex(regex, "map /m") == regex


@pytest.mark.parametrize("regex, reason, offset", [
    (r"application-02\.6play\.fr\/v2\/(", "missing closing parenthesis", 32),
    ("foo(", "missing closing parenthesis", 4),  # HAProxy 2.6.12 says: error=missing closing parenthesis, erroffset=4
    ("a{2,1}", "numbers out of order in {} quantifier", 5),
    ("[z-a]", "range out of order in character class", 3),
    ("(?<=a+)b", "lookbehind assertion is not fixed length", 0),
    ("a**", "quantifier does not follow a repeatable item", 2),
    ("x{99999}", "number too big in {} quantifier", 7),
    ("\\", "\\ at end of pattern", 1),
])
def test_pcre2_reason_and_offset(regex, reason, offset):
    assert pcre.regex_problem(regex) == (reason, offset)


def test_error_names_the_regex_verbatim_where_it_is_used_the_reason_and_the_offset():
    with pytest.raises(pcre.RegexError) as caught:
        pcre.validate_regex(r"application-02\.6play\.fr\/v2\/(", "map /etc/haproxy/routes_reg.map")
    assert str(caught.value) == (r"invalid regex 'application-02\.6play\.fr\/v2\/(' for map "
                                 r"/etc/haproxy/routes_reg.map: missing closing parenthesis at offset 32")
    assert caught.value.offset == 32
    assert caught.value.reason == "missing closing parenthesis"


def test_compile_options_follow_haproxy_map_reg_has_no_capture_map_regm_has():
    # HAProxy compiles map_reg keys with PCRE2_NO_AUTO_CAPTURE, map_regm keys without it.
    assert pcre.regex_problem(r"(a)\1") == ("reference to non-existent subpattern", 4)
    assert pcre.regex_problem(r"(a)\1", capture=True) is None


def test_offsets_are_pcre2_byte_offsets():
    # PCRE2 works on bytes (HAProxy sets no UTF flag): é is two bytes before the bad '('.
    assert pcre.regex_problem(u"é(") == ("missing closing parenthesis", 3)


def test_fallback_to_python_re_says_so(monkeypatch):
    monkeypatch.setitem(pcre._library_cache, "result", (None, "libpcre2-8.so.0: cannot open shared object file"))
    assert pcre.engine().startswith("Python re (libpcre2-8 could not be loaded: libpcre2-8.so.0")
    reason, offset = pcre.regex_problem("foo(")
    assert "checked with Python's re, not PCRE2" in reason
    assert offset == 3
    assert pcre.regex_problem(FIELD_REPORT_REGEXES[0]) is None
