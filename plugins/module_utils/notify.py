# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every audit event (a step, its verdict, a rollback, a ramp's stop, a DNS move...) posted as JSON to the webhooks
of migration_notify_webhooks: the event itself, or a Slack-compatible message ({"text": ...}). A webhook's URL and
headers are secrets (a Slack URL is its own credential): no message names more of them than the URL's host."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import socket
import time

from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import urlsplit
from ansible.module_utils.urls import ConnectionError as UrlsConnectionError, SSLValidationError, open_url

FORMATS = ("json", "slack")
WEBHOOK_KEYS = ("url", "format", "headers", "events", "timeout", "retries")
DEFAULT_TIMEOUT = 5.0
DEFAULT_RETRIES = 3
RETRY_DELAY_SECONDS = 1.0
EVENT_FIELDS = ("app", "route", "action", "at", "by", "from_step", "to_step", "verdict", "forced", "note")
# What a reader looks at first, per audit action.
ALARMING = ("rollback", "ramp-rollback", "step-undone", "dns-rollback", "lock-broken", "reconcile")


def where(index, webhook):
    """How messages name a webhook: its place in the list and its URL's host, never its path or query."""
    url = webhook.get("url") if isinstance(webhook, dict) else None
    host = urlsplit(url).hostname if isinstance(url, str) else None
    return "migration_notify_webhooks[%d]%s" % (index, " (%s)" % host if host else "")


def webhook_problems(webhooks):
    """One sentence per problem; a URL or a header value is never quoted (they are secrets)."""
    if webhooks is None:
        return []
    if not isinstance(webhooks, (list, tuple)):
        return ["migration_notify_webhooks must be a list of webhooks (url, format, headers, events), got a %s"
                % type(webhooks).__name__]
    problems = []
    for index, webhook in enumerate(webhooks):
        label = where(index, webhook)
        if not isinstance(webhook, dict):
            problems.append("%s must be a dict with a url, got a %s" % (label, type(webhook).__name__))
            continue
        unknown = sorted(set(webhook) - set(WEBHOOK_KEYS))
        if unknown:
            problems.append("%s has unknown key(s) %s (known: %s)" % (label, ", ".join(unknown), ", ".join(WEBHOOK_KEYS)))
        url = webhook.get("url")
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or any(
                character in url for character in " \r\n\t"):
            problems.append("%s: url is not an http(s) URL (its value is not shown: it may hold a token)" % label)
        if webhook.get("format", "json") not in FORMATS:
            problems.append("%s: format %r is not one of %s" % (label, webhook.get("format"), ", ".join(FORMATS)))
        headers = webhook.get("headers") or {}
        if not isinstance(headers, dict) or any(
                not isinstance(key, str) or not isinstance(value, str) or "\n" in key + value or "\r" in key + value
                or not key.strip() for key, value in headers.items()):
            problems.append("%s: headers must map header names to one-line strings (values not shown)" % label)
        events = webhook.get("events")
        if events is not None and (not isinstance(events, list)
                                   or not all(isinstance(item, str) and item for item in events)):
            problems.append("%s: events %r must be a list of audit actions (step, rollback, ramp-rollback, dns...)"
                            % (label, events))
        for key, low, high in (("timeout", 0.1, 60), ("retries", 0, 10)):
            value = webhook.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                      or not low <= value <= high):
                problems.append("%s: %s %r is not from %s to %s" % (label, key, value, low, high))
    return problems


# -- pure --------------------------------------------------------------------------------------

def event_of(record):
    """The event posted for an audit record: its fields that say what happened, and the gate's verdict figures."""
    # The audit record's own shape (audit.build_record): from/to are the steps.
    record = dict(record, from_step=record.get("from"), to_step=record.get("to"))
    event = dict((key, record.get(key)) for key in EVENT_FIELDS if record.get(key) is not None)
    event["source"] = "cloudshift.migration"
    figures = (record.get("details") or {}).get("figures")
    if figures:
        event["figures"] = figures
    return event


def summary_line(event):
    """One line an operator reads in a chat channel."""
    target = event.get("app", "?") + (" route %s" % event["route"] if event.get("route") else "")
    move = ""
    if event.get("from_step") is not None or event.get("to_step") is not None:
        move = " %s -> %s" % (event.get("from_step", "?"), event.get("to_step", "?"))
    parts = ["cloudshift: %s %s%s" % (target, event.get("action", "event"), move)]
    going_down = isinstance(event.get("from_step"), int) and isinstance(event.get("to_step"), int) \
        and event["to_step"] < event["from_step"]
    if event.get("verdict") and not going_down:  # going down is never gated: its verdict is information only
        parts.append("gate %s%s" % (event["verdict"], " (forced)" if event.get("forced") else ""))
    if event.get("by"):
        parts.append("by %s" % event["by"])
    if event.get("note"):
        parts.append(event["note"])
    return "; ".join(parts)


def payload(event, fmt):
    if fmt == "slack":
        alarming = event.get("action") in ALARMING or event.get("verdict") == "fail"
        return {"text": (":rotating_light: " if alarming else "") + summary_line(event)}
    return event


def wanted(webhook, record):
    events = webhook.get("events")
    return not events or record.get("action") in events


# -- I/O ---------------------------------------------------------------------------------------

def post(webhook, body, opener=open_url, sleep=time.sleep):
    """POST body as JSON, retried on a connection failure, a 429 or a 5xx; {"ok", "status", "attempts", "error"}
    with no part of the URL but its host."""
    retries = int(webhook.get("retries", DEFAULT_RETRIES))
    data = json.dumps(body, sort_keys=True).encode("utf-8")
    headers = dict(webhook.get("headers") or {})
    headers.setdefault("Content-Type", "application/json")
    headers.setdefault("User-Agent", "cloudshift-migration")
    outcome = {"ok": False, "status": None, "attempts": 0, "error": None}
    for attempt in range(retries + 1):
        outcome["attempts"] = attempt + 1
        try:
            response = opener(webhook["url"], data=data, headers=headers, method="POST",
                              timeout=float(webhook.get("timeout", DEFAULT_TIMEOUT)), follow_redirects="none")
            outcome.update(ok=True, status=response.getcode(), error=None)
            response.close()
            return outcome
        except HTTPError as exc:
            outcome.update(status=exc.code, error="HTTP %d" % exc.code)
            if exc.code != 429 and exc.code < 500:
                return outcome
        except (URLError, UrlsConnectionError, SSLValidationError, socket.timeout, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            outcome["error"] = "%s" % (type(reason).__name__ if not isinstance(reason, str) else reason)
        if attempt < retries:
            sleep(RETRY_DELAY_SECONDS * (attempt + 1))
    return outcome


def notify(webhooks, record, opener=open_url, sleep=time.sleep):
    """Post an audit record to every webhook that wants it; the warnings of those that failed (never raised: the
    change it reports is made)."""
    warnings = []
    event = event_of(record)
    for index, webhook in enumerate(webhooks or []):
        if not wanted(webhook, record):
            continue
        outcome = post(webhook, payload(event, webhook.get("format", "json")), opener, sleep)
        if not outcome["ok"]:
            warnings.append("%s: the %s event of %s was not delivered after %d attempt(s): %s" % (
                where(index, webhook), record.get("action"), record.get("app"), outcome["attempts"], outcome["error"]))
    return warnings
