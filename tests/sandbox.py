"""What every test on the shared libvirtd needs: state QEMU can reach, and domain names that
say which test made them, so teardown destroys exactly those.

QEMU runs as libvirt's unprivileged user, so state lives under /var/tmp with traversable
directories (pytest's own tmp_path is private to root).
"""

from __future__ import annotations

import contextlib
import secrets
import tempfile
import time
from pathlib import Path

import libvirt

URI = "qemu:///system"


def state_dir(prefix: str) -> Path:
    """A fresh directory under /var/tmp that QEMU can traverse; the caller removes it."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/var/tmp"))
    path.chmod(0o755)
    return path


def domain_prefix(letter: str) -> str:
    return f"{letter}{secrets.token_hex(3)}-"


def destroy_domains(prefix: str) -> None:
    """Destroy (and undefine) every domain whose name starts with ``prefix``, on a fresh
    connection: the test's own may be what failed, and libvirtd may be restarting."""
    for _ in range(10):
        try:
            conn = libvirt.open(URI)
        except libvirt.libvirtError:
            time.sleep(1)
            continue
        try:
            for dom in conn.listAllDomains():
                if dom.name().startswith(prefix):
                    with contextlib.suppress(libvirt.libvirtError):
                        dom.destroy()
                    with contextlib.suppress(libvirt.libvirtError):
                        dom.undefine()
        finally:
            conn.close()
        return
