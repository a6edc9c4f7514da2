"""Read model of the templates page: each template with how many VMs and bytes use it."""

from __future__ import annotations

from dataclasses import dataclass

from appliance.engine.model import Template
from appliance.engine.store.schema import Store


@dataclass(frozen=True)
class TemplateRow:
    template: Template
    vm_count: int  # VMs made from it
    disk_size: int  # provisioned size of its own disks


def template_rows(store: Store) -> list[TemplateRow]:
    counts: dict[str, int] = {}
    for vm in store.vms.all():
        counts[vm.template_id] = counts.get(vm.template_id, 0) + 1
    sizes: dict[str, int] = {}
    for disk in store.disks.all():
        if disk.template_id:
            sizes[disk.template_id] = sizes.get(disk.template_id, 0) + disk.provisioned_size
    return [TemplateRow(template=t, vm_count=counts.get(t.id, 0), disk_size=sizes.get(t.id, 0))
            for t in sorted(store.templates.all(), key=lambda t: t.name.lower())]
