"""Debian packages the demo guest is made of: resolve the cloud kernel, download, unpack.

The kernel is whatever the ``linux-image-cloud-amd64`` metapackage depends on in the
machine's apt lists, so the guest follows Debian's security updates; apt fetches from the
mirror configured in /etc/apt (we never name one).
"""

from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.demoguest.errors import DemoGuestBuildFailed
from appliance.demoguest.tools import run

KERNEL_METAPACKAGE = "linux-image-cloud-amd64"
# busybox for the whole userspace; syslinux's installer and its BIOS modules must match.
USERSPACE_PACKAGES = ("busybox-static", "syslinux", "syslinux-common")
APT_LISTS = Path("/var/lib/apt/lists")


@dataclass(frozen=True)
class KernelPackage:
    name: str  # e.g. linux-image-6.1.0-56-cloud-amd64
    version: str  # the Debian package version, e.g. 6.1.192-2

    @property
    def release(self) -> str:
        """The kernel release (the /lib/modules directory name)."""
        return self.name.removeprefix("linux-image-")


def resolve_kernel(*, memo: Path | None = None) -> KernelPackage:
    """The cloud kernel package the metapackage currently points at, from the apt lists.

    apt-cache takes a second or more here; with memo, the answer is kept in that file and
    reused until the apt lists change (apt-get update renames new lists into place, which
    changes the lists directory's mtime).
    """
    lists_mtime = APT_LISTS.stat().st_mtime_ns if APT_LISTS.is_dir() else 0
    saved = _read_memo(memo) if memo is not None else {}
    if saved.get("lists_mtime_ns") == lists_mtime:
        return KernelPackage(name=saved["name"], version=saved["version"])
    kernel = _ask_apt()
    if memo is not None:
        record = {"lists_mtime_ns": lists_mtime, "name": kernel.name, "version": kernel.version}
        # Atomic replace: builds running in parallel read the memo without a lock.
        partial = memo.with_name(f"{memo.name}.{os.getpid()}.{threading.get_ident()}")
        partial.write_text(json.dumps(record) + "\n")
        os.replace(partial, memo)
    return kernel


def _read_memo(memo: Path) -> dict[str, Any]:
    try:
        saved = json.loads(memo.read_text())
    except (OSError, ValueError):
        return {}
    return saved if isinstance(saved, dict) else {}


def _ask_apt() -> KernelPackage:
    # The metapackage's candidate pins its kernel exactly: "Depends: linux-image-X (= V)".
    show = run(["apt-cache", "show", "--no-all-versions", KERNEL_METAPACKAGE])
    match = re.search(r"^Depends:.*?(linux-image-\S+-cloud-amd64) \(= ([^)\s]+)\)", show, re.M)
    if match is None:
        raise DemoGuestBuildFailed(
            f"{KERNEL_METAPACKAGE} does not depend on a cloud kernel in the apt lists;"
            " hint: run apt-get update"
        )
    return KernelPackage(name=match.group(1), version=match.group(2))


def download_and_unpack(packages: list[str], *, workdir: Path, root: Path) -> None:
    """apt-get download the packages into workdir and dpkg -x each into root."""
    workdir.mkdir(parents=True, exist_ok=True)
    root.mkdir(parents=True, exist_ok=True)
    # Sandbox user root: apt's _apt user cannot write into our private temp dir.
    run(["apt-get", "-q", "-o", "APT::Sandbox::User=root", "download", *packages], cwd=workdir)
    debs = sorted(workdir.glob("*.deb"))
    if len(debs) != len(packages):
        raise DemoGuestBuildFailed(
            f"apt-get download gave {len(debs)} files for {len(packages)} packages"
        )
    for deb in debs:
        run(["dpkg", "-x", deb, root])
