"""Build the demo guest disk from Debian packages, cached by kernel version and our code.

``build(cache_dir)`` is what tests, benchmarks and the image builder call. The build reads
as named steps: resolve the kernel, download and unpack the packages, make the initramfs,
make the FAT boot file system, assemble the qcow2 disk, publish it atomically in the cache.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from appliance.demoguest import disk, initramfs, packages
from appliance.demoguest.tools import require_tools

DISK_NAME = "disk.qcow2"
MANIFEST_NAME = "demoguest.json"


@dataclass(frozen=True)
class DemoGuest:
    """A built demo guest: a qcow2 disk that boots by itself under SeaBIOS."""

    disk: Path
    version: str  # "<kernel package>_<kernel version>+<code hash>", also the cache key
    kernel_package: str
    kernel_version: str
    built: bool  # True if this call built it, False if it came from the cache


# The files that shape the disk: a change to any of them makes a new cache entry.
DISK_SOURCES = (
    "build.py", "cpio.py", "disk.py", "initramfs.py", "packages.py", "tools.py",
    "init.sh", "powerbutton.sh",
)  # fmt: skip


def code_hash() -> str:
    """Hash of our scripts and build code, half of the cache key (the kernel the other)."""
    digest = hashlib.sha256()
    package = resources.files("appliance.demoguest")
    for name in DISK_SOURCES:
        digest.update(name.encode() + b"\0" + package.joinpath(name).read_bytes())
    return digest.hexdigest()[:16]


@contextmanager
def _locked(cache_dir: Path) -> Iterator[None]:
    # Parallel test runs share the cache: one builds, the others wait and reuse it.
    with (cache_dir / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _guest(entry: Path, kernel: packages.KernelPackage, version: str, built: bool) -> DemoGuest:
    return DemoGuest(
        disk=entry / DISK_NAME,
        version=version,
        kernel_package=kernel.name,
        kernel_version=kernel.version,
        built=built,
    )


def build(cache_dir: Path) -> DemoGuest:
    """The demo guest for the current cloud kernel, built into cache_dir unless there."""
    require_tools()
    cache_dir = cache_dir.resolve()
    cache_dir.mkdir(parents=True, exist_ok=True)
    kernel = packages.resolve_kernel(memo=cache_dir / ".kernel.json")
    version = f"{kernel.name}_{kernel.version}+{code_hash()}"
    entry = cache_dir / version
    with _locked(cache_dir):
        if (entry / MANIFEST_NAME).is_file():
            return _guest(entry, kernel, version, built=False)
        with tempfile.TemporaryDirectory(prefix=".build-", dir=cache_dir) as scratch:
            staging = Path(scratch) / "out"
            _build_disk(kernel, workdir=Path(scratch), output=staging / DISK_NAME)
            manifest = {"version": version, "kernel_package": kernel.name,
                        "kernel_version": kernel.version}  # fmt: skip
            (staging / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")
            os.rename(staging, entry)  # atomic: a cache entry is complete or absent
    return _guest(entry, kernel, version, built=True)


def _build_disk(kernel: packages.KernelPackage, *, workdir: Path, output: Path) -> None:
    root = workdir / "root"
    packages.download_and_unpack(
        [kernel.name, *packages.USERSPACE_PACKAGES], workdir=workdir / "debs", root=root
    )
    initrd = workdir / "initrd.img"
    initramfs.build_initramfs(root=root, kernel_release=kernel.release, output=initrd)
    boot_fs = workdir / "boot.fat"
    disk.make_boot_filesystem(
        image=boot_fs,
        syslinux=root / "usr/bin/syslinux",
        kernel=root / "boot" / f"vmlinuz-{kernel.release}",
        initrd=initrd,
    )
    output.parent.mkdir(parents=True)
    disk.assemble(
        boot_fs=boot_fs,
        mbr_code=root / "usr/lib/syslinux/mbr/mbr.bin",
        raw=workdir / "disk.raw",
        qcow2=output,
    )
    output.chmod(0o644)  # a read-only base for overlays; qemu's user must read it
    shutil.rmtree(root)  # the unpacked kernel is big; free it before the temp dir goes
