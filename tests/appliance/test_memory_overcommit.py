"""Memory overcommit, oVirt's cluster setting: starting a VM is refused, in oVirt's words,
when the host cannot be promised its memory, and allowed once the cluster overcommits.

The VMs have no disk: QEMU boots SeaBIOS into nothing, and touches almost none of the
memory it was given, so promising more than the machine has costs it nothing here.
"""

from __future__ import annotations

import contextlib

import pytest

from appliance.engine.authz import SYSTEM, Actor
from appliance.engine.bootstrap import DEFAULT
from appliance.engine.engine import Engine
from appliance.engine.enums import VmStatus
from appliance.engine.model import MiB, Vm
from appliance.engine.vms import VmCreate
from appliance.errors import InsufficientResources, InvalidInput, PermissionDenied


def _vm(engine: Engine, prefix: str, name: str, share: float) -> Vm:
    host = engine.ctx.store.hosts.all()[0]
    cluster = engine.clusters.list()[0]
    memory = int(host.memory * share) // MiB * MiB
    return engine.vms.create(VmCreate(name=f"{prefix}{name}", cluster_id=cluster.id,
                                      memory=memory), actor=SYSTEM)


def test_start_is_refused_beyond_the_overcommit_and_allowed_within(
    engine: Engine, domain_prefix: str
) -> None:
    cluster = engine.clusters.list()[0]
    assert cluster.name == DEFAULT and cluster.memory_overcommit_percent == 100
    big, second = _vm(engine, domain_prefix, "big", 0.6), _vm(engine, domain_prefix, "more", 0.5)
    try:
        engine.vms.start(big.id, actor=SYSTEM)
        with pytest.raises(InsufficientResources) as refused:
            engine.vms.start(second.id, actor=SYSTEM)
        message = refused.value.detail
        assert message.startswith(f"Cannot run VM {second.name}. There is no host that "
                                  "satisfies current scheduling constraints.")
        assert "did not satisfy internal filter Memory because its available memory is too " \
               "low" in message
        assert "under the cluster's 100% memory overcommit" in message
        assert engine.ctx.store.vms.get(second.id).status is VmStatus.DOWN

        updated = engine.clusters.set_memory_overcommit(cluster.id, 150, actor=SYSTEM)
        assert updated.memory_overcommit_percent == 150
        assert engine.clusters.get(cluster.id).memory_overcommit_percent == 150  # stored
        engine.vms.start(second.id, actor=SYSTEM)
        assert engine.ctx.store.vms.get(second.id).status is VmStatus.UP
        assert any(e.code == "cluster_memory_overcommit" and "150%" in e.description
                   for e in engine.events.recent())
    finally:
        for vm in (big, second):
            with contextlib.suppress(Exception):
                engine.vms.stop(vm.id, actor=SYSTEM)


def test_overcommit_must_be_a_sensible_percentage(engine: Engine) -> None:
    cluster = engine.clusters.list()[0]
    for wrong in (50, 99, 1001):
        with pytest.raises(InvalidInput, match="150 for server load or 200 for desktop load"):
            engine.clusters.set_memory_overcommit(cluster.id, wrong, actor=SYSTEM)
    nobody = Actor(user_id="u1", name="someone", superuser=False)
    with pytest.raises(PermissionDenied):
        engine.clusters.set_memory_overcommit(cluster.id, 200, actor=nobody)
    assert engine.clusters.get(cluster.id).memory_overcommit_percent == 100
