"""Words for the ids the engine speaks in (``evenly_distributed``, ``cpu_used``,
``ksm_saved``): what the portals show instead, with acronyms written as people write them."""

from __future__ import annotations

from types import MappingProxyType

ACRONYMS = MappingProxyType({
    "vm": "VM", "vms": "VMs", "cpu": "CPU", "cpus": "CPUs", "ksm": "KSM", "iso": "ISO",
    "nic": "NIC", "nics": "NICs", "ha": "HA", "io": "I/O", "iowait": "I/O wait",
    "vnc": "VNC", "spice": "SPICE", "id": "ID", "os": "OS", "ova": "OVA", "ovf": "OVF",
    "mac": "MAC", "ip": "IP", "kvm": "KVM", "tcg": "TCG", "sata": "SATA", "ide": "IDE",
    "scsi": "SCSI", "virtio": "VirtIO", "nfs": "NFS", "ram": "RAM", "zram": "zram",
})

# Ids whose words are not their parts'.
PHRASES = MappingProxyType({
    "mem_used": "Memory used", "mem_cached": "Memory cached",
    "mem_current": "Memory given", "net_rx": "Received", "net_tx": "Sent",
    "disk_read": "Read", "disk_write": "Written", "cow": "QCOW2", "raw": "Raw",
    "virtio_scsi": "VirtIO-SCSI", "e1000": "e1000", "rtl8139": "RTL8139", "hd": "Disk",
    "cdrom": "CD-ROM",
})


def words(value: object) -> str:
    """``evenly_distributed`` -> "Evenly distributed", ``cpu_used`` -> "CPU used"."""
    key = str(getattr(value, "value", value))
    if key in PHRASES:
        return PHRASES[key]
    parts = [p for p in key.replace("-", "_").split("_") if p]
    if not parts:
        return key
    shown = [ACRONYMS.get(p.lower(), p) for p in parts]
    if shown[0] == parts[0]:
        shown[0] = parts[0][:1].upper() + parts[0][1:]
    return " ".join(shown)
