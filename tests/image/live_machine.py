"""A QEMU (TCG) machine booting the live ISO as a USB stick, for the boot tests and the benchmark.

The CPU is qemu64 without SVM: no KVM nested inside TCG (the appliance would probe it and
fall back, at a cost), and "max" with SVM and VMX off breaks udevd in the initramfs.

BIOS is SeaBIOS, UEFI is OVMF; both on q35 with the ISO on an xHCI USB stick, an optional seed
on a second USB stick (FAT labelled VSSEED, as an evaluator would bring it), user networking
forwarding the guest's ports 443 and 80 to free local ports, and the serial console in a log
file that the tests read.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import ssl
import struct
import subprocess
import time
import urllib.error
import urllib.request
from enum import StrEnum
from pathlib import Path

# QEMU's user network leases 10.0.2.15 to the first MAC that asks and .16 to the next: the
# wizard's ovirtmgmt bridge asks with its own MAC after the NIC's boot-time lease, so the
# service may be on either. Each guest port is forwarded from both addresses.
GUEST_ADDRESSES = ("10.0.2.15", "10.0.2.16")
OVMF_CODE = Path("/usr/share/OVMF/OVMF_CODE_4M.fd")
OVMF_VARS = Path("/usr/share/OVMF/OVMF_VARS_4M.fd")
OVMF_SECURE_CODE = Path("/usr/share/OVMF/OVMF_CODE_4M.secboot.fd")
OVMF_MS_VARS = Path("/usr/share/OVMF/OVMF_VARS_4M.ms.fd")


class Firmware(StrEnum):
    BIOS = "bios"
    UEFI = "uefi"
    SECURE_BOOT = "secureboot"  # OVMF with Microsoft's keys enrolled, Secure Boot on


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def make_seed_stick(seed_toml: str, out: Path, *, size_mib: int = 16) -> Path:
    """A USB stick image as people format them: an MBR with one FAT partition at 1 MiB,
    labelled VSSEED, holding virtstick-seed.toml. Made without mounting (dosfstools, mtools)."""
    sectors = size_mib * 2048
    start = 2048
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as stick:
        stick.truncate(sectors * 512)
        entry = struct.pack("<B3sB3sII", 0, b"\xfe\xff\xff", 0x0E, b"\xfe\xff\xff", start,
                            sectors - start)  # FAT16 (LBA); CHS fields "use LBA"
        stick.seek(446)
        stick.write(entry)
        stick.seek(510)
        stick.write(b"\x55\xaa")
    subprocess.run(["mkfs.vfat", "-n", "VSSEED", f"--offset={start}", str(out),
                    str((sectors - start) // 2)], check=True, capture_output=True)
    seed = out.with_suffix(".toml")
    seed.write_text(seed_toml)
    subprocess.run(["mcopy", "-i", f"{out}@@{start * 512}", str(seed), "::virtstick-seed.toml"],
                   check=True, capture_output=True)
    return out


class LiveMachine:
    def __init__(
        self,
        *,
        iso: Path,
        firmware: Firmware,
        work_dir: Path,
        seed_stick: Path | None = None,
        kernel: tuple[Path, Path, str] | None = None,  # direct boot: vmlinuz, initrd, cmdline
        memory_mib: int = 3072,
    ) -> None:
        self.iso = iso
        self.firmware = firmware
        self.work_dir = work_dir
        self.seed_stick = seed_stick
        self.kernel = kernel
        self.memory_mib = memory_mib
        self.serial_log = work_dir / f"serial-{firmware.value}.log"
        self.forwards = {
            (guest, port): free_port() for guest in GUEST_ADDRESSES for port in (443, 80)
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.started = 0.0

    def command(self) -> list[str]:
        forwards = ",".join(
            f"hostfwd=tcp:127.0.0.1:{host}-{guest}:{port}"
            for (guest, port), host in self.forwards.items()
        )
        argv = [
            "qemu-system-x86_64", "-machine", "q35", "-accel", "tcg", "-cpu", "qemu64,svm=off",
            "-smp", "2", "-m", str(self.memory_mib), "-display", "none", "-no-reboot",
            "-serial", f"file:{self.serial_log}", "-monitor", "none",
            "-drive", f"if=none,id=stick,format=raw,readonly=on,file={self.iso}",
            "-device", "qemu-xhci", "-device", "usb-storage,drive=stick,removable=on",
            "-netdev", f"user,id=net0,{forwards}", "-device", "virtio-net-pci,netdev=net0",
        ]  # fmt: skip
        if self.seed_stick is not None:  # a second stick on the same xHCI controller
            argv += ["-drive", f"if=none,id=seed,format=raw,readonly=on,file={self.seed_stick}",
                     "-device", "usb-storage,drive=seed,removable=on"]
        if self.firmware is not Firmware.BIOS:
            secure = self.firmware is Firmware.SECURE_BOOT
            variables = self.work_dir / "OVMF_VARS.fd"
            shutil.copyfile(OVMF_MS_VARS if secure else OVMF_VARS, variables)
            argv += [
                "-drive", f"if=pflash,format=raw,readonly=on,"
                f"file={OVMF_SECURE_CODE if secure else OVMF_CODE}",
                "-drive", f"if=pflash,format=raw,file={variables}",
            ]  # fmt: skip
            if secure:  # the Secure Boot firmware keeps its variables behind SMM
                argv[argv.index("q35")] = "q35,smm=on"
                argv += ["-global", "driver=cfi.pflash01,property=secure,value=on"]
        if self.kernel is not None:
            vmlinuz, initrd, cmdline = self.kernel
            argv += ["-kernel", str(vmlinuz), "-initrd", str(initrd), "-append", cmdline]
        return argv

    def start(self) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.serial_log.write_text("")
        console = (self.work_dir / f"qemu-{self.firmware.value}.log").open("wb")
        self.started = time.monotonic()
        self.process = subprocess.Popen(self.command(), stdout=console, stderr=console)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def serial(self) -> str:
        return self.serial_log.read_text(errors="replace")

    def wait_serial(self, text: str, *, timeout: float) -> float:
        """Seconds from QEMU's start until ``text`` appeared on the serial console."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.serial():
                return self.elapsed()
            self._check_running()
            time.sleep(0.5)
        raise TimeoutError(f"{text!r} not on the serial console after {timeout:.0f}s")

    def wait_http(self, scheme: str, path: str, *, timeout: float) -> tuple[float, int]:
        """Seconds from QEMU's start until the guest answered ``scheme://guest{path}`` with a
        status below 500, and the local port that reached it."""
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        guest_port = 443 if scheme == "https" else 80
        ports = [host for (_, port), host in self.forwards.items() if port == guest_port]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_running()
            for port in ports:
                url = f"{scheme}://127.0.0.1:{port}{path}"
                try:
                    with urllib.request.urlopen(url, timeout=5, context=context) as response:
                        if response.status < 500:
                            return self.elapsed(), port
                except urllib.error.HTTPError as exc:
                    if exc.code < 500:
                        return self.elapsed(), port
                except (urllib.error.URLError, OSError):
                    pass
            time.sleep(1)
        raise TimeoutError(f"{scheme}://guest{path} did not answer after {timeout:.0f}s")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=15)
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def _check_running(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(
                f"QEMU exited with {self.process.returncode}; serial console:\n"
                + self.serial()[-3000:]
            )
