"""Reading the Debian mirror from apt's configuration, and the Fedora one from dnf's."""

from __future__ import annotations

from pathlib import Path

import pytest

from image import mirror
from image.errors import NoMirrorConfigured
from tests.image.conftest import LocalMirror, write_deb822


def test_deb822_sources_give_archive_and_security(tmp_path: Path) -> None:
    write_deb822(tmp_path, "http://mirror.test/debian", "http://mirror.test/debian-security/")
    found = mirror.debian_mirrors(
        mirror.read_apt_sources(tmp_path), release="bookworm", apt_dir=tmp_path
    )
    assert found == mirror.DebianMirrors(
        archive="http://mirror.test/debian", security="http://mirror.test/debian-security"
    )


def test_one_line_sources_with_options_and_disabled_deb822(tmp_path: Path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list").write_text(
        "# deb http://commented.test/debian bookworm main\n"
        "deb-src http://src.test/debian bookworm main\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://one.test/debian bookworm main contrib\n"
        "deb http://one.test/security bookworm-security main\n"
    )
    (tmp_path / "sources.list.d" / "off.sources").write_text(
        "Types: deb\nURIs: http://off.test/debian\nSuites: bookworm\nEnabled: no\n"
    )
    sources = mirror.read_apt_sources(tmp_path)
    assert [s.uri for s in sources] == ["http://one.test/debian", "http://one.test/security"]
    assert sources[0].components == ("main", "contrib")


def test_missing_security_source_says_what_to_add(tmp_path: Path) -> None:
    (tmp_path / "sources.list").write_text("deb http://one.test/debian bookworm main\n")
    with pytest.raises(NoMirrorConfigured) as caught:
        found = mirror.read_apt_sources(tmp_path)
        mirror.debian_mirrors(found, release="bookworm", apt_dir=tmp_path)
    assert "bookworm-security" in caught.value.detail
    assert caught.value.hint


def test_no_sources_at_all(tmp_path: Path) -> None:
    with pytest.raises(NoMirrorConfigured, match="no Debian mirror for bookworm"):
        found = mirror.read_apt_sources(tmp_path)
        mirror.debian_mirrors(found, release="bookworm", apt_dir=tmp_path)


def test_this_machine_has_a_debian_mirror() -> None:
    """The build host's own apt configuration names a bookworm mirror (what make image uses)."""
    found = mirror.debian_mirrors(
        mirror.read_apt_sources(), release="bookworm", apt_dir=mirror.DEFAULT_APT_DIR
    )
    assert found.archive.startswith(("http://", "https://"))


def test_fedora_mirror_from_a_fedora_hosts_dnf_configuration(tmp_path: Path) -> None:
    (tmp_path / "fedora.repo").write_text(
        "[fedora]\nname=Fedora $releasever\n"
        "baseurl=http://fedora.test/pub/fedora/linux/releases/$releasever/Everything/$basearch/os/\n"
        "enabled=1\n"
    )
    assert mirror.fedora_mirror_from_dnf(tmp_path) == "http://fedora.test/pub/fedora/linux"
    assert mirror.fedora_mirror_from_dnf(tmp_path / "none") is None


def test_answers_over_real_http(local_mirror: LocalMirror, closed_url: str) -> None:
    local_mirror.publish("dists/bookworm/Release")
    assert mirror.answers(f"{local_mirror.url}/dists/bookworm/Release", timeout=5)
    assert not mirror.answers(f"{local_mirror.url}/dists/trixie/Release", timeout=5)
    assert not mirror.answers(closed_url, timeout=5)
    assert not mirror.answers("ftp://nothing.test/", timeout=5)
