"""Device detection from real udev data (udevd in a namespace, a loop device with a labelled
filesystem, a veth pair) and from sysfs alone (no udevd: the host here)."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from firstboot.hardware import DataSource, detect

UDEVD = "/lib/systemd/systemd-udevd"
SEED_BY_UDEV = ("from pathlib import Path; from firstboot.seed import find_labelled_device; "
                "print(find_labelled_device(\"VSTEST\", Path(\"/nonexistent\")))")


@pytest.fixture
def loop_device(tmp_path: Path) -> Iterator[str]:
    image = tmp_path / "disk.img"
    subprocess.run(["truncate", "-s", "80M", str(image)], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-L", "VSTEST", str(image)], check=True)
    device = subprocess.run(["losetup", "-f", "--show", str(image)], check=True,
                            capture_output=True, text=True).stdout.strip()
    try:
        yield device
    finally:
        subprocess.run(["losetup", "-d", device], check=False)


@pytest.fixture
def netns() -> Iterator[str]:
    name = "vfhw" + secrets.token_hex(3)
    subprocess.run(["ip", "netns", "add", name], check=True)
    subprocess.run(["ip", "-n", name, "link", "add", f"{name}a", "type", "veth", "peer", "name",
                    f"{name}b"], check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def _in_namespace(netns: str, script: str) -> dict[str, Any]:
    result = subprocess.run(["ip", "netns", "exec", netns, "unshare", "-m", "--propagation",
                             "private", "sh", "-c", script], capture_output=True, text=True,
                            check=True, timeout=120)
    text, _, last = result.stdout.rstrip().rpartition("\n")
    if not last.startswith("/dev/"):
        return dict(json.loads(result.stdout))
    return {**json.loads(text), "seed_device": last}


def test_sysfs_only_detection(loop_device: str, netns: str) -> None:
    found = _in_namespace(netns, f"{sys.executable} -m firstboot.hardware --include-loop")
    nics = {n["name"]: n for n in found["nics"]}
    assert set(nics) == {f"{netns}a", f"{netns}b"}
    assert nics[f"{netns}a"]["source"] == DataSource.SYSFS
    assert nics[f"{netns}a"]["physical"] is False and nics[f"{netns}a"]["mac"].count(":") == 5
    (disk,) = [d for d in found["disks"] if d["node"] == loop_device]
    assert disk["size_mib"] == 80 and disk["source"] == DataSource.SYSFS
    assert disk["fs_label"] == ""  # only udev knows labels
    assert found["ram_mib"] > 0


def test_udev_detection_with_labels_and_drivers(loop_device: str, netns: str) -> None:
    disk_links_before = Path("/dev/disk").exists()
    script = (f"mount -t tmpfs tmpfs /run && {UDEVD} --daemon && "
              "udevadm trigger --action=add --subsystem-match=net --subsystem-match=block && "
              "udevadm settle -t 30; "
              f"{sys.executable} -m firstboot.hardware --include-loop; "
              f"{sys.executable} -c '{SEED_BY_UDEV}'; "
              "udevadm control --exit")
    try:
        found = _in_namespace(netns, script)
    finally:
        if not disk_links_before:
            shutil.rmtree("/dev/disk", ignore_errors=True)  # links udevd left in shared /dev
    nics = {n["name"]: n for n in found["nics"]}
    assert nics[f"{netns}a"]["source"] == DataSource.UDEV
    assert nics[f"{netns}a"]["driver"] == "veth"
    (disk,) = [d for d in found["disks"] if d["node"] == loop_device]
    assert disk["source"] == DataSource.UDEV
    assert (disk["fs_type"], disk["fs_label"]) == ("ext4", "VSTEST")
    assert found["seed_device"] == loop_device  # the seed finder's udev path, same data


def test_mounted_disk_is_in_use_and_not_offered(loop_device: str, tmp_path: Path) -> None:
    mountpoint = tmp_path / "mnt"
    mountpoint.mkdir()
    hardware = detect(include_loop=True)
    assert loop_device in hardware.facts().disks
    subprocess.run(["mount", loop_device, str(mountpoint)], check=True)
    try:
        hardware = detect(include_loop=True)
    finally:
        subprocess.run(["umount", str(mountpoint)], check=True)
    (disk,) = [d for d in hardware.disks if d.node == loop_device]
    assert disk.in_use and loop_device not in hardware.facts().disks
