"""The base distributions behind a registry: each turns the host's sources into a build plan.

``choose`` resolves ``DISTRO=auto``: Fedora (the design card's base for release images) when
its mirror answers, Debian otherwise, with the reason said to the user and put in the manifest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from image import mirror
from image.errors import ImageError, MirrorUnreachable, UnknownDistro


class DistroName(StrEnum):
    AUTO = "auto"
    DEBIAN = "debian"
    FEDORA = "fedora"

    @classmethod
    def parse(cls, text: str) -> DistroName:
        try:
            return cls(text.strip().lower())
        except ValueError:
            choices = ", ".join(member.value for member in cls)
            raise UnknownDistro(
                f"unknown distro {text!r}", hint=f"DISTRO must be one of: {choices}"
            ) from None


@dataclass(frozen=True)
class HostSources:
    """Where the host says packages come from; paths are configuration so tests use tmp dirs."""

    apt_dir: Path = mirror.DEFAULT_APT_DIR
    yum_repos_dir: Path = mirror.DEFAULT_YUM_REPOS_DIR
    fedora_mirror: str | None = None  # FEDORA_MIRROR, overrides the dnf configuration
    probe_timeout: float = 5.0


@dataclass(frozen=True)
class HostTool:
    command: str
    package: str  # what provides it on the build host


@dataclass(frozen=True)
class DistroPlan:
    """Everything the build needs to know about one base distribution."""

    name: DistroName
    release: str
    title: str
    mirror: str
    probe_url: str  # fetched to decide whether the mirror answers
    elements: tuple[str, ...]
    environment: dict[str, str] = field(default_factory=dict)
    host_tools: tuple[HostTool, ...] = ()
    grub_mkimage: str = "grub-mkimage"
    grub_bios_dir: Path = Path("/usr/lib/grub/i386-pc")


class Distro(Protocol):
    name: DistroName

    def plan(self, sources: HostSources) -> DistroPlan: ...


@dataclass(frozen=True)
class Choice:
    plan: DistroPlan
    reason: str


Prober = Callable[[str], bool]


def registry() -> dict[DistroName, Distro]:
    from image.distro.debian import Debian
    from image.distro.fedora import Fedora

    return {DistroName.DEBIAN: Debian(), DistroName.FEDORA: Fedora()}


def choose(name: DistroName, sources: HostSources, *, probe: Prober | None = None) -> Choice:
    """The plan to build, failing fast when an explicitly asked-for mirror does not answer."""
    answers = probe or (lambda url: mirror.answers(url, timeout=sources.probe_timeout))
    distros = registry()
    if name is not DistroName.AUTO:
        plan = distros[name].plan(sources)
        if not answers(plan.probe_url):
            raise MirrorUnreachable(
                f"the {plan.title} mirror {plan.mirror} does not answer ({plan.probe_url})",
                hint=_unreachable_hint(plan),
            )
        return Choice(plan, f"DISTRO={name.value}: asked for explicitly")
    try:
        fedora = distros[DistroName.FEDORA].plan(sources)
    except ImageError as exc:
        why = exc.detail
    else:
        if answers(fedora.probe_url):
            return Choice(fedora, f"DISTRO=auto: the Fedora mirror {fedora.mirror} answers")
        why = f"the Fedora mirror {fedora.mirror} does not answer"
    debian = distros[DistroName.DEBIAN].plan(sources)
    if not answers(debian.probe_url):
        raise MirrorUnreachable(
            f"DISTRO=auto: {why}, and the Debian mirror {debian.mirror} does not answer either",
            hint=_unreachable_hint(debian),
        )
    return Choice(debian, f"DISTRO=auto: {why}, so Debian")


def _unreachable_hint(plan: DistroPlan) -> str:
    if plan.name is DistroName.FEDORA:
        return (
            "Fedora builds need a reachable Fedora mirror (FEDORA_MIRROR=<url> or a Fedora "
            "host's /etc/yum.repos.d); use DISTRO=debian or DISTRO=auto on this machine"
        )
    return "check the network and the apt sources this mirror was read from"
