"""The release (issue 9): `ansible-galaxy collection build` gives a tarball without tests, benches or local state;
installed into a fresh path it runs from there: every playbook passes --syntax-check by its FQCN, ansible-doc
lists and documents every module and filter, a module and a playbook run, and ansible-builder finds the
collection's Python and system needs in it and writes an execution environment's build context."""

import json
import os
import shutil
import subprocess
import tarfile

import pytest
import yaml

from localenv_fixture import ROOT, VENV_BIN

with open(os.path.join(ROOT, "galaxy.yml")) as handle:
    GALAXY = yaml.safe_load(handle)
MODULES = sorted(name[:-3] for name in os.listdir(os.path.join(ROOT, "plugins", "modules"))
                 if name.endswith(".py") and name != "__init__.py")
FILTERS = sorted(name[:-3] for name in os.listdir(os.path.join(ROOT, "plugins", "filter"))
                 if name.endswith(".py") and name != "__init__.py")
PLAYBOOKS = sorted(name[:-4] for name in os.listdir(os.path.join(ROOT, "playbooks")) if name.endswith(".yml"))
NEVER_SHIPPED = ("tests/", "bench/", "extensions/", "scripts/", ".venv/", ".run/", ".ansible/", ".git/", "ee/",
                 "reports/", ".ci/", "inventories/local/")


class Fresh:
    """A fresh place: the tarball installed under `collections`, an empty ansible.cfg, nothing of the checkout."""

    def __init__(self, base):
        self.base = str(base)
        self.collections = os.path.join(self.base, "collections")
        self.installed = os.path.join(self.collections, "ansible_collections", "cloudshift", "migration")
        config = os.path.join(self.base, "ansible.cfg")
        with open(config, "w") as handle:
            handle.write("[defaults]\nretry_files_enabled = false\n")
        self.env = dict(os.environ, ANSIBLE_CONFIG=config, ANSIBLE_COLLECTIONS_PATH=self.collections,
                        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false", ANSIBLE_NOCOLOR="1",
                        ANSIBLE_LOCAL_TEMP=os.path.join(self.base, "tmp"), ANSIBLE_HOME=os.path.join(self.base, "home"),
                        PATH=VENV_BIN + os.pathsep + os.environ["PATH"])

    def run(self, *command, check=True):
        result = subprocess.run(list(command), cwd=self.base, env=self.env, capture_output=True, text=True, timeout=300,
                                check=False)
        if check:
            assert result.returncode == 0, "%s\n%s\n%s" % (" ".join(command), result.stdout[-3000:], result.stderr[-3000:])
        return result


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    output = tmp_path_factory.mktemp("build")
    subprocess.run([os.path.join(VENV_BIN, "ansible-galaxy"), "collection", "build", "--output-path", str(output)],
                   cwd=ROOT, check=True, capture_output=True)
    path = os.path.join(str(output), "cloudshift-migration-%s.tar.gz" % GALAXY["version"])
    assert os.path.exists(path), os.listdir(str(output))
    return path


@pytest.fixture(scope="module")
def fresh(tmp_path_factory, tarball):
    place = Fresh(tmp_path_factory.mktemp("fresh"))
    # Its dependency kubernetes.core (galaxy.yml) is already there, as Galaxy would have put it: offline, the install
    # resolves it from the path.
    shutil.copytree(os.path.join(ROOT, ".ansible", "collections", "ansible_collections", "kubernetes"),
                    os.path.join(place.collections, "ansible_collections", "kubernetes"))
    place.run("ansible-galaxy", "collection", "install", "--offline", "-p", place.collections, tarball)
    # playbooks/awx.yml needs awx.awx, installed next to it as an operator would from Galaxy
    shutil.copytree(os.path.join(ROOT, ".ansible", "collections", "ansible_collections", "awx"),
                    os.path.join(place.collections, "ansible_collections", "awx"))
    return place


def test_the_tarball_carries_the_collection_and_nothing_of_development(tarball):
    with tarfile.open(tarball) as archive:
        members = [member.name for member in archive.getmembers()]
        sizes = dict((member.name, member.size) for member in archive.getmembers())
    shipped = [name for name in members if name.startswith(NEVER_SHIPPED) or "__pycache__" in name
               or name.endswith(".pyc") or name in ("Makefile", "ansible.cfg", "requirements-dev.txt",
                                                    "requirements-dev.in", "requirements-bench.txt",
                                                    "execution-environment.yml")]
    assert shipped == []
    for needed in ("MANIFEST.json", "README.md", "CHANGELOG.rst", "requirements.txt", "bindep.txt",
                   "meta/runtime.yml", "meta/execution-environment.yml", "changelogs/changelog.yaml",
                   "docs/runbook.md", "docs/app-model.md", "docs/benchmarks.md", "playbooks/vars/awx.yml",
                   "roles/haproxy/meta/argument_specs.yml", "roles/alerts/meta/argument_specs.yml",
                   "inventories/example/hosts.yml"):
        assert needed in members, needed
    for module in MODULES:
        assert "plugins/modules/%s.py" % module in members
        assert "docs/modules/%s.md" % module in members
    assert max(sizes.values()) < 1024 * 1024, max(sizes.items(), key=lambda item: item[1])
    with tarfile.open(tarball) as archive:
        manifest = json.load(archive.extractfile("MANIFEST.json"))
    assert manifest["collection_info"]["version"] == GALAXY["version"]
    assert manifest["collection_info"]["dependencies"] == {"kubernetes.core": ">=5.0.0"}


