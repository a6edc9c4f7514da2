"""What stops each client today, by noun: the first request the service refuses (or the
value it drops) and what oVirt does instead. Each entry is a strict xfail; the fix that makes
a client pass removes its line (a passing xfail fails the suite until then)."""

from __future__ import annotations

EXAMPLE_FAULTS: dict[str, str] = {
    # VMs
    "get_display_ticket": "the Demo VM's display is VNC (the web console's): the example "
                          "looks for a SPICE console, which only a VM with a SPICE display "
                          "has",
    # disks
    "sparsify_disk": "POST /disks/{id}/sparsify: 404",
    # snapshots, backups
    "backup_vm": "POST /vms/{id}/backups: 405 (incremental backup is not offered; the "
                 "backups list is empty)",
}

PLAY_FAULTS: dict[str, str] = {
    # behind the search terms
}
