"""The migration role's entry points and the step engine agree: every operator input an entry point documents is one
the role hands to the engine (migration_request), typed as the engine reads it, and every verb has its entry point."""

import os

import pytest
import yaml

from ansible_collections.cloudshift.migration.plugins.module_utils.app_model import request as requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLE = os.path.join(ROOT, "roles", "migration")


def load(*parts):
    with open(os.path.join(ROLE, *parts)) as handle:
        return yaml.safe_load(handle)


SPECS = load("meta", "argument_specs.yml")["argument_specs"]
REQUEST = load("vars", "main.yml")["migration_request"]
DEFAULTS = load("defaults", "main.yml")


def operator_inputs(entry_point):
    return dict((name, spec) for name, spec in SPECS[entry_point]["options"].items() if not name.startswith("migration_"))


@pytest.mark.parametrize("entry_point", sorted(SPECS))
def test_every_entry_point_is_a_task_file_and_a_playbook_imports_it(entry_point):
    assert os.path.exists(os.path.join(ROLE, "tasks", entry_point + ".yml"))
    imported = []
    for name in os.listdir(os.path.join(ROOT, "playbooks")):
        if name.endswith(".yml"):
            with open(os.path.join(ROOT, "playbooks", name)) as handle:
                if "tasks_from: %s.yml" % entry_point in handle.read():
                    imported.append(name)
    assert imported, entry_point


@pytest.mark.parametrize("entry_point", sorted(SPECS))
def test_every_operator_input_reaches_the_engine(entry_point):
    missing = [name for name in operator_inputs(entry_point) if name not in REQUEST and name != "dest"]
    assert missing == [], "%s documents inputs the role does not hand to the engine: %s" % (entry_point, missing)


@pytest.mark.parametrize("entry_point", sorted(SPECS))
def test_the_role_settings_an_entry_point_documents_have_defaults(entry_point):
    settings = [name for name in SPECS[entry_point]["options"] if name.startswith("migration_")]
    assert [name for name in settings if name not in DEFAULTS] == []


def test_booleans_and_integers_are_read_as_their_spec_types():
    """A bool input accepts Ansible's booleans and refuses the rest naming it; an int input refuses a word."""
    bools = sorted(name for name, spec in operator_inputs("step").items() if spec["type"] == "bool")
    assert bools == ["break_lock", "fail_on_drift", "force", "reconcile"]
    for name in bools:
        assert requests.as_bool("yes") is True and requests.as_bool("0") is False
        with pytest.raises(Exception, match='invalid %s "perhaps"' % name):
            requests.migrate_request({"app": "a", "step": "status" if name in ("reconcile", "fail_on_drift") else 5,
                                      name: "perhaps"}, [{"name": "a", "host": "a.example", "servers": []}], ["n"])
    assert operator_inputs("step")["gate_window"]["type"] == "int"
    with pytest.raises(Exception, match='invalid gate_window "soon"'):
        requests.migrate_request({"app": "a", "step": 5, "gate_window": "soon"},
                                 [{"name": "a", "host": "a.example", "servers": []}], ["n"])
