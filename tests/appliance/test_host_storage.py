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
        repository.volume_info(VolumeId("sd2", "img", "vol"), fmt="qcow2")
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
    repository.create_volume(top, size=64 * MiB, parent=base, parent_format="qcow2")
    assert repository.volume_path(top) == images / "img1" / "vol2"
    info = repository.volume_info(top, fmt="qcow2")
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


@pytest.mark.parametrize("case", ["backing-file", "data-file", "too-big", "not-qcow2"])
def test_a_bad_foreign_image_is_refused_and_leaves_nothing(tmp_path: Path, case: str) -> None:
    repository = _connected(tmp_path)
    image = tmp_path / "disk.qcow2"
    host_file = tmp_path / "host-secret"  # stands for any file of the host
    host_file.write_bytes(b"secret\n")
    options = {"backing-file": ["-b", str(host_file), "-F", "raw"],
               # qemu-img create sizes the data file: the test's own one
               "data-file": ["-o", f"data_file={host_file},data_file_raw=on"]}.get(case, [])
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", *options, str(image), "32M"],
                   check=True)
    if case == "not-qcow2":
        image.write_bytes(b"QFI\xfb" + b"\xff" * 4096)
    ova, offset, size = _ova_with(tmp_path, image)
    target = VolumeId("sd1", "img1", "vol1")
    words = {"backing-file": "must stand alone", "data-file": "external data file",
             "too-big": "more than",
             "not-qcow2": "not a valid qcow2 image"}[case]
    with pytest.raises(ImageRejected, match=words):
        repository.bring_in(ForeignImage(ova, format="qcow2", offset=offset, length=size),
                            target, max_virtual_size=16 * MiB, staged=None, progress=None)
    assert list(repository.volume_path(target).parent.iterdir()) == []


def test_a_raw_volume_that_looks_like_a_qcow2_stays_raw_in_its_chain(tmp_path: Path) -> None:
    """A guest may write anything into its raw disk, a qcow2 header naming a data file on the
    host among it. Probed, that volume would become the qcow2 once a layer lies over it, and
    every read (a download, an export, as root) would return the host's file."""
    repository = _connected(tmp_path)
    host_file = tmp_path / "host-secret"
    crafted = tmp_path / "crafted.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-o",
                    f"data_file={host_file},data_file_raw=on", str(crafted), "1M"], check=True)
    host_file.write_bytes(b"HOST-SECRET")
    base = VolumeId("sd1", "img1", "vol1")
    repository.create_volume(base, size=MiB, fmt="raw")
    with repository.volume_path(base).open("r+b") as disk:  # what the guest wrote
        disk.write(crafted.read_bytes())
    with pytest.raises(HostAgentError, match="format of its parent is needed"):
        repository.create_volume(base.sibling("vol9"), size=MiB, parent=base)
    top = base.sibling("vol2")
    repository.create_volume(top, size=MiB, parent=base, parent_format="raw")
    child = base.sibling("vol3")
    repository.create_volume(child, size=MiB, parent=top, parent_format="qcow2")
    repository.commit_down(top=top, base=base, child=child)  # a snapshot removed
    assert repository.volume_info(child, fmt="qcow2").backing_format == "raw"
    seen = tmp_path / "seen.raw"
    subprocess.run(["qemu-img", "convert", "-f", "qcow2", "-O", "raw",
                    str(repository.volume_path(child)), str(seen)], check=True)
    assert seen.read_bytes().startswith(b"QFI\xfb")  # the guest's own bytes
    assert b"HOST-SECRET" not in seen.read_bytes()
