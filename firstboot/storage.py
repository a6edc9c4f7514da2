"""Make and mount the storage domain's directory: tmpfs, a new zram device, or a chosen disk.

The appliance only reads ``[storage] path``; mounting is the wizard's job. A zram device is
always a new one from ``zram-control/hot_add`` so a device someone else uses is never touched,
and ``release`` removes only what ``prepare`` made.
"""

from __future__ import annotations

import errno
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from appliance.errors import HostAgentError, InvalidState
from firstboot.answers import StorageAnswers
from firstboot.storage_sizing import Backing

ZRAM_ALGORITHMS = ("lz4", "lzo-rle", "lzo", "zstd")  # first one the kernel offers wins


class StorageSetupFailed(HostAgentError):
    code = "storage-setup-failed"
    reason = "Storage setup failed"


class StorageBusy(InvalidState):
    code = "storage-busy"


@dataclass(frozen=True)
class PreparedStorage:
    backing: Backing
    path: Path
    size_mib: int
    device: str = ""  # /dev/zramN or the disk; empty for tmpfs
    zram_id: int | None = None


def prepare(answers: StorageAnswers, *, path: Path, zram_control: Path,
            sys_block: Path) -> PreparedStorage:
    if os.path.ismount(path):
        raise StorageBusy(f"{path} is already a mount point; unmount it or choose another "
                          "storage_path")
    path.mkdir(parents=True, exist_ok=True)
    if answers.backing is Backing.TMPFS:
        _run(["mount", "-t", "tmpfs", "-o", f"size={answers.size_mib}M,mode=0711",
              "virtstick-storage", str(path)])
        return PreparedStorage(Backing.TMPFS, path, answers.size_mib)
    if answers.backing is Backing.ZRAM:
        return _prepare_zram(answers.size_mib, path, zram_control, sys_block)
    return _prepare_disk(answers.device, path)


def release(prepared: PreparedStorage, *, zram_control: Path, sys_block: Path) -> None:
    """Unmount and, for zram, reset and remove the device ``prepare`` made."""
    if os.path.ismount(prepared.path):
        _run(["umount", str(prepared.path)])
    if prepared.zram_id is not None:
        _reset_zram(sys_block / f"zram{prepared.zram_id}" / "reset")
        _write(zram_control / "hot_remove", str(prepared.zram_id))


def _reset_zram(attr: Path) -> None:
    # Right after umount the kernel may still hold the device for a moment (EBUSY).
    for _ in range(50):
        try:
            attr.write_text("1")
            return
        except OSError as exc:
            if exc.errno != errno.EBUSY:
                break
            time.sleep(0.1)
    _write(attr, "1")


def _prepare_zram(size_mib: int, path: Path, zram_control: Path,
                  sys_block: Path) -> PreparedStorage:
    try:
        zram_id = int((zram_control / "hot_add").read_text().strip())
    except (OSError, ValueError) as exc:
        raise StorageSetupFailed(f"cannot add a zram device ({exc}); choose tmpfs") from None
    prepared = PreparedStorage(Backing.ZRAM, path, size_mib, f"/dev/zram{zram_id}", zram_id)
    try:
        sysdir = sys_block / f"zram{zram_id}"
        _set_algorithm(sysdir / "comp_algorithm")
        _write(sysdir / "disksize", f"{size_mib}M")
        _run(["mkfs.ext4", "-q", "-F", "-m", "0", "-E", "lazy_itable_init=1,nodiscard",
              "-L", "vsstorage", prepared.device])
        _run(["mount", "-o", "discard", prepared.device, str(path)])
        path.chmod(0o711)
    except BaseException:
        release(prepared, zram_control=zram_control, sys_block=sys_block)
        raise
    return prepared


def _prepare_disk(device: str, path: Path) -> PreparedStorage:
    _run(["wipefs", "-q", "-a", device])
    _run(["mkfs.ext4", "-q", "-F", "-m", "0", "-L", "vsstorage", device])
    _run(["mount", device, str(path)])
    path.chmod(0o711)
    size = int(subprocess.run(["blockdev", "--getsize64", device], capture_output=True,
                              text=True, check=False).stdout.strip() or 0) // 2**20
    return PreparedStorage(Backing.DISK, path, size, device)


def _set_algorithm(attr: Path) -> None:
    offered = attr.read_text().replace("[", "").replace("]", "").split()
    for name in ZRAM_ALGORITHMS:
        if name in offered:
            _write(attr, name)
            return


def _write(attr: Path, value: str) -> None:
    try:
        attr.write_text(value)
    except OSError as exc:
        raise StorageSetupFailed(f"writing {value!r} to {attr}: {exc}") from None


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise StorageSetupFailed(f"{' '.join(command)}: {result.stderr.strip()}")
