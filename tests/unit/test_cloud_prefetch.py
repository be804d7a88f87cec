"""The cloud side checked ahead (plugin_utils/cloud_prefetch.py, the step engine's prefetched checks): read only
when a step goes up, waited for at most the time given, stopped when nobody reads it."""

import os
import subprocess
import sys
import time

from ansible_collections.cloudshift.migration.plugins.module_utils import step_engine
from ansible_collections.cloudshift.migration.plugins.plugin_utils import cloud_prefetch

APP = {"name": "application-02", "cloud": {}}  # no load balancer, no cluster: the checks make no call


def test_the_checks_are_made_by_a_detached_process_and_read_from_their_file(tmp_path):
    path = str(tmp_path / "cloud-side.json")
    pid = cloud_prefetch.start({"app": APP, "aws": {}, "ca_file": None}, path)
    assert pid > 0 and pid != os.getpid()
    assert cloud_prefetch.collect({"file": path, "pid": pid}, 60) == {"health": None, "lambda_health": None, "capacity": None,
                                                                      "lambda_capacity": None, "errors": {}}


def test_a_prefetch_that_wrote_nothing_and_is_gone_is_none_at_once(tmp_path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    started = time.monotonic()
    assert cloud_prefetch.collect({"file": str(tmp_path / "never.json"), "pid": gone.pid}, 60) is None
    assert time.monotonic() - started < 30  # did not wait out the 60 s: the process was gone


def test_a_prefetch_nobody_reads_is_stopped(tmp_path):
    working = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        cloud_prefetch.discard({"file": str(tmp_path / "not-yet.json"), "pid": working.pid})
        assert working.wait(timeout=30) == -9
    finally:
        working.kill()


def test_a_prefetch_that_wrote_its_file_is_not_signalled(tmp_path):
    path = tmp_path / "written.json"
    path.write_text("{}")
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        cloud_prefetch.discard({"file": str(path), "pid": bystander.pid})  # its pid may be another's by now
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_a_step_that_checks_nothing_never_waits_for_the_prefetch():
    def never():
        raise AssertionError("the prefetched checks were waited for")
    target = {"app_entry": {"name": "application-02", "cloud": {"load_balancer": {"name": "elb"}}}}
    assert step_engine._cloud_side(target, {}, False, False, "refused", never) == {"tables": []}  # pylint: disable=protected-access


def test_prefetched_checks_are_judged_as_if_made_by_the_judge():
    target = {"app_entry": {"name": "application-02", "cloud": {"load_balancer": {"name": "elb"}}}}
    checks = {"health": None, "capacity": None, "errors": {"health": "the ELB elb was not found"}}
    try:
        step_engine._cloud_side(target, {}, True, False, "refused: x stays at step 0", lambda: checks)  # pylint: disable=protected-access
    except step_engine.EngineError as exc:
        assert str(exc) == "refused: x stays at step 0, the cloud side could not be checked: the ELB elb was not found"
    else:
        raise AssertionError("an unchecked cloud side let the step go up")
