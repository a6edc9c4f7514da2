"""What a transfer may and may not do: its ticket opens one disk, only while it runs; a client
that dies midway leaves the disk unlocked and as it was; a user reaches only their disks;
disk snapshots are listed and downloaded as the SDK's examples do."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

import ovirtsdk4 as sdk
import ovirtsdk4.types as types
import pytest

from tests.api.conftest import Appliance
from tests.transfers.conftest import (
    Clients,
    MiB,
    disk_checksum,
    disk_status,
    finalize,
    guest_checksum,
    new_disk,
    request,
    start,
    unique,
    upload,
    wait_phase,
)

PASSWORD = "transfer-user-1"


def test_ticket_opens_one_disk_and_only_while_the_transfer_runs(
        clients: Clients, admin: sdk.Connection) -> None:
    first, first_sum = upload(clients, admin, unique("ticket-a"))
    second = new_disk(admin, unique("ticket-b"))
    reading = start(admin, first.id, types.ImageTransferDirection.DOWNLOAD)
    status, options = request(clients, reading.transfer_url, "OPTIONS")
    assert status == 200 and "zero" not in json.loads(options)["features"]  # read-only
    status, data = request(clients, reading.transfer_url, headers={"Range": "bytes=0-1048575"})
    assert status == 206 and len(data) == MiB
    status, _ = request(clients, reading.transfer_url, "PUT", b"\0" * 512,
                        {"Content-Range": "bytes 0-511/*"})
    assert status == 403  # a download's ticket cannot write
    forged = reading.transfer_url.rsplit("/", 1)[0] + "/" + second.id
    assert request(clients, forged)[0] == 403  # a disk's id is no ticket
    assert finalize(admin, reading.id).phase == types.ImageTransferPhase.FINISHED_SUCCESS
    assert request(clients, reading.transfer_url)[0] == 403  # finalized: the ticket is gone

    writing = start(admin, second.id, types.ImageTransferDirection.UPLOAD)
    assert request(clients, writing.transfer_url, "OPTIONS")[0] == 200
    admin.system_service().image_transfers_service().image_transfer_service(
        writing.id).cancel()
    wait_phase(admin, writing.id, {types.ImageTransferPhase.FINISHED_CLEANUP})
    assert request(clients, writing.transfer_url, "OPTIONS")[0] == 403  # cancelled
    assert disk_status(admin, second.id) == types.DiskStatus.OK
    assert disk_checksum(clients, admin, first.id) == first_sum


HALF_WAY_CLIENT = """
import http.client, ssl, sys, time, urllib.parse
direction, url, cafile = sys.argv[1:]
parsed = urllib.parse.urlparse(url)
conn = http.client.HTTPSConnection(parsed.netloc,
                                   context=ssl.create_default_context(cafile=cafile))
if direction == "upload":
    conn.putrequest("PUT", parsed.path)
    conn.putheader("Content-Length", str(32 << 20))
    conn.putheader("Content-Range", "bytes 0-%d/*" % ((32 << 20) - 1))
    conn.endheaders()
    conn.send(bytes(4 << 20))
else:
    conn.request("GET", parsed.path)
    conn.getresponse().read(1 << 20)
