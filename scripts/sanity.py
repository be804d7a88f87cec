"""`make sanity`: run `ansible-test sanity` on this collection without internet access.

ansible-test fills its test virtualenvs with pip by downloading a get-pip bootstrap script.
Offline that download fails, but ansible-test runs whatever file sits at
~/.ansible/test/cache/get_pip_<version>.py instead. This script writes a stand-in there that
bootstraps pip from the interpreter's own wheel (ensurepip) and installs the requested pip with
this machine's package index settings, then runs ansible-test on a clean copy of the tree
(git-tracked plus untracked-but-not-ignored files) laid out as
<tmp>/ansible_collections/cloudshift/migration/, so .venv, .run, .ansible and tests/output are
never scanned.

Usage: .venv/bin/python scripts/sanity.py [--keep] [ansible-test sanity args, e.g. --test pep8]
Exit code: ansible-test's, or 2 when the run could not be set up.
"""

import argparse
import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import types

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAMESPACE, NAME = "cloudshift", "migration"
PYTHON_VERSION = "%d.%d" % sys.version_info[:2]
SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"

# pip settings that decide where packages come from; ansible-test runs pip with a stripped
# environment (PIP_* variables are dropped), so they are handed over explicitly.
PIP_SOURCE_SETTINGS = ("index-url", "extra-index-url", "find-links", "trusted-host",
                       "cert", "client-cert", "proxy", "no-index")
MULTI_VALUE_SETTINGS = ("extra-index-url", "find-links", "trusted-host")
GET_PIP_ONLY_OPTIONS = ("--no-setuptools", "--no-wheel", "--no-pip")

STAND_IN_TEMPLATE = '''\
"""get-pip stand-in written by cloudshift.migration scripts/sanity.py (offline ansible-test).

ansible-test runs this as `python get_pip_X.py <pip options> <packages>`. It bootstraps pip from
the interpreter's bundled wheel, records the package index settings in the venv's pip.conf (so
the later `pip install` calls of ansible-test see them despite its stripped environment) and
installs the requested packages with `python -m pip install`.
"""
import os
import subprocess
import sys

PIP_SETTINGS = %(settings)r
GET_PIP_ONLY_OPTIONS = %(get_pip_only)r


def write_site_config():
    if sys.prefix == sys.base_prefix:
        return  # not a virtualenv: never touch a system-wide pip.conf
    lines = ["[global]"]
    for key, value in PIP_SETTINGS.items():
        lines.append("%%s = %%s" %% (key, " ".join(value) if isinstance(value, list) else value))
    with open(os.path.join(sys.prefix, "pip.conf"), "w") as handle:
        handle.write("\\n".join(lines) + "\\n")


def main():
    write_site_config()  # pip reads <venv>/pip.conf over the user's config: no index listed twice
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
    arguments = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_OPTIONS]
    cert = ["--cert", PIP_SETTINGS["cert"]] if "cert" in PIP_SETTINGS else []
    subprocess.check_call([sys.executable, "-m", "pip", "install"] + cert + arguments)
    if "--no-setuptools" in sys.argv[1:]:  # ensurepip brings setuptools; get-pip would not have
        subprocess.check_call([sys.executable, "-m", "pip", "uninstall", "-q", "-y", "setuptools"])


if __name__ == "__main__":
    main()
'''


def ansible_test_pip_version():
    """The pip version ansible-test bootstraps into its venvs (infrastructure_packages['pip'])."""
    from ansible_test._internal.python_requirements import get_venv_packages

    return get_venv_packages(types.SimpleNamespace(version=PYTHON_VERSION))["pip"]


