"""Every program the code and the tests run comes from ``make setup``.

CI starts from a fresh Debian 12 machine; a program missing there fails some test far from
its cause (``virt-xml-validate`` needs ``xmllint``, which once was not installed). So the
programs are listed here with the Debian package that ships them, each must resolve, and the
package must be in the Makefile's APT_PACKAGES (or be one every Debian has). A scan of the
code finds the programs run with a literal command line, so a new one fails here by name
until it is listed; programs started from shell scripts or by other programs are listed by
hand (the ``why`` says who runs them).
"""

from __future__ import annotations

import ast
import functools
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("appliance", "firstboot", "webui", "image", "tests")
SEARCH_PATH = ":".join(("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin",
                        "/bin", "/lib/systemd"))
PIP = "pip"  # installed into the venv from pyproject.toml's extras


@dataclass(frozen=True)
class Program:
    package: str  # the Debian package holding the file
    setup: str  # what make setup installs to get it (the package, or one depending on it)
    why: str  # where it is run, for a reader deciding whether it is still needed


def _p(package: str, why: str, setup: str = "") -> Program:
    return Program(package=package, setup=setup or package, why=why)


PROGRAMS: dict[str, Program] = {
    # libvirt and QEMU
    "qemu-img": _p("qemu-utils", "vdsm storage, demo guest, tests"),
    "qemu-io": _p("qemu-utils", "imaging tests and benchmark"),
    "qemu-nbd": _p("qemu-utils", "image transfers: serves a volume to ovirt-imageio "
                   "(vdsm/imageio/nbd.py)"),
    "qemu-system-x86_64": _p("qemu-system-x86", "vdsm/host.py KVM probe, image boot tests"),
    "libvirtd": _p("libvirt-daemon", "lab hosts (vdsm/labhost.py, vdsm/join.py), restart tests",
                   setup="libvirt-daemon-system"),
    "virtlogd": _p("libvirt-daemon", "lab hosts' shell script (vdsm/labhost.py), make daemons",
                   setup="libvirt-daemon-system"),
    "virsh": _p("libvirt-clients", "core benchmark, make daemons"),
    "virt-xml-validate": _p("libvirt-clients", "domain XML golden-file tests"),
    "xmllint": _p("libxml2-utils", "run by virt-xml-validate"),
    # devices, file systems, namespaces
    "ip": _p("iproute2", "lab hosts, firstboot network probe, namespace tests"),
    "nsenter": _p("util-linux", "lab hosts' soft fencing"),
    "setpriv": _p("util-linux", "the imageio daemon dies with the service (vdsm/imageio)"),
    "unshare": _p("util-linux", "lab hosts, image build isolation, namespace tests"),
    "mount": _p("mount", "virtstick run, seed reading, RAM storage"),
    "umount": _p("mount", "seed reading, RAM storage"),
    "losetup": _p("mount", "seed and hardware tests (loop devices)"),
    "blkid": _p("util-linux", "seed reading (filesystem type)"),
    "blockdev": _p("util-linux", "firstboot disk storage"),
    "wipefs": _p("util-linux", "firstboot disk storage"),
    "mkfs.ext4": _p("e2fsprogs", "firstboot zram and disk storage"),
    "udevadm": _p("udev", "seed search (udevadm settle), udev tests"),
    "systemd-udevd": _p("udev", "udev tests in a namespace (/lib/systemd/systemd-udevd)"),
    "mkfs.vfat": _p("dosfstools", "image build (EFI image), seed tests"),
    "mkfs.fat": _p("dosfstools", "demo guest disk"),
    "mcopy": _p("mtools", "image build, demo guest, seed tests"),
    "mmd": _p("mtools", "image build, demo guest"),
    "mtype": _p("mtools", "seed reading from FAT"),
    "mattrib": _p("mtools", "demo guest disk"),
    "xorriso": _p("xorriso", "image build, seed reading from ISO 9660, tests"),
    "cpio": _p("cpio", "demo guest tests"),
    # networking (real NetworkManager and DHCP in namespaces)
    "NetworkManager": _p("network-manager", "firstboot network tests (tests/firstboot/nmlab.py)"),
    "dnsmasq": _p("dnsmasq-base", "firstboot network tests"),
    "dbus-daemon": _p("dbus-daemon", "firstboot network tests", setup="dbus"),
    "dbus-send": _p("dbus-bin", "firstboot network tests", setup="dbus"),
    # the image builder
    # image transfers
    "ovirt-imageio": _p(PIP, "image transfers' data server (vdsm/imageio/daemon.py)",
                        setup="ovirt-imageio"),
    "ovirt-img": _p(PIP, "image transfer tests (tests/transfers)", setup="ovirt-imageio"),
    "ansible-playbook": _p(PIP, "the clients' playbook tests (tests/clients/plays.py)",
                           setup="ansible"),
    "disk-image-create": _p(PIP, "image build (diskimage-builder, pyproject extra)",
                            setup="diskimage-builder"),
    "debootstrap": _p("debootstrap", "image build (DIB's debian-minimal)"),
    "sudo": _p("sudo", "image build (DIB runs its phases with sudo)"),
    "mksquashfs": _p("squashfs-tools", "image build"),
    "grub-mkimage": _p("grub-common", "image build (BIOS El Torito image)", setup="grub-pc-bin"),
    "grub-mkrescue": _p("grub-common", "ISO upload tests", setup="grub-pc-bin"),
    "tar": _p("tar", "image build"),
    # the demo guest is made from Debian packages downloaded and unpacked, never installed
    "apt-get": _p("apt", "demo guest build (apt-get download)"),
    "apt-cache": _p("apt", "demo guest build"),
    "dpkg": _p("dpkg", "demo guest build (dpkg -x), this test (dpkg -S)"),
    "dpkg-query": _p("dpkg", "this test (priorities)"),
    # hosts' power management
    "ipmitool": _p("ipmitool", "engine/power.py IPMI fencing of hosts"),
    # browsers
    "chromium": _p("chromium", "portal and console tests (Playwright), webui benchmark"),
    # the base system
    "sh": _p("dash", "shell scripts of tests and lab hosts"),
    "hostname": _p("hostname", "lab hosts' shell script"),
    "rm": _p("coreutils", "image build"),
    "dd": _p("coreutils", "storage and thin-provisioning tests"),
    "truncate": _p("coreutils", "tests' disk images"),
    "sync": _p("coreutils", "RAM domain tests (a file system written back before zram is read)"),
    "touch": _p("coreutils", "firstboot tests' service start"),
    "echo": _p("coreutils", "image step tests"),
    "true": _p("coreutils", "firstboot benchmark"),
}