print("half way", flush=True)
time.sleep(600)
"""


@pytest.mark.parametrize("direction", ["upload", "download"])
def test_client_killed_midway_leaves_the_disk_unlocked_and_intact(
        clients: Clients, admin: sdk.Connection, direction: str) -> None:
    disk, before = upload(clients, admin, unique(f"killed-{direction}"))
    transfer = start(admin, disk.id, types.ImageTransferDirection(direction),
                     inactivity_timeout=3,
                     timeout_policy=types.ImageTransferTimeoutPolicy.CANCEL)
    # A client that is half way through its request when it dies: an upload that sent 4 MiB
    # of the 32 it announced (zeros over the disk's data), a download that read 1 MiB.
    process = subprocess.Popen([sys.executable, "-c", HALF_WAY_CLIENT, direction,
                                transfer.transfer_url, str(clients.cafile)],
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "half way", "the client did not get going"
    process.kill()
    process.wait()
    ended = wait_phase(admin, transfer.id, {types.ImageTransferPhase.FINISHED_FAILURE})
    assert disk_status(admin, disk.id) == types.DiskStatus.OK
    assert disk_checksum(clients, admin, disk.id) == before
    assert request(clients, transfer.transfer_url, "OPTIONS")[0] == 403
    assert ended.transfer_url is None


def test_locked_disk_refuses_a_second_transfer_and_removal(admin: sdk.Connection) -> None:
    disk = new_disk(admin, unique("locked"))
    transfer = start(admin, disk.id, types.ImageTransferDirection.DOWNLOAD)
    assert disk_status(admin, disk.id) == types.DiskStatus.LOCKED
    with pytest.raises(sdk.Error, match="locked"):
        start(admin, disk.id, types.ImageTransferDirection.DOWNLOAD)
    with pytest.raises(sdk.Error, match="locked"):
        admin.system_service().disks_service().disk_service(disk.id).remove()
    finalize(admin, transfer.id)
    assert disk_status(admin, disk.id) == types.DiskStatus.OK


def test_a_vm_whose_disk_is_in_a_transfer_keeps_its_disks_as_they_are(
        admin: sdk.Connection, tmp_path: Path) -> None:
    """While an upload writes a disk, its VM takes no snapshot (the upload would write below
    the new layer), is not cloned, made a template or exported (a half-written copy), and is
    not removed: a refused removal keeps every disk, not only the locked one."""
    vms = admin.system_service().vms_service()
    vm = vms.add(types.Vm(name=unique("held"), cluster=types.Cluster(name="Default"),
                          template=types.Template(name="Blank")))
    vm_service = vms.vm_service(vm.id)
    attachments = vm_service.disk_attachments_service()
    free = new_disk(admin, unique("held-free"))
    attachments.add(types.DiskAttachment(disk=types.Disk(id=free.id), bootable=True,
                                         interface=types.DiskInterface.VIRTIO, active=True))
    held = new_disk(admin, unique("held-busy"))
    attachments.add(types.DiskAttachment(disk=types.Disk(id=held.id),
                                         interface=types.DiskInterface.VIRTIO, active=True))
    transfer = start(admin, held.id, types.ImageTransferDirection.UPLOAD)
    tmp_path.chmod(0o755)
    refused: list[Callable[[], object]] = [
        lambda: vm_service.snapshots_service().add(types.Snapshot(description="during")),
        lambda: vm_service.clone(vm=types.Vm(name=unique("held-clone"))),
        lambda: admin.system_service().templates_service().add(
            types.Template(name=unique("held-t"), vm=types.Vm(id=vm.id))),
        lambda: vm_service.export_to_path_on_host(
            host=types.Host(id=admin.system_service().hosts_service().list()[0].id),
            directory=str(tmp_path), filename="held.ova"),
        lambda: vm_service.remove(),
    ]
    for attempt in refused:
        with pytest.raises(sdk.Error, match="locked") as caught:
            attempt()
        assert caught.value.code == 409, caught.value
    assert [s for s in vm_service.snapshots_service().list() if s.description == "during"] == []
    assert {a.id for a in attachments.list()} == {free.id, held.id}
    assert not vms.list(search="name=held-clone*")
    assert not list(tmp_path.iterdir())
    admin.system_service().image_transfers_service().image_transfer_service(
        transfer.id).cancel()
    wait_phase(admin, transfer.id, {types.ImageTransferPhase.FINISHED_CLEANUP})
    vm_service.remove()


@pytest.fixture
def user_connection(appliance: Appliance, admin: sdk.Connection) -> Iterator[sdk.Connection]:
    users = admin.system_service().users_service()
    user = users.add(types.User(user_name=f"{unique('mover')}@internal", password=PASSWORD,
                                domain=types.Domain(name="internal-authz")))
    connection = appliance.connect(f"{user.principal}@internal", PASSWORD)
    try:
        yield connection
    finally:
        connection.close()
        users.user_service(user.id).remove()


def test_transfer_never_reaches_a_disk_the_user_may_not_touch(
        admin: sdk.Connection, user_connection: sdk.Connection) -> None:
    disk = new_disk(admin, unique("private"))
    with pytest.raises(sdk.NotFoundError):
        start(user_connection, disk.id, types.ImageTransferDirection.DOWNLOAD)
    with pytest.raises(sdk.NotFoundError):
        start(user_connection, disk.id, types.ImageTransferDirection.UPLOAD)
    assert disk_status(admin, disk.id) == types.DiskStatus.OK
    transfer = start(admin, disk.id, types.ImageTransferDirection.DOWNLOAD)
    theirs = user_connection.system_service().image_transfers_service()
    assert transfer.id not in {t.id for t in theirs.list()}
    with pytest.raises(sdk.NotFoundError):
        theirs.image_transfer_service(transfer.id).get()
    with pytest.raises(sdk.NotFoundError):
        theirs.image_transfer_service(transfer.id).cancel()
    assert finalize(admin, transfer.id).phase == types.ImageTransferPhase.FINISHED_SUCCESS


def test_an_uploaded_qcow2_that_keeps_its_data_in_a_host_file_is_refused(
        clients: Clients, user_connection: sdk.Connection) -> None:
    """A qcow2 whose data lives in an external data file names a file of the host; put in
    place, a download read that file (as root) and a commit would write it. The upload is
    refused at finalize and the disk keeps what it had."""
    host_file = clients.work / unique("host-file")  # stands for /etc/shadow
    crafted = clients.work / f"{unique('crafted')}.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-o",
                    f"data_file={host_file},data_file_raw=on", str(crafted), "1M"], check=True)
    host_file.write_bytes(b"HOST-SECRET" + b"\0" * (MiB - 11))
    disk = new_disk(user_connection, unique("data-file"), size=MiB)
    transfer = user_connection.system_service().image_transfers_service().add(
        types.ImageTransfer(disk=types.Disk(id=disk.id), format=types.DiskFormat.COW,
                            direction=types.ImageTransferDirection.UPLOAD))
    data = crafted.read_bytes()
    status, _ = request(clients, wait_phase(user_connection, transfer.id, {
        types.ImageTransferPhase.TRANSFERRING}).transfer_url, "PUT", data,
        {"Content-Range": f"bytes 0-{len(data) - 1}/*"})
    assert status == 200
    ended = finalize(user_connection, transfer.id)
    assert ended.phase == types.ImageTransferPhase.FINISHED_FAILURE
    reading = start(user_connection, disk.id, types.ImageTransferDirection.DOWNLOAD)
    status, body = request(clients, reading.transfer_url, headers={"Range": "bytes=0-1023"})
    assert status == 206 and b"HOST-SECRET" not in body and body == b"\0" * 1024
    finalize(user_connection, reading.id)


def test_disk_snapshots_listed_and_downloaded_with_the_sdk_examples(
        clients: Clients, admin: sdk.Connection) -> None:
    disk, uploaded = upload(clients, admin, unique("snapped"))
    vms = admin.system_service().vms_service()
    vm = vms.add(types.Vm(name=unique("snapvm"), template=types.Template(name="Blank"),
                          cluster=types.Cluster(name="Default"), memory=64 * MiB))
    vm_service = vms.vm_service(vm.id)
    vm_service.disk_attachments_service().add(types.DiskAttachment(
        disk=types.Disk(id=disk.id), interface=types.DiskInterface.VIRTIO, bootable=True,
        active=True))
    snapshot = vm_service.snapshots_service().add(types.Snapshot(description="before"))
    deadline = time.monotonic() + 60
    while vm_service.snapshots_service().snapshot_service(snapshot.id).get().snapshot_status \
            != types.SnapshotStatus.OK:
        assert time.monotonic() < deadline
        time.sleep(0.5)
    listed = json.loads(clients.example("list_disk_snapshots.py", "-c", "engine",
                                        disk.id).stdout)
    assert len(listed) == 2 and listed[0]["parent"] is None
    assert listed[1]["parent"] == listed[0]["id"]
    domain = admin.system_service().storage_domains_service().list(search="name=ram")[0]
    in_domain = admin.system_service().storage_domains_service().storage_domain_service(
        domain.id).disk_snapshots_service().list()
    assert {listed[0]["id"], listed[1]["id"]} <= {s.id for s in in_domain}
    frozen = clients.work / f"{disk.id}-snapshot.qcow2"
    clients.example("download_disk_snapshot.py", "-c", "engine", "ram", listed[0]["id"],
                    str(frozen))
    assert guest_checksum(frozen) == uploaded
    with pytest.raises(sdk.Error, match="snapshots"):
        start(admin, disk.id, types.ImageTransferDirection.UPLOAD)


def test_a_flood_of_connections_is_bounded_and_the_daemon_serves_afterwards(
        clients: Clients, admin: sdk.Connection) -> None:
    run_dir = clients.appliance.state_dir / "imageio"
    pid = int((run_dir / "daemon.pid").read_text())
    limits = Path(f"/proc/{pid}/limits").read_text()
    assert re.search(r"Max open files\s+512\s+512", limits), limits
    disk = new_disk(admin, unique("flooded"))
    transfer = start(admin, disk.id, types.ImageTransferDirection.DOWNLOAD)
    port = int(urllib.parse.urlparse(transfer.transfer_url).port or 0)
    held = []
    try:
        for _ in range(700):  # more than the daemon may hold open
            try:
                held.append(socket.create_connection(("127.0.0.1", port), timeout=2))
            except OSError:
                break
    finally:
        for sock in held:
            sock.close()
    deadline = time.monotonic() + 30
    while True:
        try:
            assert request(clients, transfer.transfer_url, "OPTIONS")[0] == 200
            break
        except OSError:
            assert time.monotonic() < deadline, "the daemon did not come back"
            time.sleep(0.5)
    assert finalize(admin, transfer.id).phase == types.ImageTransferPhase.FINISHED_SUCCESS
