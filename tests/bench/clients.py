"""oVirt's clients (issue 13): a play that makes 10 VMs from the Demo template, starts,
snapshots, stops and removes them, against the same steps in one SDK script, both on a live
``virtstick serve``. Ansible's own cost (the same loops of no-op modules) is measured too,
so the play's time less that can be held against the SDK's: ours must not add to it.

A step the service refuses today does not crash ``make bench``: the figure says it failed
and why.

    python -m tests.bench clients
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import ovirtsdk4 as sdk
import ovirtsdk4.services as services
import ovirtsdk4.types as types

from appliance.demoguest import build
from tests.bench import Figure
from tests.clients.plays import PLAYBOOKS, PlayRun, play_command, write_vars
from tests.clients.service import ClientService, running_service
from tests.clients.world import World

COUNT = 10
POLL_SECONDS = 3.0
REPO_ROOT = Path(__file__).resolve().parents[2]
NAME = f"{COUNT} VMs from Demo: make + start, snapshot, stop, remove"


def run() -> list[Figure]:
    demo = build(REPO_ROOT / ".cache" / "demoguest").disk
    with running_service(demo) as service:
        connection = service.connect(timeout=300)
        world = World(service, connection)
        baseline = world.baseline()
        try:
            sdk_seconds = _timed_sdk_script(service)
            world.reset(baseline)
            play = _timed_play(service, "ten_vms")
            world.reset(baseline)
            noop = _timed_play(service, "noop")
        finally:
            world.reset(baseline)
            connection.close()
    return _figures(sdk_seconds, play, noop)


def _figures(sdk_seconds: float | str, play: tuple[float, PlayRun],
             noop: tuple[float, PlayRun]) -> list[Figure]:
    if isinstance(sdk_seconds, str):
        return [Figure(f"SDK script, {NAME}: FAILED: {sdk_seconds}", float("nan"), "s")]
    figures = [Figure(f"SDK script, {NAME}", sdk_seconds, "s")]
    (play_seconds, play_run), (noop_seconds, noop_run) = play, noop
    if noop_run.returncode == 0:
        figures.append(Figure("Ansible's own cost: the same loops of no-op modules",
                              noop_seconds, "s"))
    if play_run.returncode != 0:
        reason = (play_run.failures or [f"exit {play_run.returncode}"])[0][:240]
        return figures + [Figure(f"Ansible play, {NAME}: FAILED: {reason}", float("nan"), "s")]
    figures.append(Figure(f"Ansible play, {NAME}", play_seconds, "s", baseline=sdk_seconds,
                          target="Ansible's own overhead only"))
    if noop_run.returncode == 0:
        figures.append(Figure("the play less Ansible's own cost", play_seconds - noop_seconds,
                              "s", baseline=sdk_seconds, target="<= 1.2x the SDK script"))
    return figures


def _timed_play(service: ClientService, name: str) -> tuple[float, PlayRun]:
    workdir = service.appliance.state_dir / f"bench-{name}"
    vars_file = write_vars(service, workdir / "vars.yml")
    env = {**os.environ, "ANSIBLE_HOME": str(workdir / ".ansible"), "ANSIBLE_NOCOLOR": "1",
           "ANSIBLE_STDOUT_CALLBACK": "json", "ANSIBLE_PYTHON_INTERPRETER": sys.executable}
    command = [*play_command(PLAYBOOKS / "bench" / f"{name}.yml", vars_file),
               "-e", f"count={COUNT}"]
    started = time.monotonic()
    try:
        done = subprocess.run(command, env=env, cwd=workdir, capture_output=True, text=True,
                              timeout=1800, stdin=subprocess.DEVNULL)
        result = PlayRun(name, done.returncode, done.stdout + done.stderr, ())
    except subprocess.TimeoutExpired:
        result = PlayRun(name, None, "", ())
    return time.monotonic() - started, result


def _timed_sdk_script(service: ClientService) -> float | str:
    """The same steps in one SDK script (this module run as a program), or why it failed."""
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "tests.bench.clients", service.api_url,
                           str(service.ca_file), service.password], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=1800,
                          stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        return (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1][:300]
    return time.monotonic() - started


# -- the SDK script ----------------------------------------------------------------------
def sdk_steps(url: str, ca_file: str, password: str) -> None:
    connection = sdk.Connection(url=url, username="admin@internal", password=password,
                                ca_file=ca_file, timeout=300)
    vms = connection.system_service().vms_service()
    try:
        ids = []
        for i in range(COUNT):  # one at a time, as the module does: made, down, started, up
            vm = vms.add(types.Vm(name=f"bench-sdk-{i}", cluster=types.Cluster(name="Default"),
                                  template=types.Template(name="Demo"), memory=256 * 2**20))
            _wait_status(vms.vm_service(vm.id), types.VmStatus.DOWN)
            vms.vm_service(vm.id).start()
            _wait_status(vms.vm_service(vm.id), types.VmStatus.UP)
            ids.append(vm.id)
        for vm_id in ids:
            snapshots = vms.vm_service(vm_id).snapshots_service()
            snap = snapshots.add(types.Snapshot(description="bench", persist_memorystate=False))
            _wait_snapshot(snapshots.snapshot_service(snap.id))
        for vm_id in ids:
            vms.vm_service(vm_id).stop()
            _wait_status(vms.vm_service(vm_id), types.VmStatus.DOWN)
        for vm_id in ids:
            vms.vm_service(vm_id).remove()
            _until(lambda: not vms.list(search=f"id={vm_id}"))  # noqa: B023 - waited here
    finally:
        connection.close()


def _wait_status(service: services.VmService, status: types.VmStatus) -> None:
    _until(lambda: service.get().status == status)


def _wait_snapshot(service: services.SnapshotService) -> None:
    _until(lambda: service.get().snapshot_status == types.SnapshotStatus.OK)


def _until(condition: Callable[[], bool], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:g} s")
        # As often as ovirt.ovirt's modules poll (poll_interval 3), so that waiting costs
        # both clients the same and the ratio shows what each request costs.
        time.sleep(POLL_SECONDS)


if __name__ == "__main__":
    sdk_steps(*sys.argv[1:4])
