"""Does KVM really run a guest here? ``/dev/kvm`` can exist while vCPUs never run (nested
virtualization without support), so run one instruction (``hlt``) in a one-page VM.

Run as ``python -m appliance.vdsm.kvmprobe`` in a child process with a timeout: a hang means no.
"""

from __future__ import annotations

import ctypes
import fcntl
import mmap
import os
import struct
import subprocess
import sys

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


def kvm_works(timeout: float = 5.0) -> bool:
    if not os.path.exists("/dev/kvm"):
        return False
    try:
        result = subprocess.run([sys.executable, "-m", "appliance.vdsm.kvmprobe"],
                                timeout=timeout, capture_output=True)
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0


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


if __name__ == "__main__":
    try:
        sys.exit(0 if _run_hlt() else 1)
    except OSError:
        sys.exit(1)
