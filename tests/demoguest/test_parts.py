"""The demo guest's building blocks on their own: archive, partition table, marker, errors."""

from __future__ import annotations

import os
import re
import struct
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from appliance.demoguest import cpio
from appliance.demoguest.console import GuestConsole
from appliance.demoguest.disk import LAYOUT, MARKER_MAGIC, SECTOR, master_boot_record, read_marker
from appliance.demoguest.errors import HostToolMissing
from appliance.demoguest.tools import require_tools
from appliance.errors import VirtStickError


def test_cpio_archive_is_read_by_gnu_cpio(tmp_path: Path) -> None:
    archive = tmp_path / "initrd.cpio"
    with archive.open("wb") as out:
        cpio.write_archive(out, [
            cpio.directory("bin"),
            cpio.regular("bin/hello", b"#!/bin/sh\necho odd-length\n", executable=True),
            cpio.symlink("bin/sh", "hello"),
            cpio.directory("dev"),
            cpio.char_device("dev/console", 5, 1),
        ])  # fmt: skip
    listing = subprocess.run(
        ["cpio", "-itv"], stdin=archive.open("rb"), capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert [line.split()[-1] for line in listing] == ["bin", "bin/hello", "hello", "dev",
                                                      "dev/console"]  # fmt: skip
    assert listing[1].startswith("-rwxr-xr-x") and "bin/sh -> hello" in listing[2]
    assert listing[4].startswith("crw-------") and "5," in listing[4]
    hello = subprocess.run(["cpio", "-i", "--to-stdout", "bin/hello"], stdin=archive.open("rb"),
                           capture_output=True, check=True).stdout  # fmt: skip
    assert hello == b"#!/bin/sh\necho odd-length\n"


def test_partition_table_matches_layout() -> None:
    mbr = master_boot_record(b"\xeb" * 440)
    assert len(mbr) == SECTOR and mbr[:440] == b"\xeb" * 440 and mbr[510:] == b"\x55\xaa"
    entries = [mbr[446 + 16 * i : 446 + 16 * (i + 1)] for i in range(4)]
    boot, data, scratch = entries[0], entries[1], entries[2]
    assert boot[0] == 0x80 and boot[4] == 0x06
    assert struct.unpack("<II", boot[8:]) == (
        LAYOUT.boot_offset // SECTOR, LAYOUT.boot_size // SECTOR)  # fmt: skip
    assert data[0] == 0 and data[4] == 0xDA
    assert struct.unpack("<II", data[8:]) == (
        LAYOUT.data_offset // SECTOR, LAYOUT.data_size // SECTOR)  # fmt: skip
    assert scratch[0] == 0 and scratch[4] == 0xDA
    assert struct.unpack("<II", scratch[8:]) == (
        LAYOUT.scratch_offset // SECTOR, LAYOUT.scratch_size // SECTOR)  # fmt: skip
    assert LAYOUT.scratch_size >= 200 * 2**20  # the benchmarks fill 200 MiB
    assert entries[3] == b"\0" * 16


def test_marker_format_matches_the_guest_script() -> None:
    script = resources.files("appliance.demoguest").joinpath("init.sh").read_text()
    assert f"MARKER_MAGIC={MARKER_MAGIC.decode().strip()}\n" in script
    sector = (MARKER_MAGIC + b"two words\n").ljust(SECTOR, b"\0")
    assert read_marker(sector) == "two words"
    assert read_marker(b"\0" * SECTOR) is None


def test_missing_tool_names_the_package() -> None:
    with pytest.raises(HostToolMissing) as caught:
        require_tools({"no-such-tool-virtstick": "virtstick-tools"})
    assert isinstance(caught.value, VirtStickError)
    assert caught.value.code == "demoguest-tool-missing"
    assert "apt-get install virtstick-tools" in caught.value.detail


def test_cli_reports_a_missing_tool_with_a_hint(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(tmp_path)}  # nothing on PATH: apt-get is missing
    result = subprocess.run(
        [sys.executable, "-m", "appliance.demoguest", "build", "--cache", tmp_path / "cache"],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 1
    assert "needs 'apt-get'" in result.stderr and "hint: apt-get install apt" in result.stderr
    assert "Traceback" not in result.stderr


def test_console_matches_complete_lines_only(tmp_path: Path) -> None:
    log = tmp_path / "serial.log"
    log.write_bytes(b"boot noise\nVIRTSTICK-COUNTER=1\nVIRTSTICK-COUNTER=1")  # "12" arriving
    console = GuestConsole(tmp_path / "no.sock", log)
    assert console.wait_for(r"^VIRTSTICK-COUNTER=(\d+)$", 1).group(1) == "1"
    last_lines = "last lines:\nboot noise\nVIRTSTICK-COUNTER=1\nVIRTSTICK-COUNTER=1"
    with pytest.raises(TimeoutError, match=re.escape(last_lines) + "$"):
        console.wait_for(r"^VIRTSTICK-COUNTER=(\d+)$", 0.2)
    with log.open("ab") as out:
        out.write(b"2\r\n")
    assert console.wait_for(r"^VIRTSTICK-COUNTER=(\d+)\r?$", 1).group(1) == "12"