def test_it_installs_into_a_fresh_path_and_is_listed(fresh):
    listed = fresh.run("ansible-galaxy", "collection", "list", "-p", fresh.collections, "cloudshift.migration").stdout
    assert "cloudshift.migration" in listed and GALAXY["version"] in listed
    assert not os.path.islink(fresh.installed)  # a copy, not the checkout


def test_every_playbook_passes_syntax_check_by_its_fqcn(fresh):
    inventory = os.path.join(fresh.installed, "inventories", "example", "hosts.yml")
    for playbook in PLAYBOOKS:
        result = fresh.run("ansible-playbook", "cloudshift.migration.%s" % playbook, "--syntax-check", "-i", inventory)
        assert "playbook: " in result.stdout, playbook


def test_ansible_doc_lists_every_module_with_a_description(fresh):
    listed = json.loads(fresh.run("ansible-doc", "-l", "cloudshift.migration", "--json").stdout)
    assert sorted(listed) == ["cloudshift.migration.%s" % module for module in MODULES]
    for name, description in listed.items():
        assert description and description.strip() and "UNDOCUMENTED" not in description, name
    text = fresh.run("ansible-doc", "-l", "cloudshift.migration").stdout
    for module in MODULES:
        assert "cloudshift.migration.%s" % module in text
    filters = json.loads(fresh.run("ansible-doc", "-t", "filter", "-l", "cloudshift.migration", "--json").stdout)
    assert sorted(filters) == ["cloudshift.migration.%s" % name for name in FILTERS]


def test_ansible_doc_documents_every_module(fresh):
    docs = json.loads(fresh.run("ansible-doc", "--json", *["cloudshift.migration.%s" % module for module in MODULES]).stdout)
    for module in MODULES:
        doc = docs["cloudshift.migration.%s" % module]["doc"]
        assert doc["short_description"] and doc["options"] is not None, module
        assert docs["cloudshift.migration.%s" % module]["examples"].strip(), module
    for module in MODULES:
        assert "OPTIONS" in fresh.run("ansible-doc", "cloudshift.migration.%s" % module).stdout, module


def test_a_module_and_a_playbook_run_from_the_fresh_path(fresh, tmp_path):
    missing = str(tmp_path / "no-such" / "admin.sock")
    result = fresh.run("ansible", "localhost", "-m", "cloudshift.migration.haproxy_backend_info", "-a",
                       "socket=%s backends=application-01" % missing, "-e", "ansible_python_interpreter=%s" % os.path.join(VENV_BIN, "python"),
                       check=False)
    assert result.returncode != 0
    assert missing in result.stdout and "does not exist" in result.stdout, result.stdout

    # One node on this machine with the example fleet's app model: the role validates from the installed copy.
    inventory = tmp_path / "inventory"
    shutil.copytree(os.path.join(fresh.installed, "inventories", "example", "group_vars"), str(inventory / "group_vars"))
    (inventory / "hosts.yml").write_text(yaml.safe_dump({"haproxy": {"hosts": {"node-1": {
        "ansible_connection": "local", "ansible_python_interpreter": os.path.join(VENV_BIN, "python")}}}}))
    result = fresh.run("ansible-playbook", "cloudshift.migration.migrate", "-i", str(inventory),
                       "-e", "app=application-99", "-e", "step=25", check=False)
    assert result.returncode != 0
    assert 'unknown app "application-99"' in " ".join(result.stdout.split()), result.stdout[-3000:]

    rendered = tmp_path / "awx"
    fresh.run("ansible-playbook", "cloudshift.migration.awx", "-i", str(inventory), "-e", "awx_render_dir=%s" % rendered)
    migrate = json.loads((rendered / "job_template-migrate.json").read_text())
    names = fresh.run("ansible", "node-1", "-i", str(inventory), "-m", "ansible.builtin.debug", "-a",
                      "msg={{ cloudshift_apps | map(attribute='name') | join(',') }}").stdout
    apps = names.split('"msg": "')[1].split('"')[0].split(",")
    assert apps == ["application-01", "application-02"]
    app_question = next(question for question in migrate["survey_spec"]["spec"] if question["variable"] == "app")
    assert app_question["choices"].split("\n") == apps


def test_ansible_builder_finds_the_collections_needs_in_the_installed_copy(fresh):
    introspected = yaml.safe_load(fresh.run("ansible-builder", "introspect", fresh.collections).stdout)
    python = [line.split("#")[0].strip() for line in introspected["python"] if "cloudshift.migration" in line]
    system = [line.split("#")[0].strip() for line in introspected["system"] if "cloudshift.migration" in line]
    assert [entry.split(">=")[0] for entry in python] == ["boto3", "botocore", "passlib", "kubernetes"]
    assert "haproxy [platform:dpkg platform:rpm]" in system and "socat [platform:dpkg platform:rpm]" in system


def test_ansible_builder_writes_the_execution_environments_build_context(fresh, tarball, tmp_path):
    shutil.copy(os.path.join(ROOT, "execution-environment.yml"), str(tmp_path))
    (tmp_path / "ee").mkdir()
    shutil.copy(tarball, str(tmp_path / "ee" / "cloudshift-migration.tar.gz"))
    context = tmp_path / "context"
    fresh.run("ansible-builder", "create", "-f", str(tmp_path / "execution-environment.yml"), "--context", str(context))
    containerfile = (context / "Dockerfile").read_text() if (context / "Dockerfile").exists() else (context / "Containerfile").read_text()
    assert "COPY _build/collections/cloudshift-migration.tar.gz /build/cloudshift-migration.tar.gz" in containerfile
    assert "introspect" in containerfile
    galaxy = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    assert {"name": "/build/cloudshift-migration.tar.gz", "type": "file"} in galaxy["collections"]
    assert (context / "_build" / "collections" / "cloudshift-migration.tar.gz").stat().st_size > 0
