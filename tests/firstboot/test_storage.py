"""The storage domain on a real tmpfs and a real zram device made (and removed) by the test."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from firstboot.answers import Facts, InvalidAnswers, StorageAnswers, parse_storage
from firstboot.hardware import detect
from firstboot.settings import WizardSettings
from firstboot.storage import StorageBusy, prepare, release
from firstboot.storage_sizing import Backing, propose_backing


def _mount_line(path: Path) -> list[str]:
    for line in Path("/proc/self/mounts").read_text().splitlines():
        fields = line.split()
        if fields[1] == str(path):
            return fields
    return []


def test_tmpfs_domain_is_mounted_with_its_size(settings: WizardSettings) -> None:
    prepared = prepare(StorageAnswers(Backing.TMPFS, 300), path=settings.storage_path,
                       zram_control=settings.zram_control, sys_block=settings.sys_block)
    try:
        fields = _mount_line(settings.storage_path)
        assert fields[2] == "tmpfs" and "size=307200k" in fields[3]
        assert os.statvfs(settings.storage_path).f_blocks * os.statvfs(
            settings.storage_path).f_frsize == 300 * 2**20
        with pytest.raises(StorageBusy):
            prepare(StorageAnswers(Backing.TMPFS, 300), path=settings.storage_path,
                    zram_control=settings.zram_control, sys_block=settings.sys_block)
    finally:
        release(prepared, zram_control=settings.zram_control, sys_block=settings.sys_block)
    assert not os.path.ismount(settings.storage_path)


@pytest.mark.skipif(not Path("/sys/class/zram-control").exists(), reason="no zram here")
def test_zram_domain_is_a_new_device_compressed_and_removed(settings: WizardSettings) -> None:
    before = set(os.listdir("/sys/block"))
    prepared = prepare(StorageAnswers(Backing.ZRAM, 512), path=settings.storage_path,
                       zram_control=settings.zram_control, sys_block=settings.sys_block)
    try:
        assert prepared.zram_id is not None and f"zram{prepared.zram_id}" not in before
        sysdir = settings.sys_block / f"zram{prepared.zram_id}"
        assert int((sysdir / "disksize").read_text()) == 512 * 2**20
        assert "[lz4]" in (sysdir / "comp_algorithm").read_text()
        fields = _mount_line(settings.storage_path)
        assert fields[0] == prepared.device and fields[2] == "ext4" and "discard" in fields[3]
        # Zeros compress to nothing: the thin-disk case zram is chosen for.
        subprocess.run(["dd", "if=/dev/zero", f"of={settings.storage_path}/zeros", "bs=1M",
                        "count=64", "conv=fsync"], check=True, capture_output=True)
        used = int((sysdir / "mm_stat").read_text().split()[1])  # compressed bytes
        assert used < 16 * 2**20
    finally:
        release(prepared, zram_control=settings.zram_control, sys_block=settings.sys_block)
    assert set(os.listdir("/sys/block")) == before


def test_disk_domain_on_a_loop_device(settings: WizardSettings, tmp_path: Path) -> None:
    """Persistence on a chosen disk: a loop device stands in for it (wiped, ext4, mounted)."""
    image = tmp_path / "disk.img"
    subprocess.run(["truncate", "-s", "128M", str(image)], check=True)
    device = subprocess.run(["losetup", "-f", "--show", str(image)], check=True,
                            capture_output=True, text=True).stdout.strip()
    try:
        prepared = prepare(StorageAnswers(Backing.DISK, 0, device=device),
                           path=settings.storage_path, zram_control=settings.zram_control,
                           sys_block=settings.sys_block)
        try:
            fields = _mount_line(settings.storage_path)
            assert fields[0] == device and fields[2] == "ext4"
            assert prepared.size_mib == 128
            (settings.storage_path / "kept").write_text("survives a reboot")
        finally:
            release(prepared, zram_control=settings.zram_control, sys_block=settings.sys_block)
        label = subprocess.run(["blkid", "-p", "-o", "value", "-s", "LABEL", device],
                               capture_output=True, text=True, check=True).stdout.strip()
        assert label == "vsstorage"
    finally:
        subprocess.run(["losetup", "-d", device], check=False)


def test_the_proposal_is_zram_where_the_kernel_has_it_and_says_why(tmp_path: Path) -> None:
    with_zram = tmp_path / "zram-control"
    with_zram.mkdir()
    (with_zram / "hot_add").write_text("0\n")
    assert detect(zram_control=with_zram).zram
    assert not detect(zram_control=tmp_path / "none").zram
    assert detect().zram == Path("/sys/class/zram-control/hot_add").exists()  # this kernel

    zram = propose_backing(zram=True)
    assert zram.backing is Backing.ZRAM and "compressed RAM (zram)" in zram.reason
    tmpfs = propose_backing(zram=False)
    assert tmpfs.backing is Backing.TMPFS and "this kernel has no zram" in tmpfs.reason
    assert propose_backing(zram=None).backing is Backing.TMPFS

    # A seed or form without a backing gets the proposal; zram where there is none is refused.
    assert parse_storage({}, Facts(ram_mib=8192, zram=True)).backing is Backing.ZRAM
    assert parse_storage({}, Facts(ram_mib=8192, zram=False)).backing is Backing.TMPFS
    with pytest.raises(InvalidAnswers) as refused:
        parse_storage({"backing": "zram"}, Facts(ram_mib=8192, zram=False))
    assert "this kernel has no zram" in refused.value.by_key()["storage.backing"]
