"""What the portals change on a VM through engine services: a disk added in one step and
grown (live too, as the running QEMU sees it), the CD-ROM changed while the VM runs, high
availability and affinity groups; and the read models the lists draw (sorting, the resource
tree, who would lose VMs to maintenance, events with their VMs' names)."""

from __future__ import annotations

import subprocess
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import libvirt
import pytest

from appliance.engine.authz import SYSTEM, Actor
from appliance.engine.engine import Engine
from appliance.engine.enums import DiskInterface, VmStatus
from appliance.engine.inventory import VmQuery, VmSort
from appliance.engine.model import GiB, MiB, Vm
from appliance.engine.monitoring.event_search import EventFilter
from appliance.engine.vm_disks import NewVmDisk
from appliance.engine.vm_updates import VmUpdate
from appliance.engine.vms import VmCreate
from appliance.errors import (
    InsufficientResources,
    InvalidInput,
    InvalidState,
    NotFound,
    NotSupported,
    PermissionDenied,
)


def _vm(engine: Engine, name: str, *, memory: int = 64 * MiB) -> Vm:
    cluster = engine.clusters.default().id
    return engine.vms.create(VmCreate(name=name, cluster_id=cluster, memory=memory),
                             actor=SYSTEM)


def _live_xml(vm_id: str) -> ET.Element:
    conn = libvirt.open("qemu:///system")
    try:
        return ET.fromstring(conn.lookupByUUIDString(vm_id).XMLDesc(0))
    finally:
        conn.close()


def _small_iso(directory: Path) -> Path:
    root = directory / "iso-root"
    root.mkdir()
    (root / "hello.txt").write_text("hello\n")
    iso = directory / "tools.iso"
    subprocess.run(["xorriso", "-as", "mkisofs", "-quiet", "-o", str(iso), str(root)],
                   check=True)
    return iso


def test_a_disk_is_added_in_one_step_and_grows_down_and_live(engine: Engine) -> None:
    vm = _vm(engine, "grow1")
    disk = engine.vm_disks.add(vm.id, NewVmDisk(size=GiB, bootable=True,
                                                interface=DiskInterface.SATA), actor=SYSTEM)
    [attachment] = engine.ctx.store.attachments.where(vm_id=vm.id)
    assert (disk.name, disk.provisioned_size) == ("grow1_disk1", GiB)
    assert (attachment.interface, attachment.bootable) == (DiskInterface.SATA, True)

    with pytest.raises(InvalidInput, match="disks only grow"):
        engine.vm_disks.resize(vm.id, disk.id, size=GiB, actor=SYSTEM)
    engine.vm_disks.resize(vm.id, disk.id, size=2 * GiB, actor=SYSTEM)
    assert engine.disks.sizes(engine.ctx.store.disks.get(disk.id)).virtual == 2 * GiB

    engine.vms.start(vm.id, actor=SYSTEM)
    try:
        with pytest.raises(NotSupported, match="stop the VM first"):
            engine.vm_disks.add(vm.id, NewVmDisk(size=GiB), actor=SYSTEM)
        engine.vm_disks.resize(vm.id, disk.id, size=3 * GiB, actor=SYSTEM)
        conn = libvirt.open("qemu:///system")
        try:
            dom = conn.lookupByUUIDString(vm.id)
            target = _live_xml(vm.id).find("devices/disk[@device='disk']/target")
            assert target is not None
            capacity = dom.blockInfo(target.get("dev", ""))[0]
        finally:
            conn.close()
        assert capacity == 3 * GiB  # the running QEMU sees the new size
    finally:
        engine.vms.stop(vm.id, actor=SYSTEM)
    assert engine.ctx.store.disks.get(disk.id).provisioned_size == 3 * GiB
    events = [e.code for e in engine.events.recent(vm_id=vm.id)]
    assert "vm_disk_added" in events and "vm_disk_resized" in events


