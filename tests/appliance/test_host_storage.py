"""A host's storage as the engine sees it: domains connected once by their location, then
volumes named by ids only; real files in a temporary directory and real qemu-img."""

from __future__ import annotations

import io
import stat
import subprocess
import tarfile
from pathlib import Path

import pytest

from appliance.errors import HostAgentError, ImageRejected
from appliance.vdsm.storage.repository import Repository
from appliance.vdsm.storage_interface import ForeignImage, StorageConnection, VolumeId

MiB = 1024 * 1024


def _connected(tmp_path: Path) -> Repository:
    repository = Repository("host-1")
    repository.connect(StorageConnection(storage_domain_id="sd1", path=str(tmp_path / "ram")))
    return repository


def test_a_domain_not_connected_is_a_clear_error(tmp_path: Path) -> None:
    repository = _connected(tmp_path)
    with pytest.raises(HostAgentError, match="storage domain sd2 is not connected to host "
                                             "host-1"):
        repository.volume_info(VolumeId("sd2", "img", "vol"))
    repository.disconnect("sd1")
    with pytest.raises(HostAgentError, match="not connected"):
        repository.create_volume(VolumeId("sd1", "img", "vol"), size=MiB)


def test_volumes_are_named_by_ids_and_kept_where_the_domain_lives(tmp_path: Path) -> None:
    repository = _connected(tmp_path)
    images = tmp_path / "ram" / "sd1" / "images"
    assert stat.S_IMODE(images.stat().st_mode) == 0o755  # QEMU's user walks through
    base = VolumeId("sd1", "img1", "vol1")
    top = base.sibling("vol2")
    repository.create_volume(base, size=64 * MiB)
    repository.create_volume(top, size=64 * MiB, parent=base)
    assert repository.volume_path(top) == images / "img1" / "vol2"
    info = repository.volume_info(top)
    assert info.virtual_size == 64 * MiB and info.backing_file == str(images / "img1" / "vol1")
    assert repository.volumes("sd1") == {base, top}
    repository.delete_image(storage_domain_id="sd1", image_id="img1")
    assert repository.volumes("sd1") == frozenset()


def _ova_with(tmp_path: Path, image: Path) -> tuple[Path, int, int]:
    """An archive holding ``image`` after another member: (path, offset, size) of its data."""
    ova = tmp_path / "x.ova"
    data = image.read_bytes()
    with tarfile.open(ova, "w", format=tarfile.USTAR_FORMAT) as tar:
        first = tarfile.TarInfo("vm.ovf")
        first.size = 3
        tar.addfile(first, io.BytesIO(b"ovf"))
        info = tarfile.TarInfo("disk1")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    with tarfile.open(ova) as tar:
        member = tar.getmember("disk1")
        return ova, member.offset_data, member.size


def test_an_archive_member_is_brought_in(tmp_path: Path) -> None:
    repository = _connected(tmp_path)
    image = tmp_path / "disk.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(image), "32M"], check=True)
    ova, offset, size = _ova_with(tmp_path, image)
    staged: list[int] = []
    target = VolumeId("sd1", "img1", "vol1")
    info = repository.bring_in(ForeignImage(ova, format="qcow2", offset=offset, length=size),
                               target, max_virtual_size=32 * MiB, staged=staged.append,
                               progress=None)
    assert info.virtual_size == 32 * MiB and staged[-1] == size
    assert sorted(p.name for p in repository.volume_path(target).parent.iterdir()) == ["vol1"]


@pytest.mark.parametrize("case", ["backing-file", "too-big", "not-qcow2"])
def test_a_bad_foreign_image_is_refused_and_leaves_nothing(tmp_path: Path, case: str) -> None:
    repository = _connected(tmp_path)
    image = tmp_path / "disk.qcow2"
    backing = ["-b", "/etc/hostname", "-F", "raw"] if case == "backing-file" else []
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", *backing, str(image), "32M"],
                   check=True)
    if case == "not-qcow2":
        image.write_bytes(b"QFI\xfb" + b"\xff" * 4096)
    ova, offset, size = _ova_with(tmp_path, image)
    target = VolumeId("sd1", "img1", "vol1")
    words = {"backing-file": "must stand alone", "too-big": "more than",
             "not-qcow2": "not a valid qcow2 image"}[case]
    with pytest.raises(ImageRejected, match=words):
        repository.bring_in(ForeignImage(ova, format="qcow2", offset=offset, length=size),
                            target, max_virtual_size=16 * MiB, staged=None, progress=None)
    assert list(repository.volume_path(target).parent.iterdir()) == []
