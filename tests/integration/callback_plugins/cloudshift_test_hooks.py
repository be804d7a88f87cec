# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only callback (tests/integration, not part of the collection): puts a fault into a run at an exact point.

A fault raced against a running playbook (poll the state store, then SIGSTOP the run) lands where the machine's
load puts it. This callback runs in ansible-playbook's own process and acts *before* the strategy sends a task to
any host, so the fault is in place at the same point of every run. CLOUDSHIFT_TEST_HOOKS holds a JSON list:

    {"event": "task_start", "task": "<part of the task name>", "run": [argv...]}
    {"event": "retry", "task": "...", "host": "node-c", "run": [argv...]}
    {"event": "task_start", "task": "...", "signal": "KILL"}   # the whole run (its process group): kill -9
    {"event": "task_start", "task": "...", "signal": "INT"}    # Ctrl-C

Each hook fires once. A command that fails stops the run (the test sees why).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = """
name: cloudshift_test_hooks
type: aggregate
short_description: test-only fault injection at a named task
description: Runs a command or signals the run when a named task starts or is retried (CLOUDSHIFT_TEST_HOOKS).
"""

import json
import os
import signal
import subprocess

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "cloudshift_test_hooks"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self._hooks = json.loads(os.environ.get("CLOUDSHIFT_TEST_HOOKS") or "[]")

    def _fire(self, event, task_name, host=None):
        for hook in self._hooks:
            if hook.get("fired") or hook["event"] != event or hook["task"] not in task_name:
                continue
            if hook.get("host") not in (None, host):
                continue
            hook["fired"] = True
            if "signal" in hook:
                if os.getpgrp() != os.getpid():  # never the test runner's own group
                    raise RuntimeError("a signal hook needs a run started in its own session (playbook_process)")
                os.killpg(os.getpgrp(), getattr(signal, "SIG" + hook["signal"]))
            else:
                subprocess.run(hook["run"], check=True)

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._fire("task_start", task.get_name())

    def v2_runner_retry(self, result):
        self._fire("retry", result._task.get_name(), result._host.get_name())
