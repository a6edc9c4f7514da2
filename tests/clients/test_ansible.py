"""oVirt's Ansible collection (ovirt.ovirt, from PyPI's ansible) against the live service:
one case per playbook in playbooks/, each play asserting what it did; those that fail today
are strict xfails naming the fault (the fix removes the marker)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import ovirtsdk4.types as types
import pytest

from tests.clients.faults import PLAY_FAULTS
from tests.clients.plays import PLAYBOOKS, PlayRun, run_play
from tests.clients.service import ClientService
from tests.clients.world import World

pytestmark = pytest.mark.slow


def _info_vm(world: World) -> None:
    vm = world.vm("info-vm", template="Demo", nic=not _demo_has_nic(world))
    world.snapshot(vm, "info-snap")


def _demo_has_nic(world: World) -> bool:
    templates = world.system.templates_service()
    demo = templates.list(search="name=Demo")[0]
    return bool(templates.template_service(demo.id).nics_service().list())


def _vms(*names: str, template: str = "Blank") -> Callable[[World], None]:
    def prepare(world: World) -> None:
        for name in names:
            world.vm(name, template=template)
    return prepare


def _permission(world: World) -> None:
    world.vm("ans-permvm")
    world.user("ansperm")


def _migration(world: World) -> None:
    world.vm("ans-mig", template="Demo", running=True)
    world.lab_host("lab-a")


def _migrated(world: World) -> None:
    vm = world.system.vms_service().list(search="name=ans-mig")[0]
    assert world.connection.follow_link(vm.host).name == "lab-a"


def _no_vm_left(prefix: str) -> Callable[[World], None]:
    def check(world: World) -> None:
        left = [vm.name for vm in world.system.vms_service().list()
                if vm.name.startswith(prefix)]
        assert left == []
    return check


def _host_up(world: World) -> None:
    host = world.system.hosts_service().list(search=f"name={world.service.host_name}")[0]
    assert host.status == types.HostStatus.UP


def _no_user(world: World) -> None:
    assert "ansuser" not in [u.user_name.split("@")[0] for u in
                             world.system.users_service().list()]


# What a play expects to find, made through the SDK (so each play exercises its own module).
PREPARE: dict[str, Callable[[World], None]] = {
    "info": _info_vm, "vm_migrate": _migration, "disk": _vms("ans-diskvm"),
    "nic": _vms("ans-nicvm"), "snapshot": _vms("ans-snapvm", template="Demo"),
    "template": _vms("ans-tplvm", template="Demo"), "permission": _permission,
    "affinity_group": _vms("ans-aff1", "ans-aff2"), "tag": _vms("ans-tagvm")}
CHECK: dict[str, Callable[[World], None]] = {
    "vm": _no_vm_left("ans-"), "host": _host_up, "user": _no_user, "vm_migrate": _migrated}

PLAYS = ("auth", "info", "vm", "vm_migrate", "disk", "nic", "snapshot", "template", "user",
         "permission", "affinity_group", "tag", "vmpool", "job", "host")


def _case(name: str) -> object:
    fault = PLAY_FAULTS.get(name)
    marks = [pytest.mark.xfail(strict=True, reason=fault)] if fault else []
    return pytest.param(name, id=name, marks=marks)


def test_every_playbook_is_a_case() -> None:
    shipped = {p.stem for p in PLAYBOOKS.glob("*.yml")} - {"login", "logout", "vm_idempotent"}
    assert shipped == set(PLAYS)
    assert set(PLAY_FAULTS) <= {*PLAYS, "vm_idempotent"}, "faults of no play"


@pytest.mark.parametrize("name", [_case(name) for name in PLAYS])
def test_playbook(name: str, service: ClientService, world: World, output: Path) -> None:
    prepare = PREPARE.get(name)
    if prepare is not None:
        prepare(world)
    run = run_play(service, name, workdir=output / "plays" / name)
    (output / "plays" / name / "summary.txt").write_text(run.summary() + "\n")
    assert run.returncode == 0, run.summary()
    check = CHECK.get(name)
    if check is not None:
        check(world)


IDEMPOTENT_FAULT = PLAY_FAULTS.get("vm_idempotent")


@pytest.mark.xfail(IDEMPOTENT_FAULT is not None, strict=True, reason=IDEMPOTENT_FAULT or "")
def test_ovirt_vm_twice_changes_nothing_the_second_time(service: ClientService, world: World,
                                                         output: Path) -> None:
    runs: list[PlayRun] = []
    for round_ in ("first", "second"):
        workdir = output / "plays" / f"vm_idempotent-{round_}"
        run = run_play(service, "vm_idempotent", workdir=workdir)
        (workdir / "summary.txt").write_text(run.summary() + "\n")
        assert run.returncode == 0, run.summary()
        runs.append(run)
    assert runs[0].changed and runs[0].changed > 0
    assert runs[1].changed == 0, runs[1].output[-3000:]
