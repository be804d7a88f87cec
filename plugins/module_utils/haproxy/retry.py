# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The retry policy of the backends (retries, retry-on, methods retried), checked before rendering.

A request that fails on one server is retried on another (``option redispatch 1``): connection
failures always, since nothing reached the server, and the other ``retry-on`` conditions only for
the methods listed, which must be idempotent (HAProxy's ``http-request disable-l7-retry`` keeps
every other method from being sent twice).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

RETRY_KEYWORDS = ("none", "conn-failure", "empty-response", "junk-response", "response-timeout", "0rtt-rejected",
                  "all-retryable-errors")
RETRY_STATUSES = ("401", "403", "404", "408", "425", "500", "501", "502", "503", "504")
IDEMPOTENT_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE")
MAX_RETRIES = 10
_METHOD = re.compile(r"\A[A-Z]{1,20}\Z")


def policy_problems(label, retries, retry_on, methods):
    """One sentence per problem of one retry policy, naming the value."""
    problems = []
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= MAX_RETRIES:
        problems.append("%s: retries must be an integer from 0 to %d, got %r" % (label, MAX_RETRIES, retries))
    if not isinstance(retry_on, (list, tuple)) or not retry_on:
        problems.append("%s: retry_on must be a non-empty list of retry-on keywords, got %r" % (label, retry_on))
    else:
        conditions = [str(item) for item in retry_on]
        unknown = [item for item in conditions if item not in RETRY_KEYWORDS + RETRY_STATUSES]
        if unknown:
            problems.append("%s: unknown retry-on condition(s) %s (known: %s and the statuses %s)"
                            % (label, ", ".join(repr(item) for item in unknown), ", ".join(RETRY_KEYWORDS),
                               ", ".join(RETRY_STATUSES)))
        if "none" in conditions and len(conditions) > 1:
            problems.append("%s: retry-on 'none' cannot be combined with other conditions, got %r" % (label, conditions))
    if not isinstance(methods, (list, tuple)) or not methods:
        problems.append("%s: methods must be a non-empty list of HTTP methods, got %r" % (label, methods))
    else:
        bad = [method for method in methods if not isinstance(method, str) or not _METHOD.match(method)]
        if bad:
            problems.append("%s: methods must be upper-case HTTP method names, got %s"
                            % (label, ", ".join(repr(method) for method in bad)))
        unsafe = [method for method in methods if isinstance(method, str) and _METHOD.match(method)
                  and method not in IDEMPOTENT_METHODS]
        if unsafe:
            problems.append("%s: %s %s not idempotent and must never be sent twice (idempotent: %s)"
                            % (label, ", ".join(unsafe), "is" if len(unsafe) == 1 else "are", ", ".join(IDEMPOTENT_METHODS)))
    return problems


def retry_problems(apps, retries, retry_on, methods):
    """Problems of the role's retry policy and of every app's ``retry`` override."""
    problems = policy_problems("haproxy_retries/haproxy_retry_on/haproxy_retry_methods", retries, retry_on, methods)
    for app in apps if isinstance(apps, (list, tuple)) else []:
        override = app.get("retry") if isinstance(app, dict) else None
        if override is None:
            continue
        label = "app %s retry" % app.get("name")
        if not isinstance(override, dict):
            problems.append("%s must be a dict of retries, retry_on and methods, got %r" % (label, override))
            continue
        unknown = sorted((str(key) for key in set(override) - {"retries", "retry_on", "methods"}))
        if unknown:
            problems.append("%s has unknown key(s) %s (known: retries, retry_on, methods)" % (label, ", ".join(unknown)))
        problems.extend(policy_problems(label, override.get("retries", retries), override.get("retry_on", retry_on),
                                        override.get("methods", methods)))
    return problems
