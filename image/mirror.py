"""Where the packages come from: the host's own package sources, and whether a mirror answers.

The Debian mirror is read from the machine's apt configuration (one-line ``sources.list`` files
and deb822 ``*.sources`` files), never written into the repository. A Fedora mirror comes from
the machine's dnf configuration (``/etc/yum.repos.d/fedora.repo``) or is given explicitly.
"""

from __future__ import annotations

import configparser
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from image.errors import NoMirrorConfigured

DEFAULT_APT_DIR = Path("/etc/apt")
DEFAULT_YUM_REPOS_DIR = Path("/etc/yum.repos.d")


@dataclass(frozen=True)
class AptSource:
    uri: str
    suites: tuple[str, ...]
    components: tuple[str, ...]
    origin: Path


@dataclass(frozen=True)
class DebianMirrors:
    archive: str
    security: str


def read_apt_sources(apt_dir: Path = DEFAULT_APT_DIR) -> list[AptSource]:
    """Every enabled ``deb`` (binary) source, in apt's reading order."""
    sources: list[AptSource] = []
    one_line = [apt_dir / "sources.list", *sorted((apt_dir / "sources.list.d").glob("*.list"))]
    for path in one_line:
        if path.is_file():
            sources.extend(_parse_one_line(path))
    for path in sorted((apt_dir / "sources.list.d").glob("*.sources")):
        sources.extend(_parse_deb822(path))
    return sources


def debian_mirrors(sources: list[AptSource], *, release: str, apt_dir: Path) -> DebianMirrors:
    """The archive carrying ``release`` and the one carrying ``release-security``."""
    archive = _first_with_suite(sources, release)
    security = _first_with_suite(sources, f"{release}-security")
    if archive is None:
        raise NoMirrorConfigured(
            f"no Debian mirror for {release} in the apt sources under {apt_dir}",
            hint=f"add a 'deb <mirror>/debian {release} main' source to {apt_dir}/sources.list "
            "(or a deb822 file in sources.list.d), or build on a Debian 12 machine",
        )
    if security is None:
        raise NoMirrorConfigured(
            f"no Debian security mirror for {release}-security in the apt sources under {apt_dir}",
            hint=f"add a source with suite {release}-security (Debian's security archive)",
        )
    return DebianMirrors(archive=archive.rstrip("/"), security=security.rstrip("/"))


def fedora_mirror_from_dnf(repos_dir: Path = DEFAULT_YUM_REPOS_DIR) -> str | None:
    """The Fedora mirror of a Fedora host: the part of fedora.repo's baseurl before /releases/."""
    repo = repos_dir / "fedora.repo"
    if not repo.is_file():
        return None
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(repo)
    except configparser.Error:
        return None
    for section in parser.sections():
        baseurl = parser.get(section, "baseurl", fallback="").split()
        if baseurl and "/releases/" in baseurl[0]:
            return baseurl[0].split("/releases/", 1)[0]
    return None


def answers(url: str, *, timeout: float) -> bool:
    """Whether ``url`` can be fetched (a HEAD request, 2xx or 3xx) within ``timeout`` seconds."""
    if not url.startswith(("http://", "https://")):
        return False
    request = urllib.request.Request(url, method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return bool(200 <= response.status < 400)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _first_with_suite(sources: list[AptSource], suite: str) -> str | None:
    for source in sources:
        if suite in source.suites:
            return source.uri
    return None


def _parse_one_line(path: Path) -> list[AptSource]:
    found = []
    for line in path.read_text().splitlines():
        words = line.split("#", 1)[0].split()
        if not words or words[0] != "deb":
            continue
        words = words[1:]
        if words and words[0].startswith("["):  # options such as [signed-by=...]
            while words and not words[0].endswith("]"):
                words = words[1:]
            words = words[1:]
        if len(words) >= 2:
            found.append(
                AptSource(
                    uri=words[0], suites=(words[1],), components=tuple(words[2:]), origin=path
                )
            )
    return found


def _parse_deb822(path: Path) -> list[AptSource]:
    found = []
    for stanza in _deb822_stanzas(path.read_text()):
        if stanza.get("enabled", "yes").lower() == "no":
            continue
        if "deb" not in stanza.get("types", "").split():
            continue
        for uri in stanza.get("uris", "").split():
            found.append(
                AptSource(
                    uri=uri,
                    suites=tuple(stanza.get("suites", "").split()),
                    components=tuple(stanza.get("components", "").split()),
                    origin=path,
                )
            )
    return found


def _deb822_stanzas(text: str) -> list[dict[str, str]]:
    stanzas: list[dict[str, str]] = []
    current: dict[str, str] = {}
    key = ""
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        if not line.strip():
            if current:
                stanzas.append(current)
            current, key = {}, ""
        elif line[0] in " \t" and key:  # a continuation line
            current[key] += " " + line.strip()
        elif ":" in line:
            key, value = line.split(":", 1)
            key = key.strip().lower()
            current[key] = value.strip()
    if current:
        stanzas.append(current)
    return stanzas
