"""The per-app run lock: records, staleness, and the file operations on a node (a temp dir)."""

import datetime
import json
import os
import subprocess
import sys

import pytest

from ansible_collections.cloudshift.migration.plugins.module_utils import lock
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.validation import ValidationError

NOW = datetime.datetime(2026, 12, 3, 17, 0, 0, tzinfo=datetime.timezone.utc)
ALICE = {"run_id": "ctl-1:boot:100:5", "by": "alice", "controller": "ctl-1", "boot_id": "boot-1", "pid": 100,
         "pid_start": "5", "purpose": "migrate.yml app=application-01 step=25"}
BOB = dict(ALICE, run_id="ctl-2:boot:200:7", by="bob", controller="ctl-2", pid=200)


def later(seconds):
    return NOW + datetime.timedelta(seconds=seconds)


def test_a_lock_names_its_holder_and_lease():
    record = lock.new_lock("application-01", ALICE, 900, NOW)
    assert record["since"] == "2026-12-03T17:00:00+00:00" and record["expires"] == "2026-12-03T17:15:00+00:00"
    text = lock.describe_lock(record, later(45))
    assert text == ("held by alice on ctl-1 (pid 100, migrate.yml app=application-01 step=25) since "
                    "2026-12-03T17:00:00+00:00 (45 s ago), lease until 2026-12-03T17:15:00+00:00")
    assert "lease ran out at 2026-12-03T17:15:00+00:00" in lock.describe_lock(record, later(1000))


def test_staleness():
    record = lock.new_lock("application-01", ALICE, 900, NOW)
    same_controller = {"controller": "ctl-1", "boot_id": "boot-1"}
    other_controller = {"controller": "ctl-9", "boot_id": "boot-9"}
    assert lock.staleness(record, same_controller, later(10), lambda pid, start: True) == (False, None)
    stale, reason = lock.staleness(record, same_controller, later(10), lambda pid, start: False)
    assert stale and reason == "its process 100 on ctl-1 is gone"
    stale, reason = lock.staleness(record, {"controller": "ctl-1", "boot_id": "boot-2"}, later(10), lambda *_: True)
    assert stale and "restarted" in reason
    # From another controller the process cannot be seen: alive until its lease ends.
    assert lock.staleness(record, other_controller, later(10), lambda *_: False) == (False, None)
    stale, reason = lock.staleness(record, other_controller, later(901), lambda *_: True)
    assert stale and reason.startswith("its lease ran out at 2026-12-03T17:15:00+00:00 (1 s ago)")


def test_take_renew_release(tmp_path):
    state_dir = str(tmp_path)
    outcome = lock.acquire(state_dir, ["application-01"], ALICE, 900, NOW)
    assert outcome == {"acquired": ["application-01"], "renewed": [], "broken": [], "conflicts": []}
    path = tmp_path / "locks" / "application-01.lock"
    assert oct(os.stat(path).st_mode & 0o777) == "0o640"
    again = lock.acquire(state_dir, ["application-01"], ALICE, 1800, later(60))
    assert again["renewed"] == ["application-01"]
    assert json.loads(path.read_text())["expires"] == "2026-12-03T17:31:00+00:00"
    # Bob's run is refused and told who holds it.
    refused = lock.acquire(state_dir, ["application-01"], BOB, 900, later(70))
    assert refused["acquired"] == [] and refused["conflicts"][0]["lock"]["by"] == "alice"
    # Bob cannot release Alice's lock; Alice can.
    assert lock.release(state_dir, ["application-01"], BOB["run_id"])["not_held"][0]["lock"]["by"] == "alice"
    assert path.exists()
    assert lock.release(state_dir, ["application-01"], ALICE["run_id"])["released"] == ["application-01"]
    assert not path.exists()


def test_two_apps_lock_independently_and_several_locks_are_all_or_none(tmp_path):
    state_dir = str(tmp_path)
    assert lock.acquire(state_dir, ["application-02"], BOB, 900, NOW)["acquired"] == ["application-02"]
    assert lock.acquire(state_dir, ["application-01"], ALICE, 900, NOW)["acquired"] == ["application-01"]
    lock.release(state_dir, ["application-01"], ALICE["run_id"])
    # A reconcile wants both: application-02 is Bob's, so Alice takes neither.
    outcome = lock.acquire(state_dir, ["application-01", "application-02"], ALICE, 900, NOW)
    assert outcome["acquired"] == [] and outcome["conflicts"][0]["name"] == "application-02"
    assert not (tmp_path / "locks" / "application-01.lock").exists()


def test_a_stale_lock_is_broken_only_when_named(tmp_path):
    state_dir = str(tmp_path)
    lock.acquire(state_dir, ["application-01"], ALICE, 900, NOW)
    assert lock.acquire(state_dir, ["application-01"], BOB, 900, NOW, break_run_ids=["someone-else"])["conflicts"]
    outcome = lock.acquire(state_dir, ["application-01"], BOB, 900, NOW, break_run_ids=[ALICE["run_id"]])
    assert outcome["acquired"] == ["application-01"] and outcome["broken"][0]["by"] == "alice"
    assert json.loads((tmp_path / "locks" / "application-01.lock").read_text())["by"] == "bob"
    assert [name for name in os.listdir(tmp_path / "locks") if ".broken-" in name]


def test_check_mode_writes_nothing(tmp_path):
    outcome = lock.acquire(str(tmp_path), ["application-01"], ALICE, 900, NOW, check_mode=True)
    assert outcome["acquired"] == ["application-01"]
    assert not (tmp_path / "locks").exists()


@pytest.mark.parametrize("names, ttl, message", [
    ([], 900, "non-empty list"),
    (["application-01", "application-01"], 900, "twice"),
    (["application-01"], 5, "invalid lock ttl 5"),
    (["application-01"], True, "invalid lock ttl True"),
])
def test_bad_requests_are_refused(tmp_path, names, ttl, message):
    with pytest.raises(lock.LockError) as error:
        lock.acquire(str(tmp_path), names, ALICE, ttl, NOW)
    assert message in str(error.value)


@pytest.mark.parametrize("name", ["app;rm", "../etc", "a b", "a\nb"])
def test_lock_names_that_could_escape_are_refused(tmp_path, name):
    with pytest.raises(ValidationError):
        lock.acquire(str(tmp_path), [name], ALICE, 900, NOW)
    assert not (tmp_path / "locks").exists()


def test_process_liveness_uses_pid_and_start_time():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        start = lock.process_start(child.pid)
        assert start is not None
        assert lock.process_alive(child.pid, start)
        assert not lock.process_alive(child.pid, str(int(start) + 1))  # same pid, another process
    finally:
        child.kill()
        child.wait()
    assert not lock.process_alive(child.pid, start)