def effective_pip_settings():
    """This machine's pip source settings, as `pip config list` sees them (files and PIP_* vars).

    Later entries win, as in pip (global < user < site < environment variables).
    """
    listing = subprocess.run([sys.executable, "-m", "pip", "config", "list"], check=True,
                             stdout=subprocess.PIPE, universal_newlines=True).stdout
    settings = {}
    for line in listing.splitlines():
        qualified_key, separator, raw_value = line.partition("=")
        if not separator:
            continue
        key = qualified_key.rsplit(".", 1)[-1]
        if key not in PIP_SOURCE_SETTINGS:
            continue
        value = ast.literal_eval(raw_value)
        settings[key] = value.split() if key in MULTI_VALUE_SETTINGS else value
    if "cert" not in settings and os.path.isfile(SYSTEM_CA_BUNDLE):
        settings["cert"] = SYSTEM_CA_BUNDLE
    if settings.get("no-index") is not None:
        settings["no-index"] = "true"
    return settings


def write_get_pip_stand_in(pip_version, settings):
    cache_dir = os.path.expanduser("~/.ansible/test/cache")
    os.makedirs(cache_dir, exist_ok=True)
    path = os.path.join(cache_dir, "get_pip_%s.py" % pip_version.replace(".", "_"))
    content = STAND_IN_TEMPLATE % {"settings": settings, "get_pip_only": GET_PIP_ONLY_OPTIONS}
    with open(path + ".tmp", "w") as handle:
        handle.write(content)
    os.replace(path + ".tmp", path)
    return path


def collection_files():
    """Tracked plus untracked-but-not-ignored files, relative to the checkout root."""
    listing = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=ROOT,
                             check=True, stdout=subprocess.PIPE).stdout
    names = sorted({name for name in listing.decode("utf-8").split("\0") if name})
    return [name for name in names if os.path.lexists(os.path.join(ROOT, name))]


def copy_tree(names, destination):
    for name in names:
        source = os.path.join(ROOT, name)
        target = os.path.join(destination, name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if os.path.islink(source):
            os.symlink(os.readlink(source), target)  # kept as a link so the symlinks test sees it
        else:
            shutil.copy2(source, target)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog="Other arguments go to `ansible-test sanity`.")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary copy (its tests/output holds the results)")
    options, ansible_test_args = parser.parse_known_args(argv)

    ansible_test = os.path.join(os.path.dirname(sys.executable), "ansible-test")
    if not os.access(ansible_test, os.X_OK):
        print("sanity.py: %s not found; run it with the venv python (.venv/bin/python)" % ansible_test,
              file=sys.stderr)
        return 2

    started = time.monotonic()
    try:
        pip_version = ansible_test_pip_version()
        settings = effective_pip_settings()
        stand_in = write_get_pip_stand_in(pip_version, settings)
    except (ImportError, KeyError, OSError, ValueError, subprocess.CalledProcessError) as error:
        print("sanity.py: cannot prepare the get-pip stand-in: %s" % error, file=sys.stderr)
        return 2
    print("sanity.py: get-pip %s stand-in at %s; pip settings passed on: %s"
          % (pip_version, stand_in, json.dumps(settings)), flush=True)

    workdir = tempfile.mkdtemp(prefix="cloudshift-sanity-")
    collection_root = os.path.join(workdir, "ansible_collections", NAMESPACE, NAME)
    try:
        try:
            names = collection_files()
            copy_tree(names, collection_root)
        except (OSError, subprocess.CalledProcessError) as error:
            print("sanity.py: cannot copy the tree to %s: %s" % (collection_root, error), file=sys.stderr)
            return 2
        environment_choice = [] if {"--venv", "--local"} & set(ansible_test_args) else ["--local"]
        command = [ansible_test, "sanity"] + environment_choice + ["--python", PYTHON_VERSION, "--color", "no"]
        command += ansible_test_args
        print("sanity.py: %d files copied to %s\nsanity.py: $ %s"
              % (len(names), collection_root, " ".join(command)), flush=True)
        env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
        returncode = subprocess.call(command, cwd=collection_root, env=env)
    finally:
        if options.keep:
            print("sanity.py: kept %s" % collection_root)
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    verdict = "passed" if returncode == 0 else "FAILED (exit %d)" % returncode
    print("sanity.py: ansible-test sanity %s in %.0f s" % (verdict, time.monotonic() - started), flush=True)
    return returncode


if __name__ == "__main__":
    sys.exit(main())
