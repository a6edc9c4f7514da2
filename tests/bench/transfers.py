"""Image transfers against a real ``virtstick serve`` and its ovirt-imageio daemon: a 1 GiB
qcow2 (all data, no holes) uploaded and downloaded with ovirt-imageio's client, against
``qemu-img convert`` of the same file on the machine (target >= 0.7x its throughput; the median
of three converts timed before, between and after the transfers); and the
service's resident memory during the transfers (the data does not pass through it)."""

from __future__ import annotations

import os
import secrets
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import ovirtsdk4.types as types

from tests.api.conftest import start_appliance, stop_appliance
from tests.bench import Figure

MiB = 1024 * 1024
SIZE = 1024 * MiB
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))  # the client's default


def run() -> list[Figure]:
    base = Path(tempfile.mkdtemp(prefix="vs-xfer-bench-", dir="/var/tmp"))
    base.chmod(0o755)
    prefix = f"vsxb{secrets.token_hex(3)}-"
    process, appliance = start_appliance(base, prefix=prefix,
                                         auth={"token_idle_minutes": 30.0})
    try:
        source = _image(base)
        cafile = base / "pki" / "ca.pem"
        converts = [_timed(lambda: _qemu_img_convert(source, base / "baseline.qcow2"))]
        connection = appliance.connect(timeout=180)
        disk = connection.system_service().disks_service().add(types.Disk(
            name="bench", format=types.DiskFormat.COW, provisioned_size=SIZE, sparse=True,
            storage_domains=[types.StorageDomain(name="ram")]))
        rss = _Rss(process.pid)
        idle = rss.now()
        # The baseline is timed between the transfers too: the machine's load swings.
        with rss:
            upload = _timed(lambda: _transfer(connection, disk.id, "upload", source, cafile))
            converts.append(_timed(lambda: _qemu_img_convert(source, base / "baseline.qcow2")))
            download = _timed(lambda: _transfer(connection, disk.id, "download",
                                                base / "downloaded.qcow2", cafile))
        converts.append(_timed(lambda: _qemu_img_convert(source, base / "baseline.qcow2")))
        convert = statistics.median(converts)
        connection.close()
        return [
            Figure("upload of a 1 GiB qcow2 through an image transfer", SIZE / MiB / upload,
                   "MiB/s", baseline=SIZE / MiB / convert, target=">= 0.7x qemu-img convert"),
            Figure("download of it through an image transfer", SIZE / MiB / download, "MiB/s",
                   baseline=SIZE / MiB / convert, target=">= 0.7x qemu-img convert"),
            Figure("service RSS at its peak during the transfers", rss.peak / MiB, "MiB",
                   baseline=idle / MiB, target="~1x: the data bypasses the service"),
        ]
    finally:
        stop_appliance(process, prefix)
        shutil.rmtree(base, ignore_errors=True)


def _image(base: Path) -> Path:
    raw = base / "source.raw"
    subprocess.run(["dd", "if=/dev/urandom", f"of={raw}", "bs=4M", f"count={SIZE // (4 * MiB)}",
                    "status=none"], check=True)
    image = base / "source.qcow2"
    _qemu_img_convert(raw, image, source_format="raw")
    raw.unlink()
    return image


def _qemu_img_convert(source: Path, target: Path, *, source_format: str = "qcow2") -> None:
    target.unlink(missing_ok=True)
    subprocess.run(["qemu-img", "convert", "-f", source_format, "-O", "qcow2", str(source),
                    str(target)], check=True)


def _transfer(connection: object, disk_id: str, direction: str, path: Path,
              cafile: Path) -> None:
    """One transfer as the SDK's examples run it: add, move the data, finalize, wait."""
    from ovirt_imageio import client

    system = connection.system_service()  # type: ignore[attr-defined]
    disk_service = system.disks_service().disk_service(disk_id)
    while disk_service.get().status != types.DiskStatus.OK:
        time.sleep(0.2)
    transfers = system.image_transfers_service()
    transfer = transfers.add(types.ImageTransfer(
        disk=types.Disk(id=disk_id), direction=types.ImageTransferDirection(direction),
        format=types.DiskFormat.RAW))
    if direction == "upload":
        client.upload(str(path), transfer.transfer_url, str(cafile), max_workers=WORKERS)
    else:
        client.download(transfer.transfer_url, str(path), str(cafile), fmt="qcow2",
                        max_workers=WORKERS)
    service = transfers.image_transfer_service(transfer.id)
    service.finalize()
    while service.get().phase != types.ImageTransferPhase.FINISHED_SUCCESS:
        time.sleep(0.1)


def _timed(work: Callable[[], None]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


class _Rss:
    """Samples a process's resident memory while the block runs."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def now(self) -> int:
        status = Path(f"/proc/{self.pid}/status").read_text()
        kb = int(next(x for x in status.splitlines() if x.startswith("VmRSS")).split()[1])
        return kb * 1024

    def __enter__(self) -> _Rss:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.1):
            self.peak = max(self.peak, self.now())
