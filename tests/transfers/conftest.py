"""Image transfers end to end: a real ``virtstick serve`` with its real ovirt-imageio daemon,
driven by oVirt's real clients (the SDK's example scripts unchanged, ``ovirt-img``, Ansible's
``ovirt_disk``), each configured as a user would: ``~/.config/ovirt.conf`` in a HOME of the
test's own."""

from __future__ import annotations

import http.client
import json
import os
import secrets
import shutil
import ssl
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import ovirtsdk4 as sdk
import ovirtsdk4.types as types
import pytest

from tests import sandbox
from tests.api.conftest import ADMIN_PASSWORD, Appliance, start_appliance, stop_appliance

ROOT = Path(__file__).resolve().parents[2]
SDK_EXAMPLES = ROOT / ".cache" / "sdk-examples"  # as `make setup` leaves them
MiB = 1024 * 1024


@dataclass(frozen=True)
class Clients:
    """What a user of the appliance has on their machine: config files and the tools."""

    appliance: Appliance
    home: Path
    work: Path  # images the test makes and downloads
    examples: Path
    cafile: Path

    def env(self) -> dict[str, str]:
        return {**os.environ, "HOME": str(self.home), "XDG_CONFIG_HOME": str(self.home /
                                                                               ".config")}

    def example(self, script: str, *args: str, timeout: float = 300,
                check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run one of the SDK's examples as shipped, with the ``engine`` config section."""
        result = subprocess.run([sys.executable, script, *args], cwd=self.examples,
                                env=self.env(), capture_output=True, text=True,
                                timeout=timeout)
        if check:
            assert result.returncode == 0, f"{script}:\n{result.stdout}\n{result.stderr}"
        return result

    def ovirt_img(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        tool = Path(sys.executable).with_name("ovirt-img")
        result = subprocess.run([str(tool), *args], env=self.env(), capture_output=True,
                                text=True, timeout=timeout)
        assert result.returncode == 0, f"ovirt-img {args}:\n{result.stdout}\n{result.stderr}"
        return result


def sdk_examples() -> Path:
    """The installed SDK's own examples/, fetched from its sdist if `make setup` has not."""
    version = metadata.version("ovirt-engine-sdk-python")
    examples = SDK_EXAMPLES / "examples"
    if (SDK_EXAMPLES / ".installed").is_file() and \
            (SDK_EXAMPLES / ".installed").read_text().strip() == version:
        return examples
    sdist = SDK_EXAMPLES / "sdist"
    shutil.rmtree(SDK_EXAMPLES, ignore_errors=True)
    sdist.mkdir(parents=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-binary", ":all:",
                    "--no-deps", "-d", str(sdist), f"ovirt-engine-sdk-python=={version}"],
                   check=True)
    archive = next(sdist.glob("*.tar.gz"))
    subprocess.run(["tar", "-xzf", str(archive), "-C", str(SDK_EXAMPLES),
                    "--strip-components=1", "--wildcards", "*/examples/*"], check=True)
    (SDK_EXAMPLES / ".installed").write_text(version + "\n")
    return examples


@pytest.fixture(scope="session")
def appliance() -> Iterator[Appliance]:
    base = sandbox.state_dir("vs-transfers-")
    prefix = f"vsxfer{secrets.token_hex(3)}-"
    process, running = start_appliance(base, prefix=prefix)
    try:
        yield running
    finally:
        stop_appliance(process, prefix)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def clients(appliance: Appliance) -> Clients:
    home = appliance.state_dir / "home"
    config = home / ".config"
    config.mkdir(parents=True, exist_ok=True)
    cafile = appliance.state_dir / "pki" / "ca.pem"
    section = (f"[engine]\nengine_url = {appliance.https_url}\nusername = admin@internal\n"
               f"password = {ADMIN_PASSWORD}\ncafile = {cafile}\n")
    (config / "ovirt.conf").write_text(section)
    (config / "ovirt-img.conf").write_text(section)
    work = appliance.state_dir / "work"
    work.mkdir(exist_ok=True)
    return Clients(appliance=appliance, home=home, work=work, examples=sdk_examples(),
                   cafile=cafile)


@pytest.fixture
def admin(appliance: Appliance) -> Iterator[sdk.Connection]:
    connection = appliance.connect()
    try:
        yield connection
    finally:
        connection.close()


def make_image(path: Path, *, size: int = 64 * MiB, fmt: str = "qcow2",
               writes: tuple[tuple[int, int, int], ...] = ((1, 1, 3), (0x7e, 40, 2))) -> Path:
    """A sparse image with recognizable data: (pattern, offset MiB, length MiB) writes."""
    subprocess.run(["qemu-img", "create", "-q", "-f", fmt, str(path), str(size)], check=True)
    for pattern, offset, length in writes:
        subprocess.run(["qemu-io", "-f", fmt, "-c",
                        f"write -P {pattern} {offset * MiB} {length * MiB}", str(path)],
                       check=True, capture_output=True)
    return path


def guest_checksum(path: Path) -> str:
    """ovirt-imageio's checksum of what an image shows, the one the daemon computes."""
    from ovirt_imageio import client

    found: dict[str, str] = client.checksum(str(path))
    return found["checksum"]


def disk_by_name(connection: sdk.Connection, name: str) -> types.Disk:
    disks = [d for d in connection.system_service().disks_service().list() if d.name == name]
    assert len(disks) == 1, [d.name for d in disks]
    return disks[0]


def new_disk(connection: sdk.Connection, name: str, *, size: int = 64 * MiB,
             fmt: types.DiskFormat = types.DiskFormat.COW) -> types.Disk:
    disk = connection.system_service().disks_service().add(types.Disk(
        name=name, format=fmt, provisioned_size=size, sparse=True,
        storage_domains=[types.StorageDomain(name="ram")]))
    return disk


def unique(name: str) -> str:
    return f"{name}-{secrets.token_hex(3)}"


def start(connection: sdk.Connection, disk_id: str, direction: types.ImageTransferDirection,
          **extra: object) -> types.ImageTransfer:
    transfer = connection.system_service().image_transfers_service().add(types.ImageTransfer(
        disk=types.Disk(id=disk_id), direction=direction, format=types.DiskFormat.RAW,
        **extra))
    assert transfer.phase == types.ImageTransferPhase.TRANSFERRING
    return transfer


def wait_phase(connection: sdk.Connection, transfer_id: str,
               phases: set[types.ImageTransferPhase], timeout: float = 90) -> types.ImageTransfer:
    service = connection.system_service().image_transfers_service().image_transfer_service(
        transfer_id)
    deadline = time.monotonic() + timeout
    while (transfer := service.get()).phase not in phases:
        assert time.monotonic() < deadline, f"transfer still {transfer.phase}"
        time.sleep(0.5)
    return transfer


def finalize(connection: sdk.Connection, transfer_id: str) -> types.ImageTransfer:
    connection.system_service().image_transfers_service().image_transfer_service(
        transfer_id).finalize()
    return wait_phase(connection, transfer_id, {types.ImageTransferPhase.FINISHED_SUCCESS,
                                                types.ImageTransferPhase.FINISHED_FAILURE})


def disk_status(connection: sdk.Connection, disk_id: str) -> types.DiskStatus:
    return connection.system_service().disks_service().disk_service(disk_id).get().status


def request(clients: Clients, url: str, method: str = "GET", body: bytes | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    parsed = urllib.parse.urlparse(url)
    context = ssl.create_default_context(cafile=str(clients.cafile))
    conn = http.client.HTTPSConnection(parsed.netloc, context=context, timeout=30)
    try:
        conn.request(method, parsed.path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def upload(clients: Clients, admin: sdk.Connection, name: str) -> tuple[types.Disk, str]:
    """A disk holding a known image, uploaded through a transfer; returns it and the
    image's checksum."""
    from ovirt_imageio import client

    image = make_image(clients.work / f"{name}.qcow2")
    disk = new_disk(admin, name)
    transfer = start(admin, disk.id, types.ImageTransferDirection.UPLOAD)
    client.upload(str(image), transfer.transfer_url, str(clients.cafile))
    assert finalize(admin, transfer.id).phase == types.ImageTransferPhase.FINISHED_SUCCESS
    return disk, guest_checksum(image)


def disk_checksum(clients: Clients, admin: sdk.Connection, disk_id: str) -> str:
    transfer = start(admin, disk_id, types.ImageTransferDirection.DOWNLOAD)
    try:
        status, body = request(clients, transfer.transfer_url + "/checksum")
        assert status == 200, body
        return str(json.loads(body)["checksum"])
    finally:
        finalize(admin, transfer.id)
