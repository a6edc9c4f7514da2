"""Incremental backup of VMs' disks (oVirt 4.4's ``backups`` and ``checkpoints``)."""
