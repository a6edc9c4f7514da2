"""Image management: VMs from a 1 GiB and a 20 GiB template (thin against clone), snapshot
creation against disk size (should be flat), OVA export throughput.

Baselines from the same run: ``qemu-img create -b`` (a bare layer) for thin, ``qemu-img
convert`` of the same template volume for clone and for OVA export, and the smallest disk's
snapshot time for the snapshot curve.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from appliance.engine.authz import SYSTEM
from appliance.engine.bootstrap import RAM_DOMAIN
from appliance.engine.engine import Engine
from appliance.engine.model import GiB, MiB, Template
from appliance.engine.vms import VmCreate
from tests import sandbox
from tests.bench import Figure
from tests.imaging.conftest import make_engine, stop_engine

# (virtual size, data written): the data is what a clone and an export have to copy.
TEMPLATES = ((1 * GiB, 512 * MiB), (20 * GiB, 2 * GiB))
SNAPSHOT_DISKS = (1 * GiB, 8 * GiB, 64 * GiB)


def run() -> list[Figure]:
    prefix = f"imgbench{secrets.token_hex(2)}-"
    directory = sandbox.state_dir(prefix)
    engine = make_engine(directory, prefix)
    figures: list[Figure] = []
    try:
        scratch = Path(tempfile.mkdtemp(prefix="bench-", dir=directory))
        for size, data in TEMPLATES:
            template = _template(engine, scratch, size=size, data=data, prefix=prefix)
            figures += _thin_and_clone(engine, template, scratch, prefix)
        figures += _snapshots(engine, scratch, prefix)
        figures += _export(engine, scratch, prefix)
    finally:
        stop_engine(engine, prefix)
        shutil.rmtree(directory, ignore_errors=True)
    return figures


def _template(engine: Engine, scratch: Path, *, size: int, data: int, prefix: str) -> Template:
    image = scratch / f"t{size}.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(image), str(size)],
                   check=True)
    # Data spread over the disk in 64 MiB runs, so copies cannot skip it as zeros.
    runs = data // (64 * MiB)
    commands = [f"write -P 0x5a {offset} 64M" for offset in range(0, size, size // runs)][:runs]
    args = [arg for command in commands for arg in ("-c", command)]
    subprocess.run(["qemu-io", "-f", "qcow2", *args, str(image)], check=True,
                   capture_output=True)
    domain = engine.ctx.store.storage_domains.get_by_name(RAM_DOMAIN)
    template = engine.templates.import_disk_image(image, name=f"{prefix}t{size // GiB}g",
                                                  domain=domain, actor=SYSTEM, memory=256 * MiB)
    image.unlink()
    return template


def _thin_and_clone(engine: Engine, template: Template, scratch: Path,
                    prefix: str) -> list[Figure]:
    label = f"{template.name.removeprefix(prefix)} template"
    cluster = engine.clusters.default()
    base = _top_volume(engine, template.id)

    def thin() -> None:
        engine.vms.create(VmCreate(name=f"{prefix}thin{secrets.token_hex(2)}",
                                   cluster_id=cluster.id, template_id=template.id),
                          actor=SYSTEM)

    def clone() -> None:
        vm = engine.vms.create(VmCreate(name=f"{prefix}clone{secrets.token_hex(2)}",
                                        cluster_id=cluster.id, template_id=template.id,
                                        clone=True), actor=SYSTEM)
        for job in engine.ctx.store.jobs.all():
            if job.vm_id == vm.id:
                engine.jobs.wait(job.id, 1800)

    layer = scratch / "layer.qcow2"

    def bare_layer() -> None:
        layer.unlink(missing_ok=True)
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(base), "-F",
                        "qcow2", str(layer)], check=True)

    copy = scratch / "copy.qcow2"

    def bare_convert() -> None:
        copy.unlink(missing_ok=True)
        subprocess.run(["qemu-img", "convert", "-O", "qcow2", str(base), str(copy)],
                       check=True)

    layer_time = _best(bare_layer, 3)
    convert_time = _best(bare_convert, 1)
    copy.unlink()
    thin_time = _best(thin, 3)
    clone_time = _best(clone, 1)
    return [
        Figure(f"thin VM from {label}", thin_time, "s", baseline=layer_time,
               target="O(1): the same for 1 and 20 GiB"),
        Figure(f"clone VM from {label}", clone_time, "s", baseline=convert_time,
               target="close to qemu-img convert"),
        Figure(f"clone / thin, {label}", clone_time / thin_time, "x"),
    ]


def _snapshots(engine: Engine, scratch: Path, prefix: str) -> list[Figure]:
    figures = []
    first = 0.0
    for size in SNAPSHOT_DISKS:
        template = _template(engine, scratch, size=size, data=128 * MiB, prefix=f"{prefix}s")
        vm = engine.vms.create(VmCreate(name=f"{prefix}snap{size // GiB}",
                                        cluster_id=engine.clusters.default().id,
                                        template_id=template.id), actor=SYSTEM)
        subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P 0x6b 0 256M",
                        str(_top_volume(engine, vm.id))], check=True, capture_output=True)

        def snapshot(vm_id: str = vm.id) -> None:
            engine.snapshots.create(vm_id, description="bench", actor=SYSTEM)

        elapsed = _best(snapshot, 5)
        first = first or elapsed
        figures.append(Figure(f"snapshot of a {size // GiB} GiB disk (VM down)", elapsed, "s",
                              baseline=first, target="flat in disk size"))
    return figures


def _export(engine: Engine, scratch: Path, prefix: str) -> list[Figure]:
    template = engine.ctx.store.templates.get_by_name(f"{prefix}t1g")
    vm = engine.vms.create(VmCreate(name=f"{prefix}export",
                                    cluster_id=engine.clusters.default().id,
                                    template_id=template.id), actor=SYSTEM)
    top = _top_volume(engine, vm.id)
    data = 512 * MiB
    copy = scratch / "baseline.qcow2"
    os.sync()
    started = time.monotonic()
    subprocess.run(["qemu-img", "convert", "-O", "qcow2", str(top), str(copy)], check=True)
    baseline = data / MiB / (time.monotonic() - started)
    copy.unlink()
    os.sync()
    started = time.monotonic()
    job = engine.ova_exporter.export_vm(vm.id, directory=str(scratch), filename="b.ova",
                                        actor=SYSTEM)
    engine.jobs.wait(job.id, 1800)
    throughput = data / MiB / (time.monotonic() - started)
    return [Figure("OVA export of 512 MiB of data", throughput, "MiB/s", baseline=baseline,
                   target="near qemu-img convert (a copy into the tar follows the convert)")]


def _top_volume(engine: Engine, owner_id: str) -> Path:
    store = engine.ctx.store
    disk = store.disks.get(store.attachments.where(vm_id=owner_id)[0].disk_id)
    domain = store.storage_domains.get(disk.storage_domain_id)
    return Path(domain.path) / domain.id / "images" / disk.id / disk.volume_id


def _best(action: Callable[[], None], repeat: int) -> float:
    """The best of ``repeat`` runs, each from a clean page cache state (dirty pages of the
    previous step written out first, so no step pays for another's writes)."""
    times = []
    for _ in range(repeat):
        os.sync()
        started = time.monotonic()
        action()
        times.append(time.monotonic() - started)
    return min(times)
