"""qcow2 and raw volumes through qemu-img: create (thin), layer, inspect, convert, commit."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from appliance.errors import HostAgentError
from appliance.vdsm.storage_interface import VolumeInfo


def create(path: Path, *, size: int, fmt: str = "qcow2") -> None:
    """A new empty volume; qcow2 allocates on demand, so its cost does not grow with size."""
    options = ["-o", "preallocation=off"] if fmt == "qcow2" else []
    _qemu_img("create", "-q", "-f", fmt, *options, str(path), str(size))


def create_layer(path: Path, *, backing: Path, backing_format: str,
                 size: int | None = None) -> None:
    """A qcow2 layer over ``backing`` (a snapshot's new top, or a VM's disk over a template).

    The backing format is the one the engine knows, recorded in the layer so that nothing
    ever probes it: a raw volume whose guest wrote a qcow2 header into it would be read as
    that qcow2, with whatever backing or data file it names on the host."""
    args = ["create", "-q", "-f", "qcow2", "-b", str(backing), "-F", backing_format, str(path)]
    if size is not None:
        args.append(str(size))
    _qemu_img(*args)


def info(path: Path, *, fmt: str | None = None) -> VolumeInfo:
    """What qemu-img says of ``path``; give ``fmt`` for files from outside (never probe)."""
    out = _qemu_img("info", "--output=json", "-U", *(("-f", fmt) if fmt else ()), str(path))
    data = json.loads(out)
    return VolumeInfo(
        virtual_size=int(data["virtual-size"]),
        actual_size=int(data.get("actual-size", 0)),
        format=str(data["format"]),
        backing_file=data.get("full-backing-filename") or data.get("backing-filename"),
        backing_format=data.get("backing-filename-format"),
    )


def bitmaps(path: Path) -> frozenset[str]:
    """The names of a qcow2 volume's persistent dirty bitmaps (backup checkpoints); read
    while QEMU may hold the volume (-U), for their names only."""
    out = _qemu_img("info", "--output=json", "-U", "-f", "qcow2", str(path))
    specific = json.loads(out).get("format-specific", {}).get("data", {})
    return frozenset(str(b.get("name", "")) for b in specific.get("bitmaps", []))


def remove_bitmap(path: Path, name: str) -> None:
    _qemu_img("bitmap", "--remove", "-f", "qcow2", str(path), name)


def convert(source: Path, target: Path, *, target_format: str = "qcow2",
            source_format: str | None = None, extra: Sequence[str] = (),
            progress: Callable[[int], None] | None = None) -> None:
    """Copy a whole chain into one independent volume (unless ``extra`` options say
    otherwise), reporting progress in percent."""
    args = ["qemu-img", "convert", "-p", "-O", target_format, *extra]
    if source_format:
        args += ["-f", source_format]
    if target_format == "qcow2":
        args += ["-o", "preallocation=off"]
    args += [str(source), str(target)]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    buffer = ""
    while chunk := process.stdout.read(64):
        buffer += chunk
        for match in re.finditer(r"\((\d+(?:\.\d+)?)/100%\)", buffer):
            if progress is not None:
                progress(int(float(match.group(1))))
        buffer = buffer[-32:]
    _, stderr = process.communicate()
    if process.returncode != 0:
        target.unlink(missing_ok=True)
        raise HostAgentError(f"qemu-img convert of {source.name} failed: {stderr.strip()}")


def resize(path: Path, *, size: int, fmt: str = "qcow2") -> None:
    """Grow the volume's virtual size (a top layer may be larger than what lies below it)."""
    _qemu_img("resize", "-q", "-f", fmt, str(path), str(size))


def commit(top: Path) -> None:
    """Merge a layer down into its backing volume (the layer itself stays, now redundant).

    qemu-img runs it as an active commit, which writes what the layer holds as zeros (blocks
    the guest TRIMmed) as holes in the base: the RAM domain gets them back. ``-d`` skips
    emptying the layer, which is deleted next anyway."""
    _qemu_img("commit", "-q", "-d", str(top))


def rebase(path: Path, *, backing: Path | None, backing_format: str = "qcow2",
           safe: bool = True) -> None:
    args = ["rebase", "-q"]
    if not safe:
        args.append("-u")
    if backing is None:
        args += ["-b", ""]
    else:
        args += ["-b", str(backing), "-F", backing_format]
    _qemu_img(*args, str(path))


def _qemu_img(*args: str) -> str:
    try:
        result = subprocess.run(["qemu-img", *args], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise HostAgentError("qemu-img is not installed (Debian package qemu-utils)") from None
    if result.returncode != 0:
        raise HostAgentError(f"qemu-img {args[0]} failed: {result.stderr.strip()}")
    return result.stdout
