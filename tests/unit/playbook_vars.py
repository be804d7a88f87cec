"""The extra vars a playbook of the collection reads: the options of the migration role's entry point it imports
(roles/migration/meta/argument_specs.yml, the operator's inputs), and every variable its own Jinja reads that nothing
defines.

Defined means: set by the playbook itself (play, block or task vars, vars_files, register, set_fact, loop
variables), by the collection (roles' defaults and inventories' group_vars use the prefixes haproxy_,
alerts_, cloudshift_, awx_) or by Ansible (magic variables, ansible_*). What is left is what an operator
passes with -e: app, step, force, interval...
"""

import os

import jinja2
import jinja2.nodes
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTION_PREFIXES = ("haproxy_", "alerts_", "cloudshift_", "awx_", "ansible_", "migration_")
ROLE_SPECS = os.path.join(ROOT, "roles", "migration", "meta", "argument_specs.yml")
MAGIC = {"hostvars", "groups", "group_names", "inventory_hostname", "inventory_hostname_short", "play_hosts",
         "playbook_dir", "role_path", "omit", "item", "lookup", "query", "q", "now", "undef", "range", "dict",
         "lipsum", "cycler", "joiner", "namespace", "true", "false", "none", "True", "False", "None",
         "ansible_play_hosts", "ansible_play_batch", "inventory_dir", "inventory_file"}
# Keys whose value is a bare Jinja expression (no braces).
CONDITIONS = ("when", "that", "until", "changed_when", "failed_when")


def _strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            if key in CONDITIONS and isinstance(value, str) and "{{" not in value:
                yield "{{ %s }}" % value
            elif key in CONDITIONS and isinstance(value, list):
                for condition in value:
                    if isinstance(condition, str) and "{{" not in condition:
                        yield "{{ %s }}" % condition
            else:
                yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _defined(node, found):
    """Names the playbook defines itself."""
    if isinstance(node, dict):
        for key in ("vars", "ansible.builtin.set_fact", "set_fact"):
            if isinstance(node.get(key), dict):
                found.update(node[key])
        if isinstance(node.get("register"), str):
            found.add(node["register"])
        loop_var = (node.get("loop_control") or {}).get("loop_var")
        if loop_var:
            found.add(loop_var)
        for value in node.values():
            _defined(value, found)
    elif isinstance(node, list):
        for value in node:
            _defined(value, found)


def read_vars(playbook_path):
    """Every variable name the playbook's templates and conditions read."""
    with open(playbook_path) as handle:
        plays = yaml.safe_load(handle)
    environment = jinja2.Environment()
    read = set()
    for text in _strings(plays):
        if "{{" not in text and "{%" not in text:
            continue
        tree = environment.parse(text)
        names = list(tree.find_all(jinja2.nodes.Name))
        stored = set(name.name for name in names if name.ctx == "store")  # {% for x in ... %}, {% set x %}
        read |= set(name.name for name in names if name.ctx == "load") - stored
    defined = set()
    _defined(plays, defined)
    for play in plays:
        for vars_file in play.get("vars_files", []) or []:
            with open(os.path.join(os.path.dirname(playbook_path), vars_file)) as handle:
                defined.update(yaml.safe_load(handle) or {})
    return read, defined


def _imported_entry_points(node, found):
    """The entry points of the migration role the playbook imports (tasks_from without .yml)."""
    if isinstance(node, dict):
        for key in ("ansible.builtin.import_role", "ansible.builtin.include_role", "import_role", "include_role"):
            role = node.get(key)
            if isinstance(role, dict) and role.get("name") == "cloudshift.migration.migration":
                found.add(os.path.splitext(role.get("tasks_from") or "main")[0])
        for value in node.values():
            _imported_entry_points(value, found)
    elif isinstance(node, list):
        for value in node:
            _imported_entry_points(value, found)


def entry_point_options(playbook_path):
    """The operator's inputs of the migration role's entry points the playbook imports (its argument specs)."""
    with open(playbook_path) as handle:
        plays = yaml.safe_load(handle)
    entry_points = set()
    _imported_entry_points(plays, entry_points)
    with open(ROLE_SPECS) as handle:
        specs = yaml.safe_load(handle)["argument_specs"]
    options = set()
    for entry_point in entry_points & set(specs):
        options.update(specs[entry_point].get("options") or {})
    return options


def extra_vars(playbook_path):
    """The extra vars the playbook reads (what -e can set)."""
    read, defined = read_vars(playbook_path)
    read |= entry_point_options(playbook_path)
    return sorted(name for name in read - defined - MAGIC if not name.startswith(COLLECTION_PREFIXES))


def survey_problems(templates, root=ROOT):
    """Every survey variable of the AWX data that its playbook does not read, as messages naming both."""
    problems = []
    for template in templates:
        playbook = os.path.join(root, template["playbook"])
        if not os.path.exists(playbook):
            problems.append("job template %r: playbook %s does not exist" % (template["id"], template["playbook"]))
            continue
        accepted = extra_vars(playbook)
        for question in template.get("survey") or []:
            if question["variable"] not in accepted:
                problems.append("job template %r: survey variable %r is not one %s accepts (it reads: %s)"
                                % (template["id"], question["variable"], template["playbook"], ", ".join(accepted)))
    return problems
