"""V2V entry points: read the foreign configuration, then import through the shared pipeline
(checks, locked records, a conversion job, cleanup on failure)."""

from __future__ import annotations

from pathlib import Path

from appliance.engine.audit import audited
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, require_superuser
from appliance.engine.imports.pipeline import Imported, ImportTarget, SystemImporter
from appliance.engine.v2v import vmx, xen


class V2v:
    def __init__(self, pipeline: SystemImporter) -> None:
        self.pipeline = pipeline
        self.ctx = pipeline.ctx  # where its actions are audited

    @audited(AuditAction.V2V_IMPORT_VMX)
    def import_vmx(self, path: Path, target: ImportTarget, *, actor: Actor) -> Imported:
        """A VMware VM from its .vmx; its disks (.vmdk, any subformat) lie beside it."""
        require_superuser(actor, "import VMs")
        system, sources = vmx.read(path)
        return self.pipeline.start(system, sources, target, actor=actor,
                                   description=f"Converting VMware VM {system.name}")

    @audited(AuditAction.V2V_IMPORT_XEN)
    def import_xen(self, path: Path, target: ImportTarget, *, actor: Actor) -> Imported:
        """A Xen guest from its xl/xm configuration and disk image files."""
        require_superuser(actor, "import VMs")
        system, sources = xen.read(path)
        return self.pipeline.start(system, sources, target, actor=actor,
                                   description=f"Converting Xen guest {system.name}")
