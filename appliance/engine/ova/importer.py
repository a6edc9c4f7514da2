"""Import an OVA (oVirt's, VMware's, VirtualBox's): the archive and its descriptor are read
and checked here, then the shared import pipeline makes the VM or template and has a host
bring each disk in straight from its member of the archive."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from appliance.engine.audit import audited
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, require_superuser
from appliance.engine.imports import vmdk
from appliance.engine.imports.model import ImageFormat, OvfSystem
from appliance.engine.imports.pipeline import DiskSource, Imported, ImportTarget, SystemImporter
from appliance.engine.ova import archive, ovf_reader
from appliance.errors import ImageRejected

MAX_DESCRIPTOR = 4 * 1024 * 1024


class OvaImporter:
    def __init__(self, pipeline: SystemImporter) -> None:
        self.pipeline = pipeline
        self.ctx = pipeline.ctx  # where its actions are audited

    @audited(AuditAction.IMPORTER_IMPORT_OVA)
    def import_ova(self, path: Path, target: ImportTarget, *, actor: Actor) -> Imported:
        require_superuser(actor, "import OVAs")
        system, sources = self.inspect_ova(path)
        return self.pipeline.start(system, sources, target, actor=actor,
                                   description=f"Importing {path.name}")

    def inspect_ova(self, path: Path) -> tuple[OvfSystem, list[DiskSource]]:
        """The system an OVA describes and its disks' sources, all checked; nothing written."""
        if not path.is_file():
            raise ImageRejected(f"{path} is not a file.")
        members = archive.members(path)
        descriptors = [m for m in members if m.name.lower().endswith(".ovf")]
        if not descriptors:
            raise ImageRejected(f"{path.name} holds no .ovf descriptor; it is not an OVA.")
        system = ovf_reader.read(archive.read(path, descriptors[0], limit=MAX_DESCRIPTOR))
        if descriptors[0].name.lower() == "template.ovf":
            system = replace(system, is_template=True)
        by_name = {m.name: m for m in members}
        sources = []
        for disk in system.disks:
            member = by_name.get(disk.file_href)
            if member is None:
                raise ImageRejected(f"The OVF names disk file '{disk.file_href}', which is not "
                                    "in the archive.")
            if disk.file_size and disk.file_size != member.size:
                raise ImageRejected(f"Disk file '{member.name}' has {member.size} bytes; the "
                                    f"OVF says {disk.file_size}. The OVA is damaged.")
            head = archive.head(path, member)
            fmt = ImageFormat.sniff(head)
            if fmt is ImageFormat.VMDK and vmdk.is_descriptor(head):
                raise ImageRejected(f"Disk '{disk.alias}' is a VMDK descriptor whose data "
                                    "lies in other files; an OVA must carry whole images.")
            sources.append(DiskSource(disk=disk, format=fmt, size=member.size, path=path,
                                      offset=member.offset, length=member.size))
        return system, sources
