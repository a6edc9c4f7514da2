"""Image transfers against a real ``virtstick serve`` and its ovirt-imageio daemon: a 1 GiB
qcow2 (all data, no holes) uploaded and downloaded with ovirt-imageio's client as shipped,
against ``qemu-img convert`` of the same file, everything on RAM storage (a tmpfs, as on the
stick). Issue 14's target is >= 0.7x convert's throughput. A client on this machine moves
the data over the daemon's unix socket; one elsewhere over TLS through the data port's front,
which the rounds "over TLS" measure (the client kept from switching, as a remote one is).

Wall time on a shared 2-core machine swings with the others' load, so each round also counts
the CPU time (user + system) of every process in the data path: the client (its Python and
the qemu-nbd it starts), the daemon, the front, the host's qemu-nbd (the service's child)
and the service itself, per GiB, against convert's. CPU per GiB moves little with load; the
wall figures give the best and the median of the rounds, with the load average beside them.
A floor shows what one qemu-nbd hop costs without any HTTP: convert into (and out of) the
host's qemu-nbd export as the transfers serve it. Last, the service's resident memory
during the transfers: the data does not pass through it."""

from __future__ import annotations

import contextlib
import os
import resource
import secrets
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import ovirtsdk4 as sdk
import ovirtsdk4.types as types

from appliance.vdsm.imageio.nbd import NbdExport, NbdServer
from tests.api.conftest import start_appliance, stop_appliance
from tests.bench import Figure

MiB = 1024 * 1024
SIZE = 1024 * MiB
GIBS = SIZE / 1024**3  # the figures are per GiB
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))  # the client's default
_TICK = os.sysconf("SC_CLK_TCK")
_RAM = Path("/dev/shm")


@dataclass(frozen=True)
class Cpu:
    """CPU seconds of each part of the data path."""

    client: float = 0.0  # the client's Python threads
    client_qemu: float = 0.0  # the qemu-nbd (and qemu-img) the client ran
    daemon: float = 0.0
    front: float = 0.0  # the data port's TLS front (clients on this machine bypass it)
    host_qemu: float = 0.0  # the service's children: the host's qemu-nbd, qemu-img check
    service: float = 0.0

    @property
    def total(self) -> float:
        return (self.client + self.client_qemu + self.daemon + self.front + self.host_qemu +
                self.service)

    def parts(self) -> str:
        front = f", front {self.front:.2f}" if self.front else ""
        return (f"client {self.client:.2f} + its qemu-nbd {self.client_qemu:.2f}, daemon "
                f"{self.daemon:.2f}{front}, host qemu-nbd {self.host_qemu:.2f}, service "
                f"{self.service:.2f}")


@dataclass(frozen=True)
class Round:
    data_seconds: float  # the client's copy alone
    whole_seconds: float  # adding the transfer to its end, finalize included
    cpu: Cpu
    load: float  # the 1-minute load average when the round ended


def run() -> list[Figure]:
    ram = _ram_dir()
    base = Path(tempfile.mkdtemp(prefix="vs-xfer-bench-", dir=ram))
    base.chmod(0o755)
    prefix = f"vsxb{secrets.token_hex(3)}-"
    process, appliance = start_appliance(base, prefix=prefix,
                                         auth={"token_idle_minutes": 30.0})
    try:
        source = _image(base)
        connection = appliance.connect(timeout=180)
        disk = connection.system_service().disks_service().add(types.Disk(
            name="bench", format=types.DiskFormat.COW, provisioned_size=SIZE, sparse=True,
            storage_domains=[types.StorageDomain(name="ram")]))
        meter = _Meter(service=process.pid, daemon=_pid(base, "daemon") or 0,
                       front=_pid(base, "front"))
        mover = _Mover(connection, disk.id, base / "pki" / "ca.pem", meter)
        rss = _Rss(process.pid)
        idle = rss.now()
        rounds: dict[str, list[Round]] = {name: [] for name in _KINDS}
        downloaded = base / "downloaded.qcow2"
        with rss:
            for _ in range(ROUNDS):
                rounds["convert"].append(_convert(source, base / "baseline.qcow2"))
                rounds["upload"].append(mover.transfer("upload", source))
                rounds["download"].append(mover.transfer("download", downloaded))
                with _as_from_elsewhere():
                    rounds["upload over TLS"].append(mover.transfer("upload", source))
                    rounds["download over TLS"].append(mover.transfer("download", downloaded))
        floor = [_nbd_floor(base, source, upload=True), _nbd_floor(base, source, upload=False)]
        connection.close()
        figures = _figures(rounds, floor)
        figures.append(Figure("service RSS at its peak during the transfers", rss.peak / MiB,
                              "MiB", baseline=idle / MiB,
                              target="~1x: the data bypasses the service"))
        return figures
    finally:
        stop_appliance(process, prefix)
        shutil.rmtree(base, ignore_errors=True)


