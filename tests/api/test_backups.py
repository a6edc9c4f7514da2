"""Incremental backup through the SDK and ovirt-imageio's client, as backup_vm drives it,
with what the example does not show: a full backup, a change in the guest, an incremental
backup that holds only that change (restored over the full one, it reads as the guest's
disk then), again after the VM restarted (its bitmaps kept in the volume), the checkpoint
chain, removing a checkpoint, and oVirt's refusals."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import ovirtsdk4 as sdk
import ovirtsdk4.types as types
import pytest
from ovirt_imageio import client

from appliance.demoguest.console import GuestConsole
from tests.api.conftest import Appliance, unique
from tests.api.test_sdk import wait_status

MARKER = b"VIRTSTICK-MARKER\n"


@pytest.fixture
def running(admin: sdk.Connection, appliance: Appliance,
            demo_template: types.Template) -> Iterator[tuple[types.Vm, GuestConsole]]:
    vms = admin.system_service().vms_service()
    vm = vms.add(types.Vm(name=unique("bk"), cluster=types.Cluster(name="Default"),
                          template=types.Template(id=demo_template.id)))
    service = vms.vm_service(vm.id)
    wait_status(service, types.VmStatus.DOWN)
    service.start()
    wait_status(service, types.VmStatus.UP)
    consoles = appliance.state_dir / "consoles"
    console = GuestConsole(consoles / f"{vm.id}.sock", consoles / f"{vm.id}.log")
    console.wait_for("VIRTSTICK-GUEST-READY", 120)
    try:
        yield vm, console
    finally:
        console.close()
        for backup in service.backups_service().list():
            with contextlib.suppress(sdk.Error):
                service.backups_service().backup_service(backup.id).finalize()
        with contextlib.suppress(sdk.Error):
            service.stop()
        wait_status(service, types.VmStatus.DOWN)
        _wait(lambda: service.remove() is None, "the VM is removed")


def _wait(condition: Callable[[], object], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if condition():
                return
        except sdk.Error:
            pass
        assert time.monotonic() < deadline, f"timed out: {what}"
        time.sleep(0.3)


def _write_marker(console: GuestConsole, value: str) -> None:
    console.send(f"marker write {value}")
    console.wait_for(rf"^VIRTSTICK-MARKER-WRITTEN={value}\r?$", 30)


def _backup(admin: sdk.Connection, vm: types.Vm, *,
            since: str | None = None) -> types.Backup:
    vm_service = admin.system_service().vms_service().vm_service(vm.id)
    [attachment] = vm_service.disk_attachments_service().list()
    backups = vm_service.backups_service()
    backup = backups.add(types.Backup(disks=[types.Disk(id=attachment.disk.id)],
                                      from_checkpoint_id=since))
    service = backups.backup_service(backup.id)
    _wait(lambda: service.get().phase == types.BackupPhase.READY, "the backup is ready")
    return service.get()


def _download(admin: sdk.Connection, appliance: Appliance, vm: types.Vm, backup: types.Backup,
              target: Path, *, backing: Path | None = None) -> types.Disk:
    """What backup_vm's download does: one transfer per disk of the backup, raw guest data,
    incremental where the backup says so, then finalize the transfer."""
    backup_service = admin.system_service().vms_service().vm_service(
        vm.id).backups_service().backup_service(backup.id)
    [disk] = backup_service.disks_service().list()
    transfers = admin.system_service().image_transfers_service()
    transfer = transfers.add(types.ImageTransfer(
        disk=types.Disk(id=disk.id), backup=types.Backup(id=backup.id),
        direction=types.ImageTransferDirection.DOWNLOAD, format=types.DiskFormat.RAW))
    service = transfers.image_transfer_service(transfer.id)
    _wait(lambda: service.get().phase == types.ImageTransferPhase.TRANSFERRING,
          "the transfer is ready")
    incremental = disk.backup_mode == types.DiskBackupMode.INCREMENTAL
    client.download(service.get().transfer_url, str(target),
                    str(appliance.state_dir / "pki" / "ca.pem"), incremental=incremental,
                    backing_file=backing.name if backing else None, backing_format="qcow2")
    service.finalize()
    _wait(lambda: service.get().phase == types.ImageTransferPhase.FINISHED_SUCCESS,
          "the transfer is finished")
    return disk


def _finalize(admin: sdk.Connection, vm: types.Vm, backup: types.Backup) -> None:
    service = admin.system_service().vms_service().vm_service(
        vm.id).backups_service().backup_service(backup.id)
    service.finalize()
    _wait(lambda: service.get().phase == types.BackupPhase.SUCCEEDED, "the backup succeeded")


def _guest_bytes(image: Path) -> bytes:
    out = image.with_suffix(".raw")
    subprocess.run(["qemu-img", "convert", "-O", "raw", str(image), str(out)], check=True)
    return out.read_bytes()


def test_full_then_incremental_backups_hold_what_the_guest_wrote(
        admin: sdk.Connection, appliance: Appliance,
        running: tuple[types.Vm, GuestConsole], tmp_path: Path) -> None:
    vm, console = running
    vm_service = admin.system_service().vms_service().vm_service(vm.id)
    full = _backup(admin, vm)
    assert full.to_checkpoint_id and full.from_checkpoint_id is None
    with pytest.raises(sdk.Error) as again:  # one backup at a time
        _backup(admin, vm)
    assert again.value.code == 409 and "during a backup" in str(again.value)
    full_file = tmp_path / "full.qcow2"
    disk = _download(admin, appliance, vm, full, full_file)
    assert disk.backup_mode == types.DiskBackupMode.FULL
    assert admin.system_service().disks_service().disk_service(
        disk.id).get().status == types.DiskStatus.LOCKED  # while the backup runs
    _finalize(admin, vm, full)
    assert admin.system_service().disks_service().disk_service(
        disk.id).get().status == types.DiskStatus.OK

    _write_marker(console, "after-full")
    first = _backup(admin, vm, since=full.to_checkpoint_id)
    increment = tmp_path / "first.qcow2"
    disk = _download(admin, appliance, vm, first, increment, backing=full_file)
    assert disk.backup_mode == types.DiskBackupMode.INCREMENTAL
    _finalize(admin, vm, first)
    assert MARKER + b"after-full" not in _guest_bytes(full_file)
    assert MARKER + b"after-full\n" in _guest_bytes(increment)
    assert increment.stat().st_size < full_file.stat().st_size // 4, "only what changed"

    # the bitmaps live in the volume: after a restart the next increment still works
    vm_service.stop()
    wait_status(vm_service, types.VmStatus.DOWN)
    vm_service.start()
    wait_status(vm_service, types.VmStatus.UP)
    console.wait_for("VIRTSTICK-DISK-MARKER=after-full", 120)
    _write_marker(console, "after-restart")
    second = _backup(admin, vm, since=first.to_checkpoint_id)
    latest = tmp_path / "second.qcow2"
    disk = _download(admin, appliance, vm, second, latest, backing=increment)
    assert disk.backup_mode == types.DiskBackupMode.INCREMENTAL
    _finalize(admin, vm, second)
    assert MARKER + b"after-restart\n" in _guest_bytes(latest)

    checkpoints = vm_service.checkpoints_service()
    chain = [(c.id, c.parent_id) for c in checkpoints.list()]
    assert chain == [(full.to_checkpoint_id, None),
                     (first.to_checkpoint_id, full.to_checkpoint_id),
                     (second.to_checkpoint_id, first.to_checkpoint_id)]
    checkpoints.checkpoint_service(first.to_checkpoint_id).remove()  # while the VM runs
    chain = [(c.id, c.parent_id) for c in checkpoints.list()]
    assert chain == [(full.to_checkpoint_id, None),
                     (second.to_checkpoint_id, full.to_checkpoint_id)]
    with pytest.raises(sdk.NotFoundError):
        _backup(admin, vm, since=first.to_checkpoint_id)


def test_backup_refusals(admin: sdk.Connection, running: tuple[types.Vm, GuestConsole],
                         tmp_path: Path) -> None:
    vm, _ = running
    backups = admin.system_service().vms_service().vm_service(vm.id).backups_service()
    with pytest.raises(sdk.Error) as no_disks:
        backups.add(types.Backup(disks=[]))
    assert no_disks.value.code == 400
    with pytest.raises(sdk.NotFoundError):
        backups.add(types.Backup(disks=[types.Disk(id="00000000-0000-0000-0000-0000000000ab")]))
    backup = _backup(admin, vm)
    transfers = admin.system_service().image_transfers_service()
    [disk] = backups.backup_service(backup.id).disks_service().list()
    transfer = transfers.add(types.ImageTransfer(
        disk=types.Disk(id=disk.id), backup=types.Backup(id=backup.id),
        direction=types.ImageTransferDirection.DOWNLOAD, format=types.DiskFormat.RAW))
    with pytest.raises(sdk.Error) as busy:  # oVirt: the transfers end first
        backups.backup_service(backup.id).finalize()
    assert busy.value.code == 409 and "image transfers in progress" in str(busy.value)
    transfers.image_transfer_service(transfer.id).cancel()
    _wait(lambda: transfers.image_transfer_service(transfer.id).get().phase
          == types.ImageTransferPhase.FINISHED_CLEANUP, "the transfer is cancelled")
    _finalize(admin, vm, backup)
    with pytest.raises(sdk.Error) as over:  # a finished backup serves nothing
        transfers.add(types.ImageTransfer(
            disk=types.Disk(id=disk.id), backup=types.Backup(id=backup.id),
            direction=types.ImageTransferDirection.DOWNLOAD, format=types.DiskFormat.RAW))
    assert over.value.code == 409 and "succeeded" in str(over.value)
