"""oVirt's SDK example scripts, unchanged but for their environment (runner.py), against a
live ``virtstick serve``: each one that fits a single machine is a case (examples.py says
which and why not); those that fail today are strict xfails naming the fault."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import ovirtsdk4.types as types
import pytest

from tests.clients.examples import APPLICABLE, NOT_APPLICABLE, Example, environment_names, ordered
from tests.clients.faults import EXAMPLE_FAULTS
from tests.clients.runner import EXAMPLES, Run, examples_available, run_example
from tests.clients.service import ClientService
from tests.clients.world import GiB, PrepareError, World
from tests.display_clients import spice_login

pytestmark = pytest.mark.slow


def _case(example: Example) -> object:
    marks = ([pytest.mark.xfail(strict=True, reason=example.fault)]
             if example.fault is not None else [])
    return pytest.param(example, id=example.name, marks=marks)


def test_every_example_is_classified() -> None:
    """A new SDK release's example is run or said not to fit, never silently skipped."""
    assert examples_available()
    shipped = {path.stem for path in EXAMPLES.glob("*.py")}
    classified = {e.name for e in APPLICABLE} | set(NOT_APPLICABLE)
    assert shipped - classified == set(), "examples nobody classified"
    assert classified - shipped == set(), "classified examples the SDK no longer ships"
    assert set(EXAMPLE_FAULTS) <= {e.name for e in APPLICABLE}, "faults of no example"


@pytest.mark.parametrize("example", [_case(e) for e in ordered()])
def test_example(example: Example, service: ClientService, world: World,
                 output: Path) -> None:
    workdir = output / "examples" / example.name
    shutil.rmtree(workdir, ignore_errors=True)
    values = _prepare(example, service, world, workdir)
    run = run_example(service, example.name,
                      args=tuple(arg.format(**values) for arg in example.args),
                      names=environment_names(example, service.host_name),
                      workdir=workdir, timeout=example.timeout)
    (workdir / "summary.txt").write_text(run.summary() + "\n")
    if example.forever:
        assert run.returncode is None and "Traceback" not in run.stderr, run.summary()
        assert run.stdout.strip(), "it printed no event"
    else:
        assert run.returncode == 0, run.summary()
    check = CHECKS.get(example.name)
    if check is not None:
        check(world, run)


def _prepare(example: Example, service: ClientService, world: World,
             workdir: Path) -> dict[str, str]:
    """What the example looks up, made through the SDK; a refusal is the example's failure,
    and its summary names the refused request."""
    if example.prepare is None:
        return {}
    offset = service.log_offset()
    try:
        return example.prepare(world)
    except PrepareError as exc:
        refused = [r for r in service.requests_since(offset) if r.status >= 400]
        lines = [f"{example.name}: preparing failed: {exc}"]
        if refused:
            lines += [f"  first refused request: {refused[0].line()}",
                      f"    sent: {refused[0].request[:300]}",
                      f"    answer: {refused[0].reply[:400]}"]
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "summary.txt").write_text("\n".join(lines) + "\n")
        raise


# What an example made, seen through the SDK: a script that exits 0 proves little when the
# service silently drops what it was sent.
Check = Callable[[World, Run], None]


def _vm(world: World, name: str, **query: object) -> types.Vm:
    found = world.system.vms_service().list(search=f"name={name}", **query)
    assert [vm.name for vm in found] == [name]
    return found[0]


def _status(name: str, *statuses: types.VmStatus) -> Check:
    def check(world: World, run: Run) -> None:
        assert _vm(world, name).status in statuses
    return check


def _added_vm(world: World, run: Run) -> None:
    vm = _vm(world, "myvm")
    assert world.connection.follow_link(vm.template).name == "Blank"


def _removed_vm(world: World, run: Run) -> None:
    assert world.system.vms_service().list(search="name=myvm") == []


def _disks_named(world: World, *names: str) -> list[types.Disk]:
    return [d for d in world.system.disks_service().list() if d.name in names]


def _floating_disk(world: World, run: Run) -> None:
    disks = _disks_named(world, "mydisk")
    assert len(disks) == 1 and disks[0].provisioned_size == 10 * GiB


def _many_disks(world: World, run: Run) -> None:
    disks = _disks_named(world, "disk-0", "disk-1")
    assert sorted(d.name for d in disks) == ["disk-0", "disk-1"]
    assert all(d.status == types.DiskStatus.OK for d in disks)


def _vm_disk(world: World, run: Run) -> None:
    attachments = world.system.vms_service().vm_service(
        _vm(world, "myvm").id).disk_attachments_service().list()
    names = [world.connection.follow_link(a.disk).name for a in attachments]
    assert names == ["mydisk"]


