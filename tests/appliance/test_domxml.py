"""Domain XML: generated from the model, pinned by golden files, valid for libvirt.

Regenerate the golden files after an intended change with ``VIRTSTICK_REGENERATE=1``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from appliance.config import VirtType
from appliance.vdsm.agent import LocalHostAgent
from appliance.vdsm.agent_interface import LaunchDisk, LaunchNic, LaunchRequest
from appliance.vdsm.agent_settings import AgentSettings
from appliance.vdsm.domxml import DomainSpec, parse_metadata
from appliance.vdsm.storage_interface import StorageConnection, VolumeId

GOLDEN = Path(__file__).parent / "golden"
VM_ID = "8e5e7b4e-2a4e-4d0b-9d8c-0b1f7a3c2d11"
STICK_STORAGE = "/run/virtstick/storage"  # where the golden files have the RAM domain


def _agent(tmp_path: Path, virt_type: str, network: str) -> LocalHostAgent:
    settings = AgentSettings(appliance_id="appliance-1", run_dir=tmp_path / "consoles",
                             virt_type=VirtType(virt_type), domain_prefix="lab-",
                             network_attachments={"ovirtmgmt": network})
    agent = LocalHostAgent(host_id="h1", uri="test:///default", settings=settings,
                           on_lifecycle=lambda *a: None, on_reconnect=lambda: None)
    agent.connect_storage_domain(StorageConnection(storage_domain_id="sd1",
                                                   path=str(tmp_path / "storage")))
    return agent


def _request(**changes: object) -> LaunchRequest:
    base = dict(
        vm_id=VM_ID, name="web1", memory=512 * 1024 * 1024, vcpus=2,
        disks=(LaunchDisk(storage_domain_id="sd1", image_id="img1", volume_id="vol1",
                          bootable=True),
               LaunchDisk(storage_domain_id="sd1", image_id="img2", volume_id="vol2",
                          interface="sata")),
        nics=(LaunchNic(mac="56:6f:00:00:00:01", network="ovirtmgmt"),),
        boot=("hd", "cdrom"),
        console_password="pinned1",
    )
    base.update(changes)
    return LaunchRequest(**base)  # type: ignore[arg-type]


CASES: dict[str, tuple[str, str, dict[str, object]]] = {
    "tcg-user-network": ("qemu", "user", {}),
    "kvm-bridge": ("kvm", "bridge:ovirtmgmt", {}),
    "cdrom-first-spice": ("qemu", "user", {"boot": ("cdrom", "hd"),
                                           "cdrom": VolumeId("sd1", "iso1", "x.iso"),
                                           "graphics": ("spice",),
                                           "console_password": "s3cret"}),
    "vnc-and-spice": ("qemu", "user", {"graphics": ("vnc", "spice")}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_domain_xml_matches_golden_file(tmp_path: Path, case: str) -> None:
    virt_type, network, changes = CASES[case]
    spec = _agent(tmp_path, virt_type, network).domain_spec(_request(**changes))
    xml = spec.to_xml().replace(str(tmp_path / "storage"), STICK_STORAGE)
    xml = xml.replace(str(tmp_path), "/RUN")
    golden = GOLDEN / f"{case}.xml"
    if os.environ.get("VIRTSTICK_REGENERATE"):
        golden.write_text(xml)
    assert xml == golden.read_text()


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_files_are_valid_libvirt_xml(case: str) -> None:
    if shutil.which("virt-xml-validate") is None:
        pytest.skip("virt-xml-validate (libvirt-clients) is not installed")
    result = subprocess.run(["virt-xml-validate", str(GOLDEN / f"{case}.xml"), "domain"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_metadata_finds_our_domains_again(tmp_path: Path) -> None:
    spec: DomainSpec = _agent(tmp_path, "qemu", "user").domain_spec(_request())
    assert parse_metadata(spec.to_xml()) == ("appliance-1", VM_ID)
    assert parse_metadata("<domain type='qemu'><name>x</name></domain>") is None


def test_unknown_network_is_a_clear_error(tmp_path: Path) -> None:
    from appliance.errors import HostAgentError

    agent = _agent(tmp_path, "qemu", "user")
    with pytest.raises(HostAgentError, match="network 'storage' is not available"):
        agent.domain_spec(_request(nics=(LaunchNic(mac="56:6f:00:00:00:02",
                                                   network="storage"),)))


def test_a_console_without_a_ticket_is_locked_with_a_random_password(tmp_path: Path) -> None:
    agent = _agent(tmp_path, "qemu", "user")
    first = agent.domain_spec(_request(console_password="")).graphics
    second = agent.domain_spec(_request(console_password="",
                                        graphics=("vnc", "spice"))).graphics
    passwords = [g.password for g in (*first, *second)]
    assert len(passwords) == 3 and all(passwords)
    assert len(set(passwords)) == 3  # each display of each VM its own
