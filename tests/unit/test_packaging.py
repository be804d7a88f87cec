"""What ships: the collection's runtime Python requirements cover every import of plugins/, the development pins
satisfy them, the execution environment metadata points at files that exist, and bindep.txt names the Debian
packages that provide the binaries the collection runs (asked of dpkg on this machine)."""

import ast
import os
import shutil
import subprocess
import sys
from importlib import metadata

import yaml
from bindep.depends import Depends
from packaging.requirements import Requirement

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def read(path):
    with open(os.path.join(ROOT, path)) as handle:
        return handle.read()


def requirements(path):
    found = []
    for line in read(path).splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            found.append(Requirement(line))
    return found


def third_party_imports():
    """Top-level modules imported anywhere under plugins/ that are neither the standard library nor Ansible."""
    found = {}
    for base, _dirs, names in os.walk(os.path.join(ROOT, "plugins")):
        for name in names:
            if not name.endswith(".py"):
                continue
            path = os.path.join(base, name)
            with open(path) as handle:
                tree = ast.parse(handle.read())
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in ("ansible", "ansible_collections"):
                        found.setdefault(top, os.path.relpath(path, ROOT))
    return found


def ansible_core_requirements():
    return set(Requirement(text).name.lower() for text in metadata.requires("ansible-core") or []
               if "extra ==" not in text)


def test_every_python_import_of_the_collection_is_covered():
    distributions = metadata.packages_distributions()
    runtime = set(requirement.name.lower() for requirement in requirements("requirements.txt"))
    covered = runtime | ansible_core_requirements()
    imports = third_party_imports()
    assert {"boto3", "botocore"} <= set(imports)  # the scan sees imports inside try: blocks too
    missing = []
    for module, where in sorted(imports.items()):
        providers = set(name.lower() for name in distributions.get(module, [module]))
        if not providers & covered:
            missing.append("%s (imported by %s, provided by %s)" % (module, where, ", ".join(sorted(providers))))
    assert missing == [], "not in requirements.txt: " + "; ".join(missing)


def test_the_role_filters_runtime_needs_are_listed():
    # password_hash (the stats page) needs passlib in an execution environment whose Python has no crypt module.
    assert "password_hash" in read("roles/haproxy/templates/stats-page.cfg.j2")
    assert "passlib" in [requirement.name for requirement in requirements("requirements.txt")]


def test_the_development_pins_satisfy_the_runtime_ranges():
    pins = dict((requirement.name.lower(), str(next(iter(requirement.specifier))).lstrip("="))
                for requirement in requirements("requirements-dev.txt"))
    for requirement in requirements("requirements.txt"):
        assert requirement.name.lower() in pins, requirement.name
        assert requirement.specifier.contains(pins[requirement.name.lower()]), (requirement, pins[requirement.name.lower()])


def test_the_execution_environment_metadata_points_at_the_dependency_files():
    meta = yaml.safe_load(read("meta/execution-environment.yml"))
    assert meta["dependencies"] == {"python": "requirements.txt", "system": "bindep.txt"}
    for path in meta["dependencies"].values():
        assert not os.path.isabs(path) and os.path.isfile(os.path.join(ROOT, path)), path
    definition = yaml.safe_load(read("execution-environment.yml"))
    assert definition["version"] == 3
    assert definition["dependencies"]["ansible_core"]["package_pip"] == "ansible-core>=2.19,<2.20"


def package_of(binary):
    path = shutil.which(binary) or binary
    path = os.path.realpath(path)
    owner = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True, check=False)
    assert owner.returncode == 0, "no Debian package owns %s: %s" % (path, owner.stderr)
    return owner.stdout.split(":", 1)[0]


def test_bindep_names_the_packages_of_the_binaries_the_collection_runs():
    depends = Depends(read("bindep.txt"))
    debian = set(rule[0] for rule in depends.active_rules(["platform:dpkg"]))
    redhat = set(rule[0] for rule in depends.active_rules(["platform:rpm"]))
    haproxy_binary = yaml.safe_load(read("roles/haproxy/defaults/main.yml"))["haproxy_binary"]
    promtool = yaml.safe_load(read("roles/alerts/defaults/main.yml"))["alerts_promtool"]
    for binary in (haproxy_binary, promtool, "socat", "openssl"):
        package = package_of(binary)
        assert package in debian, (binary, package, sorted(debian))
    assert {"haproxy", "socat", "openssl"} <= redhat


def test_the_changelog_has_the_release_of_galaxy_yml_and_lints_clean():
    version = yaml.safe_load(read("galaxy.yml"))["version"]
    changelog = yaml.safe_load(read("changelogs/changelog.yaml"))
    assert version in changelog["releases"], sorted(changelog["releases"])
    assert max(changelog["releases"], key=lambda text: tuple(int(part) for part in text.split("."))) == version
    assert "\nv%s\n" % version in read("CHANGELOG.rst")
    antsibull = os.path.join(os.path.dirname(sys.executable), "antsibull-changelog")
    for command in (["lint"], ["lint-changelog-yaml", "changelogs/changelog.yaml"]):
        result = subprocess.run([antsibull] + command, cwd=ROOT, capture_output=True, text=True, check=False)
        assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_every_role_has_a_molecule_scenario_and_make_test_runs_them_all():
    roles = sorted(os.listdir(os.path.join(ROOT, "roles")))
    scenarios = sorted(name for name in os.listdir(os.path.join(ROOT, "extensions", "molecule"))
                       if os.path.isfile(os.path.join(ROOT, "extensions", "molecule", name, "molecule.yml")))
    assert roles == scenarios
    for scenario in scenarios:
        directory = os.path.join(ROOT, "extensions", "molecule", scenario)
        assert os.path.isfile(os.path.join(directory, "converge.yml"))
        assert os.path.isfile(os.path.join(directory, "tests", "test_default.py"))  # testinfra verify
        sequence = yaml.safe_load(read(os.path.join("extensions", "molecule", scenario, "molecule.yml")))["scenario"]["test_sequence"]
        assert {"converge", "idempotence", "verify"} <= set(sequence), scenario
    makefile = read("Makefile")
    assert "molecule test --all" in makefile
    test_target = makefile.split("\ntest: ")[1].split("\n\n")[0]
    assert "molecule" in test_target and "lint" in test_target and "sanity" in test_target
