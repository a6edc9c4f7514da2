"""The field tables without a server: the direct XML writer of lists agrees with the tree
renderer, and the safe parser reads what the SDK writes."""

from __future__ import annotations

import ovirtsdk4.types as types
from ovirtsdk4.writer import Writer

from appliance.api import representation
from appliance.api.resources.vms.fields import VM
from appliance.engine.enums import BootDevice, VmStatus
from appliance.engine.model import Vm


def _vm() -> Vm:
    return Vm(id="v1", name="a&b<c>", cluster_id="c1", memory=1 << 30, status=VmStatus.UP,
              host_id="h1", description="", boot=(BootDevice.CDROM, BootDevice.HD),
              created=1700000000.5, start_time=1700000100.0)


def test_direct_xml_equals_tree_rendering() -> None:
    vm = _vm()
    for detail in (True, False):
        tree = representation.to_xml("vm", VM.render(vm, detail=detail))
        direct = representation.collection_of_xml("vms", [VM.xml(vm, detail=detail)])
        assert direct.split("<vms>")[1].removesuffix("</vms>") == tree.split("\n", 1)[1]
    assert "a&amp;b&lt;c&gt;" in VM.xml(vm)
    assert "<stateless>" in VM.xml(vm, detail=True)
    assert "<stateless>" not in VM.xml(vm, detail=False)


def test_reads_what_the_sdk_writes() -> None:
    body = Writer.write(types.Vm(
        name="web1", memory=512 * 2**20, cluster=types.Cluster(name="Default"),
        template=types.Template(id="t1"),
        cpu=types.Cpu(topology=types.CpuTopology(sockets=2, cores=1, threads=1)),
        os=types.OperatingSystem(type="other_linux", boot=types.Boot(
            devices=[types.BootDevice.NETWORK, types.BootDevice.HD])),
        high_availability=types.HighAvailability(enabled=True)))
    node = representation.parse_body(body.encode(), content_type="application/xml",
                                     expected="vm")
    values = VM.read(node)
    assert values["name"] == "web1" and values["memory"] == 512 * 2**20
    assert values["cluster"] == {"id": "", "name": "Default"}
    assert values["template"] == {"id": "t1", "name": ""}
    assert values["cpu/topology/sockets"] == 2
    assert values["os/boot/devices"] == ("network", "hd")
    assert values["high_availability/enabled"] is True


def test_every_ovirt_type_has_sdk_readers() -> None:
    import ovirtsdk4.readers  # noqa: F401 - registers the readers
    from ovirtsdk4.reader import Reader

    from appliance.api import openapi, resource_modules

    types = openapi.collect_types(resource_modules())
    assert {"vm", "disk", "nic", "snapshot", "user", "host", "operating_system"} <= set(types)
    for tag, type_ in types.items():
        if tag not in Reader._readers:
            continue  # VirtStick's own resources (no oVirt type, no SDK reader)
        assert type_.collection in Reader._readers, type_.collection
