"""Facts about the host the agent runs on, and the choice between KVM and TCG.

The choice is made once per boot by probing (``kvmprobe``) and kept in the runtime
directory; a VM that then fails to start under KVM but starts under TCG changes it, once, for
every later start of this boot (``VirtVerdict``).
"""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import libvirt

from appliance.config import VirtType
from appliance.vdsm import kvmprobe

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HostFacts:
    hostname: str
    memory: int  # bytes
    cpus: int
    cpu_model: str
    virt_type: VirtType  # kvm or qemu
    libvirt_version: str
    uuid: str


def facts(conn: libvirt.virConnect, *, virt_type: VirtType, with_uuid: bool = True) -> HostFacts:
    """What the engine keeps of a host; ``with_uuid`` False leaves out libvirt's host UUID,
    which only its capabilities give, and those wait for libvirtd to have asked QEMU what it
    can do (seconds under emulation, on the stick's first boot)."""
    model, memory_mib, cpus, *_ = conn.getInfo()
    major, rest = divmod(conn.getLibVersion(), 1_000_000)
    minor, micro = divmod(rest, 1000)
    sysinfo_uuid = ""
    try:
        match = re.search(r"<uuid>([^<]+)</uuid>", conn.getCapabilities()) if with_uuid else None
        sysinfo_uuid = match.group(1) if match else ""
    except libvirt.libvirtError:
        pass
    return HostFacts(
        hostname=_hostname(conn),
        memory=memory_mib * 1024 * 1024,
        cpus=cpus,
        cpu_model=model,
        virt_type=virt_type,
        libvirt_version=f"{major}.{minor}.{micro}",
        uuid=sysinfo_uuid,
    )


def _hostname(conn: libvirt.virConnect) -> str:
    """The name of the host libvirtd runs on (a lab host's own, in its UTS namespace)."""
    try:
        return str(conn.getHostname())
    except libvirt.libvirtError:
        return socket.gethostname()


VERDICT_FILE = "virt-type.json"
PROBE_TIMEOUT_S = 30.0


def choose_virt_type(wanted: VirtType, *, cache_dir: Path, probe_disk: Path | None,
                     libvirt_uri: str = "qemu:///system") -> VirtType:
    """KVM when it really runs guests here, else TCG (``qemu``).

    The cheap check runs one instruction in a KVM vCPU; then a transient kvm domain with
    the CPU and machine type VMs get starts through libvirt and, where a guest disk is at
    hand (the demo guest on the stick), boots to its ready line, because on some nested
    setups QEMU refuses the CPU or vCPUs run but Linux guests hang. Bounded (about
    ``PROBE_TIMEOUT_S``); the verdict is kept per boot.
    """
    if wanted is not VirtType.AUTO:
        return wanted
    cached = _cached_verdict(cache_dir)
    if cached is not None:
        return cached
    log.info("checking whether KVM runs guests here (up to %.0f s, once per boot)",
             PROBE_TIMEOUT_S)
    if not kvmprobe.kvm_works():
        result = kvmprobe.ProbeResult(False, "/dev/kvm is missing or its vCPUs do not run")
    else:
        result = kvmprobe.guest_runs_under_kvm(
            libvirt_uri, work_dir=cache_dir / "kvm-probe", disk=probe_disk,
            timeout=PROBE_TIMEOUT_S)
    chosen = VirtType.KVM if result.works else VirtType.QEMU
    log.info("virtualization: %s (%s)", "KVM" if result.works else "TCG", result.reason)
    _write_verdict(cache_dir, chosen, result.reason)
    return chosen


def quick_virt_type(wanted: VirtType, *, cache_dir: Path) -> tuple[VirtType, bool]:
    """The part of ``choose_virt_type`` that takes no time: (virt type, settled).

    Settled: the configuration's choice, this boot's verdict, or TCG where KVM's vCPUs do not
    even run one instruction. Otherwise KVM for now, until a guest has shown it boots under
    KVM (``probe_in_background``): the service need not wait for that to serve.
    """
    if wanted is not VirtType.AUTO:
        return wanted, True
    cached = _cached_verdict(cache_dir)
    if cached is not None:
        return cached, True
    if not kvmprobe.kvm_works():
        reason = "/dev/kvm is missing or its vCPUs do not run"
        log.info("virtualization: TCG (%s)", reason)
        _write_verdict(cache_dir, VirtType.QEMU, reason)
        return VirtType.QEMU, True
    return VirtType.KVM, False


FallbackHandler = Callable[[str, str], None]  # VM name ("" for the probe), why KVM failed