# Names the tests run on purpose to see a missing program handled.
NOT_PROGRAMS = frozenset({"not-a-program-here"})
# Calls that run a program; a literal list (or, for the last ones, string) names it.
RUNNERS = frozenset({"run", "Popen", "check_call", "check_output", "_spawn", "require_tools"})
STRING_RUNNERS = frozenset({"which", "_run", "find_tool", "create_subprocess_exec", "execvp",
                            "execv", "execlp"})


def resolve(name: str) -> str | None:
    if PROGRAMS[name].package == PIP:
        venv = Path(sys.executable).parent / name
        return str(venv) if venv.is_file() else None
    return shutil.which(name, path=SEARCH_PATH)


@functools.cache
def apt_packages() -> frozenset[str]:
    makefile = (ROOT / "Makefile").read_text()
    match = re.search(r"^APT_PACKAGES\s*:=((?:.*\\\n)*.*)$", makefile, re.MULTILINE)
    assert match, "no APT_PACKAGES in the Makefile"
    return frozenset(match.group(1).replace("\\\n", " ").split())


def priority(package: str) -> str:
    return subprocess.run(["dpkg-query", "-W", "-f=${Priority}", package], capture_output=True,
                          text=True, check=False).stdout.strip()


def owner(path: str) -> str:
    """The Debian package that installed ``path`` (dpkg knows /sbin/x for /usr/sbin/x)."""
    real = str(Path(path).resolve())
    for candidate in (path, real, re.sub(r"^/usr(?=/s?bin/)", "", real)):
        if candidate in owners():
            return owners()[candidate]
    return ""


