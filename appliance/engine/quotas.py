"""Per-user quotas: how much one user without an administrative role may promise.

oVirt bounds users with quotas; without them one UserRole user could promise a whole storage
domain (a 900 GiB thin disk) and leave the administrator's next disk refused. A user
promises the provisioned size of every disk they own (floating disks they made) or that
belongs to a VM they own, and the memory and virtual CPUs of the VMs they own, running or
not. SuperUsers have no quota; a quota of 0 is none.
"""

from __future__ import annotations

from dataclasses import dataclass

from appliance.config import QuotasSection
from appliance.engine.authz import Actor
from appliance.engine.store.schema import Store
from appliance.engine.validation import human_size
from appliance.errors import QuotaExceeded

GiB = 1024**3


@dataclass(frozen=True)
class Promised:
    storage: int  # bytes
    memory: int  # bytes
    vcpus: int


def promised(store: Store, user_id: str) -> Promised:
    vms = store.vms.where(owner_id=user_id)
    owned_vms = {vm.id for vm in vms}
    of_vms = {a.disk_id for a in store.attachments.all() if a.vm_id in owned_vms}
    storage = sum(d.provisioned_size for d in store.disks.all()
                  if d.owner_id == user_id or d.id in of_vms)
    return Promised(storage=storage, memory=sum(vm.memory for vm in vms),
                    vcpus=sum(vm.vcpus for vm in vms))


def require(store: Store, quotas: QuotasSection, actor: Actor, *, storage: int = 0,
            memory: int = 0, vcpus: int = 0) -> None:
    """Refuses what would take ``actor`` past a quota (the amounts are what is added)."""
    if actor.superuser:
        return
    now = promised(store, actor.user_id)
    checks = (
        ("disks", now.storage, storage, quotas.user_storage_gib * GiB, "user_storage_gib",
         human_size),
        ("memory", now.memory, memory, quotas.user_memory_gib * GiB, "user_memory_gib",
         human_size),
        ("virtual CPUs", now.vcpus, vcpus, quotas.user_vcpus, "user_vcpus", str),
    )
    for what, used, more, limit, key, show in checks:
        if limit and more > 0 and used + more > limit:
            raise QuotaExceeded(
                f"{actor.name} would promise {show(used + more)} of {what} "
                f"({show(used)} now), more than the user quota of {show(limit)} "
                f"([quotas] {key}); remove something first or ask an administrator.")
