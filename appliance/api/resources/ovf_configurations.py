"""``POST /vms`` and ``POST /templates`` with ``<initialization><configuration>``: a VM or
template from an OVA's OVF over disks uploaded beforehand (the SDK's
``upload_ova_as_vm_or_template.py``). The VM and template handlers hand such bodies here."""

from __future__ import annotations

from typing import Any

from flask import Response

from appliance.api import http, listing
from appliance.api.representation import Node
from appliance.api.schema import Type
from appliance.errors import InvalidInput

_OVA = "ova"


def configuration(node: Node) -> bytes | None:
    """The OVF the body carries, or None when it carries no configuration."""
    initialization: Any = node.get("initialization")
    found: Any = initialization.get("configuration") if isinstance(initialization, dict) \
        else None
    if not isinstance(found, dict):
        return None
    kind = str(found.get("type", "")).lower()
    if kind != _OVA:
        raise InvalidInput(f"<configuration><type> must be ova, not '{kind[:20]}'.")
    data = found.get("data")
    if not isinstance(data, str) or not data.strip():
        raise InvalidInput("<configuration> needs the OVF in <data>.")
    return data.encode("utf-8")


def create(type_: Type, node: Node, descriptor: bytes, *, template: bool) -> Response:
    engine = http.engine()
    cluster = listing.resolve(engine.clusters, node.get("cluster") or None, noun="cluster",
                              default=engine.clusters.default)
    name = str(node.get("name") or "")
    made: Any
    if template:
        made = engine.ova_configurations.create_template(descriptor, cluster_id=cluster.id,
                                                         actor=http.actor(), name=name)
    else:
        made = engine.ova_configurations.create_vm(descriptor, cluster_id=cluster.id,
                                                   actor=http.actor(), name=name)
    return http.respond_object(type_, made, created=True)
