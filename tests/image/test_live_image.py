"""Build the Debian live ISO, check its layout, and boot it under QEMU TCG as a USB stick.

The build uses the project's cache (``.cache/image``), so only the first run on a machine pays
for the downloads. ``VIRTSTICK_TEST_ISO=path`` reuses an ISO built beforehand. Each boot
brings the seed on a second USB stick, as an evaluator would: the wizard must find it and
apply it unattended, then the service answers on HTTP and HTTPS and the oVirt SDK makes and
starts a VM from the demo template.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from image.build import build
from image.distro import DistroName
from image.manifest import sha256_of
from image.options import PROJECT_DIR, BuildOptions
from tests.image.live_machine import Firmware, LiveMachine, make_seed_stick

pytestmark = [pytest.mark.image, pytest.mark.slow]

ESP_TYPE = uuid.UUID("C12A7328-F81F-11D2-BA4B-00A0C93EC93B")
ROOT_REPORT = "virtstick: root file system is overlay, writable layer on tmpfs"
# The wizard's own lines on the console (firstboot/cli.py): the seed came from the stick.
SEED_APPLIED = "virtstick-firstboot: applying the seed from filesystem VSSEED (/dev/sd"
NO_SEED = "virtstick-firstboot: no seed found"
ADMIN_PASSWORD = "Lab-Stick-Passphrase-2026"
SEED = f"""
[network]
mode = "dhcp"
hostname = "virtstick"

[storage]
backing = "tmpfs"
size_mib = 512