_KINDS = ("convert", "upload", "download", "upload over TLS", "download over TLS")


@contextlib.contextmanager
def _as_from_elsewhere() -> Iterator[None]:
    """The client as on another machine: it keeps its TLS connection, where one here
    switches to the daemon's unix socket (the daemon offers it to every client; the
    client takes it when its connection is local). The data then goes through the front."""
    from ovirt_imageio._internal.backends import http

    switch = http.Backend._optimize_connection
    http.Backend._optimize_connection = lambda self, unix_socket: None
    try:
        yield
    finally:
        http.Backend._optimize_connection = switch


def _figures(rounds: dict[str, list[Round]], floor: Sequence[Round]) -> list[Figure]:
    converts = rounds["convert"]
    loads = ", ".join(f"{r.load:.1f}" for kind in _KINDS for r in rounds[kind])
    best_convert = _mib_s(min(r.data_seconds for r in converts))
    median_convert = _mib_s(statistics.median(r.data_seconds for r in converts))
    convert_cpu = statistics.median(r.cpu.total for r in converts) / GIBS
    figures = [Figure(f"load average (1 min) over the rounds: {loads}", os.cpu_count() or 0,
                      "cores")]
    for name in _KINDS[1:]:
        made = rounds[name]
        best = min(made, key=lambda r: r.data_seconds)
        figures += [
            Figure(f"{name}, best of {len(made)} (load {best.load:.1f})",
                   _mib_s(best.data_seconds), "MiB/s", baseline=best_convert,
                   target=">= 0.7x qemu-img convert"),
            Figure(f"{name}, median", _mib_s(statistics.median(r.data_seconds for r in made)),
                   "MiB/s", baseline=median_convert, target=">= 0.7x qemu-img convert"),
            Figure(f"{name} with adding and finalizing the transfer, median",
                   _mib_s(statistics.median(r.whole_seconds for r in made)), "MiB/s",
                   baseline=median_convert),
            _cpu_figure(f"{name} CPU per GiB", made, convert_cpu),
        ]
    for label, hop in (("convert into", floor[:1]), ("convert out of", floor[1:])):
        figures.append(_cpu_figure(f"floor, {label} the host's qemu-nbd export CPU per GiB",
                                   hop, convert_cpu))
    return figures


