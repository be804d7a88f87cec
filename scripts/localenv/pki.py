"""Local PKI: a CA, one server certificate per app (cloud upstream), and a rogue CA with its
own certificate per app host (served by the `badcert` fault).

Uses the `openssl` CLI so democtl needs no third-party Python package. Idempotent: a file
set is created only when missing; when a CA is (re)created, the certificates it signs are
re-issued too so the chain stays consistent.
"""

import os
import shutil
import subprocess
import tempfile

from .config import APPS

CA_DAYS = "3650"
LEAF_DAYS = "825"
EC_CURVE = "prime256v1"


class PkiError(RuntimeError):
    pass


def _openssl(*args):
    try:
        result = subprocess.run(("openssl",) + args, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise PkiError("the openssl command is not installed")
    if result.returncode != 0:
        raise PkiError("openssl %s failed: %s" % (args[0], result.stderr.strip()))


def _new_key(path):
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:%s" % EC_CURVE,
             "-out", path)
    os.chmod(path, 0o600)


def _create_ca(workdir, common_name):
    key = os.path.join(workdir, "ca.key")
    cert = os.path.join(workdir, "ca.crt")
    _new_key(key)
    _openssl("req", "-x509", "-new", "-key", key, "-out", cert, "-days", CA_DAYS,
             "-subj", "/O=cloudshift local/CN=%s" % common_name,
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             "-addext", "subjectKeyIdentifier=hash")
    return cert, key


def _issue_leaf(workdir, ca_cert, ca_key, host):
    key = os.path.join(workdir, "leaf.key")
    csr = os.path.join(workdir, "leaf.csr")
    cert = os.path.join(workdir, "leaf.crt")
    ext = os.path.join(workdir, "leaf.ext")
    with open(ext, "w") as handle:
        handle.write(
            "basicConstraints=critical,CA:FALSE\n"
            "keyUsage=critical,digitalSignature,keyEncipherment\n"
            "extendedKeyUsage=serverAuth\n"
            "subjectKeyIdentifier=hash\n"
            "authorityKeyIdentifier=keyid:always\n"
            "subjectAltName=DNS:%s,DNS:localhost,IP:127.0.0.1\n" % host)
    _new_key(key)
    _openssl("req", "-new", "-key", key, "-out", csr, "-subj", "/O=cloudshift local/CN=%s" % host)
    _openssl("x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key,
             "-set_serial", str(int.from_bytes(os.urandom(8), "big")),
             "-days", LEAF_DAYS, "-extfile", ext, "-out", cert)
    return cert, key


def _install(source, destination, mode):
    os.chmod(source, mode)
    os.replace(source, destination)


def _missing(*paths):
    return any(not os.path.exists(path) for path in paths)


def ensure_pki(layout):
    """Create whatever is missing in layout.pki_dir; return the list of files written."""
    os.makedirs(layout.pki_dir, mode=0o700, exist_ok=True)
    written = []
    for prefix, common_name, rogue in (("ca", "cloudshift local CA", False),
                                       ("rogue-ca", "cloudshift ROGUE CA", True)):
        ca_cert = layout.pki_path(prefix + ".crt")
        ca_key = layout.pki_path(prefix + ".key")
        # The temporary directory lives in pki/ so os.replace never crosses filesystems.
        workdir = tempfile.mkdtemp(prefix=".tmp-", dir=layout.pki_dir)
        try:
            ca_created = _missing(ca_cert, ca_key)
            if ca_created:
                new_cert, new_key = _create_ca(workdir, common_name)
                _install(new_key, ca_key, 0o600)
                _install(new_cert, ca_cert, 0o644)
                written += [ca_cert, ca_key]
            for app in APPS:
                leaf_cert, leaf_key = layout.server_cert(app.name, rogue=rogue)
                if ca_created or _missing(leaf_cert, leaf_key):
                    new_cert, new_key = _issue_leaf(workdir, ca_cert, ca_key, app.host)
                    _install(new_key, leaf_key, 0o600)
                    _install(new_cert, leaf_cert, 0o644)
                    written += [leaf_cert, leaf_key]
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    return written
