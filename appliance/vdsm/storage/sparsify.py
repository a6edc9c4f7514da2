"""Give a volume's zeroed space back to its storage domain (oVirt's sparsify), with qemu-img.

oVirt runs ``virt-sparsify --in-place``, which also finds the blocks the guest's filesystems
no longer use; libguestfs is not on the stick, so VirtStick frees what reads as zeroes: the
guest's zeroed or trimmed blocks and a copy's preallocated zero clusters. The volume is
written anew beside itself (only the clusters that hold data, zeroes as unallocated zero
clusters, over the same backing file, its bitmaps kept), the copy is compared with the
original through their whole chains, and only an identical copy replaces it: what the
guest reads never changes. The VM is down meanwhile (the engine checks).
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from appliance.errors import HostAgentError, InsufficientResources
from appliance.vdsm.storage import volume
from appliance.vdsm.storage.domain import VolumeFile
from appliance.vdsm.storage_interface import Progress, Sparsified


@dataclass(frozen=True)
class _Layout:
    format: str
    backing: str | None  # as written in the header (relative to the volume's directory)
    backing_format: str | None
    cluster_size: int | None
    bitmaps: bool


def sparsify(ref: VolumeFile, *, fmt: str, progress: Progress | None = None) -> Sparsified:
    """Rewrite ``ref`` without its zeroed clusters; its content stays identical."""
    path = ref.path
    if not path.is_file():
        raise HostAgentError(f"volume {ref.id.volume_id} of image {ref.id.image_id} is missing")
    before = path.stat().st_blocks * 512
    _require_room(path, before)
    layout = _layout(path, fmt)
    copy = path.with_name(f".{path.name}.sparsify")  # hidden: not a volume of the domain
    copy.unlink(missing_ok=True)
    try:
        volume.convert(path, copy, target_format=layout.format, source_format=layout.format,
                       extra=_convert_options(layout), progress=progress)
        _require_identical(path, copy, fmt=layout.format)
        copy.chmod(path.stat().st_mode & 0o777)
        os.replace(copy, path)
    finally:
        copy.unlink(missing_ok=True)
    return Sparsified(before=before, after=path.stat().st_blocks * 512)


def _layout(path: Path, fmt: str) -> _Layout:
    data = json.loads(_run("qemu-img", "info", "--output=json", "-f", fmt, str(path)))
    specific = data.get("format-specific", {}).get("data", {})
    return _Layout(format=fmt, backing=data.get("backing-filename"),
                   backing_format=data.get("backing-filename-format"),
                   cluster_size=data.get("cluster-size") if fmt == "qcow2" else None,
                   bitmaps=bool(specific.get("bitmaps")))


def _convert_options(layout: _Layout) -> list[str]:
    if layout.format != "qcow2":
        return []  # raw: qemu-img leaves zeroed blocks out of the new file (holes)
    options = ["-o", f"cluster_size={layout.cluster_size}"]
    if layout.backing is not None:
        # Only what this layer holds is copied; the backing file stays the same file.
        options += ["-B", layout.backing, "-F", layout.backing_format or "qcow2"]
    if layout.bitmaps:
        options.append("--bitmaps")  # backup checkpoints live in the volume's bitmaps
    return options


def _require_identical(original: Path, copy: Path, *, fmt: str) -> None:
    result = subprocess.run(["qemu-img", "compare", "-q", "-f", fmt, "-F", fmt,
                             str(original), str(copy)], capture_output=True, text=True)
    if result.returncode != 0:
        raise HostAgentError(f"sparsify of volume {original.name} stopped: the rewritten copy "
                             f"differs from it ({result.stderr.strip() or 'qemu-img compare'}"
                             "); the volume is unchanged")


def _require_room(path: Path, needed: int) -> None:
    st = os.statvfs(path.parent)
    free = st.f_bavail * st.f_frsize
    if free < needed:
        raise InsufficientResources(
            f"Sparsifying writes the volume anew beside itself: it needs {needed >> 20} MiB "
            f"free in its storage domain, which has {free >> 20} MiB.")


def _run(*args: str) -> str:
    result = subprocess.run(list(args), capture_output=True, text=True)
    if result.returncode != 0:
        raise HostAgentError(f"{args[0]} {args[1]} failed: {result.stderr.strip()}")
    return result.stdout