def _cpu_figure(name: str, rounds: Sequence[Round], convert_cpu: float) -> Figure:
    middle = sorted(rounds, key=lambda r: r.cpu.total)[len(rounds) // 2]
    return Figure(f"{name} (median round: {middle.cpu.parts()})", middle.cpu.total / GIBS,
                  "CPU s", baseline=convert_cpu, target="informational: qemu-img convert's")


def _mib_s(seconds: float) -> float:
    return SIZE / MiB / seconds


# Measuring


@dataclass(frozen=True)
class _Sample:
    own: float  # this process, every thread
    children: float  # its children that ended
    service: float
    service_children: float
    daemon: float
    front: float


class _Meter:
    def __init__(self, *, service: int, daemon: int, front: int | None) -> None:
        self.service = service
        self.daemon = daemon
        self.front = front

    def sample(self) -> _Sample:
        own = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        service, service_children = _proc_times(self.service)
        daemon, _ = _proc_times(self.daemon)
        front = _proc_times(self.front)[0] if self.front is not None else 0.0
        return _Sample(own=own.ru_utime + own.ru_stime,
                       children=children.ru_utime + children.ru_stime, service=service,
                       service_children=service_children, daemon=daemon, front=front)


def _proc_times(pid: int) -> tuple[float, float]:
    """(utime + stime, cutime + cstime) of a process, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    own = int(fields[11]) + int(fields[12])
    children = int(fields[13]) + int(fields[14])
    return own / _TICK, children / _TICK


def _between(before: _Sample, after: _Sample) -> dict[str, float]:
    return {name: getattr(after, name) - getattr(before, name)
            for name in ("own", "children", "service", "service_children", "daemon", "front")}


class _Mover:
    """One transfer as the SDK's examples run it: add, move the data, finalize, wait."""

    def __init__(self, connection: sdk.Connection, disk_id: str, cafile: Path,
                 meter: _Meter) -> None:
        self.system = connection.system_service()
        self.disk_id = disk_id
        self.cafile = cafile
        self.meter = meter

    def transfer(self, direction: str, path: Path) -> Round:
        from ovirt_imageio import client

        disk_service = self.system.disks_service().disk_service(self.disk_id)
        while disk_service.get().status != types.DiskStatus.OK:
            time.sleep(0.05)
        if direction == "download":
            path.unlink(missing_ok=True)
        start = self.meter.sample()
        started = time.perf_counter()
        transfers = self.system.image_transfers_service()
        transfer = transfers.add(types.ImageTransfer(
            disk=types.Disk(id=self.disk_id), direction=types.ImageTransferDirection(direction),
            format=types.DiskFormat.RAW))
        before = self.meter.sample()
        copying = time.perf_counter()
        if direction == "upload":
            client.upload(str(path), transfer.transfer_url, str(self.cafile),
                          max_workers=WORKERS)
        else:
            client.download(transfer.transfer_url, str(path), str(self.cafile), fmt="qcow2",
                            max_workers=WORKERS)
        copied = time.perf_counter()
        after = self.meter.sample()
        service = transfers.image_transfer_service(transfer.id)
        service.finalize()
        while service.get().phase != types.ImageTransferPhase.FINISHED_SUCCESS:
            time.sleep(0.02)
        ended = time.perf_counter()
        whole, client_part = _between(start, self.meter.sample()), _between(before, after)
        cpu = Cpu(client=client_part["own"], client_qemu=client_part["children"],
                  daemon=whole["daemon"], front=whole["front"],
                  host_qemu=whole["service_children"],
                  service=whole["service"])
        return Round(copied - copying, ended - started, cpu, os.getloadavg()[0])


def _convert(source: Path, target: Path) -> Round:
    """The baseline: qemu-img convert qcow2 to qcow2, from and to the same RAM storage."""
    target.unlink(missing_ok=True)
    seconds, cpu = _timed_children(lambda: _qemu_img_convert(source, target))
    target.unlink()
    return Round(seconds, seconds, Cpu(client_qemu=cpu), os.getloadavg()[0])


def _nbd_floor(base: Path, source: Path, *, upload: bool) -> Round:
    """convert through one qemu-nbd started as the transfers start it: the CPU any path
    through an NBD socket pays, without HTTP, Python or a second qemu-nbd."""
    target = base / "floor.qcow2"
    target.unlink(missing_ok=True)
    if upload:
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(target), str(SIZE)],
                       check=True)
        export = NbdExport(target, "qcow2", read_only=False)
    else:
        export = NbdExport(source, "qcow2", read_only=True)
    server = NbdServer(base / "floor.sock", export, shared=8)
    url = f"nbd+unix:///?socket={server.socket_path}"

    def work() -> None:
        server.start()
        try:
            if upload:
                subprocess.run(["qemu-img", "convert", "-n", "-f", "qcow2", "-O", "raw",
                                str(source), url], check=True)
            else:
                _qemu_img_convert(url, target, source_format="raw")
        finally:
            server.stop()

    seconds, cpu = _timed_children(work)
    target.unlink(missing_ok=True)
    return Round(seconds, seconds, Cpu(client_qemu=cpu), os.getloadavg()[0])


def _timed_children(work: Callable[[], None]) -> tuple[float, float]:
    """Wall seconds and the CPU seconds of the children ``work`` ran and waited for."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    work()
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return seconds, cpu


# Setting up


def _ram_dir() -> Path:
    """A tmpfs for the state directory, the source and the copies, as the stick has."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/mounts").read_text().splitlines():
            fields = line.split()
            if fields[1] == str(_RAM) and fields[2] == "tmpfs":
                return _RAM
    raise RuntimeError(f"{_RAM} is not a tmpfs; the benchmark needs RAM storage")


def _pid(base: Path, name: str) -> int | None:
    path = base / "imageio" / f"{name}.pid"
    return int(path.read_text().strip()) if path.exists() else None


def _image(base: Path) -> Path:
    raw = base / "source.raw"
    subprocess.run(["dd", "if=/dev/urandom", f"of={raw}", "bs=4M", f"count={SIZE // (4 * MiB)}",
                    "status=none"], check=True)
    image = base / "source.qcow2"
    _qemu_img_convert(raw, image, source_format="raw")
    raw.unlink()
    return image


def _qemu_img_convert(source: Path | str, target: Path, *,
                      source_format: str = "qcow2") -> None:
    target.unlink(missing_ok=True)
    subprocess.run(["qemu-img", "convert", "-f", source_format, "-O", "qcow2", str(source),
                    str(target)], check=True)


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
