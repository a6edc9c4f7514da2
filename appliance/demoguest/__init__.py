"""The demo/test guest: a tiny busybox guest on a Debian cloud kernel that boots in seconds
under QEMU TCG, and a client for its serial console."""

from __future__ import annotations

from appliance.demoguest.build import DemoGuest, build

__all__ = ["DemoGuest", "build"]
