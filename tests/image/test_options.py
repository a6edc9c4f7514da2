"""Bad options fail before anything is built, each with a clear message and a hint."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from image.distro import DistroName, HostSources, registry
from image.errors import MissingHostTools, OutputNotWritable, SeedInvalid
from image.options import PROJECT_DIR, check_host_tools, check_output_dir, check_seed
from tests.image.conftest import write_deb822


def test_output_under_a_file_is_not_writable(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(OutputNotWritable) as caught:
        check_output_dir(blocker / "out")
    assert str(blocker / "out") in caught.value.detail
    assert "--output" in caught.value.hint
    check_output_dir(tmp_path / "fresh" / "out")  # created when missing
    assert (tmp_path / "fresh" / "out").is_dir()


def test_output_on_a_read_only_file_system() -> None:
    with pytest.raises(OutputNotWritable):
        check_output_dir(Path("/proc/virtstick-out"))


def test_missing_host_tools_are_named_with_their_packages(tmp_path: Path) -> None:
    apt_dir = tmp_path / "apt"
    write_deb822(apt_dir, "http://d.test/debian", "http://d.test/debian-security")
    plan = registry()[DistroName.DEBIAN].plan(HostSources(apt_dir=apt_dir))
    empty = tmp_path / "bin"
    empty.mkdir()
    with pytest.raises(MissingHostTools) as caught:
        check_host_tools(plan, tool_path=str(empty))
    assert "mksquashfs" in caught.value.detail and "debootstrap" in caught.value.detail
    assert "squashfs-tools" in caught.value.hint and "make setup" in caught.value.hint
    check_host_tools(plan, tool_path="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")


def test_seed_that_does_not_parse(tmp_path: Path) -> None:
    seed = tmp_path / "seed.toml"
    seed.write_text('[network]\nmode = "dhcp\n')
    with pytest.raises(SeedInvalid) as caught:
        check_seed(seed)
    assert "not valid TOML" in caught.value.detail
    with pytest.raises(SeedInvalid, match="cannot read"):
        check_seed(tmp_path / "missing.toml")
    seed.write_text('[network]\nmode = "dhcp"\n')
    assert check_seed(seed) == {"network": {"mode": "dhcp"}}


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "image", *args],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_unknown_distro(tmp_path: Path) -> None:
    result = run_cli("build", "--distro", "gentoo", "--output", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.startswith("error: unknown distro 'gentoo'")
    assert "hint: DISTRO must be one of" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_bad_seed_and_unwritable_output(tmp_path: Path) -> None:
    seed = tmp_path / "seed.toml"
    seed.write_text("this is = = not toml")
    result = run_cli("build", "--distro", "debian", "--output", str(tmp_path), "--seed", str(seed))
    assert result.returncode == 2
    assert "error: the seed file" in result.stderr and "not valid TOML" in result.stderr
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run_cli("build", "--distro", "debian", "--output", str(blocker / "out"))
    assert result.returncode == 2
    assert "error: cannot write the image to" in result.stderr
