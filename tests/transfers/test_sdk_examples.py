"""The SDK's documented disk examples, run unchanged against the appliance: upload, checksum,
download, a held-open transfer and cancelling one, each through the real daemon."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import ovirtsdk4 as sdk
import ovirtsdk4.types as types

from tests.api.conftest import ADMIN_PASSWORD
from tests.transfers.conftest import (
    Clients,
    MiB,
    disk_by_name,
    guest_checksum,
    make_image,
    new_disk,
    unique,
)


def transfer_phase(connection: sdk.Connection, transfer_id: str) -> types.ImageTransferPhase:
    service = connection.system_service().image_transfers_service()
    return service.image_transfer_service(transfer_id).get().phase


def wait_disk_ok(connection: sdk.Connection, disk_id: str, timeout: float = 60) -> types.Disk:
    service = connection.system_service().disks_service().disk_service(disk_id)
    deadline = time.monotonic() + timeout
    while (disk := service.get()).status != types.DiskStatus.OK:
        assert time.monotonic() < deadline, f"disk still {disk.status}"
        time.sleep(0.5)
    return disk


def checksum_of_disk(clients: Clients, disk_id: str) -> str:
    result = clients.example("checksum_disk.py", "-c", "engine", disk_id)
    answer = json.loads(result.stdout)
    assert answer["algorithm"] == "blake2b"
    return str(answer["checksum"])


def test_upload_qcow2_then_checksum_and_download(clients: Clients,
                                                 admin: sdk.Connection) -> None:
    name = unique("upload")
    image = make_image(clients.work / f"{name}.qcow2")
    clients.example("upload_disk.py", "-c", "engine", "--sd-name", "ram",
                    "--disk-format", "qcow2", str(image))
    disk = disk_by_name(admin, f"{name}.qcow2")
    assert disk.status == types.DiskStatus.OK and disk.format == types.DiskFormat.COW
    assert disk.provisioned_size == 64 * MiB
    assert checksum_of_disk(clients, disk.id) == guest_checksum(image)

    target = clients.work / f"{name}-back.qcow2"
    clients.example("download_disk.py", "-c", "engine", disk.id, str(target))
    info = json.loads(subprocess.run(["qemu-img", "info", "--output=json", str(target)],
                                     capture_output=True, text=True, check=True).stdout)
    assert info["format"] == "qcow2" and info["virtual-size"] == 64 * MiB
    compare = subprocess.run(["qemu-img", "compare", str(image), str(target)],
                             capture_output=True, text=True)
    assert compare.returncode == 0, compare.stdout
    assert wait_disk_ok(admin, disk.id).status == types.DiskStatus.OK


def test_upload_raw_image_into_raw_disk(clients: Clients, admin: sdk.Connection) -> None:
    name = unique("rawup")
    image = make_image(clients.work / f"{name}.raw", fmt="raw", size=32 * MiB,
                       writes=((0x3c, 2, 4), (0x11, 30, 1)))
    clients.example("upload_disk.py", "-c", "engine", "--sd-name", "ram", str(image))
    disk = disk_by_name(admin, f"{name}.raw")
    assert disk.format == types.DiskFormat.RAW
    assert checksum_of_disk(clients, disk.id) == guest_checksum(image)


def test_iso_upload_lands_in_the_iso_library(clients: Clients, admin: sdk.Connection) -> None:
    name = unique("boot")
    tree = clients.work / f"{name}-tree"
    tree.mkdir()
    (tree / "hello.txt").write_text("hello from an uploaded ISO\n")
    iso = clients.work / f"{name}.iso"
    subprocess.run(["xorriso", "-as", "mkisofs", "-quiet", "-V", "UPLOADED", "-o", str(iso),
                    str(tree)], check=True, capture_output=True)
    clients.example("upload_disk.py", "-c", "engine", "--sd-name", "ram", str(iso))
    disk = disk_by_name(admin, f"{name}.iso")
    assert disk.content_type == types.DiskContentType.ISO
    assert checksum_of_disk(clients, disk.id) == guest_checksum(iso)


def test_image_transfer_example_holds_the_transfer_until_interrupted(
        clients: Clients, admin: sdk.Connection) -> None:
    disk = new_disk(admin, unique("held"))
    wait_disk_ok(admin, disk.id)
    process = subprocess.Popen(
        [sys.executable, "image_transfer.py", "-c", "engine", "--read-delay", "1", "download",
         disk.id], cwd=clients.examples, env=clients.env(), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    seen = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        seen.append(line)
        if "Reading from server" in line:
            break
    assert any("Transfer URL: https://" in line for line in seen), seen
    assert any("Proxy URL: https://" in line for line in seen), seen
    locked = admin.system_service().disks_service().disk_service(disk.id).get()
    assert locked.status == types.DiskStatus.LOCKED  # the transfer holds the disk
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 0, "".join(seen) + output
    assert "Finalizing image transfer" in output
    assert wait_disk_ok(admin, disk.id).status == types.DiskStatus.OK


def test_cancel_transfer_example(clients: Clients, admin: sdk.Connection,
                                 tmp_path: Path) -> None:
    disk = new_disk(admin, unique("tocancel"))
    wait_disk_ok(admin, disk.id)
    transfers = admin.system_service().image_transfers_service()
    transfer = transfers.add(types.ImageTransfer(
        disk=types.Disk(id=disk.id), direction=types.ImageTransferDirection.UPLOAD,
        format=types.DiskFormat.RAW, timeout_policy=types.ImageTransferTimeoutPolicy.PAUSE))
    assert transfer_phase(admin, transfer.id) == types.ImageTransferPhase.TRANSFERRING
    password = tmp_path / "password"
    password.write_text(ADMIN_PASSWORD + "\n")
    result = clients.example(
        "cancel_transfer.py", "--engine-url", clients.appliance.https_url,
        "--username", "admin@internal", "--password-file", str(password),
        "-c", str(clients.cafile), transfer.id)
    assert "Transfer cancelled" in result.stdout
    deadline = time.monotonic() + 60
    while transfer_phase(admin, transfer.id) != types.ImageTransferPhase.FINISHED_CLEANUP:
        assert time.monotonic() < deadline
        time.sleep(0.5)
    assert wait_disk_ok(admin, disk.id).status == types.DiskStatus.OK
