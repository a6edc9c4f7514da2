"""The seed search waits for labelled filesystems that appear after it started (a USB stick
enumerating late), and says where it searched when it finds none.

The late stick is a real loop device attached while the wizard's search runs, probed by a
real udevd confined to a network and mount namespace (its /run and /dev/disk are private
tmpfs mounts there, so no link leaks into the machine's /dev).
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from firstboot.cli import main
from firstboot.settings import WizardSettings
from tests.firstboot.conftest import settings_toml
from tests.firstboot.test_seed import SEED, _image

UDEVD = "/lib/systemd/systemd-udevd"
ATTACH_AFTER_S = 3.0  # the stick shows up this long after the search began waiting


@pytest.fixture
def netns() -> Iterator[str]:
    name = "vfsd" + secrets.token_hex(3)
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


@pytest.fixture
def dev_disk() -> Iterator[Path]:
    """/dev/disk exists to mount over in the namespace; made (and removed) if it did not."""
    path = Path("/dev/disk")
    made = not path.exists()
    path.mkdir(exist_ok=True)
    yield path
    if made:
        with contextlib.suppress(OSError):  # someone else's links arrived: theirs to remove
            path.rmdir()


def young_machine(settings: WizardSettings, tmp_path: Path, *, uptime: float,
                  until: int, max_s: int) -> WizardSettings:
    """Settings as on a machine ``uptime`` seconds after power-on."""
    (tmp_path / "uptime").write_text(f"{uptime:.2f} 0.00\n")
    settings.cmdline_path.write_text("quiet\n")
    return dataclasses.replace(settings, uptime_path=tmp_path / "uptime",
                               seed_wait_until_uptime_s=until, seed_wait_max_s=max_s,
                               seed_quiet_s=2)


def test_seed_on_a_stick_that_appears_after_the_search_began(
        settings: WizardSettings, tmp_path: Path, netns: str, dev_disk: Path) -> None:
    image = _image(tmp_path, "fat", SEED)
    settings = young_machine(settings, tmp_path, uptime=5, until=40, max_s=40)
    settings = dataclasses.replace(settings, by_label_dir=dev_disk / "by-label")
    settings_file = tmp_path / "firstboot.toml"
    settings_file.write_text(settings_toml(settings))
    script = (f"mount -t tmpfs tmpfs /run && mount -t tmpfs tmpfs {dev_disk} && "
              f"{UDEVD} --daemon && udevadm trigger --action=add --subsystem-match=block && "
              "udevadm settle -t 30; "
              f"{sys.executable} -m firstboot.cli --settings {settings_file} seed; "
              "echo exit=$? >&2; udevadm control --exit")
    search = subprocess.Popen(["ip", "netns", "exec", netns, "unshare", "-m", "--propagation",
                               "private", "sh", "-c", script], stderr=subprocess.PIPE,
                              stdout=subprocess.DEVNULL, text=True)
    assert search.stderr is not None
    device = ""
    lines: list[str] = []
    try:
        for line in search.stderr:
            lines.append(line)
            if "waiting up to" in line:
                began = time.monotonic()
                time.sleep(ATTACH_AFTER_S)
                device = subprocess.run(["losetup", "-f", "--show", "-r", str(image)],
                                        check=True, capture_output=True,
                                        text=True).stdout.strip()
                break
        output = "".join(lines) + search.stderr.read()
        search.wait(timeout=60)
        found_after = time.monotonic() - began if device else 0.0
    finally:
        if search.poll() is None:
            search.kill()
        if device:
            subprocess.run(["losetup", "-d", device], check=False)
    assert device, f"the search did not wait for devices:\n{output}"
    assert f"seed found: filesystem VSSEED ({device})" in output, output
    assert "exit=0" in output
    assert found_after < 20, f"found only at the deadline ({found_after:.0f} s):\n{output}"


def test_no_seed_says_where_it_searched(settings: WizardSettings, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    settings = young_machine(settings, tmp_path, uptime=1, until=3, max_s=10)
    settings_file = tmp_path / "firstboot.toml"
    settings_file.write_text(settings_toml(settings))
    started = time.monotonic()
    assert main(["--settings", str(settings_file), "seed"]) == 1
    waited = time.monotonic() - started
    said = capsys.readouterr().err
    assert "waiting up to 2 s for a filesystem labelled VSSEED" in said, said
    (line,) = [x for x in said.splitlines() if "no seed found" in x]
    assert "kernel command line: no virtstick.seed=" in line
    assert re.search(r"filesystems labelled VSSEED: none \(after \d+ s, \d+ device event", line)
    assert "block devices:" in line
    assert f"baked seed {settings.baked_seed}: absent" in line
    assert 1.5 < waited < 10  # the window the machine's age left, and no longer


def test_machine_up_for_long_does_not_wait(settings: WizardSettings, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    settings = young_machine(settings, tmp_path, uptime=100, until=20, max_s=30)
    settings_file = tmp_path / "firstboot.toml"
    settings_file.write_text(settings_toml(settings))
    assert main(["--settings", str(settings_file), "seed"]) == 1
    said = capsys.readouterr().err
    assert "waiting up to" not in said and "no seed found" in said
