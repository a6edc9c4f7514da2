"""libvirt domain XML as declarative values: one module per element, ``to_xml`` builds it."""

from appliance.vdsm.domxml.balloon import Balloon
from appliance.vdsm.domxml.devices import (
    CdromDevice,
    DiskDevice,
    GraphicsDevice,
    InterfaceDevice,
    SerialConsole,
)
from appliance.vdsm.domxml.domain import METADATA_NS, DomainSpec, parse_metadata

__all__ = [
    "METADATA_NS",
    "Balloon",
    "CdromDevice",
    "DiskDevice",
    "DomainSpec",
    "GraphicsDevice",
    "InterfaceDevice",
    "SerialConsole",
    "parse_metadata",
]