@functools.cache
def owners() -> dict[str, str]:
    """Path -> package for every listed program, from one dpkg -S (it reads every file list)."""
    paths = set()
    for name in PROGRAMS:
        found = resolve(name)
        if found:
            real = str(Path(found).resolve())
            paths |= {found, real, re.sub(r"^/usr(?=/s?bin/)", "", real)}
    result = subprocess.run(["dpkg", "-S", *sorted(paths)], capture_output=True, text=True,
                            check=False)
    table = {}
    for line in result.stdout.splitlines():
        package, _, path = line.partition(": ")
        table[path] = package.split(":")[0]
    return table


@functools.cache
def programs_in_code() -> dict[str, str]:
    """Program -> first place it is run with a literal command line."""
    found: dict[str, str] = {}
    for top in SOURCES:
        for path in sorted((ROOT / top).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                name = _literal_program(node)
                if name is not None and isinstance(node, ast.Call):
                    found.setdefault(name, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def _literal_program(node: ast.AST) -> str | None:
    if not isinstance(node, ast.Call) or not node.args:
        return None
    func = node.func
    called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    for arg in node.args:  # _spawn(lab, name, [argv]) has it third
        if called in RUNNERS | STRING_RUNNERS and isinstance(arg, ast.List | ast.Tuple):
            first = arg.elts[0] if arg.elts else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                return first.value
        if called in STRING_RUNNERS and isinstance(arg, ast.Constant) and isinstance(
                arg.value, str):
            return arg.value
    return None


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_program_is_installed(name: str) -> None:
    program = PROGRAMS[name]
    where = "pyproject.toml's test extra" if program.package == PIP else (
        f"the Makefile's APT_PACKAGES ({program.setup})")
    assert resolve(name), (f"{name} is not installed ({program.why}); it comes from "
                           f"{where}: run 'make setup'")


@pytest.mark.parametrize("name", sorted(n for n, p in PROGRAMS.items() if p.package != PIP))
def test_make_setup_installs_its_package(name: str) -> None:
    program = PROGRAMS[name]
    assert program.setup in apt_packages() or priority(program.setup) == "required", (
        f"{name} ({program.why}) comes from Debian package {program.package}: add "
        f"{program.setup} to APT_PACKAGES in the Makefile")


@pytest.mark.parametrize("name", sorted(n for n, p in PROGRAMS.items() if p.package != PIP))
def test_package_is_the_one_that_ships_it(name: str) -> None:
    path = resolve(name)
    if path is None:
        pytest.skip(f"{name} is not installed (test_program_is_installed says so)")
    assert owner(path) == PROGRAMS[name].package


def test_pip_programs_come_from_pyproject() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    for name, program in PROGRAMS.items():
        if program.package == PIP:
            assert program.setup in pyproject, f"{name}: {program.setup} not in pyproject.toml"


def test_every_program_the_code_runs_is_listed() -> None:
    unlisted = {name: where for name, where in programs_in_code().items()
                if name not in PROGRAMS and name not in NOT_PROGRAMS}
    assert not unlisted, ("programs run but not in tests/test_host_programs.py's PROGRAMS "
                          "(add each with the package that ships it): "
                          + ", ".join(f"{n} ({w})" for n, w in sorted(unlisted.items())))


def test_the_scan_sees_the_programs_it_should() -> None:
    """The scan itself works: programs run in several ways are found where they are."""
    found = programs_in_code()
    for name in ("qemu-img", "mtype", "ip", "dbus-daemon", "ipmitool", "udevadm", "mkfs.fat"):
        assert name in found, name
