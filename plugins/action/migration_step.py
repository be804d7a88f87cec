# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""migration_step: the controller's half of the step engine (module_utils/step_engine.py), in its process.

It reads what the node half registered on every node (haproxy_step's measure and apply results, by the
variable names the role registers them under) from hostvars, rather than through a Jinja expression over
every node's window: the windows carry their samples and templating them would cost more than the step.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.cloudshift.migration.plugins.module_utils import step_engine
from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError
from ansible_collections.cloudshift.migration.plugins.plugin_utils import cloud_prefetch
from ansible_collections.cloudshift.migration.plugins.plugin_utils.run_lock import (
    execute_locked, release_command, released_names, run_identity)

display = Display()

PHASES = ("begin", "judge", "finish", "release")
LOCK_MODULE = "cloudshift.migration.migration_lock"
# The cloud side's checks started as the first node measured are waited for this long when a step goes up (AWS calls
# with their retries and a probe); past it, the judge makes them itself.
PREFETCH_WAIT_SECONDS = 300


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        phase = args.pop("phase", None)
        if phase not in PHASES:
            raise AnsibleActionFail("phase must be one of %s, got %r" % (", ".join(PHASES), phase))
        self._task_vars = task_vars
        try:
            result.update(getattr(self, "_phase_" + phase)(args))
        except CloudshiftError as exc:
            raise AnsibleActionFail(str(exc))
        return result

    # -- what the nodes registered ----------------------------------------------------------------

    def _registered(self, name, nodes):
        hostvars = self._task_vars["hostvars"]
        found = {}
        for node in nodes:
            value = hostvars[node].get(name)
            if isinstance(value, dict) and not value.get("skipped"):
                found[node] = value
        return found

    def _play_hosts(self):
        return list(self._task_vars.get("ansible_play_hosts") or []), list(self._task_vars.get("ansible_play_hosts_all") or [])

    # -- phases -----------------------------------------------------------------------------------

    def _phase_begin(self, args):
        """The one validation and the target (and the lock request the lock node's measure takes). The lock node is
        one of the inventory group haproxy, whatever this run's --limit, so that every run on an app meets there."""
        fleet = (self._task_vars.get("groups") or {}).get("haproxy") or self._play_hosts()[1]
        run = step_engine.with_audit(step_engine.begin(args, list(fleet)), args.get("audit_dir"), self._play_hosts()[1])
        if run["lock"] and (run["verb"] in step_engine.LOCK_ALONE or run["lock_node"] not in self._play_hosts()[0]):
            run["lock_taken"] = self._take_lock(run, args)
        return run

    def _take_lock(self, run, args):
        """The run's lock, taken here on the lock node (the task delegates there) when no measure of a node takes it:
        a verb that measures nothing, or a lock node this run's --limit leaves out."""
        if self._task.delegate_to != run["lock_node"]:
            raise AnsibleActionFail("the begin phase takes the lock on the lock node %s: delegate the task to it (it "
                                    "was delegated to %s)" % (run["lock_node"], self._task.delegate_to))
        request = dict(run["lock"], state_dir=args.get("lock_state_dir"))

        def execute(module_args):
            return self._execute_module(module_name=LOCK_MODULE, module_args=module_args, task_vars=self._task_vars)

        taken = execute_locked(execute, request, run["lock_node"], check_mode=bool(self._task.check_mode))
        if taken.get("failed"):
            raise AnsibleActionFail(taken.get("msg") or "the lock of %s could not be taken" % ", ".join(run["lock"]["names"]))
        if taken.get("warnings"):  # a killed run's lock taken over, an audit line that could not be written
            run.setdefault("warnings", []).extend(taken["warnings"])
        return dict((key, taken.get(key) or []) for key in ("acquired", "renewed", "broken"))

    def _phase_judge(self, args):
        active, _all = self._play_hosts()
        measured = self._registered("migration_measured", active)
        args["check_mode"] = self._task.check_mode
        handles = [measured[node]["cloud_side"] for node in sorted(measured) if measured[node].get("cloud_side")]
        args["cloud_prefetch"] = (lambda: cloud_prefetch.collect(handles[0], PREFETCH_WAIT_SECONDS)) if handles else None
        try:
            return step_engine.judge(args["run"], measured, args)
        finally:
            for handle in handles:  # a step that does not go up never read them: nobody waits for AWS
                cloud_prefetch.discard(handle)

    def _phase_finish(self, args):
        active, every = self._play_hosts()
        applied = self._registered("migration_applied", every)
        undone = self._registered("migration_undone", every)
        failures = self._registered("migration_node_failure", every)
        measured = self._registered("migration_measured", every)
        args["reloaded"] = self._registered("migration_reloaded", every)
        args["nodes_read"] = self._registered("migration_status_node", every)
        result = step_engine.finish(args["run"], args.get("decision") or {}, active, every, measured, applied, undone,
                                    failures, args, check_mode=self._task.check_mode)
        released = self._release(args["run"], args.get("lock_state_dir")) if args.get("release", True) else {}
        result["released"] = released.get("released", [])
        if released.get("warning"):
            result.setdefault("warnings", []).append(released["warning"])
        if result.get("failed_lines"):
            result["failed"] = True
            result["msg"] = "\n".join(result.pop("failed_lines"))
        if result.get("report"):
            # The table the run ends with, shown as the phase ends (it stays in the result as `report`).
            display.display("\n".join(result["report"]))
        return result

    def _held_locks(self, run):
        """The locks this run took: in the lock node's measure, or on their own (the lock node outside --limit)."""
        held = run.get("lock_taken")
        if not held:
            measured = self._registered("migration_measured", [run["lock_node"]]).get(run["lock_node"]) or {}
            held = measured.get("lock") or {}
        return sorted(set((held.get("acquired") or []) + (held.get("renewed") or [])))

    def _release(self, run, state_dir):
        """Give back the locks this run took (nothing when it took none), on the lock node (the task delegates there)."""
        names = self._held_locks(run) if run.get("lock") else []
        if not names:
            return {}
        if not state_dir:
            raise AnsibleActionFail("lock_state_dir is required to give the lock back")
        if self._task.check_mode:
            return {"released": names}  # a check run takes no lock: the lock module only said it would
        outcome = self._low_level_execute_command(release_command(state_dir, names, run_identity()["run_id"]),
                                                  sudoable=True)
        if outcome.get("rc") != 0:
            return {"warning": "the lock of %s on %s could not be given back: %s" % (
                ", ".join(names), run["lock_node"], (outcome.get("stderr") or outcome.get("stdout") or "").strip())}
        released, held = released_names(outcome.get("stdout"))
        warning = ("not released, held by another run: %s on %s" % (", ".join(held), run["lock_node"])) if held else None
        return {"released": released, "warning": warning}

    def _phase_release(self, args):
        """The playbooks' `always`: give the lock back when the run stopped before finish did."""
        return self._release(args["run"], args.get("lock_state_dir"))