def test_a_refused_attach_leaves_no_disk(engine: Engine) -> None:
    vm = _vm(engine, "undo1")
    before = {d.id for d in engine.ctx.store.disks.all()}
    with pytest.raises(InvalidInput):
        engine.vm_disks.add(vm.id, NewVmDisk(size=GiB, name="bad name"), actor=SYSTEM)
    with pytest.raises(NotFound):
        engine.vm_disks.add(vm.id, NewVmDisk(size=GiB, storage_domain_id="nowhere"),
                            actor=SYSTEM)
    assert {d.id for d in engine.ctx.store.disks.all()} == before


def test_the_cdrom_changes_while_the_vm_runs(engine: Engine, tmp_path: Path) -> None:
    iso_file = _small_iso(tmp_path)
    domain = engine.storage_domains.default().id
    with iso_file.open("rb") as stream:
        iso = engine.isos.upload(stream, name="tools", storage_domain_id=domain,
                                 actor=SYSTEM, size=iso_file.stat().st_size)
    vm = _vm(engine, "cd1")
    engine.vms.start(vm.id, actor=SYSTEM)
    try:
        drive = _live_xml(vm.id).find("devices/disk[@device='cdrom']")
        assert drive is not None and drive.find("source") is None  # an empty drive
        engine.isos.insert(vm.id, iso.id, actor=SYSTEM)
        source = _live_xml(vm.id).find("devices/disk[@device='cdrom']/source")
        assert source is not None and source.get("file", "").endswith(iso.volume_id)
        assert engine.ctx.store.vms.get(vm.id).cdrom_file_id == iso.id
        engine.isos.insert(vm.id, "", actor=SYSTEM)
        ejected = _live_xml(vm.id).find("devices/disk[@device='cdrom']/source")
        assert ejected is None or not ejected.get("file")
    finally:
        engine.vms.stop(vm.id, actor=SYSTEM)
    descriptions = [e.description for e in engine.events.recent(vm_id=vm.id)]
    assert any("ISO image tools was put in the CD-ROM" in d for d in descriptions)


def test_high_availability_changes_even_while_running(engine: Engine) -> None:
    vm = _vm(engine, "ha1")
    engine.vms.start(vm.id, actor=SYSTEM)
    try:
        engine.vm_updates.update(vm.id, VmUpdate(high_availability=True), actor=SYSTEM)
        assert engine.ctx.store.vms.get(vm.id).high_availability
        with pytest.raises(InvalidState, match="memory can change only while it is down"):
            engine.vm_updates.update(vm.id, VmUpdate(memory=128 * MiB), actor=SYSTEM)
    finally:
        engine.vms.stop(vm.id, actor=SYSTEM)


def test_affinity_groups_are_joined_and_left(engine: Engine) -> None:
    a, b = _vm(engine, "aff-a"), _vm(engine, "aff-b")
    group = engine.affinity_groups.join(a.id, "apart", actor=SYSTEM, positive=False)
    engine.affinity_groups.join(b.id, "apart", actor=SYSTEM, positive=True)
    [stored] = engine.affinity_groups.list(a.cluster_id)
    assert stored.vm_ids == (a.id, b.id) and not stored.vms_rule.positive  # kept its kind
    assert group.vms_rule.enforcing
    with pytest.raises(InvalidInput, match="duplicate"):
        engine.affinity_groups.join(a.id, "apart", actor=SYSTEM)
    engine.affinity_groups.leave(a.id, "apart", actor=SYSTEM)
    [stored] = engine.affinity_groups.list(a.cluster_id)
    assert stored.vm_ids == (b.id,)
    with pytest.raises(NotFound):
        engine.affinity_groups.leave(a.id, "apart", actor=SYSTEM)
    user = Actor(user_id="u1", name="dora")
    with pytest.raises(PermissionDenied):
        engine.affinity_groups.join(a.id, "apart", actor=user)
    details = engine.inventory.get_vm_details(b.id, actor=SYSTEM)
    assert [g.name for g in details.groups_of_vm] == ["apart"]


