"""What was built, beside the ISO: its SHA-256 (``sha256sum -c`` format) and a manifest of the
base distro (and why it was chosen), the packages and the Python packages with their versions.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

from image.distro import Choice
from image.rootfs import BootFiles

CHUNK = 4 * 1024 * 1024


@dataclass(frozen=True)
class Outputs:
    iso: Path
    checksum: Path
    manifest: Path
    sha256: str
    size_bytes: int


def sha256_of(path: Path, *, length: int | None = None) -> str:
    """The SHA-256 of a file, or of its first ``length`` bytes (a stick is bigger than its ISO)."""
    digest = hashlib.sha256()
    remaining = length
    with path.open("rb") as handle:
        while remaining is None or remaining > 0:
            block = handle.read(CHUNK if remaining is None else min(CHUNK, remaining))
            if not block:
                break
            digest.update(block)
            if remaining is not None:
                remaining -= len(block)
    return digest.hexdigest()


def write_outputs(
    *, iso: Path, choice: Choice, boot: BootFiles, demo: bool, seed_baked: bool
) -> Outputs:
    sha = sha256_of(iso)
    checksum = iso.with_name(iso.name + ".sha256")
    checksum.write_text(f"{sha}  {iso.name}\n")
    manifest = iso.with_name(iso.stem + ".manifest.json")
    size = iso.stat().st_size
    document = {
        "iso": iso.name,
        "sha256": sha,
        "size_bytes": size,
        "built_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "distro": choice.plan.name.value,
        "release": choice.plan.release,
        "distro_title": choice.plan.title,
        "distro_reason": choice.reason,
        "demo_template": demo,
        "seed_baked": seed_baked,
        "packages": dict(sorted(boot.packages.items())),
        "python_packages": dict(sorted(boot.python_packages.items())),
    }
    manifest.write_text(json.dumps(document, indent=2) + "\n")
    return Outputs(iso=iso, checksum=checksum, manifest=manifest, sha256=sha, size_bytes=size)