class VirtVerdict:
    """What VMs run under on this machine for this boot, shared by its agents.

    Starts as ``choose_virt_type`` decided; ``fall_back`` turns KVM into TCG once, keeps
    that in the runtime directory for the rest of the boot, and tells ``on_fallback``.
    """

    def __init__(self, virt_type: VirtType, *, cache_dir: Path,
                 on_fallback: FallbackHandler | None = None, settled: bool = True) -> None:
        self._virt_type = virt_type
        self._cache_dir = cache_dir
        self._on_fallback = on_fallback
        self._lock = threading.Lock()
        self._settled = threading.Event()
        if settled:
            self._settled.set()

    @property
    def virt_type(self) -> VirtType:
        return self._virt_type

    @property
    def settled(self) -> bool:
        return self._settled.is_set()

    def wait_settled(self, timeout: float = PROBE_TIMEOUT_S + 30) -> VirtType:
        """The virt type once the probe has decided (VMs start only then, so none boots
        under a KVM that hangs guests); after ``timeout`` the current one."""
        self._settled.wait(timeout)
        return self._virt_type

    def settle(self, works: bool, reason: str) -> None:
        """The background probe's answer: KVM confirmed, or TCG from now on."""
        log.info("virtualization: %s (%s)", "KVM" if works else "TCG", reason)
        if works:
            _write_verdict(self._cache_dir, VirtType.KVM, reason)
            self._settled.set()
            return
        with self._lock:
            self._virt_type = VirtType.QEMU
            _write_verdict(self._cache_dir, VirtType.QEMU, reason)
        self._settled.set()
        if self._on_fallback is not None:
            self._on_fallback("", reason)

    def fall_back(self, *, vm: str, reason: str) -> None:
        with self._lock:
            if self._virt_type is not VirtType.KVM:
                return  # another start fell back first
            self._virt_type = VirtType.QEMU
            _write_verdict(self._cache_dir, VirtType.QEMU, f"VM {vm} failed under KVM: {reason}")
        log.warning("VM %s failed to start under KVM (%s): VMs run under TCG from now on",
                    vm, reason)
        if self._on_fallback is not None:
            self._on_fallback(vm, reason)


def probe_in_background(verdict: VirtVerdict, *, libvirt_uri: str, cache_dir: Path,
                        disk: Path | None) -> threading.Thread | None:
    """Settle an unsettled verdict by booting a guest under KVM, in a thread of its own."""
    if verdict.settled:
        return None

    def probe() -> None:
        try:
            result = kvmprobe.guest_runs_under_kvm(libvirt_uri, work_dir=cache_dir / "kvm-probe",
                                                   disk=disk, timeout=PROBE_TIMEOUT_S)
        except Exception as exc:  # a probe that cannot run proves nothing for KVM
            result = kvmprobe.ProbeResult(False, f"the KVM probe failed: {exc}")
        verdict.settle(result.works, result.reason)

    log.info("checking in the background whether KVM runs guests here (up to %.0f s, once "
             "per boot); VMs start once it knows", PROBE_TIMEOUT_S)
    thread = threading.Thread(target=probe, name="kvm-probe", daemon=True)
    thread.start()
    return thread


def start_with_fallback(start: Callable[[VirtType], object], *, virt_type: VirtType,
                        verdict: VirtVerdict | None, vm: str) -> VirtType:
    """``start(virt_type)``; when that fails under KVM but the same VM starts under TCG, KVM
    was the problem: the verdict falls back. Returns the type the VM runs under.

    A failure under TCG too is not KVM's: the KVM error is raised and nothing changes.
    Without a verdict (the configuration asked for kvm), there is no fallback.
    """
    try:
        start(virt_type)
        return virt_type
    except libvirt.libvirtError as under_kvm:
        if virt_type is not VirtType.KVM or verdict is None:
            raise
        try:
            start(VirtType.QEMU)
        except libvirt.libvirtError:
            raise under_kvm from None
        verdict.fall_back(vm=vm, reason=under_kvm.get_error_message())
        return VirtType.QEMU


def _boot_id() -> str:
    return Path("/proc/sys/kernel/random/boot_id").read_text().strip()


def _cached_verdict(cache_dir: Path) -> VirtType | None:
    try:
        cached = json.loads((cache_dir / VERDICT_FILE).read_text())
        if cached.get("boot_id") == _boot_id():
            return VirtType(cached["virt_type"])
    except (OSError, ValueError, KeyError):
        pass
    return None


def _write_verdict(cache_dir: Path, virt_type: VirtType, reason: str) -> None:
    cache_dir.mkdir(parents=True, exist_ok=True)
    (cache_dir / VERDICT_FILE).write_text(json.dumps(
        {"boot_id": _boot_id(), "virt_type": virt_type.value, "reason": reason}))
