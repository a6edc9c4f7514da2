"""Failures a user can meet while building the demo guest, each with a hint of what to do."""

from __future__ import annotations

from appliance.errors import VirtStickError


class HostToolMissing(VirtStickError):
    """A program the build runs is not installed on this machine."""

    status = 500
    code = "demoguest-tool-missing"
    reason = "A host tool is missing"

    def __init__(self, *, tool: str, package: str) -> None:
        super().__init__(
            f"the demo guest build needs '{tool}', which is not installed;"
            f" hint: apt-get install {package}"
        )
        self.tool = tool
        self.package = package


class DemoGuestBuildFailed(VirtStickError):
    """A build step (apt-get download, dpkg -x, mkfs.fat, syslinux, qemu-img) failed."""

    status = 500
    code = "demoguest-build-failed"
    reason = "Building the demo guest failed"
