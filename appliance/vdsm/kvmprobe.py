"""Does KVM really run a guest here? ``/dev/kvm`` can exist while guests fail or hang:

- nested virtualization without support: vCPUs never run, so first one instruction
  (``hlt``) in a one-page VM, cheap and with no libvirt involved;
- QEMU refusing the CPU it is given ("failed to set MSR 0x10a" on some nested hosts), or a
  Linux guest that never gets past its firmware: so then a tiny transient domain of type
  kvm through libvirt, built by the same ``DomainSpec`` that VMs get (same ``<cpu>``, same
  machine type), booting the demo guest to its ready line when its disk is at hand.

Each runs in a child process with a timeout (``python -m appliance.vdsm.kvmprobe``): a hang
means no, and the probe domain is started with AUTODESTROY, so libvirtd removes it when the
child's connection closes, however the child ends.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import mmap
import os
import secrets
import shutil
import struct
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import libvirt

from appliance.config import VirtType
from appliance.vdsm import domxml

READY = b"VIRTSTICK-GUEST-READY"
PROBE_PREFIX = "virtstick-kvm-probe-"

_KVM_CREATE_VM = 0xAE01
_KVM_GET_VCPU_MMAP_SIZE = 0xAE04
_KVM_CREATE_VCPU = 0xAE41
_KVM_SET_USER_MEMORY_REGION = 0x4020AE46
_KVM_GET_SREGS = 0x8138AE83
_KVM_SET_SREGS = 0x4138AE84
_KVM_SET_REGS = 0x4090AE82
_KVM_RUN = 0xAE80
_KVM_EXIT_HLT = 5
_GUEST_ADDRESS = 0x1000


@dataclass(frozen=True)
class ProbeResult:
    works: bool
    reason: str  # why not (or how it was confirmed), for the log and events


def kvm_works(timeout: float = 5.0) -> bool:
    """The one-instruction check: a KVM vCPU runs ``hlt`` and exits on it."""
    if not os.path.exists("/dev/kvm"):
        return False
    try:
        result = subprocess.run([sys.executable, "-m", "appliance.vdsm.kvmprobe", "hlt"],
                                timeout=timeout, capture_output=True)
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0


def guest_runs_under_kvm(uri: str, *, work_dir: Path, disk: Path | None,
                         timeout: float = 30.0) -> ProbeResult:
    """Start a transient kvm domain as VMs get it; with ``disk``, wait for its ready line.

    Never longer than ``timeout`` plus the start: the child is killed, and libvirtd
    destroys its domain, when it overruns.
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    work_dir.chmod(0o755)  # QEMU, as libvirt's user, opens the disk copy and the socket here
    argv = [sys.executable, "-m", "appliance.vdsm.kvmprobe", "libvirt", uri, str(work_dir),
            str(timeout), *([str(disk)] if disk is not None else [])]
    try:
        result = subprocess.run(argv, timeout=timeout + 30, capture_output=True, text=True)
    except subprocess.TimeoutExpired:
        return ProbeResult(False, f"the KVM probe domain did not finish in {timeout + 30:.0f} s")
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    lines = result.stdout.strip().splitlines()
    reason = lines[-1] if lines else result.stderr.strip()[-300:] or "no answer"
    return ProbeResult(result.returncode == 0, reason)


def probe_spec(work_dir: Path, disk: Path | None) -> domxml.DomainSpec:
    """The probe domain: a VM as the agent builds them (``DomainSpec``'s kvm ``<cpu>`` and
    default machine type), 256 MiB, one vCPU, the demo guest's disk, a serial log."""
    disks: tuple[domxml.DiskDevice, ...] = ()
    if disk is not None:
        disks = (domxml.DiskDevice(path=disk, target="vda", boot_order=1),)
    return domxml.DomainSpec(
        uuid=str(uuid.uuid4()), name=PROBE_PREFIX + secrets.token_hex(3), memory=256 * 2**20,
        vcpus=1, virt_type=VirtType.KVM, appliance_id="kvm-probe", disks=disks, graphics=(),
        serial=domxml.SerialConsole(socket=work_dir / "console.sock",
                                    log=work_dir / "console.log"))


