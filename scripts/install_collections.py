"""Install the collections the playbooks use besides this one into .ansible/collections, offline from PyPI: awx.awx
(playbooks/awx.yml's modules) and kubernetes.core (deploy.yml applies an app's manifests with kubernetes.core.k8s).

Galaxy is out of reach here; PyPI is not, and the `ansible` package pinned in requirements-bench.txt carries both.
Only those collections are taken out of the wheel (pip download, no install), so the venv's ansible-core and the
collections ansible-lint and sanity see stay as they are.
"""

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = (("awx", "awx"), ("kubernetes", "core"))


def pinned_ansible():
    with open(os.path.join(ROOT, "requirements-bench.txt")) as handle:
        for line in handle:
            match = re.match(r"^ansible==(\S+)", line.strip())
            if match:
                return match.group(1)
    sys.exit("requirements-bench.txt pins no `ansible==` version")


def target_of(namespace, name):
    return os.path.join(ROOT, ".ansible", "collections", "ansible_collections", namespace, name)


def extract(archive, namespace, name):
    prefix = "ansible_collections/%s/%s/" % (namespace, name)
    target = target_of(namespace, name)
    staging = target + ".partial"
    shutil.rmtree(staging, ignore_errors=True)
    members = [item for item in archive.namelist() if item.startswith(prefix) and not item.endswith("/")]
    for member in members:
        path = os.path.join(staging, member[len(prefix):])
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with archive.open(member) as source, open(path, "wb") as dest:
            shutil.copyfileobj(source, dest)
    shutil.rmtree(target, ignore_errors=True)
    os.rename(staging, target)


def main():
    missing = [(namespace, name) for namespace, name in COLLECTIONS
               if not os.path.exists(os.path.join(target_of(namespace, name), "MANIFEST.json"))]
    if not missing:
        return 0
    version = pinned_ansible()
    with tempfile.TemporaryDirectory() as download_dir:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", download_dir,
                        "ansible==%s" % version], check=True)
        wheel = glob.glob(os.path.join(download_dir, "ansible-%s-*.whl" % version))[0]
        with zipfile.ZipFile(wheel) as archive:
            for namespace, name in missing:
                extract(archive, namespace, name)
                print("installed %s.%s from ansible %s into %s" % (
                    namespace, name, version, os.path.relpath(target_of(namespace, name), ROOT)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
