import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, ".ansible", "collections")
LINK = os.path.join(COLLECTIONS, "ansible_collections", "cloudshift", "migration")

# Import the collection as Ansible does: ansible_collections.cloudshift.migration.*
if not os.path.exists(LINK):
    os.makedirs(os.path.dirname(LINK), exist_ok=True)
    os.symlink(ROOT, LINK)
for path in (COLLECTIONS, os.path.join(ROOT, "scripts"), os.path.join(ROOT, "tests", "integration")):
    if path not in sys.path:
        sys.path.insert(0, path)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "serial: bounds measured in time (detection within N s, latency under N ms); `make test` runs "
                   "these files on their own, after the others have run two files at a time")
