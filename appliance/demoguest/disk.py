"""The guest's disk: an MBR with syslinux's boot code, a FAT boot partition (syslinux,
kernel, initramfs), a small raw data partition for the marker and a raw scratch partition
that ``disk fill``/``disk free`` write and discard, converted to qcow2.

The scratch partition is never written by the build: in qcow2 it costs nothing until a guest
fills it, so the disk's virtual size grows but not what it holds.

Nothing is mounted: the FAT file system is made in a file with mkfs.fat, filled with
mtools, made bootable with syslinux's mtools installer, then placed after a partition
table this module writes itself.
"""

from __future__ import annotations

import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

from appliance.demoguest.errors import DemoGuestBuildFailed
from appliance.demoguest.tools import run

SECTOR = 512
MIB = 1024 * 1024
KERNEL_COMMAND_LINE = "console=tty0 console=ttyS0"
MARKER_MAGIC = b"VIRTSTICK-MARKER\n"  # also in init.sh; first line of the data sector


@dataclass(frozen=True)
class Layout:
    """Partition 1 (bootable FAT), 2 (raw marker data) and 3 (raw scratch), in bytes."""

    boot_offset: int = 1 * MIB
    boot_size: int = 32 * MIB
    data_size: int = 1 * MIB
    scratch_size: int = 256 * MIB  # room for the benchmarks' 200 MiB disk fill

    @property
    def data_offset(self) -> int:
        return self.boot_offset + self.boot_size

    @property
    def scratch_offset(self) -> int:
        return self.data_offset + self.data_size

    @property
    def total_size(self) -> int:
        return self.scratch_offset + self.scratch_size


LAYOUT = Layout()

SYSLINUX_CFG = f"""\
DEFAULT demoguest
PROMPT 0
TIMEOUT 0
LABEL demoguest
  LINUX /vmlinuz
  INITRD /initrd.img
  APPEND {KERNEL_COMMAND_LINE}
"""


def _chs(lba: int) -> bytes:
    """CHS address in the 255-head, 63-sector geometry, clamped like every tool does."""
    cylinder, rest = divmod(lba, 255 * 63)
    head, sector = divmod(rest, 63)
    if cylinder > 1023:
        cylinder, head, sector = 1023, 254, 62
    return bytes([head, ((cylinder >> 2) & 0xC0) | (sector + 1), cylinder & 0xFF])


def _partition_entry(*, bootable: bool, kind: int, offset: int, size: int) -> bytes:
    first, count = offset // SECTOR, size // SECTOR
    return (
        bytes([0x80 if bootable else 0])
        + _chs(first)
        + bytes([kind])
        + _chs(first + count - 1)
        + struct.pack("<II", first, count)
    )


def master_boot_record(boot_code: bytes, layout: Layout = LAYOUT) -> bytes:
    """syslinux's mbr.bin (440 bytes of code) + disk signature + the partition table."""
    table = _partition_entry(
        bootable=True, kind=0x06, offset=layout.boot_offset, size=layout.boot_size
    ) + _partition_entry(  # 0xda: "non-FS data", so nothing on a host tries to mount it
        bootable=False, kind=0xDA, offset=layout.data_offset, size=layout.data_size
    ) + _partition_entry(
        bootable=False, kind=0xDA, offset=layout.scratch_offset, size=layout.scratch_size
    )
    code = boot_code[:440].ljust(440, b"\0")
    return code + b"VSDG" + b"\0\0" + table.ljust(64, b"\0") + b"\x55\xaa"


def make_boot_filesystem(*, image: Path, syslinux: Path, kernel: Path, initrd: Path) -> None:
    """A FAT16 file system in a file, holding syslinux, the kernel and the initramfs."""
    hidden = LAYOUT.boot_offset // SECTOR  # where the partition starts: the VBR needs it
    size_kib = LAYOUT.boot_size // 1024
    run(["mkfs.fat", "-C", "-F", "16", "-n", "DEMOGUEST", "-h", str(hidden), image, str(size_kib)])
    config = image.parent / "syslinux.cfg"
    config.write_text(SYSLINUX_CFG)
    for source, name in ((kernel, "vmlinuz"), (initrd, "initrd.img"), (config, "syslinux.cfg")):
        run(["mcopy", "-i", image, source, f"::/{name}"])
    run([syslinux, "--install", image])


def assemble(*, boot_fs: Path, mbr_code: Path, raw: Path, qcow2: Path) -> None:
    """Write the raw disk (MBR, boot partition, empty data and scratch areas, sparse) and
    convert it to qcow2."""
    with raw.open("wb") as out:
        out.write(master_boot_record(mbr_code.read_bytes()))
        out.seek(LAYOUT.boot_offset)
        out.write(boot_fs.read_bytes())
        out.truncate(LAYOUT.total_size)
    run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, qcow2])


def read_disk_marker(image: Path) -> str | None:
    """The marker on a guest disk (qcow2 or raw, overlays included), read on the host.

    -U: a running guest's QEMU holds a lock on the image; a racy read is fine for a check.
    qemu-img dd counts "count" from the start of the image, skipped blocks included, and
    exits 0 after "cannot skip" with an empty output: hence count=skip+1 and the size check.
    """
    with tempfile.TemporaryDirectory(prefix="virtstick-marker-") as scratch:
        sector = Path(scratch) / "sector"
        skip = LAYOUT.data_offset // SECTOR
        run(["qemu-img", "dd", "-U", "-O", "raw", f"bs={SECTOR}", f"skip={skip}",
             f"count={skip + 1}", f"if={image}", f"of={sector}"])  # fmt: skip
        data = sector.read_bytes()
        if len(data) != SECTOR:
            raise DemoGuestBuildFailed(f"{image} has no marker sector at {LAYOUT.data_offset}")
        return read_marker(data)


def read_marker(raw_data_sector: bytes) -> str | None:
    """The marker in the data area's first sector (as init.sh writes it), None if unset."""
    text = raw_data_sector.rstrip(b"\0")
    if not text.startswith(MARKER_MAGIC):
        return None
    return text[len(MARKER_MAGIC) :].split(b"\n", 1)[0].decode(errors="replace")
