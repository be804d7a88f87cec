# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""validation.validate_name: nothing that could inject a runtime API command gets through."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.validation import (
    ValidationError,
    describe_bad_name,
    validate_name,
)


@pytest.mark.parametrize("name", [
    "application-01", "aws-prod-Kubernetes-application-01", "onprem-prod-front-application-01",
    "application-02-mixed-critical", "a", "be_1.2:3", "x" * 128,
])
def test_good_names_pass_unchanged(name):
    assert validate_name(name, "server") == name
    assert describe_bad_name(name) is None


@pytest.mark.parametrize("name, reason", [
    ("app;shutdown sessions", "a ';' (command separator)"),
    ("app\nset weight b/s 0", "a newline"),
    ("app\rx", "a carriage return"),
    ("app\\x", "a backslash"),
    ("app 1", "a space"),
    ("app\t1", "a tab"),
    ("app\x00", "a control character"),
    ("", "it is empty"),
    ("x" * 129, "longer than 128"),
    ("b/s", "only letters, digits"),
    ("é", "only letters, digits"),
    ("..", "only letters, digits"),
    (None, "it is a NoneType"),
    (25, "it is a int"),
])
def test_bad_names_refused_naming_value_and_reason(name, reason):
    with pytest.raises(ValidationError) as info:
        validate_name(name, "backend")
    message = str(info.value)
    assert message.startswith("invalid backend name %r" % (name,))
    assert reason in message


@given(st.text(min_size=1, max_size=40))
def test_accepted_names_hold_no_separator(name):
    if describe_bad_name(name) is None:
        assert not set(name) & set(";\n\r\\ \t/#")
        assert validate_name(name, "server") == name
    else:
        with pytest.raises(ValidationError):
            validate_name(name, "server")
