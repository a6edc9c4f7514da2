"""What a storage domain in memory really costs: the RAM its tmpfs or zram device holds.

On tmpfs the RAM held is the data itself. On zram (an ext4 on a compressed RAM disk) it is
what the device's ``mm_stat`` reports after compression, allocator overhead included; the
ratio of data to RAM is what the compression buys. The file system a domain lives on is
found by its device number in ``mountinfo``, so nothing is assumed from the configuration.
"""

from __future__ import annotations

import os
from pathlib import Path

from appliance.vdsm.storage_interface import RamUse

PROC_MOUNTINFO = Path("/proc/self/mountinfo")
SYS = Path("/sys")


def ram_use(directory: Path, *, used: int, mountinfo: Path = PROC_MOUNTINFO,
            sys_root: Path = SYS) -> RamUse | None:
    """The RAM a domain directory's file system holds, or None for one not in memory."""
    try:
        device = os.stat(directory).st_dev
    except OSError:
        return None
    fstype, source = _mount_of(device, mountinfo)
    if fstype == "tmpfs":
        return RamUse(backing="tmpfs", ram=used, stored=used)
    name = Path(source).name
    if name.startswith("zram"):
        return _zram(sys_root / "block" / name / "mm_stat")
    return None


def _mount_of(device: int, mountinfo: Path) -> tuple[str, str]:
    """(file system type, source) of the mount with this device number."""
    wanted = f"{os.major(device)}:{os.minor(device)}"
    try:
        lines = mountinfo.read_text().splitlines()
    except OSError:
        return "", ""
    for line in lines:
        fields = line.split()
        if len(fields) > 3 and fields[2] == wanted and " - " in line:
            after = line.split(" - ", 1)[1].split()
            return after[0], after[1] if len(after) > 1 else ""
    return "", ""


def _zram(mm_stat: Path) -> RamUse | None:
    # orig_data_size compr_data_size mem_used_total ... (Documentation/admin-guide/blockdev/zram)
    try:
        fields = [int(v) for v in mm_stat.read_text().split()]
    except (OSError, ValueError):
        return None
    if len(fields) < 3:
        return None
    return RamUse(backing="zram", ram=fields[2], stored=fields[0])
