"""Base distro plans and DISTRO=auto: Fedora when its mirror answers, Debian otherwise."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from image.distro import DistroName, HostSources, choose, registry
from image.distro.fedora import RELEASE as FEDORA_RELEASE
from image.errors import MirrorUnreachable, NoMirrorConfigured, UnknownDistro
from tests.image.conftest import LocalMirror, write_deb822

FEDORA_PROBE = f"releases/{FEDORA_RELEASE}/Everything/x86_64/os/repodata/repomd.xml"


def sources(tmp_path: Path, *, debian: str, fedora: str | None) -> HostSources:
    apt_dir = tmp_path / "apt"
    write_deb822(apt_dir, f"{debian}/debian", f"{debian}/debian-security")
    return HostSources(
        apt_dir=apt_dir, yum_repos_dir=tmp_path / "yum", fedora_mirror=fedora, probe_timeout=3
    )


def test_fedora_configuration(tmp_path: Path) -> None:
    plan = registry()[DistroName.FEDORA].plan(
        sources(tmp_path, debian="http://d.test", fedora="http://f.test/fedora/linux/")
    )
    assert plan.elements == ("virtstick-fedora",)
    assert plan.environment == {
        "DIB_RELEASE": FEDORA_RELEASE,
        "DIB_DISTRIBUTION_MIRROR": "http://f.test/fedora/linux",
    }
    assert plan.probe_url == f"http://f.test/fedora/linux/{FEDORA_PROBE}"
    assert plan.grub_mkimage == "grub2-mkimage"
    assert [tool.command for tool in plan.host_tools] == ["dnf"]
    element = Path(__file__).resolve().parents[2] / "image" / "elements" / plan.elements[0]
    assert "fedora-minimal" in (element / "element-deps").read_text().split()


def test_fedora_without_a_mirror_says_how_to_give_one(tmp_path: Path) -> None:
    with pytest.raises(NoMirrorConfigured) as caught:
        registry()[DistroName.FEDORA].plan(sources(tmp_path, debian="http://d.test", fedora=None))
    assert "FEDORA_MIRROR" in caught.value.hint


def test_debian_configuration_comes_from_apt_sources(tmp_path: Path) -> None:
    host = sources(tmp_path, debian="http://d.test", fedora=None)
    plan = registry()[DistroName.DEBIAN].plan(host)
    assert plan.mirror == "http://d.test/debian"
    assert plan.environment["DIB_DISTRIBUTION_MIRROR"] == "http://d.test/debian"
    assert plan.environment["DIB_DEBIAN_SECURITY_MIRROR"] == "http://d.test/debian-security"
    assert plan.environment["DIB_RELEASE"] == "bookworm"
    assert plan.probe_url == "http://d.test/debian/dists/bookworm/Release"


def test_auto_picks_fedora_when_its_mirror_answers(
    tmp_path: Path, local_mirror: LocalMirror
) -> None:
    local_mirror.publish(f"fedora/linux/{FEDORA_PROBE}")
    local_mirror.publish("debian/dists/bookworm/Release")
    fedora = f"{local_mirror.url}/fedora/linux"
    choice = choose(DistroName.AUTO, sources(tmp_path, debian=local_mirror.url, fedora=fedora))
    assert choice.plan.name is DistroName.FEDORA
    assert "answers" in choice.reason


def test_auto_falls_back_to_debian_and_says_why(
    tmp_path: Path, local_mirror: LocalMirror, closed_url: str
) -> None:
    local_mirror.publish("debian/dists/bookworm/Release")
    choice = choose(DistroName.AUTO, sources(tmp_path, debian=local_mirror.url, fedora=closed_url))
    assert choice.plan.name is DistroName.DEBIAN
    assert "does not answer" in choice.reason and "Debian" in choice.reason
    no_fedora = choose(DistroName.AUTO, sources(tmp_path, debian=local_mirror.url, fedora=None))
    assert no_fedora.plan.name is DistroName.DEBIAN
    assert "no Fedora mirror" in no_fedora.reason


def test_explicit_fedora_fails_fast_when_its_mirror_is_unreachable(
    tmp_path: Path, local_mirror: LocalMirror, closed_url: str
) -> None:
    begin = time.monotonic()
    with pytest.raises(MirrorUnreachable) as caught:
        choose(DistroName.FEDORA, sources(tmp_path, debian=local_mirror.url, fedora=closed_url))
    assert time.monotonic() - begin < 5
    assert closed_url in caught.value.detail
    assert "DISTRO=debian" in caught.value.hint


def test_unknown_distro_names_the_choices() -> None:
    with pytest.raises(UnknownDistro) as caught:
        DistroName.parse("gentoo")
    assert "auto, debian, fedora" in caught.value.hint
    assert DistroName.parse(" Debian ") is DistroName.DEBIAN
