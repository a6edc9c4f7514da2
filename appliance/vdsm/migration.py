"""Live migration on the host side: libvirt's peer-to-peer migration, its progress and abort.

The source libvirtd connects to the target's libvirtd itself (``peer_uri``, as the source
sees it) and QEMU streams the memory over TCP to ``migrate_uri``. The disks stay where they
are: every host reaches the shared storage domains at the same path, which libvirt cannot
recognise as shared storage on a local file system, hence ``VIR_MIGRATE_UNSAFE``.
"""

from __future__ import annotations

from dataclasses import dataclass

import libvirt

from appliance.errors import HostAgentError, NotFound

FLAGS = (libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER
         | libvirt.VIR_MIGRATE_UNSAFE | libvirt.VIR_MIGRATE_ABORT_ON_ERROR)


@dataclass(frozen=True)
class MigrationProgress:
    percent: int
    memory_total: int  # bytes
    memory_remaining: int
    downtime_ms: int = 0  # known when the migration is over


class MigrationAborted(HostAgentError):
    code = "migration-aborted"
    reason = "Migration cancelled"


def migrate(conn: libvirt.virConnect, vm_id: str, *, peer_uri: str, migrate_uri: str,
            max_downtime_ms: int = 0, bandwidth_mib: int = 0) -> None:
    """Blocks until the VM runs on the target (or the migration failed or was aborted)."""
    dom = _domain(conn, vm_id)
    params: dict[str, object] = {libvirt.VIR_MIGRATE_PARAM_URI: migrate_uri}
    if bandwidth_mib:
        params[libvirt.VIR_MIGRATE_PARAM_BANDWIDTH] = bandwidth_mib
    if max_downtime_ms:
        dom.migrateSetMaxDowntime(max_downtime_ms, 0)
    try:
        dom.migrateToURI3(peer_uri, params, FLAGS)
    except libvirt.libvirtError as exc:
        message = exc.get_error_message() or str(exc)
        if exc.get_error_code() == libvirt.VIR_ERR_OPERATION_ABORTED or "cancel" in message:
            raise MigrationAborted("The migration was cancelled; the VM stays on its "
                                   "host.") from None
        raise HostAgentError(f"the migration failed: {message}") from None


def progress(conn: libvirt.virConnect, vm_id: str) -> MigrationProgress | None:
    """The running migration's progress, None when no migration runs."""
    try:
        stats = _domain(conn, vm_id).jobStats()
    except (libvirt.libvirtError, NotFound):
        return None
    if stats.get("type", libvirt.VIR_DOMAIN_JOB_NONE) == libvirt.VIR_DOMAIN_JOB_NONE:
        return None
    total = int(stats.get("memory_total", 0))
    remaining = int(stats.get("memory_remaining", total))
    percent = 100 - (100 * remaining // total) if total else 0
    return MigrationProgress(percent=max(0, min(99, percent)), memory_total=total,
                             memory_remaining=remaining)


def last_downtime_ms(conn: libvirt.virConnect, vm_id: str) -> int:
    """The downtime of the migration that just completed, as the source measured it."""
    try:
        stats = _domain(conn, vm_id).jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED)
    except (libvirt.libvirtError, NotFound):
        return 0
    return int(stats.get("downtime", 0))


def abort(conn: libvirt.virConnect, vm_id: str) -> None:
    try:
        _domain(conn, vm_id).abortJob()
    except libvirt.libvirtError as exc:
        raise HostAgentError(f"could not cancel the migration: "
                             f"{exc.get_error_message()}") from None


def _domain(conn: libvirt.virConnect, vm_id: str) -> libvirt.virDomain:
    try:
        return conn.lookupByUUIDString(vm_id)
    except libvirt.libvirtError:
        raise NotFound(f"VM {vm_id} is not running on this host") from None