[admin]
password = "{ADMIN_PASSWORD}"
"""



@dataclass(frozen=True)
class BuiltIso:
    iso: Path
    manifest: dict[str, object]


@pytest.fixture(scope="session")
def built_iso(tmp_path_factory: pytest.TempPathFactory) -> BuiltIso:
    given = os.environ.get("VIRTSTICK_TEST_ISO")
    if given:
        iso = Path(given)
    else:
        out = tmp_path_factory.mktemp("image-out")
        options = BuildOptions(
            distro=DistroName.DEBIAN,
            output_dir=out,
            cache_dir=PROJECT_DIR / ".cache" / "image",
        )
        with (out / "build.log").open("w") as log:
            result = build(options, out=log)
        iso = result.outputs.iso
    manifest = json.loads(iso.with_name(iso.stem + ".manifest.json").read_text())
    return BuiltIso(iso=iso, manifest=manifest)


def xorriso_report(iso: Path, *commands: str) -> str:
    return subprocess.run(
        ["xorriso", "-indev", str(iso), *commands],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


@pytest.mark.timeout(3600)
def test_iso_layout(built_iso: BuiltIso) -> None:
    iso = built_iso.iso
    with iso.open("rb") as handle:
        mbr = handle.read(512)
        gpt_header = handle.read(512)
        handle.seek(struct.unpack_from("<Q", gpt_header, 72)[0] * 512)
        entries = handle.read(128 * 128)
    assert mbr[510:512] == b"\x55\xaa", "no MBR boot signature"
    assert gpt_header[:8] == b"EFI PART", "no GPT header at LBA 1"
    types = [uuid.UUID(bytes_le=entries[i : i + 16]) for i in range(0, len(entries), 128)]
    assert ESP_TYPE in types, "no EFI system partition in the GPT"

    el_torito = xorriso_report(iso, "-report_el_torito", "plain")
    boot_lines = [line for line in el_torito.splitlines() if "El Torito boot img" in line]
    assert any(" BIOS " in line for line in boot_lines), el_torito
    assert any(" UEFI " in line for line in boot_lines), el_torito

    lba = xorriso_report(iso, "-find", "/LiveOS/squashfs.img", "-exec", "report_lba")
    start = int(next(line for line in lba.splitlines() if "squashfs.img" in line).split(",")[1])
    with iso.open("rb") as handle:
        handle.seek(start * 2048)
        superblock = handle.read(96)
    assert superblock[:4] == b"hsqs"
    assert struct.unpack_from("<H", superblock, 20)[0] == 6, "squashfs is not zstd"

    assert iso.stat().st_size < 700_000_000
    checksum = iso.with_name(iso.name + ".sha256").read_text().split()
    assert checksum == [sha256_of(iso), iso.name]
    manifest = built_iso.manifest
    assert manifest["distro"] == "debian"
    packages = manifest["packages"]
    assert isinstance(packages, dict)
    for package in ("qemu-system-x86", "libvirt-daemon-system", "network-manager", "dracut"):
        assert package in packages, package


@pytest.fixture(scope="session")
def seed_stick(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_seed_stick(SEED, tmp_path_factory.mktemp("seed") / "seed-stick.img")


@pytest.fixture(params=list(Firmware), ids=[firmware.value for firmware in Firmware])
def booted(
    request: pytest.FixtureRequest, built_iso: BuiltIso, seed_stick: Path, tmp_path: Path
) -> Iterator[LiveMachine]:
    machine = LiveMachine(
        iso=built_iso.iso, firmware=request.param, work_dir=tmp_path, seed_stick=seed_stick
    )
    machine.start()
    try:
        yield machine
    finally:
        machine.stop()


@pytest.mark.timeout(3600)
def test_boots_as_a_usb_stick(booted: LiveMachine) -> None:
    root_at = booted.wait_serial(ROOT_REPORT, timeout=600)
    print(f"{booted.firmware.value}: live root reported after {root_at:.0f}s")
    if booted.firmware is Firmware.SECURE_BOOT:
        # shim, GRUB and the kernel were all verified: the rest is the same as plain UEFI.
        assert "Secure boot enabled" in booted.serial()
        return
    seed_at = wait_for_seed(booted)
    print(f"{booted.firmware.value}: seed on the second USB stick applied after {seed_at:.0f}s")
    health_at, _ = booted.wait_http("http", "/health", timeout=900)
    print(f"{booted.firmware.value}: /health on guest port 80 answered after {health_at:.0f}s")
    https_at, https_port = booted.wait_http("https", "/health", timeout=120)
    print(f"{booted.firmware.value}: /health on guest port 443 answered after {https_at:.0f}s")
    run_api_flow(booted, f"https://127.0.0.1:{https_port}")


def wait_for_seed(machine: LiveMachine) -> float:
    """Seconds until the wizard applied the stick's seed; it must not have gone interactive."""
    try:
        return machine.wait_serial(SEED_APPLIED, timeout=900)
    except TimeoutError:
        serial = machine.serial()
        said = [line for line in serial.splitlines() if "virtstick-firstboot" in line]
        raise AssertionError(
            "the wizard did not apply the seed on the second USB stick:\n" + "\n".join(said)
        ) from None


def run_api_flow(machine: LiveMachine, base: str) -> None:
    """Log in with the oVirt SDK, find the demo template, make a VM from it and start it."""
    import ovirtsdk4 as sdk
    import ovirtsdk4.types as types

    connection = sdk.Connection(
        url=f"{base}/ovirt-engine/api",
        username="admin@internal",
        password=ADMIN_PASSWORD,
        insecure=True,
    )
    try:
        system = connection.system_service()
        templates = system.templates_service().list()
        assert any(template.name == "Demo" for template in templates), templates
        vms = system.vms_service()
        vm = vms.add(
            types.Vm(
                name="demo-vm",
                cluster=types.Cluster(name="Default"),
                template=types.Template(name="Demo"),
            )
        )
        vm_service = vms.vm_service(vm.id)
        deadline = machine.elapsed() + 300
        while vm_service.get().status != types.VmStatus.DOWN and machine.elapsed() < deadline:
            time.sleep(2)
        vm_service.start()
        while machine.elapsed() < deadline:
            status = vm_service.get().status
            if status in (types.VmStatus.UP, types.VmStatus.POWERING_UP):
                print(f"{machine.firmware.value}: demo-vm from template Demo is {status.value}")
                return
            time.sleep(2)
        raise AssertionError(f"demo-vm is {vm_service.get().status} after starting it")
    finally:
        connection.close()
