"""The nginx configuration in deploy/nginx is valid (`nginx -t`), with a throwaway certificate in
place of the deployment's. Skips, saying so, where nginx is not installed (CI installs it)."""

from __future__ import annotations

import datetime
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.e2e.conftest import ROOT

CONFIG = ROOT / "deploy" / "nginx" / "brokerql.conf"


def nginx_binary() -> str:
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
    if found is None:
        pytest.skip("nginx is not installed (apt-get install nginx): deploy/nginx/brokerql.conf not validated")
    return found


def self_signed(directory: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "brokerql.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (directory / "fullchain.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (directory / "privkey.pem").write_bytes(key_pem)


def main_config(tmp_path: Path) -> Path:
    """nginx.conf around the repository's file, with the certificate paths pointing at a temporary pair."""
    tls = tmp_path / "tls"
    tls.mkdir()
    self_signed(tls)
    site = tmp_path / "brokerql.conf"
    site.write_text(CONFIG.read_text().replace("/etc/brokerql/tls/", f"{tls}/"))
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  include {site};\n}}\n"
    )
    return main


def test_the_nginx_config_in_the_repository_is_valid(tmp_path: Path) -> None:
    nginx = nginx_binary()
    main = main_config(tmp_path)
    result = subprocess.run(
        [nginx, "-t", "-q", "-c", str(main), "-p", str(tmp_path), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
