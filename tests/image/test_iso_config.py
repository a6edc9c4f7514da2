"""The boot menu and kernel command line of the live ISO (the boot test boots them for real)."""

from __future__ import annotations

from image import iso


def test_kernel_arguments_make_a_stateless_live_root() -> None:
    args = iso.kernel_args("VIRTSTICK").split()
    assert "root=live:CDLABEL=VIRTSTICK" in args
    assert "rd.live.image" in args and "rd.live.overlay.overlayfs=1" in args
    assert args[-1] == "console=ttyS0,115200n8"  # the last console is /dev/console


def test_menu_has_a_copy_to_ram_entry() -> None:
    config = iso.grub_config("VIRTSTICK", timeout=3)
    assert "set timeout=3" in config
    entries = [line for line in config.splitlines() if line.startswith("menuentry")]
    assert len(entries) == 2 and "RAM" in entries[1]
    linux_lines = [line.strip() for line in config.splitlines() if line.strip().startswith("linux")]
    assert "rd.live.ram=1" not in linux_lines[0] and linux_lines[1].endswith("rd.live.ram=1")
    assert all(line.startswith(f"linux /{iso.KERNEL} ") for line in linux_lines)


def test_bios_core_finds_the_iso_by_its_disk_info_file() -> None:
    assert "search --no-floppy --set=root --file /.disk/info" in iso.bios_early_config()
