"""``make usb`` refuses every disk that is not a removable USB stick, and verifies what it wrote.

No USB stick is attached to a test machine, so refusals are tested on real devices that must
be refused (a loop device, the machine's own root disk, a partition) and writing and reading
back on a real block device, a loop device over a temporary file.
"""

from __future__ import annotations

import io
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from image import usb
from image.errors import UnsafeDevice, VerifyFailed


@pytest.fixture
def loop_device(tmp_path: Path) -> Iterator[str]:
    backing = tmp_path / "stick.img"
    with backing.open("wb") as handle:
        handle.truncate(16 * 1024 * 1024)
    node = subprocess.run(
        ["losetup", "--find", "--show", str(backing)], capture_output=True, text=True, check=True
    ).stdout.strip()
    try:
        yield node
    finally:
        subprocess.run(["losetup", "-d", node], check=False)


def root_disk() -> str:
    number = os.stat("/").st_dev
    sys_dev = Path(f"/sys/dev/block/{os.major(number)}:{os.minor(number)}")
    if not sys_dev.exists():
        pytest.skip("the root file system is not on a block device here")
    name = sys_dev.resolve().name
    if (sys_dev / "partition").exists():
        name = sys_dev.resolve().parent.name
    return f"/dev/{name}"


def test_loop_device_is_refused_as_not_usb(loop_device: str) -> None:
    disk = usb.inspect(loop_device)
    assert disk.node == loop_device and disk.size_bytes == 16 * 1024 * 1024
    assert not disk.usb
    with pytest.raises(UnsafeDevice, match="not on the USB bus"):
        usb.check_safe(disk)


def test_the_running_systems_disk_is_refused() -> None:
    disk = usb.inspect(root_disk())
    with pytest.raises(UnsafeDevice):
        usb.check_safe(disk)
    # Even if it were a removable USB disk, holding the root file system refuses it.
    as_stick = usb.Disk(**{**disk.__dict__, "usb": True, "removable": True})
    with pytest.raises(UnsafeDevice, match="holds the running system|is mounted"):
        usb.check_safe(as_stick)


def test_mounted_stick_is_refused(loop_device: str, tmp_path: Path) -> None:
    disk = usb.Disk(**{**usb.inspect(loop_device).__dict__, "usb": True, "removable": True})
    mounts = tmp_path / "mounts"
    mounts.write_text(f"{loop_device} /media/stick vfat rw 0 0\n")
    state = usb.SystemState(mounts=mounts, swaps=tmp_path / "none", roots=())
    with pytest.raises(UnsafeDevice, match="is mounted"):
        usb.check_safe(disk, state=state)
    mounts.write_text("")
    usb.check_safe(disk, state=state)  # the same stick, unmounted: accepted


def test_not_a_block_device_and_partitions(tmp_path: Path) -> None:
    with pytest.raises(UnsafeDevice, match="not a block device"):
        usb.inspect(str(tmp_path / "nothing"))
    number = os.stat("/").st_dev
    if Path(f"/sys/dev/block/{os.major(number)}:{os.minor(number)}/partition").exists():
        partition = os.path.realpath(f"/dev/block/{os.major(number)}:{os.minor(number)}")
        with pytest.raises(UnsafeDevice, match="partition"):
            usb.inspect(partition)


def test_copy_and_verify_on_a_block_device(loop_device: str, tmp_path: Path) -> None:
    iso = tmp_path / "small.iso"
    iso.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    out = io.StringIO()
    digest = usb.copy_and_verify(iso, Path(loop_device), out=out)
    assert "Verified" in out.getvalue()
    with open(loop_device, "rb") as device:
        assert device.read(iso.stat().st_size) == iso.read_bytes()
    assert len(digest) == 64


def test_verify_catches_a_target_that_does_not_keep_the_data(tmp_path: Path) -> None:
    iso = tmp_path / "small.iso"
    iso.write_bytes(b"x" * 4096)
    with pytest.raises(VerifyFailed):
        usb.copy_and_verify(iso, Path("/dev/zero"), out=io.StringIO())

