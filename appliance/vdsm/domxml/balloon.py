"""The memory balloon: guest memory statistics, and free page reporting so that pages the
guest frees go back to the host (QEMU drops them) instead of staying allocated for good.

libvirt 9.0 and QEMU 7.2 (Debian 12) support ``freePageReporting``; the guest needs a
kernel with ``CONFIG_PAGE_REPORTING`` and the virtio_balloon driver (Linux 5.7 and later).
The guest reports free blocks of 2 MiB and up after about two seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree import ElementTree as ET

from appliance.vdsm.domxml.devices import sub


@dataclass(frozen=True)
class Balloon:
    free_page_reporting: bool = True
    stats_period: int = 5  # seconds between the guest's memory statistics

    def element(self) -> ET.Element:
        attrs = {"model": "virtio"}
        if self.free_page_reporting:
            attrs["freePageReporting"] = "on"
        balloon = ET.Element("memballoon", attrs)
        if self.stats_period > 0:
            sub(balloon, "stats", period=str(self.stats_period))
        return balloon
