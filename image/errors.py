"""The image builder's user-visible failures: each says what went wrong and what to do.

The CLI prints ``error: <detail>`` and ``hint: <hint>``; tracebacks only with ``--debug``.
"""

from __future__ import annotations

from typing import ClassVar

from appliance.errors import VirtStickError


class ImageError(VirtStickError):
    """Base of the builder's and the stick writer's failures."""

    code: ClassVar[str] = "image-error"
    reason: ClassVar[str] = "Image build failed"

    def __init__(self, detail: str, *, hint: str = "") -> None:
        super().__init__(detail)
        self.hint = hint


class UnknownDistro(ImageError):
    code = "image-unknown-distro"


class MirrorUnreachable(ImageError):
    code = "image-mirror-unreachable"


class NoMirrorConfigured(ImageError):
    code = "image-no-mirror"


class OutputNotWritable(ImageError):
    code = "image-output-not-writable"


class MissingHostTools(ImageError):
    code = "image-missing-host-tools"


class SeedInvalid(ImageError):
    code = "image-seed-invalid"


class StepFailed(ImageError):
    code = "image-step-failed"


class UnsafeDevice(ImageError):
    code = "image-unsafe-device"


class WriteAborted(ImageError):
    code = "image-write-aborted"


class VerifyFailed(ImageError):
    code = "image-verify-failed"
