"""Certificates for libvirt over TLS between the engine and the hosts that join it: the
appliance's CA signs each joining host's libvirtd certificate, and one client certificate
for the engine, kept in a directory libvirt reads through ``?pkipath=`` in the URI."""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from appliance.errors import InvalidInput
from appliance.security import certificates

_DAYS = 825


def client_pki_dir(state_dir: Path) -> Path:
    """cacert.pem, clientcert.pem and clientkey.pem for the engine's libvirt connections."""
    pki = state_dir / "pki" / "libvirt-client"
    if not (pki / "clientcert.pem").exists():
        pki.mkdir(parents=True, exist_ok=True)
        ca_key, ca_cert = _ca(state_dir)
        key = certificates.new_key()
        subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "VirtStick"),
                             x509.NameAttribute(NameOID.COMMON_NAME, "virtstick-engine")])
        cert = _sign(ca_key, ca_cert, subject, key.public_key(), [],
                     ExtendedKeyUsageOID.CLIENT_AUTH)
        (pki / "cacert.pem").write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        key_path = pki / "clientkey.pem"
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        key_path.chmod(0o600)
        (pki / "clientcert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return pki


def sign_host_request(state_dir: Path, csr_pem: bytes, *, address: str) -> tuple[bytes, bytes]:
    """A libvirtd server certificate for a joining host (valid for ``address``), and the CA."""
    try:
        csr = x509.load_pem_x509_csr(csr_pem)
    except ValueError:
        raise InvalidInput("The certificate request is not a PEM CSR.") from None
    if not csr.is_signature_valid:
        raise InvalidInput("The certificate request's signature is not valid.")
    ca_key, ca_cert = _ca(state_dir)
    try:
        names: list[x509.GeneralName] = [x509.IPAddress(ipaddress.ip_address(address))]
    except ValueError:
        names = [x509.DNSName(address)]
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "VirtStick"),
                         x509.NameAttribute(NameOID.COMMON_NAME, address[:60])])
    public_key = csr.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise InvalidInput("The certificate request's key is neither RSA nor ECDSA.")
    cert = _sign(ca_key, ca_cert, subject, public_key, names, ExtendedKeyUsageOID.SERVER_AUTH)
    return (cert.public_bytes(serialization.Encoding.PEM),
            ca_cert.public_bytes(serialization.Encoding.PEM))


def _ca(state_dir: Path) -> tuple[certificates.CaKey, x509.Certificate]:
    return certificates.load_ca(certificates.ensure(state_dir))


def _sign(ca_key: certificates.CaKey, ca_cert: x509.Certificate, subject: x509.Name,
          public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey,
          names: list[x509.GeneralName],
          usage: x509.ObjectIdentifier) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca_cert.subject)
               .public_key(public_key).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(days=1))
               .not_valid_after(now + datetime.timedelta(days=_DAYS))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage([usage]), critical=False))
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(ca_key, hashes.SHA256())
