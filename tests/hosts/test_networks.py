"""Logical networks on real hosts: a network without a VLAN is an isolated libvirt network
on each lab host a VM of it runs on (made at its start, and on the target before a migration
arrives), a VLAN network is refused at a VM's start. Lab hosts live in network namespaces of
their own, so their libvirt networks' bridges never touch the machine's network; the
appliance's own host is in maintenance and makes none."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

import libvirt
import pytest

from appliance.engine.authz import SYSTEM
from appliance.engine.enums import JobStatus, VmStatus
from appliance.engine.networks import NetworkSpec
from appliance.engine.vms import NicCreate, VmCreate
from appliance.errors import InsufficientResources
from appliance.vdsm.networks import bridge_name, libvirt_name
from tests.hosts.labenv import Lab, MiB, lab_engine, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture
def isolated_lab(demo_disk: Path) -> Iterator[Lab]:
    with lab_engine(demo_disk, network={"others": "isolated"}) as lab:
        yield lab


def _network_on(lab: Lab, host_id: str, name: str) -> ET.Element | None:
    info = lab.engine.hosts.lab_info(lab.host(host_id))
    conn = libvirt.open(info.uri)
    try:
        found = conn.networkLookupByName(
            libvirt_name(lab.engine.config.appliance.domain_prefix, name))
        return ET.fromstring(found.XMLDesc()) if found.isActive() else None
    except libvirt.libvirtError:
        return None
    finally:
        conn.close()


def _vm_on(lab: Lab, name: str, network: str) -> str:
    """A VM from the demo template with a second NIC on ``network``, down."""
    engine = lab.engine
    vm = engine.vms.create(VmCreate(name=name, cluster_id=engine.clusters.default().id,
                                    template_id=lab.template_id, memory=256 * MiB),
                           actor=SYSTEM)
    profile = next(p for p in engine.vnic_profiles.list() if p.name == network)
    engine.vms.add_nic(vm.id, NicCreate(name=f"nic-{network}", vnic_profile_id=profile.id),
                       actor=SYSTEM)
    return vm.id


def test_an_isolated_network_follows_its_vms_and_a_vlan_is_refused(isolated_lab: Lab) -> None:
    lab, engine = isolated_lab, isolated_lab.engine
    dc = engine.clusters.default().data_center_id
    engine.networks.add(NetworkSpec(name="backnet", data_center_id=dc, mtu=9000),
                        actor=SYSTEM)
    engine.networks.add(NetworkSpec(name="tagged", data_center_id=dc, vlan_id=100),
                        actor=SYSTEM)
    vm = lab.vm(_vm_on(lab, "iso1", "backnet"))
    engine.vms.start(vm.id, actor=SYSTEM)
    wait_until(lambda: lab.vm(vm.id).status is VmStatus.UP, 60, "the VM up")
    source = lab.vm(vm.id).host_id
    assert source in (lab.a.id, lab.b.id)
    made = _network_on(lab, source, "backnet")
    assert made is not None, "the VM's host made the network"
    assert made.find("forward") is None and made.find("ip") is None  # isolated, no DHCP
    bridge, mtu = made.find("bridge"), made.find("mtu")
    assert bridge is not None and mtu is not None, ET.tostring(made, encoding="unicode")
    assert bridge.get("name") == bridge_name(engine.config.appliance.domain_prefix, "backnet")
    assert mtu.get("size") == "9000"
    target = lab.b.id if source == lab.a.id else lab.a.id
    assert _network_on(lab, target, "backnet") is None, "made only where a VM needs it"

    job = engine.migrations.migrate(vm.id, actor=SYSTEM)
    assert engine.jobs.wait(job.id, 120).status is JobStatus.FINISHED
    assert lab.vm(vm.id).host_id == target and _network_on(lab, target, "backnet") is not None

    other = lab.vm(_vm_on(lab, "iso2", "tagged"))
    with pytest.raises(InsufficientResources) as refused:
        engine.vms.start(other.id, actor=SYSTEM)
    assert "tagged" in refused.value.detail and "VLAN" in refused.value.detail

    engine.vms.stop(vm.id, actor=SYSTEM)
    wait_until(lambda: lab.vm(vm.id).status is VmStatus.DOWN, 60, "the VM down")
    for each in (vm, other):
        engine.vms.remove(each.id, actor=SYSTEM)
    network = next(n for n in engine.networks.list() if n.name == "backnet")
    engine.networks.remove(network.id, actor=SYSTEM)
    assert _network_on(lab, target, "backnet") is None, "removed with its logical network"