def _run_probe_domain(uri: str, work_dir: Path, timeout: float, disk: Path | None) -> str:
    """In the child: '' when KVM ran the guest, else why not."""
    copy = None
    if disk is not None:  # a copy: libvirt hands the file to QEMU's user, the guest writes
        copy = work_dir / "disk.qcow2"
        shutil.copyfile(disk, copy)
        copy.chmod(0o644)
    spec = probe_spec(work_dir, copy)
    conn = libvirt.open(uri)
    try:
        dom = conn.createXML(spec.to_xml(), libvirt.VIR_DOMAIN_START_AUTODESTROY)
    except libvirt.libvirtError as exc:
        return f"QEMU could not start a guest under KVM: {exc.get_error_message()}"
    try:
        return _watch(dom, spec, timeout, with_disk=copy is not None)
    finally:
        with contextlib.suppress(libvirt.libvirtError):  # already gone
            dom.destroy()
        conn.close()


def _watch(dom: libvirt.virDomain, spec: domxml.DomainSpec, timeout: float, *,
           with_disk: bool) -> str:
    """Without a disk: the guest keeps running for 2 s. With one: it prints its ready line."""
    assert spec.serial is not None
    deadline = time.monotonic() + (timeout if with_disk else 2.0)
    while time.monotonic() < deadline:
        state = dom.state()[0]
        if state != libvirt.VIR_DOMAIN_RUNNING:
            return f"the guest under KVM stopped (libvirt state {state})"
        if with_disk and spec.serial.log.exists() and READY in spec.serial.log.read_bytes():
            return ""
        time.sleep(0.25)
    if with_disk:
        return f"a guest under KVM did not boot in {timeout:.0f} s"
    return ""


def _run_hlt() -> bool:
    kvm = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    vm = fcntl.ioctl(kvm, _KVM_CREATE_VM, 0)
    memory = mmap.mmap(-1, 0x1000)
    memory.write(b"\xf4")  # hlt
    address = ctypes.addressof(ctypes.c_char.from_buffer(memory))
    region = struct.pack("IIQQQ", 0, 0, _GUEST_ADDRESS, 0x1000, address)
    fcntl.ioctl(vm, _KVM_SET_USER_MEMORY_REGION, region)
    vcpu = fcntl.ioctl(vm, _KVM_CREATE_VCPU, 0)
    run_size = fcntl.ioctl(kvm, _KVM_GET_VCPU_MMAP_SIZE, 0)
    run = mmap.mmap(vcpu, run_size)
    sregs = bytearray(312)
    fcntl.ioctl(vcpu, _KVM_GET_SREGS, sregs)
    struct.pack_into("Q", sregs, 0, 0)  # cs.base
    struct.pack_into("H", sregs, 12, 0)  # cs.selector
    fcntl.ioctl(vcpu, _KVM_SET_SREGS, bytes(sregs))
    regs = bytearray(144)
    struct.pack_into("QQ", regs, 128, _GUEST_ADDRESS, 2)  # rip, rflags
    fcntl.ioctl(vcpu, _KVM_SET_REGS, bytes(regs))
    fcntl.ioctl(vcpu, _KVM_RUN, 0)
    exit_reason: int = struct.unpack_from("I", run, 8)[0]
    return exit_reason == _KVM_EXIT_HLT


def main(argv: list[str]) -> int:
    if argv[:1] == ["hlt"]:
        try:
            return 0 if _run_hlt() else 1
        except OSError:
            return 1
    if argv[:1] == ["libvirt"] and len(argv) in (4, 5):
        uri, work_dir, timeout = argv[1], Path(argv[2]), float(argv[3])
        disk = Path(argv[4]) if len(argv) == 5 else None
        try:
            why_not = _run_probe_domain(uri, work_dir, timeout, disk)
        except (OSError, libvirt.libvirtError) as exc:
            why_not = f"the KVM probe could not run: {exc}"
        print(why_not or "a guest ran under KVM with the CPU and machine VMs get", flush=True)
        return 1 if why_not else 0
    print("usage: python -m appliance.vdsm.kvmprobe hlt | libvirt URI WORK_DIR TIMEOUT [DISK]",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
