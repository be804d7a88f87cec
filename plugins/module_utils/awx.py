# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWX job templates and surveys as data (playbooks/vars/awx.yml) turned into what the awx.awx modules take.

Pure functions: no AWX, no network. A question's choices are either written out or taken from the inventory
(choices_from: apps), so the survey offers exactly the apps the inventory's app model knows.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError

QUESTION_TYPES = ("multiplechoice", "integer", "text")
CHOICE_SOURCES = ("apps",)
VARIABLE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
QUESTION_KEYS = frozenset(("variable", "question", "description", "type", "required", "default", "choices",
                           "choices_from", "min", "max"))
TEMPLATE_KEYS = frozenset(("id", "name", "description", "playbook", "survey", "extra_vars"))


class AwxDataError(CloudshiftError, ValueError):
    """The AWX data names something wrong; the message names the template, the question and the value."""


def _where(template, question=None):
    where = "job template %r" % template.get("id", template.get("name"))
    if question is not None:
        where += ", question %r" % question.get("variable")
    return where


def _choices(template, question, apps):
    if "choices_from" in question:
        source = question["choices_from"]
        if source not in CHOICE_SOURCES:
            raise AwxDataError("%s: unknown choices_from %r (known: %s)"
                               % (_where(template, question), source, ", ".join(CHOICE_SOURCES)))
        if not apps:
            raise AwxDataError("%s: choices_from apps, but the inventory defines no app (cloudshift_apps)"
                               % _where(template, question))
        return [str(app) for app in apps]
    choices = question.get("choices")
    if not isinstance(choices, list) or not choices:
        raise AwxDataError("%s: a multiplechoice question needs choices (a list) or choices_from"
                           % _where(template, question))
    return [str(choice) for choice in choices]


def survey_question(template, question, apps):
    """One question in AWX's survey_spec form."""
    if not isinstance(question, dict):
        raise AwxDataError("%s: a question is a mapping, got %r" % (_where(template), question))
    unknown = sorted(set(question) - QUESTION_KEYS)
    if unknown:
        raise AwxDataError("%s: unknown key(s) %s" % (_where(template, question), ", ".join(unknown)))
    variable = question.get("variable")
    if not isinstance(variable, str) or not VARIABLE_RE.match(variable):
        raise AwxDataError("%s: invalid variable name %r" % (_where(template), variable))
    kind = question.get("type", "text")
    if kind not in QUESTION_TYPES:
        raise AwxDataError("%s: unknown type %r (known: %s)"
                           % (_where(template, question), kind, ", ".join(QUESTION_TYPES)))
    spec = {
        "question_name": question.get("question", variable),
        "question_description": question.get("description", ""),
        "variable": variable,
        "type": kind,
        "required": bool(question.get("required", False)),
        "default": "" if question.get("default") is None else question["default"],
    }
    if kind == "multiplechoice":
        choices = _choices(template, question, apps)
        if spec["default"] != "" and str(spec["default"]) not in choices:
            raise AwxDataError("%s: default %r is not one of the choices %s"
                               % (_where(template, question), spec["default"], ", ".join(choices)))
        spec["default"] = str(spec["default"])
        # AWX takes the choices as one newline-separated string (every version) or a list (recent ones).
        spec["choices"] = "\n".join(choices)
    elif kind == "integer":
        low, high = question.get("min"), question.get("max")
        if not isinstance(low, int) or not isinstance(high, int) or low > high:
            raise AwxDataError("%s: an integer question needs integer min <= max, got min=%r max=%r"
                               % (_where(template, question), low, high))
        spec["min"], spec["max"] = low, high
        if spec["default"] != "" and not (isinstance(spec["default"], int) and low <= spec["default"] <= high):
            raise AwxDataError("%s: default %r is outside %d..%d"
                               % (_where(template, question), spec["default"], low, high))
    return spec


def survey_spec(template, apps):
    """AWX's survey_spec for one job template (or workflow) of the data, {} when it asks nothing."""
    apps = list(apps or [])
    questions = template.get("survey") or []
    specs = [survey_question(template, question, apps) for question in questions]
    variables = [spec["variable"] for spec in specs]
    repeated = sorted(set(name for name in variables if variables.count(name) > 1))
    if repeated:
        raise AwxDataError("%s: variable(s) asked twice: %s" % (_where(template), ", ".join(repeated)))
    if not specs:
        return {}
    return {"name": template.get("name", ""), "description": template.get("description", ""), "spec": specs}


def job_templates(templates, apps, prefix=""):
    """The job templates of the data with their survey specs, names prefixed (e.g. 'cloudshift: ')."""
    apps = list(apps or [])
    rendered, seen = [], set()
    for template in templates:
        if not isinstance(template, dict):
            raise AwxDataError("a job template is a mapping, got %r" % (template,))
        unknown = sorted(set(template) - TEMPLATE_KEYS)
        if unknown:
            raise AwxDataError("%s: unknown key(s) %s" % (_where(template), ", ".join(unknown)))
        for key in ("id", "name", "playbook"):
            if not isinstance(template.get(key), str) or not template[key]:
                raise AwxDataError("%s: %s is required (a string)" % (_where(template), key))
        if template["id"] in seen:
            raise AwxDataError("job template id %r is used twice" % template["id"])
        seen.add(template["id"])
        spec = survey_spec(template, apps)
        rendered.append({
            "id": template["id"],
            "name": prefix + template["name"],
            "description": template.get("description", ""),
            "playbook": template["playbook"],
            "extra_vars": template.get("extra_vars") or {},
            "survey_enabled": bool(spec),
            "survey_spec": spec,
        })
    return rendered


def workflow_nodes(workflow, templates, prefix=""):
    """awx.awx.workflow_job_template's workflow_nodes for the workflow of the data.

    Each node names a job template of the data by id (or is an approval); its success/failure/always edges name
    other nodes. Everything is checked here, so a wrong id fails before anything reaches AWX."""
    template_names = dict((template["id"], prefix + template["name"]) for template in templates)
    nodes = workflow.get("nodes") or []
    identifiers = [node.get("identifier") for node in nodes if isinstance(node, dict)]
    if len(identifiers) != len(nodes) or len(set(identifiers)) != len(identifiers) or not all(identifiers):
        raise AwxDataError("workflow %r: every node needs its own identifier, got %r" % (workflow.get("name"), identifiers))
    rendered = []
    for node in nodes:
        if "approval" in node:
            unified = {"type": "workflow_approval", "name": node["approval"],
                       "description": node.get("description", ""), "timeout": int(node.get("timeout", 0))}
        else:
            template_id = node.get("template")
            if template_id not in template_names:
                raise AwxDataError("workflow node %r: unknown job template %r (known: %s)"
                                   % (node["identifier"], template_id, ", ".join(sorted(template_names))))
            unified = {"type": "job_template", "name": template_names[template_id]}
            if workflow.get("organization"):
                unified["organization"] = {"name": workflow["organization"]}
        related = {}
        for edge in ("success", "failure", "always"):
            targets = node.get(edge) or []
            for target in targets:
                if target not in identifiers:
                    raise AwxDataError("workflow node %r: %s edge to unknown node %r" % (node["identifier"], edge, target))
            related[edge + "_nodes"] = [{"identifier": target} for target in targets]
        entry = {"identifier": node["identifier"], "unified_job_template": unified, "related": related}
        if node.get("extra_data"):
            entry["extra_data"] = node["extra_data"]
        rendered.append(entry)
    return rendered
