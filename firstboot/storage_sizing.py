"""Where the storage domain lives and how big it may be: a proposal from the kernel and the
installed RAM, and the trade-off.

A tmpfs domain costs as much RAM as the data it holds; a zram domain costs that data after
compression, so the same RAM holds more thin disks (VM images compress about 2:1 with lz4;
the proposal assumes that ratio, and the domain's ``disksize`` is what the VMs see). The rest
of the RAM stays for the system and the VMs, which is the trade-off the faces show. zram is
proposed where the kernel has it, tmpfs otherwise; both give back what guests free (TRIM).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

SYSTEM_RESERVE_MIB = 1024  # kernel, live root overlay, libvirt, the appliance
VM_MINIMUM_MIB = 1024  # never let storage take the RAM of the last small VM
MIN_STORAGE_MIB = 256
STORAGE_SHARE = 0.35  # proposed share of the RAM left after the system's reserve
ZRAM_ASSUMED_RATIO = 2.0


class Backing(StrEnum):
    """Where the storage domain lives; values match ``appliance.config.StorageBacking``."""

    TMPFS = "tmpfs"
    ZRAM = "zram"
    DISK = "disk"


@dataclass(frozen=True)
class BackingProposal:
    backing: Backing
    reason: str  # one sentence for the faces: why this one


def propose_backing(*, zram: bool | None) -> BackingProposal:
    """zram where the kernel has it (``zram`` None: not known, so the safe tmpfs)."""
    if zram:
        return BackingProposal(Backing.ZRAM, (
            "Proposed: compressed RAM (zram), which this kernel has: VM disks take about half "
            "the RAM they would on tmpfs, so the same RAM holds about twice the thin disks."))
    why = "this kernel has no zram" if zram is False else "zram was not looked for"
    return BackingProposal(Backing.TMPFS, (
        f"Proposed: RAM (tmpfs), because {why}: VM disks take as much RAM as the data "
        "they hold."))


@dataclass(frozen=True)
class StorageBudget:
    backing: Backing
    ram_mib: int
    proposed_mib: int
    max_mib: int
    min_mib: int
    ratio: float  # domain MiB per MiB of RAM when full

    def ram_cost_mib(self, size_mib: int) -> int:
        return round(size_mib / self.ratio)

    def tradeoff(self, size_mib: int) -> str:
        """One sentence for the faces: what this size costs and what the VMs keep."""
        if self.backing is Backing.DISK:
            return "The storage domain is on the chosen disk and costs no RAM."
        cost = self.ram_cost_mib(size_mib)
        vms = max(self.ram_mib - SYSTEM_RESERVE_MIB - cost, 0)
        how = "compressed in RAM (zram, about 2:1)" if self.backing is Backing.ZRAM else (
            "in RAM (tmpfs)")
        return (f"{size_mib} MiB of thin disks {how} use up to {cost} MiB of RAM when full; "
                f"the VMs keep about {vms} MiB of the {self.ram_mib} MiB installed.")


def budget_for(backing: Backing, *, ram_mib: int) -> StorageBudget:
    kind = backing
    ratio = ZRAM_ASSUMED_RATIO if kind is Backing.ZRAM else 1.0
    usable = max(ram_mib - SYSTEM_RESERVE_MIB, 0)
    max_ram = max(usable - VM_MINIMUM_MIB, 0)
    proposed_ram = min(int(usable * STORAGE_SHARE), max_ram)
    proposed = _round_down(int(proposed_ram * ratio))
    maximum = _round_down(int(max_ram * ratio))
    return StorageBudget(
        backing=kind,
        ram_mib=ram_mib,
        proposed_mib=max(proposed, MIN_STORAGE_MIB),
        max_mib=max(maximum, MIN_STORAGE_MIB),
        min_mib=MIN_STORAGE_MIB,
        ratio=ratio,
    )


def _round_down(mib: int) -> int:
    # Whole 256 MiB steps read better on a console than 5977 MiB.
    return mib - mib % 256 if mib >= 256 else mib
