"""Seeds from the kernel command line, a VSSEED filesystem (FAT and ISO 9660 on real loop
devices) and the baked file; invalid seeds reported by key."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from firstboot.answers import Facts, InvalidAnswers
from firstboot.seed import SeedUnreadable, answers_from_seed, find_seed
from firstboot.settings import WizardSettings

SEED = """\
timezone = "Europe/Berlin"

[network]
interface = "eth1"
mode = "static"
address = "192.0.2.10/24"
gateway = "192.0.2.1"
dns = ["192.0.2.1"]
hostname = "lab"

[storage]
backing = "zram"
size_mib = 2048

[admin]
password = "Seed-Pass-2024"
"""


def _image(tmp_path: Path, kind: str, text: str) -> Path:
    files = tmp_path / "seedfiles"
    files.mkdir(exist_ok=True)
    (files / "virtstick-seed.toml").write_text(text)
    image = tmp_path / f"seed.{kind}"
    if kind == "fat":
        subprocess.run(["truncate", "-s", "4M", str(image)], check=True)
        subprocess.run(["mkfs.vfat", "-n", "VSSEED", str(image)], check=True, capture_output=True)
        subprocess.run(["mcopy", "-i", str(image), str(files / "virtstick-seed.toml"), "::"],
                       check=True, capture_output=True)
    else:
        subprocess.run(["xorriso", "-as", "mkisofs", "-V", "VSSEED", "-o", str(image),
                        str(files)], check=True, capture_output=True)
    return image


@pytest.fixture
def loop(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    image = _image(tmp_path, request.param, SEED)
    device = subprocess.run(["losetup", "-f", "--show", "-r", str(image)], check=True,
                            capture_output=True, text=True).stdout.strip()
    try:
        yield device
    finally:
        subprocess.run(["losetup", "-d", device], check=False)


@pytest.mark.parametrize("loop", ["fat", "iso"], indirect=True)
def test_seed_on_labelled_filesystem(settings: WizardSettings, facts: Facts, loop: str) -> None:
    settings.by_label_dir.mkdir()
    (settings.by_label_dir / "VSSEED").symlink_to(loop)
    seed = find_seed(settings)
    assert seed is not None and loop in seed.source
    answers = answers_from_seed(seed, facts)
    assert answers.network.interface == "eth1" and answers.timezone == "Europe/Berlin"
    mounts = Path("/proc/self/mounts").read_text()
    assert loop not in mounts  # read and unmounted again


@pytest.mark.parametrize("loop", ["fat"], indirect=True)
def test_cmdline_label_form(settings: WizardSettings, facts: Facts, loop: str) -> None:
    settings.by_label_dir.mkdir()
    (settings.by_label_dir / "LABSEED").symlink_to(loop)
    settings.cmdline_path.write_text("quiet virtstick.seed=LABEL=LABSEED:/virtstick-seed.toml\n")
    seed = find_seed(settings)
    assert seed is not None and "LABEL=LABSEED" in seed.source
    assert answers_from_seed(seed, facts).storage.size_mib == 2048


def test_cmdline_path_wins_over_baked(settings: WizardSettings, facts: Facts,
                                      tmp_path: Path) -> None:
    settings.baked_seed.parent.mkdir(parents=True)
    settings.baked_seed.write_text(SEED.replace('"lab"', '"baked"'))
    assert answers_from_seed(find_seed(settings) or pytest.fail("no seed"),
                             facts).network.hostname == "baked"
    (tmp_path / "mine.toml").write_text(SEED)
    settings.cmdline_path.write_text(f"ro virtstick.seed={tmp_path}/mine.toml splash")
    seed = find_seed(settings)
    assert seed is not None and seed.source.startswith("kernel command line")
    assert answers_from_seed(seed, facts).network.hostname == "lab"


def test_no_seed_anywhere(settings: WizardSettings) -> None:
    assert find_seed(settings) is None


def test_named_but_missing_seed_is_an_error(settings: WizardSettings) -> None:
    settings.cmdline_path.write_text("virtstick.seed=/nonexistent/seed.toml")
    with pytest.raises(SeedUnreadable, match="/nonexistent/seed.toml"):
        find_seed(settings)


@pytest.mark.parametrize(("change", "key", "words"), [
    (('"192.0.2.1"\ndns', '"198.51.100.1"\ndns'), "network.gateway", "outside the subnet"),
    (("size_mib = 2048", "size_mib = 999999"), "storage.size_mib", "safe maximum"),
    (("size_mib = 2048", 'size_mib = "lots"'), "storage.size_mib", "whole number"),
    (('"Seed-Pass-2024"', '"seed"'), "admin.password", "too short"),
    (('backing = "zram"', 'backing = "disk"'), "storage.device", "required"),
    (("[admin]", "[admins]"), "admins", "unknown key"),
    (("mode =", "mode"), "(file)", "not valid TOML"),
])
def test_invalid_seed_names_key_and_reason(settings: WizardSettings, facts: Facts,
                                           change: tuple[str, str], key: str,
                                           words: str) -> None:
    settings.baked_seed.parent.mkdir(parents=True)
    settings.baked_seed.write_text(SEED.replace(*change))
    seed = find_seed(settings)
    assert seed is not None
    with pytest.raises(InvalidAnswers) as caught:
        answers_from_seed(seed, facts)
    assert words in caught.value.by_key()[key]
    assert str(settings.baked_seed) in str(caught.value)
