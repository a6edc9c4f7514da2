"""The guest's initramfs: static busybox, our init script and the few kernel modules needed.

Debian's cloud kernel builds virtio, the ACPI button and evdev as modules; they are copied
with their dependencies (read from each module's .modinfo) and loaded in order by /init.
"""

from __future__ import annotations

import gzip
import io
import re
from importlib import resources
from pathlib import Path

from appliance.demoguest import cpio
from appliance.demoguest.errors import DemoGuestBuildFailed

# virtio disk; power button (button) delivered through an input device (evdev) to acpid;
# the balloon, whose free page reporting hands the pages the guest frees back to the host.
WANTED_MODULES = ("virtio_pci", "virtio_blk", "virtio_balloon", "button", "evdev")
GUEST_SCRIPTS = ("init.sh", "powerbutton.sh")


def guest_script(name: str) -> bytes:
    return resources.files("appliance.demoguest").joinpath(name).read_bytes()


def _module_index(modules_dir: Path) -> dict[str, Path]:
    return {p.name.removesuffix(".ko").replace("-", "_"): p for p in modules_dir.rglob("*.ko")}


def _depends(module: Path) -> list[str]:
    # The .modinfo section holds NUL-separated key=value strings, "depends=a,b" among them.
    match = re.search(rb"\0depends=([^\0]*)\0", module.read_bytes())
    text = match.group(1).decode() if match else ""
    return [name.replace("-", "_") for name in text.split(",") if name]


def resolve_modules(modules_dir: Path, wanted: tuple[str, ...] = WANTED_MODULES) -> list[Path]:
    """The wanted modules and their dependencies, each after what it depends on."""
    index = _module_index(modules_dir)
    ordered: list[Path] = []

    def visit(name: str) -> None:
        if name not in index:
            raise DemoGuestBuildFailed(f"kernel module {name} not found under {modules_dir}")
        if index[name] in ordered:
            return
        for dependency in _depends(index[name]):
            visit(dependency)
        ordered.append(index[name])

    for name in wanted:
        visit(name)
    return ordered


def build_initramfs(*, root: Path, kernel_release: str, output: Path) -> None:
    """Write a gzip'd newc initramfs from the unpacked packages under root."""
    modules = resolve_modules(root / "lib" / "modules" / kernel_release)
    entries = [cpio.directory(d) for d in ("bin", "dev", "proc", "sys", "tmp", "etc")]
    entries += [cpio.directory(d) for d in ("etc/acpi", "etc/acpi/PWRF", "lib", "lib/modules")]
    entries.append(cpio.char_device("dev/console", 5, 1))  # the kernel opens it before /init
    busybox = (root / "bin/busybox").read_bytes()
    entries.append(cpio.regular("bin/busybox", busybox, executable=True))
    entries.append(cpio.symlink("bin/sh", "busybox"))
    entries.append(cpio.regular("init", guest_script("init.sh"), executable=True))
    # busybox acpid runs /etc/acpi/<action>/<event> for the power button's "PWRF 00000080".
    entries.append(
        cpio.regular("etc/acpi/PWRF/00000080", guest_script("powerbutton.sh"), executable=True)
    )
    entries += [cpio.regular(f"lib/modules/{m.name}", m.read_bytes()) for m in modules]
    order = "".join(f"{m.name}\n" for m in modules).encode()
    entries.append(cpio.regular("etc/modules.load", order))
    raw = io.BytesIO()
    cpio.write_archive(raw, entries)
    output.write_bytes(gzip.compress(raw.getvalue(), compresslevel=6, mtime=0))
