"""What the benchmarks ran on: cores, CPU model, kernel, HAProxy, wrk and Ansible versions."""

import glob
import json
import os
import platform
import subprocess
import sys


def _first_line(command):
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    except OSError as exc:
        return "unavailable (%s)" % exc
    text = (completed.stdout or completed.stderr).strip()
    return text.splitlines()[0] if text else "unknown"


def cpu_model(cpuinfo_text):
    """'model name' of the first processor in /proc/cpuinfo text, or 'unknown'."""
    for line in cpuinfo_text.splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def _collection_version(name):
    """Version of an installed collection (namespace.name) found in this interpreter's site-packages."""
    namespace, collection = name.split(".")
    for site in sys.path:
        for manifest in glob.glob(os.path.join(site, "ansible_collections", namespace, collection, "MANIFEST.json")):
            with open(manifest) as handle:
                return json.load(handle)["collection_info"]["version"]
    return None


def package_version(name):
    """Installed version of a Python distribution, or None."""
    try:
        from importlib import metadata  # pylint: disable=import-outside-toplevel
        return metadata.version(name)
    except Exception:  # pylint: disable=broad-except
        return None


def describe():
    try:
        with open("/proc/cpuinfo") as handle:
            model = cpu_model(handle.read())
    except OSError:
        model = platform.processor() or "unknown"
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "kernel": platform.release(),
        "os": _first_line(["sh", "-c", ". /etc/os-release && echo \"$PRETTY_NAME\""]),
        "python": platform.python_version(),
        "haproxy": _first_line(["haproxy", "-v"]),
        "wrk": _first_line(["wrk", "-v"]),
        "ansible_core": package_version("ansible-core"),
        "ansible": package_version("ansible"),
        "community_general": _collection_version("community.general"),
    }
