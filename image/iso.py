"""The hybrid live ISO: one file that boots from CD and from a USB stick, on BIOS and UEFI.

Layout (dracut dmsquash-live's, as Fedora's live media): ``/LiveOS/squashfs.img``,
``/images/pxeboot/{vmlinuz,initrd.img}``, ``/boot/grub/grub.cfg``. Boot paths (lorax's):

- BIOS: GRUB's El Torito core image; for USB the MBR is GRUB's ``boot_hybrid.img``, patched
  by xorriso to load that same core image.
- UEFI: a FAT image appended as GPT partition 2 (the EFI system partition) and referenced by
  the second El Torito entry, holding the distro's signed shim as ``BOOTX64.EFI`` and its signed
  CD GRUB as ``grubx64.efi``. That GRUB finds the ISO through ``/.disk/info``, so the same
  image boots under Secure Boot.
"""

from __future__ import annotations

import math
import shutil
from dataclasses import dataclass
from pathlib import Path

from image.distro import DistroPlan
from image.rootfs import BootFiles
from image.steps import StepLog

ESP_TYPE_GUID = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
BASIC_DATA_TYPE_GUID = "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7"
SQUASHFS = "LiveOS/squashfs.img"
KERNEL = "images/pxeboot/vmlinuz"
INITRD = "images/pxeboot/initrd.img"
BIOS_IMAGE = "boot/grub/i386-pc/eltorito.img"
GRUB_CFG = "boot/grub/grub.cfg"
DISK_INFO = ".disk/info"
MENU_TIMEOUT_SECONDS = 3
GRUB_BIOS_MODULES = (
    "biosdisk", "iso9660", "part_gpt", "part_msdos", "normal", "search", "search_fs_file",
    "search_label", "configfile", "linux", "boot", "echo", "test", "true", "sleep", "serial",
    "terminal", "gzio", "ls", "cat", "minicmd", "halt", "reboot",
)  # fmt: skip


@dataclass(frozen=True)
class MenuEntry:
    title: str
    extra_args: str = ""


MENU = (
    MenuEntry("VirtStick"),
    MenuEntry("VirtStick, copied to RAM (the stick can be pulled out)", "rd.live.ram=1"),
)


def kernel_args(volume_id: str, extra: str = "") -> str:
    """dracut's live root on the labelled ISO, with a tmpfs overlay: nothing is ever written."""
    args = [
        f"root=live:CDLABEL={volume_id}",
        "rd.live.image",
        "rd.live.overlay.overlayfs=1",
        "console=tty0",
        "console=ttyS0,115200n8",
    ]
    if extra:
        args.append(extra)
    return " ".join(args)


def grub_config(volume_id: str, *, timeout: int = MENU_TIMEOUT_SECONDS) -> str:
    lines = [
        "# VirtStick live boot menu (shared by BIOS and UEFI GRUB).",
        "set default=0",
        f"set timeout={timeout}",
        # Signed GRUB may lack the serial module under Secure Boot: then only the screen.
        "if serial --unit=0 --speed=115200; then",
        "  terminal_input --append serial",
        "  terminal_output --append serial",
        "fi",
    ]
    for entry in MENU:
        lines += [
            f"menuentry '{entry.title}' {{",
            f"  linux /{KERNEL} {kernel_args(volume_id, entry.extra_args)}",
            f"  initrd /{INITRD}",
            "}",
        ]
    return "\n".join(lines) + "\n"


def bios_early_config() -> str:
    """Embedded in the BIOS core image: find the ISO's file system whatever the boot device."""
    return "search --no-floppy --set=root --file /" + DISK_INFO + "\nset prefix=($root)/boot/grub\n"


def prepare_tree(tree: Path, *, boot: BootFiles, volume_id: str, info: str) -> None:
    """Everything but the squashfs (written in place by its own step) and the boot images."""
    for relative, source in ((KERNEL, boot.kernel), (INITRD, boot.initrd)):
        target = tree / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    (tree / GRUB_CFG).parent.mkdir(parents=True, exist_ok=True)
    (tree / GRUB_CFG).write_text(grub_config(volume_id))
    (tree / DISK_INFO).parent.mkdir(parents=True, exist_ok=True)
    (tree / DISK_INFO).write_text(info + "\n")


def make_bios_image(log: StepLog, *, tree: Path, plan: DistroPlan, work_dir: Path) -> Path:
    early = work_dir / "grub-early.cfg"
    early.write_text(bios_early_config())
    out = tree / BIOS_IMAGE
    out.parent.mkdir(parents=True, exist_ok=True)
    log.run(
        [
            plan.grub_mkimage, "-O", "i386-pc-eltorito", "-d", plan.grub_bios_dir,
            "-p", "/boot/grub", "-c", early, "-o", out, *GRUB_BIOS_MODULES,
        ]
    )  # fmt: skip
    return out


def make_efi_image(log: StepLog, *, boot: BootFiles, out: Path) -> Path:
    """The EFI system partition as a FAT image, built with mtools (no mount needed)."""
    names = {"shimx64.efi": "BOOTX64.EFI", "grubx64.efi": "grubx64.efi", "mmx64.efi": "mmx64.efi"}
    total = sum((boot.efi_dir / name).stat().st_size for name in names)
    size_kib = max(4096, math.ceil(total / 1024 * 1.2) + 1024)
    out.unlink(missing_ok=True)
    log.run(["mkfs.vfat", "-C", "-n", "EFIBOOT", out, str(size_kib)])
    log.run(["mmd", "-i", out, "::/EFI", "::/EFI/BOOT"])
    for source, target in names.items():
        log.run(["mcopy", "-i", out, boot.efi_dir / source, f"::/EFI/BOOT/{target}"])
    return out


def write_iso(
    log: StepLog, *, tree: Path, efi_image: Path, plan: DistroPlan, volume_id: str, out: Path
) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    log.run(
        [
            "xorriso", "-as", "mkisofs", "-o", out, "-R", "-J", "-joliet-long", "-V", volume_id,
            "--grub2-mbr", plan.grub_bios_dir / "boot_hybrid.img",
            "-partition_offset", "16",
            "-appended_part_as_gpt",
            "-append_partition", "2", ESP_TYPE_GUID, efi_image,
            "-iso_mbr_part_type", BASIC_DATA_TYPE_GUID,
            "-c", "boot.catalog", "--boot-catalog-hide",
            "-b", BIOS_IMAGE, "-no-emul-boot", "-boot-load-size", "4", "-boot-info-table",
            "--grub2-boot-info",
            "-eltorito-alt-boot",
            "-e", "--interval:appended_partition_2:all::", "-no-emul-boot",
            tree,
        ]
    )  # fmt: skip
    return out
