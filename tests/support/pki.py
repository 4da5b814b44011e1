"""A throwaway CA and a server certificate for 127.0.0.1/localhost, made with openssl."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Pki:
    """The files of `make_pki`."""

    ca: Path
    cert: Path
    key: Path


def have_openssl() -> bool:
    """Whether the openssl command is installed."""
    return shutil.which("openssl") is not None


def make_pki(pki: Path) -> Pki:
    """A CA and a server certificate signed by it (valid 2 days) in the directory `pki`."""
    pki.mkdir(parents=True, exist_ok=True)
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    ca = ("-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial")
    # The extensions Python >= 3.13's strict verification (ssl.VERIFY_X509_STRICT, on in the
    # default context) demands: a CA with keyUsage, a leaf with an authority key identifier.
    ca_ext = ("-addext", "basicConstraints=critical,CA:TRUE")
    ca_ext += ("-addext", "keyUsage=critical,keyCertSign,cRLSign")
    (pki / "san.ext").write_text(
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
        "authorityKeyIdentifier=keyid,issuer\n"
        "subjectKeyIdentifier=hash\n"
    )
    for command in (
        [
            "req",
            "-x509",
            *ec,
            *ca_ext,
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-subj",
            "/CN=test-ca",
        ],
        ["req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"],
        ["x509", "-req", "-in", "server.csr", *ca, "-out", "server.pem", "-extfile", "san.ext"],
    ):
        days = ["-days", "2"] if "x509" in command[0] or "-x509" in command else []
        subprocess.run(["openssl", *command, *days], cwd=pki, check=True, capture_output=True)
    return Pki(pki / "ca.pem", pki / "server.pem", pki / "server.key")
