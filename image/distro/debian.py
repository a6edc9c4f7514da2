"""Debian 12 (bookworm): debootstrap from the mirror in the host's apt sources. Builds here."""

from __future__ import annotations

from image import mirror
from image.distro import DistroName, DistroPlan, HostSources, HostTool

RELEASE = "bookworm"


class Debian:
    name = DistroName.DEBIAN

    def plan(self, sources: HostSources) -> DistroPlan:
        found = mirror.debian_mirrors(
            mirror.read_apt_sources(sources.apt_dir), release=RELEASE, apt_dir=sources.apt_dir
        )
        return DistroPlan(
            name=self.name,
            release=RELEASE,
            title="Debian 12 (bookworm)",
            mirror=found.archive,
            probe_url=f"{found.archive}/dists/{RELEASE}/Release",
            elements=("virtstick-debian",),
            environment={
                "DIB_RELEASE": RELEASE,
                "DIB_DISTRIBUTION_MIRROR": found.archive,
                "DIB_DEBIAN_SECURITY_MIRROR": found.security,
                # debootstrap once, then unpack its tarball (DIB_IMAGE_CACHE)
                "DIB_DEBOOTSTRAP_CACHE": "1",
                "DIB_DEBIAN_USE_DEBOOTSTRAP_CACHE": "1",
                # the apt archive cache is bind-mounted into the chroot: keep it for the next build
                "DIB_DISABLE_APT_CLEANUP": "1",
                # NetworkManager must manage every interface: no ifupdown stanzas
                "DIB_APT_MINIMAL_CREATE_INTERFACES": "0",
            },
            host_tools=(HostTool("debootstrap", "debootstrap"),),
        )
