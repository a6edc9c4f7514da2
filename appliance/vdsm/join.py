"""The host side of joining an engine (``virtstick agent --join URL --token T``): make a key
and a certificate request for this host's libvirtd, trade them and the one-time token for a
certificate signed by the engine's CA, then run libvirtd with TLS so the engine (and the
other hosts, for migrations) can reach it."""

from __future__ import annotations

import base64
import json
import ssl
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from appliance.errors import HostAgentError

JOIN_PATH = "/ovirt-engine/services/host-join"


@dataclass(frozen=True)
class AgentSettings:
    engine_url: str  # http(s)://engine:port
    token: str
    name: str
    address: str  # where the engine and other hosts reach this host
    pki_dir: Path = Path("/etc/pki/virtstick")
    libvirtd_conf: Path = Path("/etc/libvirt/libvirtd.conf")
    pid_file: Path = Path("/run/libvirtd.pid")
    ca_file: Path | None = None  # the engine's CA, to check https (None: trust the system's)


def join(settings: AgentSettings) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                                       settings.name[:60])]))
           .sign(key, hashes.SHA256()))
    reply = _post(settings, {
        "token": settings.token, "name": settings.name, "address": settings.address,
        "csr": csr.public_bytes(serialization.Encoding.PEM).decode()})
    _write_pki(settings.pki_dir, key, reply["cert"].encode(), reply["ca"].encode())
    _configure_libvirtd(settings)
    _start_libvirtd(settings)


def _post(settings: AgentSettings, body: dict[str, str]) -> dict[str, str]:
    request = urllib.request.Request(
        settings.engine_url.rstrip("/") + JOIN_PATH, data=json.dumps(body).encode(),
        method="POST", headers={"Content-Type": "application/json",
                                "Accept": "application/json"})
    context = ssl.create_default_context(cafile=str(settings.ca_file)
                                         if settings.ca_file else None)
    try:
        with urllib.request.urlopen(request, timeout=60, context=context) as answer:
            data: dict[str, str] = json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")
        raise HostAgentError(f"the engine refused to let this host join: {detail}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise HostAgentError(f"cannot reach the engine at {settings.engine_url}: "
                             f"{exc}") from None
    return {"cert": base64.b64decode(data["cert"]).decode(),
            "ca": base64.b64decode(data["ca"]).decode()}


def _write_pki(pki: Path, key: rsa.RSAPrivateKey, cert: bytes, ca: bytes) -> None:
    pki.mkdir(parents=True, exist_ok=True)
    key_path = pki / "serverkey.pem"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    (pki / "servercert.pem").write_bytes(cert)
    (pki / "cacert.pem").write_bytes(ca)


def _configure_libvirtd(settings: AgentSettings) -> None:
    """Keep what the file has (e.g. host_uuid) and add TLS with our certificates."""
    conf = settings.libvirtd_conf
    kept = [line for line in (conf.read_text().splitlines() if conf.exists() else [])
            if line.split("=")[0].strip() not in _TLS_KEYS]
    pki = settings.pki_dir
    conf.write_text("\n".join([
        *kept, "listen_tls = 1", "listen_tcp = 0",
        f'key_file = "{pki / "serverkey.pem"}"', f'cert_file = "{pki / "servercert.pem"}"',
        f'ca_file = "{pki / "cacert.pem"}"', ""]))


_TLS_KEYS = {"listen_tls", "listen_tcp", "key_file", "cert_file", "ca_file"}


def _start_libvirtd(settings: AgentSettings) -> None:
    result = subprocess.run(["libvirtd", "-d", "--listen", "-f", str(settings.libvirtd_conf),
                             "-p", str(settings.pid_file)], capture_output=True, text=True,
                            check=False)
    if result.returncode != 0:
        raise HostAgentError(f"libvirtd did not start: {result.stderr.strip()}")
