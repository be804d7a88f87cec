"""Install the awx.awx collection (playbooks/awx.yml's modules) into .ansible/collections, offline from PyPI.

Galaxy is out of reach here; PyPI is not, and the `ansible` package pinned in requirements-bench.txt carries
awx.awx. Only that collection is taken out of the wheel (pip download, no install), so the venv's ansible-core
and the collections ansible-lint and sanity see stay as they are.
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
TARGET = os.path.join(ROOT, ".ansible", "collections", "ansible_collections", "awx", "awx")
PREFIX = "ansible_collections/awx/awx/"


def pinned_ansible():
    with open(os.path.join(ROOT, "requirements-bench.txt")) as handle:
        for line in handle:
            match = re.match(r"^ansible==(\S+)", line.strip())
            if match:
                return match.group(1)
    sys.exit("requirements-bench.txt pins no `ansible==` version")


def main():
    if os.path.exists(os.path.join(TARGET, "MANIFEST.json")):
        return 0
    version = pinned_ansible()
    with tempfile.TemporaryDirectory() as download_dir:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", download_dir,
                        "ansible==%s" % version], check=True)
        wheel = glob.glob(os.path.join(download_dir, "ansible-%s-*.whl" % version))[0]
        staging = TARGET + ".partial"
        shutil.rmtree(staging, ignore_errors=True)
        with zipfile.ZipFile(wheel) as archive:
            members = [name for name in archive.namelist() if name.startswith(PREFIX) and not name.endswith("/")]
            for name in members:
                path = os.path.join(staging, name[len(PREFIX):])
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with archive.open(name) as source, open(path, "wb") as dest:
                    shutil.copyfileobj(source, dest)
        shutil.rmtree(TARGET, ignore_errors=True)
        os.rename(staging, TARGET)
    print("installed awx.awx from ansible %s into %s" % (version, os.path.relpath(TARGET, ROOT)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
