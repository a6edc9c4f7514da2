"""The seed stick the boot tests plug in: an MBR with one FAT partition labelled VSSEED
holding the seed, as a stick formatted on a desktop is (checked with blkid and mtools at the
partition's offset: this machine's kernel does not scan partition tables of loop devices)."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

from tests.image.live_machine import make_seed_stick


def test_seed_stick_is_a_partitioned_fat_stick(tmp_path: Path) -> None:
    stick = make_seed_stick('hostname = "lab"\n', tmp_path / "stick.img")
    mbr = stick.read_bytes()[:512]
    assert mbr[510:] == b"\x55\xaa"
    _, _, kind, _, start, sectors = struct.unpack_from("<B3sB3sII", mbr, 446)
    assert kind == 0x0E and start == 2048 and (start + sectors) * 512 == stick.stat().st_size
    probed = subprocess.run(["blkid", "-p", "-O", str(start * 512), "-o", "export", str(stick)],
                            capture_output=True, text=True, check=True).stdout
    assert "TYPE=vfat" in probed and "LABEL=VSSEED" in probed
    seed = subprocess.run(["mtype", "-i", f"{stick}@@{start * 512}", "::virtstick-seed.toml"],
                          capture_output=True, text=True, check=True).stdout
    assert seed == 'hostname = "lab"\n'
