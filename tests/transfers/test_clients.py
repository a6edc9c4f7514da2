"""ovirt-imageio's own ``ovirt-img`` and Ansible's ``ovirt_disk`` moving disks in and out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import ovirtsdk4 as sdk
import ovirtsdk4.types as types

from tests.api.conftest import ADMIN_PASSWORD
from tests.transfers.conftest import Clients, MiB, disk_by_name, guest_checksum, make_image, unique


def same_guest_data(first: Path, second: Path) -> bool:
    return subprocess.run(["qemu-img", "compare", str(first), str(second)],
                          capture_output=True).returncode == 0


def test_ovirt_img_upload_and_download(clients: Clients, admin: sdk.Connection) -> None:
    name = unique("img")
    image = make_image(clients.work / f"{name}.qcow2", size=48 * MiB)
    clients.ovirt_img("upload-disk", "-c", "engine", "--storage-domain", "ram", "--name", name,
                      str(image))
    disk = disk_by_name(admin, name)
    assert disk.status == types.DiskStatus.OK and disk.format == types.DiskFormat.COW
    target = clients.work / f"{name}-back.qcow2"
    clients.ovirt_img("download-disk", "-c", "engine", "--format", "qcow2", disk.id,
                      str(target))
    assert same_guest_data(image, target)
    assert guest_checksum(target) == guest_checksum(image)


def test_ansible_ovirt_disk_upload_and_download(clients: Clients,
                                                admin: sdk.Connection) -> None:
    name = unique("ansible")
    image = make_image(clients.work / f"{name}.qcow2", size=48 * MiB)
    target = clients.work / f"{name}-back.qcow2"
    auth = {"url": f"{clients.appliance.https_url}/ovirt-engine/api",
            "username": "admin@internal", "password": ADMIN_PASSWORD,
            "ca_file": str(clients.cafile)}
    play = [{
        "hosts": "localhost", "connection": "local", "gather_facts": False,
        "tasks": [
            {"name": "upload a disk image", "register": "uploaded",
             "ovirt.ovirt.ovirt_disk": {"auth": auth, "name": name, "storage_domain": "ram",
                                        "format": "cow", "upload_image_path": str(image),
                                        "timeout": 300}},
            {"name": "download it again",
             "ovirt.ovirt.ovirt_disk": {"auth": auth, "id": "{{ uploaded.id }}",
                                        "name": name, "storage_domain": "ram",
                                        "format": "cow", "download_image_path": str(target),
                                        "timeout": 300}},
        ]}]
    playbook = clients.work / f"{name}.yml"
    playbook.write_text(json.dumps(play))  # JSON is YAML
    env = {**clients.env(), "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
           "ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
           "ANSIBLE_NOCOLOR": "1"}
    result = subprocess.run([str(Path(sys.executable).with_name("ansible-playbook")),
                             "-i", "localhost,", str(playbook)], env=env, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    disk = disk_by_name(admin, name)
    assert disk.status == types.DiskStatus.OK
    assert same_guest_data(image, target)
