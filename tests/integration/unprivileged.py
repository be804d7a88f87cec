"""Running collection code as `nobody` wherever the checkout lives (issue 18 #13).

The checkout, its venv and pytest's temporary directories may sit under directories `nobody` cannot enter (a clone
under a 0700 temp dir, /root): a test that runs code as another user gives it its own world-readable copy of what it
imports, in a directory of its own under /tmp, instead of relying on the checkout's permissions.
"""

import os
import shutil
import stat
import tempfile

import ansible

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOBODY_PYTHON = "/usr/bin/python3"  # the system's: the venv's interpreter may be out of nobody's reach


def _open_up(directory):
    for base, _dirs, files in os.walk(directory):
        os.chmod(base, 0o755)
        for name in files:
            path = os.path.join(base, name)
            os.chmod(path, stat.S_IMODE(os.stat(path).st_mode) | 0o444)


def readable_tree():
    """A new directory under /tmp (mode 755) holding the collection's plugins and ansible's module_utils, to put on
    PYTHONPATH of a process run as nobody; the caller removes it (shutil.rmtree)."""
    directory = tempfile.mkdtemp(prefix="cloudshift-nobody-", dir="/tmp")
    ansible_dir = os.path.dirname(os.path.abspath(ansible.__file__))
    target = os.path.join(directory, "ansible")
    os.makedirs(target)
    for name in ("__init__.py", "release.py"):
        if os.path.exists(os.path.join(ansible_dir, name)):
            shutil.copy(os.path.join(ansible_dir, name), target)
    ignore = shutil.ignore_patterns("__pycache__")
    for package in ("_vendor", "module_utils"):  # what ansible/__init__.py and a module's imports need
        shutil.copytree(os.path.join(ansible_dir, package), os.path.join(target, package), ignore=ignore)
    collection = os.path.join(directory, "ansible_collections", "cloudshift", "migration")
    shutil.copytree(os.path.join(ROOT, "plugins"), os.path.join(collection, "plugins"), ignore=ignore)
    _open_up(directory)
    return directory
