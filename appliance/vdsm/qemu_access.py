"""Can QEMU reach our files? Under ``qemu:///system`` it runs as libvirt's unprivileged user
(``user`` in libvirt's qemu.conf; Debian's default is libvirt-qemu), so every directory above
a disk must be searchable by that user. libvirt hands the disk files themselves to QEMU
(dynamic ownership), never the directories: a state directory made by ``mktemp -d`` (0700)
gives VMs that fail at start with "Permission denied".

Directories the service owns are made traversable (search only, as 0711: nobody else may
list them); any other directory in the way is named, with the command that fixes it.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from appliance.errors import ConfigError

QEMU_CONF = Path("/etc/libvirt/qemu.conf")
# libvirt's build-time defaults, in the order distributions use them.
DEFAULT_USERS = ("libvirt-qemu", "qemu")
TRAVERSE = stat.S_IXGRP | stat.S_IXOTH


@dataclass(frozen=True)
class QemuUser:
    name: str
    uid: int
    gid: int
    groups: tuple[int, ...]  # every group QEMU runs with, its own included


def qemu_user(conf: Path = QEMU_CONF) -> QemuUser:
    """The user and groups libvirt runs QEMU as, from qemu.conf or libvirt's defaults."""
    settings = _conf_values(conf)
    name = settings.get("user") or next(
        (u for u in DEFAULT_USERS if _has_user(u)), "root")
    entry = _user(name)
    group = settings.get("group")
    gid = _group(group) if group else entry.pw_gid
    groups = tuple(sorted({gid, *os.getgrouplist(entry.pw_name, entry.pw_gid)}))
    return QemuUser(name=entry.pw_name, uid=entry.pw_uid, gid=gid, groups=groups)


def blocking_directory(path: Path, user: QemuUser) -> Path | None:
    """The first directory from / down to ``path`` (included) that ``user`` cannot search."""
    if user.uid == 0:
        return None
    path = path.absolute()
    for directory in (*reversed(path.parents), path):
        try:
            info = directory.stat()
        except FileNotFoundError:
            return None  # made later, by whoever decides its mode
        except OSError:
            return directory
        if not _may_search(info, user):
            return directory
    return None


def make_traversable(path: Path, *, within: Path) -> None:
    """Let others search ``within`` and every directory below it down to ``path`` that this
    process owns (adding only the search bits: nothing becomes listable or readable)."""
    within = within.absolute()
    path = path.absolute()
    chain = [d for d in (*reversed(path.parents), path) if d == within or within in d.parents]
    for directory in chain:
        info = directory.stat()
        if info.st_uid == os.geteuid() and info.st_mode & TRAVERSE != TRAVERSE:
            directory.chmod(stat.S_IMODE(info.st_mode) | TRAVERSE)


def require_reachable(paths: dict[str, Path], *, libvirt_uri: str,
                      conf: Path = QEMU_CONF) -> None:
    """Refuse to start (ConfigError, one line with the fix) when QEMU cannot reach a path.

    ``paths`` maps what each path is (for the message) to the path. Only the system
    instance runs QEMU as another user; a session instance runs it as ourselves.
    """
    if "/system" not in libvirt_uri:
        return
    user = qemu_user(conf)
    for what, path in paths.items():
        blocked = blocking_directory(path, user)
        if blocked is not None:
            mode = _mode(blocked)
            raise ConfigError(
                f"QEMU runs as {user.name} and cannot reach {path} ({what}): {blocked} is "
                f"{mode}; run 'chmod o+x {blocked}' (or keep the state elsewhere, e.g. "
                "under /var/tmp)")


def _may_search(info: os.stat_result, user: QemuUser) -> bool:
    mode = info.st_mode
    if info.st_uid == user.uid:
        return bool(mode & stat.S_IXUSR)
    if info.st_gid in user.groups:
        return bool(mode & stat.S_IXGRP)
    return bool(mode & stat.S_IXOTH)


def _mode(path: Path) -> str:
    try:
        return f"mode {stat.S_IMODE(path.stat().st_mode):04o}"
    except OSError as exc:
        return f"unreadable ({exc.strerror})"


def _conf_values(conf: Path) -> dict[str, str]:
    """``user`` and ``group`` as set (not commented out) in qemu.conf."""
    try:
        text = conf.read_text()
    except OSError:
        return {}
    found = {}
    for match in re.finditer(r'^\s*(user|group)\s*=\s*"([^"]*)"', text, re.MULTILINE):
        found[match.group(1)] = match.group(2)
    return found


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _user(name: str) -> pwd.struct_passwd:
    """A user by name or, in libvirt's "+N" form, by number."""
    try:
        return pwd.getpwuid(int(name[1:])) if name.startswith("+") else pwd.getpwnam(name)
    except (KeyError, ValueError):
        raise ConfigError(f"libvirt's qemu.conf names user {name!r}, which does not "
                          "exist here") from None


def _group(name: str) -> int:
    try:
        return int(name[1:]) if name.startswith("+") else grp.getgrnam(name).gr_gid
    except (KeyError, ValueError):
        raise ConfigError(f"libvirt's qemu.conf names group {name!r}, which does not "
                          "exist here") from None
