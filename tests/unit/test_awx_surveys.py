"""AWX job templates and surveys as data (playbooks/vars/awx.yml): every survey variable is one its playbook reads,
the rendering into AWX's survey_spec and workflow nodes, and the data errors named before anything reaches AWX.
That each variable is also *validated* (a bad value refused, naming it) is tests/integration/test_awx.py."""

import copy
import os

import pytest
import yaml

import playbook_vars
from ansible_collections.cloudshift.migration.plugins.module_utils import awx

ROOT = playbook_vars.ROOT
with open(os.path.join(ROOT, "playbooks", "vars", "awx.yml")) as handle:
    DATA = yaml.safe_load(handle)
TEMPLATES = DATA["awx_job_templates"]
APPS = ["application-01", "application-02"]


def test_the_playbooks_extra_vars_are_read_from_their_entry_points_and_jinja():
    assert playbook_vars.extra_vars(os.path.join(ROOT, "playbooks", "replicate.yml")) == ["app", "break_lock", "lock_node",
                                                                                          "schedule"]
    assert playbook_vars.extra_vars(os.path.join(ROOT, "playbooks", "report.yml")) == ["app", "dest", "route"]
    migrate = playbook_vars.extra_vars(os.path.join(ROOT, "playbooks", "migrate.yml"))
    assert {"app", "step", "force", "route", "gate_window", "dns_weight"} <= set(migrate)
    assert not [name for name in migrate if name.startswith("haproxy_")]
    assert playbook_vars.extra_vars(os.path.join(ROOT, "playbooks", "site.yml")) == []


def test_every_survey_variable_is_one_its_playbook_accepts():
    assert playbook_vars.survey_problems(TEMPLATES) == []
    workflow_templates = [{"id": "workflow", "playbook": template["playbook"], "survey": DATA["awx_workflow"]["survey"]}
                          for template in TEMPLATES if template["id"] != "site"]
    assert playbook_vars.survey_problems(workflow_templates) == []


def test_a_survey_variable_the_playbook_does_not_accept_fails_the_check():
    templates = copy.deepcopy(TEMPLATES)
    migrate = next(template for template in templates if template["id"] == "migrate")
    migrate["survey"].append({"variable": "stepp", "type": "multiplechoice", "choices": [25]})
    ramp = next(template for template in templates if template["id"] == "ramp")
    ramp["survey"].append({"variable": "haproxy_ramp_interval", "type": "integer", "min": 1, "max": 9})
    problems = playbook_vars.survey_problems(templates)
    assert len(problems) == 2, problems
    assert problems[0].startswith("job template 'migrate': survey variable 'stepp' is not one playbooks/migrate.yml")
    assert "it reads: app, approve, break_lock" in problems[0]
    # a role variable is not an extra var the playbook maps and validates
    assert "survey variable 'haproxy_ramp_interval' is not one playbooks/ramp.yml accepts" in problems[1]


def test_a_template_naming_a_missing_playbook_fails_the_check():
    templates = [dict(TEMPLATES[0], playbook="playbooks/migrat.yml")]
    assert playbook_vars.survey_problems(templates) == ["job template 'site': playbook playbooks/migrat.yml does not exist"]


def test_one_job_template_per_workflow_step_with_the_surveys_the_issue_names():
    rendered = {template["id"]: template for template in awx.job_templates(TEMPLATES, APPS, "cloudshift: ")}
    assert sorted(rendered) == ["deploy", "dns", "migrate", "ramp", "replicate", "report", "site"]
    deploy = {question["variable"]: question for question in rendered["deploy"]["survey_spec"]["spec"]}
    assert deploy["server"]["type"] == "text" and deploy["server"]["required"] is False
    assert rendered["site"]["survey_enabled"] is False and rendered["site"]["survey_spec"] == {}
    migrate = {question["variable"]: question for question in rendered["migrate"]["survey_spec"]["spec"]}
    assert migrate["app"]["type"] == "multiplechoice" and migrate["app"]["choices"] == "application-01\napplication-02"
    assert migrate["step"]["choices"].split("\n") == ["0", "1", "5", "10", "25", "50", "75", "100", "rollback", "status"]
    assert migrate["force"]["choices"] == "no\nyes" and migrate["force"]["default"] == "no"
    ramp = {question["variable"]: question for question in rendered["ramp"]["survey_spec"]["spec"]}
    assert (ramp["interval"]["min"], ramp["interval"]["max"], ramp["interval"]["default"]) == (10, 3600, 60)
    assert rendered["dns"]["playbook"] == "playbooks/migrate.yml"
    assert rendered["migrate"]["name"] == "cloudshift: migrate"
    for template in rendered.values():
        for question in template["survey_spec"].get("spec", []):
            if question["variable"] == "app":
                assert question["required"] and question["choices"].split("\n") == APPS


