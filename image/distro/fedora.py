"""Fedora, the design card's base for release images: dnf from a reachable Fedora mirror.

The mirror is the one given (FEDORA_MIRROR) or a Fedora host's own (fedora.repo's baseurl);
there is no default, so a machine without one is told so at once instead of timing out later.
"""

from __future__ import annotations

from pathlib import Path

from image import mirror
from image.distro import DistroName, DistroPlan, HostSources, HostTool
from image.errors import NoMirrorConfigured

RELEASE = "42"


class Fedora:
    name = DistroName.FEDORA

    def plan(self, sources: HostSources) -> DistroPlan:
        found = sources.fedora_mirror or mirror.fedora_mirror_from_dnf(sources.yum_repos_dir)
        if not found:
            raise NoMirrorConfigured(
                f"no Fedora mirror: FEDORA_MIRROR is unset and {sources.yum_repos_dir}/fedora.repo "
                "has no baseurl",
                hint="set FEDORA_MIRROR to a mirror's fedora/linux URL, or use DISTRO=debian",
            )
        base = found.rstrip("/")
        return DistroPlan(
            name=self.name,
            release=RELEASE,
            title=f"Fedora {RELEASE}",
            mirror=base,
            probe_url=f"{base}/releases/{RELEASE}/Everything/x86_64/os/repodata/repomd.xml",
            elements=("virtstick-fedora",),
            environment={
                "DIB_RELEASE": RELEASE,
                "DIB_DISTRIBUTION_MIRROR": base,
            },
            host_tools=(HostTool("dnf", "dnf"),),
            grub_mkimage="grub2-mkimage",
            grub_bios_dir=Path("/usr/lib/grub/i386-pc"),
        )
