"""Every failure a user can meet, each with its HTTP status and a stable code.

The API renders these as an oVirt ``<fault>``, the portals as a message and the CLI as a
line with a hint. Anything else escaping a request is a bug and is logged with its traceback.
"""

from __future__ import annotations

from typing import ClassVar


class VirtStickError(Exception):
    """Base of user-visible failures: ``reason`` is short, ``detail`` says what to do."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "error"
    reason: ClassVar[str] = "Operation Failed"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(VirtStickError):
    code = "invalid-input"
    reason = "Invalid input"


class SearchTooComplex(InvalidInput):
    """A search beyond the bounds that keep its cost small (length, conditions, wildcards)."""

    code = "search-too-complex"
    reason = "Search too complex"


class NotFound(VirtStickError):
    status = 404
    code = "not-found"
    reason = "Not Found"


class Conflict(VirtStickError):
    status = 409
    code = "conflict"
    reason = "Operation Failed"


class NameInUse(Conflict):
    code = "name-in-use"


class InsufficientResources(Conflict):
    code = "insufficient-resources"


class QuotaExceeded(InsufficientResources):
    """A user without an administrative role would promise more than their quota."""

    code = "quota-exceeded"


class InvalidState(Conflict):
    code = "invalid-state"


class DiskCannotShrink(Conflict):
    """oVirt grows disks only: a smaller size would cut off what the guest wrote."""

    code = "disk-cannot-shrink"


class NotAuthenticated(VirtStickError):
    status = 401
    code = "not-authenticated"
    reason = "Unauthorized"


class PermissionDenied(VirtStickError):
    status = 403
    code = "permission-denied"
    reason = "Forbidden"


class NotVisible(PermissionDenied):
    """Refused on an object the user may not see: answered as if it did not exist, as oVirt
    does, so its name (or that it exists) is not told; audited as a denial."""

    status = 404
    code = "not-found"
    reason = "Not Found"


class TooManyAttempts(VirtStickError):
    """Logins refused for a while after repeated failures."""

    status = 429
    code = "too-many-attempts"
    reason = "Too Many Requests"


class TooManyStreams(VirtStickError):
    """More live pages open than a session or an address may hold; the page polls instead."""

    status = 429
    code = "too-many-streams"
    reason = "Too Many Requests"


class PayloadTooLarge(VirtStickError):
    status = 413
    code = "payload-too-large"
    reason = "Request Entity Too Large"


class ServerBusy(VirtStickError):
    """A bounded resource of the service is in use by others for now: try again soon."""

    status = 503
    code = "server-busy"
    reason = "Service Unavailable"


class NotSupported(VirtStickError):
    status = 501
    code = "not-supported"
    reason = "Not Supported"


class HostAgentError(VirtStickError):
    """The host (libvirt, qemu-img) refused or failed an operation."""

    status = 500
    code = "host-error"
    reason = "Host operation failed"


class ConfigError(VirtStickError):
    code = "config"
    reason = "Invalid configuration"


class ImageRejected(InvalidInput):
    """An uploaded or imported image (OVA, OVF, VMDK, VMX, ISO) is damaged, unsafe or
    describes something VirtStick cannot build; nothing of it was kept."""

    code = "image-rejected"
    reason = "Image rejected"