def _snapshot(world: World, run: Run) -> None:
    vm = _vm(world, "myvm")
    snapshots = world.system.vms_service().vm_service(vm.id).snapshots_service().list()
    assert "My snapshot" in [s.description for s in snapshots]


def _template(world: World, run: Run) -> None:
    found = world.system.templates_service().list(search="name=mytemplate")
    assert len(found) == 1 and found[0].status == types.TemplateStatus.OK


def _tag(world: World, run: Run) -> None:
    assert "mytag" in [t.name for t in world.system.tags_service().list()]


def _cloned(world: World, run: Run) -> None:
    clone = _vm(world, "myclonedvm")
    attachments = world.system.vms_service().vm_service(clone.id).disk_attachments_service()
    assert len(attachments.list()) == 1, "the clone has the snapshot's disk"


def _pinned(world: World, run: Run) -> None:
    policy = _vm(world, "myvm").placement_policy
    hosts = [world.connection.follow_link(h).name for h in (policy.hosts or [])] if policy else []
    assert hosts == [world.service.host_name], "placement_policy.hosts was kept"


def _serial(world: World, run: Run) -> None:
    serial = _vm(world, "myvm").serial_number
    assert serial is not None and serial.policy == types.SerialNumberPolicy.CUSTOM
    assert serial.value == "myserial"


def _paged(world: World, run: Run) -> None:
    assert sorted(run.stdout.split()) == ["myvm1", "myvm2", "myvm3"], "each VM on one page"


def _from_version_3(world: World, run: Run) -> None:
    template = world.connection.follow_link(_vm(world, "myvm").template)
    assert template.name == "mytemplate" and template.version.version_number == 3


def _vnc(world: World, run: Run) -> None:
    consoles = world.system.vms_service().vm_service(
        _vm(world, "myvm").id).graphics_consoles_service().list()
    assert types.GraphicsType.VNC in [c.protocol for c in consoles]


def _spice_ticket(world: World, run: Run) -> None:
    """The example printed the SPICE display's address and its one-time password: a SPICE
    client gets in with it, once."""
    printed = dict(line.split(": ", 1) for line in run.stdout.splitlines() if ": " in line)
    address, port, password = printed["address"], int(printed["port"]), printed["password"]
    assert spice_login(address, port, password)
    deadline = time.monotonic() + 10
    while spice_login(address, port, password):
        assert time.monotonic() < deadline, "the ticket's password still works"
        time.sleep(0.2)


def _backed_up(world: World, run: Run) -> None:
    """The full backup the example downloaded is the guest's disk as the Demo template holds
    it (the demo guest writes nothing to its disk by itself); its checkpoint is listed and
    the backup ended."""
    [downloaded] = run.workdir.glob("*.full.qcow2")
    demo_disk = world.service.appliance.config.appliance.demo_disk
    subprocess.run(["qemu-img", "compare", "-f", "qcow2", "-F", "qcow2", str(demo_disk),
                    str(downloaded)], check=True, capture_output=True)
    vm = world.system.vms_service().vm_service(_vm(world, "myvm").id)
    [backup] = vm.backups_service().list()
    assert backup.phase == types.BackupPhase.SUCCEEDED
    assert [c.id for c in vm.checkpoints_service().list()] == [backup.to_checkpoint_id]
    assert downloaded.name.split(".")[1] == backup.to_checkpoint_id


def _host_removed(world: World, run: Run) -> None:
    assert world.system.hosts_service().list(search="name=myhost") == []


def _cloud_init_kept(world: World, run: Run) -> None:
    vm = _vm(world, "myvm")
    assert vm.status != types.VmStatus.DOWN, "the VM was started"


RUNNING = (types.VmStatus.UP, types.VmStatus.POWERING_UP, types.VmStatus.WAIT_FOR_LAUNCH)
CHECKS: dict[str, Check] = {
    "add_vm": _added_vm,
    "remove_vm": _removed_vm,
    "start_vm": _status("myvm", types.VmStatus.UP),
    "stop_vm": _status("myvm", types.VmStatus.DOWN),
    "add_vm_with_sysprep": _status("myvm", *RUNNING),
    "start_vm_with_cloud_init": _cloud_init_kept,
    "add_floating_disk": _floating_disk,
    "add_disks": _many_disks,
    "add_vm_disk": _vm_disk,
    "add_vm_snapshot": _snapshot,
    "add_template": _template,
    "add_vm_from_template_version": _from_version_3,
    "add_tag": _tag,
    "clone_vm_from_snapshot": _cloned,
    "pin_vm": _pinned,
    "set_vm_serial_number": _serial,
    "page_vms": _paged,
    "add_vnc_console": _vnc,
    "get_display_ticket": _spice_ticket,
    "backup_vm": _backed_up,
    "remove_host": _host_removed,
}
