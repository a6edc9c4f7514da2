"""The appliance's own CA and server certificate, made at first start into the state
directory (as oVirt's engine-setup does); clients trust the CA, which is downloadable at
``/ovirt-engine/services/pki-resource?resource=ca-certificate&format=X509-PEM-CA``.

Keys are ECDSA P-256: made in well under a millisecond where an RSA-2048 key takes tens of
milliseconds, seconds under emulation, and the first boot makes them on its way to the API.
Browsers, curl (the SDK), Python's ssl (ovirt-imageio) and GnuTLS (libvirt) all take them.
A CA key of RSA made by an older version is still read and signs as before."""

from __future__ import annotations

import datetime
import ipaddress
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_DAYS_CA = 3650
_DAYS_SERVER = 825  # browsers refuse longer-lived server certificates

CaKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


@dataclass(frozen=True)
class Certificates:
    ca_cert: Path
    cert: Path  # the server's, followed by the CA's (a chain)
    key: Path


def paths(state_dir: Path) -> Certificates:
    pki = state_dir / "pki"
    return Certificates(ca_cert=pki / "ca.pem", cert=pki / "server.pem", key=pki / "server.key")


def ensure(state_dir: Path, *, names: tuple[str, ...] = ()) -> Certificates:
    """The CA and server certificate, made if missing; the server's names are localhost,
    this host's name and addresses, and ``names``."""
    found = paths(state_dir)
    pki = found.ca_cert.parent
    pki.mkdir(parents=True, exist_ok=True)
    pki.chmod(0o755)
    ca_key_path = pki / "ca.key"
    if not found.ca_cert.exists() or not ca_key_path.exists():
        ca_key, ca_cert = _make_ca()
        _write_key(ca_key_path, ca_key)
        found.ca_cert.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    if not found.cert.exists() or not found.key.exists():
        ca_key, ca_cert = load_ca(found)
        key, cert = _make_server(ca_key, ca_cert, _server_names(names))
        _write_key(found.key, key)
        found.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM)
                               + found.ca_cert.read_bytes())
    return found


def load_ca(found: Certificates) -> tuple[CaKey, x509.Certificate]:
    """The CA's key and certificate (``ensure`` made them)."""
    key = serialization.load_pem_private_key((found.ca_cert.parent / "ca.key").read_bytes(),
                                             password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey)
    return key, x509.load_pem_x509_certificate(found.ca_cert.read_bytes())


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _make_ca() -> tuple[CaKey, x509.Certificate]:
    key = new_key()
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "VirtStick"),
                      x509.NameAttribute(NameOID.COMMON_NAME,
                                         f"VirtStick CA {socket.gethostname()[:40]}")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=_DAYS_CA))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                         crl_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


def _make_server(ca_key: CaKey, ca_cert: x509.Certificate,
                 names: list[x509.GeneralName]) -> tuple[CaKey, x509.Certificate]:
    key = new_key()
    now = datetime.datetime.now(datetime.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "VirtStick"),
                         x509.NameAttribute(NameOID.COMMON_NAME, socket.gethostname()[:60])])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=_DAYS_SERVER))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def _server_names(extra: tuple[str, ...]) -> list[x509.GeneralName]:
    dns = {"localhost", socket.gethostname()}
    ips = {"127.0.0.1", "::1"}
    for name in extra:
        try:
            ipaddress.ip_address(name)
            ips.add(name)
        except ValueError:
            if name:
                dns.add(name)
    ips.discard("0.0.0.0")
    ips.discard("::")
    general: list[x509.GeneralName] = [x509.DNSName(n) for n in sorted(dns)]
    general += [x509.IPAddress(ipaddress.ip_address(i)) for i in sorted(ips)]
    return general


def _write_key(path: Path, key: CaKey) -> None:
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
