"""An upload's staging volume: written beside the disk's volume, checked, then put in place.

An upload never writes into the disk itself. The client writes into a new hidden file in the
image's directory; finalizing checks it (a qcow2 that names a backing file, is damaged or is
larger than the disk is refused) and renames it over the volume in one step. A cancelled or
cut-off upload only loses the staging file: the disk keeps what it had.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from appliance.errors import HostAgentError, ImageRejected
from appliance.vdsm.storage import qcow2_header, volume

_ISO9660_MAGIC_OFFSET = 0x8001  # "CD001" in the first volume descriptor


def path_for(volume_path: Path) -> Path:
    return volume_path.parent / f".upload-{volume_path.name}"


def create_guest(staging: Path, *, fmt: str, size: int) -> None:
    """An empty volume of the disk's format and size: qemu-nbd writes guest data into it."""
    staging.unlink(missing_ok=True)
    volume.create(staging, size=size, fmt=fmt)
    staging.chmod(0o600)


def create_file(staging: Path, *, size: int) -> int:
    """A sparse file the client writes a whole image file into (a ``cow`` upload); its
    size is the most a qcow2 image of ``size`` bytes can take. Returns that size."""
    measured = _qemu_img_json("measure", "-O", "qcow2", "--size", str(size))
    limit = int(measured.get("fully-allocated", size)) + 1024 * 1024
    limit += -limit % 512
    staging.unlink(missing_ok=True)
    with staging.open("xb") as out:
        out.truncate(limit)
    staging.chmod(0o600)
    return limit


def verify_file(staging: Path, *, fmt: str, size: int) -> None:
    """What a ``cow`` upload wrote must be one standalone image of the disk's format, no
    larger than the disk; a qcow2 is checked and cut to its real end."""
    if fmt != "qcow2":
        return  # a raw disk's file is its data
    qcow2_header.require_standalone(staging, what="The uploaded qcow2 image")
    try:
        found = volume.info(staging, fmt="qcow2")
    except HostAgentError as exc:
        raise ImageRejected(f"The uploaded file is not a qcow2 image: {exc.detail}") from None
    if found.backing_file:
        raise ImageRejected("The uploaded qcow2 image names a backing file; upload a "
                            "standalone image (qemu-img convert -O qcow2).")
    if found.virtual_size > size:
        raise ImageRejected(f"The uploaded image holds {found.virtual_size} bytes; the disk "
                            f"has {size}.")
    report = _check(staging)
    end = int(report.get("image-end-offset", 0))
    if end:
        os.truncate(staging, end)
    if found.virtual_size < size:
        _qemu_img("resize", "-f", "qcow2", str(staging), str(size))


def verify_guest(staging: Path, *, fmt: str) -> None:
    if fmt == "qcow2":
        _check(staging)


def verify_iso(staging: Path) -> None:
    with staging.open("rb") as image:
        image.seek(_ISO9660_MAGIC_OFFSET)
        if image.read(5) != b"CD001":
            raise ImageRejected("The upload is not an ISO 9660 image (no CD001 volume "
                                "descriptor).")


def commit(staging: Path, volume_path: Path) -> None:
    """Put the staging file in place of the volume, atomically."""
    staging.chmod(0o644)
    os.replace(staging, volume_path)


def discard(staging: Path) -> None:
    staging.unlink(missing_ok=True)


def _check(path: Path) -> dict[str, Any]:
    result = subprocess.run(["qemu-img", "check", "-f", "qcow2", "--output=json", str(path)],
                            capture_output=True, text=True, check=False)
    # 0: clean; 3: only leaked clusters (harmless space); anything else is damage.
    if result.returncode not in (0, 3):
        raise ImageRejected(f"The uploaded qcow2 image is damaged: "
                            f"{(result.stderr or result.stdout).strip()[:300]}")
    try:
        data: dict[str, Any] = json.loads(result.stdout or "{}")
    except ValueError:
        data = {}
    return data


def _qemu_img_json(*args: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_qemu_img(*args, "--output=json"))
    return data


def _qemu_img(*args: str) -> str:
    result = subprocess.run(["qemu-img", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise HostAgentError(f"qemu-img {args[0]} failed: {result.stderr.strip()[:300]}")
    return result.stdout