def test_vm_rows_sort_and_filter(engine: Engine) -> None:
    for name, memory in (("b-mid", 128), ("a-big", 256), ("c-small", 64)):
        _vm(engine, name, memory=memory * MiB)
    rows = engine.inventory.list_vm_rows(actor=SYSTEM)
    assert [r.vm.name for r in rows] == ["a-big", "b-mid", "c-small"]
    rows = engine.inventory.list_vm_rows(actor=SYSTEM, query=VmQuery(sort=VmSort.MEMORY,
                                                                      descending=True))
    assert [r.vm.name for r in rows] == ["a-big", "b-mid", "c-small"]
    rows = engine.inventory.list_vm_rows(actor=SYSTEM, query=VmQuery(sort=VmSort.MEMORY))
    assert [r.vm.name for r in rows] == ["c-small", "b-mid", "a-big"]
    rows = engine.inventory.list_vm_rows(actor=SYSTEM, query=VmQuery(text="mid"))
    assert [r.vm.name for r in rows] == ["b-mid"]


def test_resource_tree_and_last_host(engine: Engine) -> None:
    idle, running = _vm(engine, "tree-idle"), _vm(engine, "tree-run")
    engine.vms.start(running.id, actor=SYSTEM)
    try:
        [dc] = engine.inventory.get_resource_tree(actor=SYSTEM)
        [cluster] = dc.clusters
        [host] = cluster.hosts
        assert [v.name for v in host.vms] == ["tree-run"]
        assert [v.name for v in cluster.idle_vms] == ["tree-idle"]
        assert cluster.vm_count == 2
        [load] = engine.inventory.list_host_loads(actor=SYSTEM)
        assert load.last_up and load.maintenance_stops_vms
    finally:
        engine.vms.stop(running.id, actor=SYSTEM)
    [load] = engine.inventory.list_host_loads(actor=SYSTEM)
    assert not load.maintenance_stops_vms  # nothing runs that would be shut down
    assert engine.ctx.store.vms.get(idle.id).status is VmStatus.DOWN


def test_events_name_their_vm_even_once_removed(engine: Engine) -> None:
    kept, gone = _vm(engine, "ev-kept"), _vm(engine, "ev-gone")
    engine.vms.remove(gone.id, actor=SYSTEM)
    rows = engine.inventory.search_events(EventFilter(), actor=SYSTEM)
    names = {(r.vm_name, r.vm_exists) for r in rows if r.event.vm_id in (kept.id, gone.id)}
    assert names == {("ev-kept", True), ("a removed VM", False)}


def test_vms_started_together_never_share_the_last_free_memory(engine: Engine) -> None:
    """A bulk Run starts several VMs at once: each start decides its host in turn, so the
    host's memory is never promised twice."""
    [host] = engine.hosts.list()
    free = engine.placement.free_memory(host)
    size = (free * 2 // 5) // MiB * MiB  # two fit, a third does not
    vms = [_vm(engine, f"race{n}", memory=size) for n in range(3)]
    barrier = threading.Barrier(len(vms))
    outcomes: dict[str, str] = {}

    def start(vm: Vm) -> None:
        barrier.wait()
        try:
            engine.vms.start(vm.id, actor=SYSTEM)
            outcomes[vm.name] = "started"
        except InsufficientResources as exc:
            outcomes[vm.name] = exc.detail

    threads = [threading.Thread(target=start, args=(vm,)) for vm in vms]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    finally:
        for vm in vms:
            if engine.ctx.store.vms.get(vm.id).status is not VmStatus.DOWN:
                engine.vms.stop(vm.id, actor=SYSTEM)
    assert sorted(outcomes.values()).count("started") == 2, outcomes
    [refused] = [text for text in outcomes.values() if text != "started"]
    assert "no host that satisfies current scheduling constraints" in refused  # oVirt's words
    assert "memory" in refused
