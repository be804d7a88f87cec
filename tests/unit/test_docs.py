"""The docs that ship: one page per module, identical to what its DOCUMENTATION says today (scripts/module_docs.py);
the runbook's commands name playbooks that exist, with options those playbooks read."""

import os
import re
import shlex
import subprocess
import sys

import yaml

import playbook_vars

ROOT = playbook_vars.ROOT


def test_every_module_has_its_page_and_no_page_is_stale():
    result = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "module_docs.py"), "--check"],
                            capture_output=True, text=True, check=False, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    modules = sorted(name[:-3] for name in os.listdir(os.path.join(ROOT, "plugins", "modules"))
                     if name.endswith(".py") and name != "__init__.py")
    pages = sorted(name[:-3] for name in os.listdir(os.path.join(ROOT, "docs", "modules")) if name != "README.md")
    assert pages == modules


def test_a_stale_page_is_found(tmp_path):
    """The check compares text: a page edited by hand (or a module whose doc changed) is named."""
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    try:
        import module_docs
    finally:
        sys.path.pop(0)
    page = module_docs.page("x", {"doc": {"short_description": "Does C(x)", "description": ["Uses RV(y=1) and M(z)."],
                                          "options": {"a": {"type": "int", "default": 1, "description": "A | B"}}},
                                  "examples": "- name: X\n", "return": {}})
    assert "Does `x`" in page and "Uses `y=1` and `z`." in page
    assert "| `a` | int | default `1` | A \\| B |" in page


def runbook_commands():
    with open(os.path.join(ROOT, "docs", "runbook.md")) as handle:
        text = handle.read()
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("   #")[0].strip()
            if "ansible-playbook" in line:
                commands.append(line)
    return commands


def test_the_runbooks_commands_name_existing_playbooks_and_options_they_read():
    commands = runbook_commands()
    assert len(commands) >= 12
    # awx.yml's own options all start with awx_, which the reader counts as the collection's, not -e options
    with open(os.path.join(ROOT, "playbooks", "vars", "awx.yml")) as handle:
        awx_options = set(yaml.safe_load(handle)) | {"awx_inventory", "awx_project", "awx_render_dir"}
    accepted_by = {}
    problems = []
    for command in commands:
        words = shlex.split(command.replace("…", "x"))
        playbook = next(word for word in words if word.startswith("playbooks/"))
        path = os.path.join(ROOT, playbook)
        if not os.path.exists(path):
            problems.append("%s: no such playbook" % playbook)
            continue
        if playbook not in accepted_by:
            accepted_by[playbook] = set(playbook_vars.extra_vars(path)) | (awx_options if playbook.endswith("awx.yml") else set())
        accepted = accepted_by[playbook]
        for index, word in enumerate(words):
            if word == "-e":
                value = words[index + 1]
                names = list(yaml.safe_load(value)) if value.startswith("{") else [value.split("=", 1)[0]]
                problems += ["%s: -e %s is not an option it reads" % (playbook, name) for name in names if name not in accepted]
    assert problems == []
