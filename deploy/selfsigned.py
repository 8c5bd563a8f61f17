"""Make a self-signed TLS certificate for trying the portal behind nginx on this machine.

    python deploy/selfsigned.py DIRECTORY [NAME ...]

writes DIRECTORY/cert.pem and DIRECTORY/key.pem for the host names and IP addresses given
(``localhost`` and ``127.0.0.1`` when none are), unless a certificate that is still good for a
week is already there. Browsers warn about it: it is for local trials only. For a real
deployment, put the certificate chain and key your CA issued at the same two paths.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import os
import sys
from base64 import b64encode
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

VALID_DAYS = 90
RENEW_BEFORE = datetime.timedelta(days=7)


def _subject_names(names: list[str]) -> list[x509.GeneralName]:
    entries: list[x509.GeneralName] = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return entries


def make_certificate(directory: Path, names: list[str]) -> tuple[Path, Path]:
    """Write a fresh key and a certificate for ``names``; return their paths."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(_subject_names(names)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    key_path, cert_path = directory / "key.pem", directory / "cert.pem"
    key_bytes = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(key_bytes)
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def still_good(cert_path: Path) -> bool:
    """Tell whether the certificate at ``cert_path`` exists and is good for another week."""
    if not cert_path.is_file():
        return False
    certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
    return certificate.not_valid_after_utc - datetime.datetime.now(datetime.UTC) > RENEW_BEFORE


def spki_pin(cert_path: Path) -> str:
    """Return the certificate's public-key pin (base64 SHA-256 of its SubjectPublicKeyInfo)."""
    certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
    spki = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return b64encode(hashlib.sha256(spki).digest()).decode()


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    directory, names = Path(argv[0]), argv[1:] or ["localhost", "127.0.0.1"]
    if still_good(directory / "cert.pem"):
        print(f"{directory}/cert.pem is still good; keeping it")
        return 0
    cert_path, _ = make_certificate(directory, names)
    print(f"wrote {cert_path} for {', '.join(names)} (self-signed, {VALID_DAYS} days)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
