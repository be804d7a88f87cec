# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation of every name that is sent to HAProxy's runtime API or used in a path.

The runtime API splits commands on ';' and newlines and arguments on spaces, and
treats backslash as an escape: a name holding any of them could inject a command.
HAProxy itself only accepts [A-Za-z0-9_.:-] in proxy and server names.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import socket

from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError

NAME_PATTERN = re.compile(r"\A[A-Za-z0-9_.:-]{1,128}\Z")
# A host name, and what a server line of haproxy.cfg takes as its address (a name, an IPv4 or a bracketed IPv6).
HOST_PATTERN = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\Z")
ADDRESS_PATTERN = re.compile(r"^([A-Za-z0-9._-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])\Z")
FORBIDDEN_DESCRIPTIONS = (
    (";", "a ';' (command separator)"),
    ("\n", "a newline"),
    ("\r", "a carriage return"),
    ("\\", "a backslash"),
    (" ", "a space"),
    ("\t", "a tab"),
)


class ValidationError(CloudshiftError, ValueError):
    pass


def is_ip_address(value):
    """Whether value is an IPv4 or IPv6 address (not a name)."""
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, value)
            return True
        except (socket.error, ValueError, TypeError):
            continue
    return False


def describe_bad_name(name):
    """Why a name is refused, or None when it is fine."""
    if not isinstance(name, str):
        return "it is a %s, not a string" % type(name).__name__
    if not name:
        return "it is empty"
    for char, description in FORBIDDEN_DESCRIPTIONS:
        if char in name:
            return "it contains %s" % description
    if any(ord(char) < 32 or ord(char) == 127 for char in name):
        return "it contains a control character"
    if len(name) > 128:
        return "it is longer than 128 characters"
    if name in (".", "..") or not NAME_PATTERN.match(name):
        return "only letters, digits and '_', '.', ':', '-' are allowed"
    return None


def validate_name(name, kind):
    """Raise ValidationError naming the value when name is not safe to send to HAProxy."""
    reason = describe_bad_name(name)
    if reason:
        raise ValidationError("invalid %s name %r: %s" % (kind, name, reason))
    return name


BACKEND_SEPARATOR = "--"


def backend_name(app, route=None):
    """The backend of an app (its name) or of one of its routes (`<app>--<route>`), checked (ValidationError naming the
    bad part); the one place the name of a route's backend is built."""
    validate_name(app, "app")
    if route is None:
        return app
    validate_name(route, "route")
    return validate_name(app + BACKEND_SEPARATOR + route, "route backend")


def backend_label(app, route=None):
    """How messages name an app or one of its routes (`<app> route <route>`); the one place it is built."""
    return app if route is None else "%s route %s" % (app, route)