def test_the_workflow_chains_the_templates_and_gates_dns_behind_an_approval():
    nodes = {node["identifier"]: node for node in awx.workflow_nodes(DATA["awx_workflow"], TEMPLATES, "cs: ")}
    assert nodes["site"]["unified_job_template"] == {"type": "job_template", "name": "cs: site"}
    assert [edge["identifier"] for edge in nodes["ramp"]["related"]["success_nodes"]] == ["approve-dns"]
    assert nodes["approve-dns"]["unified_job_template"]["type"] == "workflow_approval"
    assert nodes["dns"]["extra_data"]["step"] == "dns"
    assert [edge["identifier"] for edge in nodes["dns"]["related"]["always_nodes"]] == ["report"]
    for identifier in ("site", "replicate", "ramp", "approve-dns"):
        assert {"identifier": "report"} in nodes[identifier]["related"]["failure_nodes"], identifier


@pytest.mark.parametrize("question, message", [
    ({"variable": "app", "type": "multiplechoice", "choices_from": "clusters"}, "unknown choices_from 'clusters'"),
    ({"variable": "app", "type": "menu"}, "unknown type 'menu'"),
    ({"variable": "step", "type": "multiplechoice"}, "needs choices"),
    ({"variable": "step", "type": "multiplechoice", "choices": [1, 5], "default": 50}, "default 50 is not one of the choices 1, 5"),
    ({"variable": "interval", "type": "integer", "min": 10, "max": 5}, "integer min <= max, got min=10 max=5"),
    ({"variable": "interval", "type": "integer", "min": 10, "max": 60, "default": 5}, "default 5 is outside 10..60"),
    ({"variable": "app; rm", "type": "text"}, "invalid variable name 'app; rm'"),
    ({"variable": "app", "type": "text", "choice": ["x"]}, "unknown key(s) choice"),
])
def test_bad_survey_data_is_refused_naming_the_value(question, message):
    template = {"id": "migrate", "name": "migrate", "playbook": "playbooks/migrate.yml", "survey": [question]}
    with pytest.raises(awx.AwxDataError) as error:
        awx.job_templates([template], APPS)
    assert message in str(error.value)
    assert "job template 'migrate'" in str(error.value)


def test_apps_from_an_inventory_without_apps_and_repeated_variables_are_refused():
    template = {"id": "report", "name": "report", "playbook": "playbooks/report.yml",
                "survey": [{"variable": "app", "type": "multiplechoice", "choices_from": "apps"}]}
    with pytest.raises(awx.AwxDataError, match="the inventory defines no app"):
        awx.job_templates([template], [])
    template["survey"].append(template["survey"][0])
    with pytest.raises(awx.AwxDataError, match="variable\\(s\\) asked twice: app"):
        awx.job_templates([template], APPS)
    with pytest.raises(awx.AwxDataError, match="job template id 'report' is used twice"):
        awx.job_templates([dict(template, survey=[]), dict(template, survey=[])], APPS)


def test_a_workflow_naming_an_unknown_template_or_node_is_refused():
    workflow = copy.deepcopy(DATA["awx_workflow"])
    workflow["nodes"][0]["template"] = "sites"
    with pytest.raises(awx.AwxDataError, match="workflow node 'site': unknown job template 'sites'"):
        awx.workflow_nodes(workflow, TEMPLATES)
    workflow = copy.deepcopy(DATA["awx_workflow"])
    workflow["nodes"][0]["success"] = ["replicat"]
    with pytest.raises(awx.AwxDataError, match="workflow node 'site': success edge to unknown node 'replicat'"):
        awx.workflow_nodes(workflow, TEMPLATES)
