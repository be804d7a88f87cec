"""Webhook notifications (pure parts and the retry loop over a real local HTTP receiver): the event and the Slack
message built from an audit record, the problems of the settings naming no secret, retries on 5xx and 429 only."""

import pytest

from ansible_collections.cloudshift.migration.plugins.module_utils import notify
from webhook_receiver import SECRET_PATH, Receiver

RECORD = {"app": "application-01", "action": "step", "at": "2026-12-07T10:00:00+00:00", "by": "alice",
          "from": 10, "to": 25, "verdict": "pass", "forced": False, "format": 1,
          "details": {"nodes": ["n1"], "figures": {"cloud": {"requests": 400}}}}


@pytest.fixture
def receiver():
    started = []

    def start(statuses=()):
        started.append(Receiver(statuses))
        return started[-1]
    yield start
    for item in started:
        item.close()


def test_the_event_carries_what_happened_and_the_slack_message_says_it_in_one_line():
    event = notify.event_of(RECORD)
    assert event == {"app": "application-01", "action": "step", "at": "2026-12-07T10:00:00+00:00", "by": "alice",
                     "from_step": 10, "to_step": 25, "verdict": "pass", "forced": False,
                     "source": "cloudshift.migration", "figures": {"cloud": {"requests": 400}}}
    assert notify.payload(event, "slack") == {"text": "cloudshift: application-01 step 10 -> 25; gate pass; by alice"}
    rollback = notify.event_of(dict(RECORD, action="ramp-rollback", route="v2", verdict="fail", note="2 checks failed",
                                    **{"from": 25, "to": 0}))
    assert notify.payload(rollback, "slack")["text"] == (
        ":rotating_light: cloudshift: application-01 route v2 ramp-rollback 25 -> 0; by alice; 2 checks failed")
    failed = notify.event_of(dict(RECORD, verdict="fail", forced=True))
    assert notify.payload(failed, "slack")["text"] == (
        ":rotating_light: cloudshift: application-01 step 10 -> 25; gate fail (forced); by alice")


def test_bad_webhooks_are_named_by_place_and_host_never_by_their_secret_url_or_headers():
    problems = notify.webhook_problems([
        {"url": "ftp://hooks.example.com" + SECRET_PATH},
        {"url": "https://hooks.example.com" + SECRET_PATH, "format": "teams", "headers": {"Authorization": "x\ny"},
         "retries": 99, "colour": "red"},
        "https://hooks.example.com" + SECRET_PATH,
    ])
    assert problems == [
        "migration_notify_webhooks[0] (hooks.example.com): url is not an http(s) URL (its value is not shown: it may "
        "hold a token)",
        "migration_notify_webhooks[1] (hooks.example.com) has unknown key(s) colour (known: url, format, headers, "
        "events, timeout, retries)",
        "migration_notify_webhooks[1] (hooks.example.com): format 'teams' is not one of json, slack",
        "migration_notify_webhooks[1] (hooks.example.com): headers must map header names to one-line strings (values "
        "not shown)",
        "migration_notify_webhooks[1] (hooks.example.com): retries 99 is not from 0 to 10",
        "migration_notify_webhooks[2] must be a dict with a url, got a str"]
    assert all("Secret-Token" not in problem for problem in problems)
    assert notify.webhook_problems([{"url": "https://hooks.slack.com" + SECRET_PATH, "format": "slack",
                                     "events": ["step", "rollback"]}]) == []


def test_a_receiver_gets_the_json_event_with_its_headers_after_its_5xx_and_429_are_retried(receiver):
    target = receiver([500, 429])
    waits = []
    warnings = notify.notify([{"url": target.url, "headers": {"Authorization": "Bearer s3cret"}}], RECORD,
                             sleep=waits.append)
    assert warnings == [] and waits == [1.0, 2.0] and len(target.received) == 3
    last = target.received[-1]
    assert last["path"] == SECRET_PATH and last["headers"]["Authorization"] == "Bearer s3cret"
    assert last["headers"]["Content-Type"] == "application/json" and last["body"]["to_step"] == 25


def test_a_4xx_is_not_retried_and_an_unreachable_webhook_warns_without_its_secret(receiver):
    target = receiver([403])
    warnings = notify.notify([{"url": target.url, "format": "slack"}], RECORD, sleep=lambda _seconds: None)
    assert len(target.received) == 1
    assert warnings == ["migration_notify_webhooks[0] (127.0.0.1): the step event of application-01 was not "
                        "delivered after 1 attempt(s): HTTP 403"]
    target.close()
    gone = notify.notify([{"url": target.url, "retries": 1, "timeout": 1}], RECORD, sleep=lambda _seconds: None)
    assert len(gone) == 1 and "after 2 attempt(s)" in gone[0] and "Secret-Token" not in gone[0]


def test_a_webhook_gets_only_the_events_it_asks_for(receiver):
    target = receiver()
    notify.notify([{"url": target.url, "events": ["rollback"]}], RECORD)
    notify.notify([{"url": target.url, "events": ["rollback"]}], dict(RECORD, action="rollback"))
    assert [item["body"]["action"] for item in target.received] == ["rollback"]
