"""Approvals (pure): the app model's entry, the refusal of a step up without its approver, a ramp's stages."""

import pytest

from ansible_collections.cloudshift.migration.plugins.module_utils import approval

APP = {"name": "application-01", "approval": {"from_step": 50, "approvers": ["alice", "bob.ops@6play.fr"]}}


@pytest.mark.parametrize("entry, message", [
    ({"from_step": 0}, "approval.from_step 0 is not a step from 1 to 100"),
    ({"from_step": "50"}, "approval.from_step '50' is not a step from 1 to 100"),
    ({"from_step": 50, "approvers": "alice"}, "approval.approvers 'alice' must be a list of names"),
    ({"from_step": 50, "approvers": ["alice; rm"]}, "approval.approvers ['alice; rm'] must be a list of names"),
    ({"from_step": 50, "who": ["alice"]}, "approval has an unknown key 'who' (known: from_step, approvers)"),
    ("yes", "approval must be a mapping (from_step, approvers), got 'yes'"),
])
def test_a_bad_approval_entry_is_named(entry, message):
    problems = approval.approval_problems({"approval": entry}, 'app "application-01"')
    assert any(problem.startswith('app "application-01": ' + message) for problem in problems), problems


def test_a_step_up_to_the_approval_step_needs_an_approver_of_the_list_and_going_down_never_does():
    assert approval.refusal(APP, "application-01", 25, 50, True, None) == (
        "refused: application-01 stays at step 25, step 50 needs an approval from step 50 on (-e approve=NAME, one "
        "of alice, bob.ops@6play.fr); nothing was changed")
    assert approval.refusal(APP, "application-01", 25, 75, True, "mallory") == (
        "refused: application-01 stays at step 25, mallory may not approve step 75 (approvers: alice, "
        "bob.ops@6play.fr); nothing was changed")
    assert approval.refusal(APP, "application-01", 25, 50, True, "bob.ops@6play.fr") is None
    assert approval.refusal(APP, "application-01", 25, 40, True, None) is None  # below from_step
    assert approval.refusal(APP, "application-01", 100, 75, False, None) is None  # going down
    anyone = {"approval": {"from_step": 100}}
    assert approval.refusal(anyone, "application-01", 75, 100, True, "carol") is None


def test_a_ramp_names_the_stages_that_need_an_approval_given_at_its_start():
    assert approval.ramp_refusal(APP, "application-01", [10, 25, 50, 75], None) == (
        "stages 50, 75 of the ramp of application-01 need an approval (-e approve=NAME, one of alice, bob.ops@6play.fr)")
    assert approval.ramp_refusal(APP, "application-01", [10, 25], None) is None
    assert approval.ramp_refusal(APP, "application-01", [50], "alice") is None
    assert approval.approver_problem("alice smith") == (
        "invalid approve 'alice smith': the approver's name (letters, digits, . _ @ + -, up to 64)")
