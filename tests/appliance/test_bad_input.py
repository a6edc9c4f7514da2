"""Bad input gets a clear error in the user's terms and changes nothing."""

from __future__ import annotations

import pytest

from appliance.config import Config
from appliance.engine.authz import SYSTEM
from appliance.engine.engine import Engine
from appliance.engine.model import GiB, MiB
from appliance.engine.storage import DiskCreate
from appliance.engine.vms import NicCreate, VmCreate
from appliance.errors import (
    InsufficientResources,
    InvalidInput,
    NameInUse,
    NotFound,
    VirtStickError,
)


def _cluster(engine: Engine) -> str:
    return engine.clusters.default().id


def _ram(engine: Engine) -> str:
    return engine.ctx.store.storage_domains.get_by_name("ram").id


def _state(engine: Engine) -> tuple[int, int, int, int]:
    store = engine.ctx.store
    return (store.vms.count(), store.disks.count(), store.volumes.count(),
            len(list((engine.config.storage.path).rglob("*"))))


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"cluster_id": "no-such-cluster"}, NotFound, "no cluster with id 'no-such-cluster'"),
        ({"memory": 0}, InvalidInput, "Memory must be at least 16 MiB"),
        ({"memory": -1 * GiB}, InvalidInput, "Memory must be at least"),
        ({"memory": 4096 * GiB}, InsufficientResources, "largest host in its cluster"),
        ({"name": "a/b"}, InvalidInput, "not a valid VM name"),
        ({"name": "../etc"}, InvalidInput, "not a valid VM name"),
        ({"name": "bad\x07bell"}, InvalidInput, r"bad\\x07bell"),
        ({"name": "new\nline"}, InvalidInput, "not a valid VM name"),
        ({"name": ""}, InvalidInput, "needs a name"),
        ({"cpu_sockets": 0}, InvalidInput, "CPU sockets must be between 1"),
        ({"template_id": "nope"}, NotFound, "no template"),
    ],
)
def test_vm_create_rejects(engine: Engine, changes: dict[str, object],
                           error: type[VirtStickError], message: str) -> None:
    request = {"name": "ok", "cluster_id": _cluster(engine), "memory": 128 * MiB, **changes}
    before = _state(engine)
    with pytest.raises(error, match=message):
        engine.vms.create(VmCreate(**request), actor=SYSTEM)  # type: ignore[arg-type]
    assert _state(engine) == before


def test_a_taken_name_is_refused(engine: Engine) -> None:
    engine.vms.create(VmCreate(name="twin", cluster_id=_cluster(engine), memory=64 * MiB),
                      actor=SYSTEM)
    before = _state(engine)
    with pytest.raises(NameInUse, match="'twin' is already used"):
        engine.vms.create(VmCreate(name="twin", cluster_id=_cluster(engine), memory=64 * MiB),
                          actor=SYSTEM)
    assert _state(engine) == before


def test_disk_larger_than_free_space_without_overcommit(state_dir: object,
                                                        config: Config) -> None:
    engine = Engine(config.replace(storage={"overcommit_percent": 100}))
    engine.start()
    try:
        free = engine.storage_domains.usage(engine.storage_domains.default()).free
        before = _state(engine)
        with pytest.raises(InsufficientResources, match="free; the disk needs"):
            engine.disks.create(DiskCreate(name="huge", provisioned_size=free + GiB,
                                           storage_domain_id=_ram(engine)), actor=SYSTEM)
        assert _state(engine) == before
    finally:
        engine.stop()


def test_thin_disks_may_overcommit_up_to_the_limit(engine: Engine) -> None:
    usage = engine.storage_domains.usage(engine.ctx.store.storage_domains.get_by_name("ram"))
    big = engine.disks.create(DiskCreate(name="big", provisioned_size=usage.free + GiB,
                                         storage_domain_id=_ram(engine)), actor=SYSTEM)
    sizes = engine.disks.sizes(big)
    assert sizes.virtual == usage.free + GiB
    assert sizes.actual < 1 * MiB  # thin: nothing allocated yet
    with pytest.raises(InsufficientResources, match="overcommit limit of 400%"):
        engine.disks.create(DiskCreate(name="bigger", provisioned_size=usage.capacity * 4,
                                       storage_domain_id=_ram(engine)), actor=SYSTEM)


@pytest.mark.parametrize(("size", "message"), [(0, "more than zero"), (-5, "more than zero")])
def test_disk_sizes_must_be_positive(engine: Engine, size: int, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        engine.disks.create(DiskCreate(name="d", provisioned_size=size,
                                       storage_domain_id=_ram(engine)), actor=SYSTEM)


@pytest.mark.parametrize(("mac", "message"), [
    ("zz:zz", "not a MAC address"),
    ("56:6f:00:00:00", "not a MAC address"),
    ("56:6f:00:00:00:01:02", "not a MAC address"),
    ("01:00:5e:00:00:01", "multicast"),
    ("ff:ff:ff:ff:ff:ff", "multicast"),
])
def test_a_nic_with_a_mac_libvirt_would_refuse_is_refused(engine: Engine, mac: str,
                                                          message: str) -> None:
    """Taken, the VM would fail at its next start (libvirt: "expected unicast mac address")."""
    vm = engine.vms.create(VmCreate(name="macs", cluster_id=_cluster(engine), memory=64 * MiB),
                           actor=SYSTEM)
    with pytest.raises(InvalidInput, match=message):
        engine.vms.add_nic(vm.id, NicCreate(name="nic9", vnic_profile_id=None, mac=mac),
                           actor=SYSTEM)
    assert [n.name for n in engine.vms.list_nics(vm.id, actor=SYSTEM)] == []
    nic = engine.vms.add_nic(vm.id, NicCreate(name="nic1", vnic_profile_id=None,
                                                         mac="56:6F:00:00:00:0A"),
                             actor=SYSTEM)
    assert nic.mac == "56:6f:00:00:00:0a"
