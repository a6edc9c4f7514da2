"""The demo guest, built from Debian packages and booted under libvirt with QEMU TCG."""

from __future__ import annotations

import functools
import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import libvirt
import libvirt_qemu
import pytest

from appliance.demoguest import DemoGuest, build
from appliance.demoguest.disk import read_disk_marker
from tests import hostmemory
from tests.demoguest.conftest import RunningGuest, StartGuest
from tests.hostmemory import MiB

pytestmark = pytest.mark.slow

BOOT_TIMEOUT = 240.0  # TCG on a shared machine: ~5 s when idle, minutes under heavy load
REPLY_TIMEOUT = 60.0  # a command's answer, same reason
READY = r"^VIRTSTICK-GUEST-READY\r?$"
BOOT_MARKER = r"^VIRTSTICK-DISK-MARKER=(.*?)\r?$"


def test_build_is_cached(demoguest: DemoGuest, demoguest_cache: Path) -> None:
    mtime = demoguest.disk.stat().st_mtime_ns
    again = build(demoguest_cache)
    assert not again.built
    assert again.disk == demoguest.disk
    assert again.version == demoguest.version
    assert again.disk.stat().st_mtime_ns == mtime
    assert demoguest.version.startswith(demoguest.kernel_package)
    info = subprocess.run(
        ["qemu-img", "info", demoguest.disk], capture_output=True, text=True, check=True
    )
    assert "file format: qcow2" in info.stdout


def test_boots_to_ready_with_no_marker(start_guest: StartGuest) -> None:
    guest = start_guest()
    assert guest.console.wait_for(BOOT_MARKER, BOOT_TIMEOUT).group(1) == "<none>"
    guest.console.wait_for(READY, REPLY_TIMEOUT)
    guest.console.send("marker read")
    assert guest.console.wait_for(BOOT_MARKER, REPLY_TIMEOUT).group(1) == "<none>"


def test_marker_survives_reboot_and_base_stays_clean(
    start_guest: StartGuest, demoguest: DemoGuest
) -> None:
    guest = start_guest()
    guest.console.wait_for(READY, BOOT_TIMEOUT)
    guest.console.send("marker write hello-42")
    guest.console.wait_for(r"^VIRTSTICK-MARKER-WRITTEN=hello-42\r?$", REPLY_TIMEOUT)
    guest.domain.reboot(0)
    assert guest.console.wait_for(BOOT_MARKER, BOOT_TIMEOUT).group(1) == "hello-42"
    guest.console.wait_for(READY, REPLY_TIMEOUT)
    assert read_disk_marker(guest.files.overlay) == "hello-42"
    assert read_disk_marker(demoguest.disk) is None


def test_counter_increases(start_guest: StartGuest) -> None:
    guest = start_guest()
    guest.console.wait_for(READY, BOOT_TIMEOUT)
    guest.console.send("counter on")
    counts = [int(guest.console.wait_for(r"^VIRTSTICK-COUNTER=(\d+)", REPLY_TIMEOUT).group(1))
              for _ in range(4)]  # fmt: skip
    assert counts == list(range(counts[0], counts[0] + 4))
    guest.console.send("counter off")
    guest.console.wait_for(r"^VIRTSTICK-COUNTER-STATE=off", REPLY_TIMEOUT)


def test_acpi_shutdown_powers_off(start_guest: StartGuest) -> None:
    guest = start_guest()
    guest.console.wait_for(READY, BOOT_TIMEOUT)
    guest.domain.shutdown()  # libvirt's default: the ACPI power button
    guest.console.wait_for(r"^VIRTSTICK-POWER-BUTTON", REPLY_TIMEOUT)
    deadline = time.monotonic() + REPLY_TIMEOUT
    while time.monotonic() < deadline:
        try:
            if not guest.domain.isActive():
                break
        except libvirt.libvirtError:
            break  # a transient domain is gone once it is off
        time.sleep(0.2)
    else:
        pytest.fail(f"the guest did not power off {REPLY_TIMEOUT:g} s after the power button")


def test_wait_for_timeout_quotes_output(start_guest: StartGuest) -> None:
    guest = start_guest()
    guest.console.wait_for(READY, BOOT_TIMEOUT)
    with pytest.raises(TimeoutError, match="VIRTSTICK-GUEST-READY"):
        guest.console.wait_for("NEVER-PRINTED", 0.5)


def _cpu_share(guest: RunningGuest, seconds: float) -> float:
    """The guest's CPU time over a wall-clock interval, as a fraction of it."""
    before: int = guest.domain.info()[4]
    started = time.monotonic()
    time.sleep(seconds)
    after: int = guest.domain.info()[4]
    return (after - before) / 1e9 / (time.monotonic() - started)


def test_spin_burns_cpu_until_stopped(start_guest: StartGuest) -> None:
    guest = start_guest()
    guest.console.wait_for(READY, BOOT_TIMEOUT)
    guest.console.send("spin on")
    guest.console.wait_for(r"^VIRTSTICK-SPIN=on", REPLY_TIMEOUT)
    spinning = _cpu_share(guest, 3)
    guest.console.send("spin off")
    guest.console.wait_for(r"^VIRTSTICK-SPIN=off", REPLY_TIMEOUT)
    idle = _cpu_share(guest, 3)
    # Loose bounds: the machine is shared, so a spinning TCG vCPU may get well under a CPU.
    assert spinning > 0.05, f"spin on used only {spinning:.0%} of a CPU"
    assert idle < spinning / 2, f"spin off still used {idle:.0%} (on: {spinning:.0%})"


def _screen_text(guest: RunningGuest) -> str:
    """The VGA text buffer (32 KiB at 0xb8000, scrollback included) as rows of 80 chars."""
    out = libvirt_qemu.qemuMonitorCommand(
        guest.domain, "xp /16384xh 0xb8000", libvirt_qemu.VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP
    )
    cells = bytes(int(word, 16) & 0xFF for word in re.findall(r"0x([0-9a-f]{4})", out))
    text = cells.decode("latin-1")
    return "\n".join(text[i : i + 80] for i in range(0, len(text), 80))


def test_screen_shows_banner_and_ready_line(start_guest: StartGuest) -> None:
    guest = start_guest()
    guest.console.wait_for(READY, BOOT_TIMEOUT)
    deadline = time.monotonic() + REPLY_TIMEOUT
    while "   VIRTSTICK-GUEST-READY" not in (screen := _screen_text(guest)):
        assert time.monotonic() < deadline, f"no ready line on the screen:\n{screen}"
        time.sleep(0.2)
    assert "V i r t S t i c k   d e m o   g u e s t" in screen
    assert "VIRTSTICK-DISK-MARKER=<none>" in screen


def test_parallel_builds_into_an_empty_cache_build_once(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with ThreadPoolExecutor(max_workers=2) as pool:
        guests = list(pool.map(build, [cache, cache]))
    assert sorted(guest.built for guest in guests) == [False, True]
    assert guests[0].disk == guests[1].disk
    assert [p.name for p in cache.iterdir() if not p.name.startswith(".")] == [guests[0].version]


FILL_TIMEOUT = 300.0  # 200 MiB of random data written by a TCG guest on a busy machine
FILL_MIB = 200


def _host_memory(guest: RunningGuest) -> int:
    return hostmemory.qemu_bytes([guest.domain.name()])


def _disk_bytes(guest: RunningGuest) -> int:
    return hostmemory.allocated_bytes([guest.files.overlay])


def _ask(guest: RunningGuest, command: str, reply: str) -> str:
    guest.console.send(command)
    return guest.console.wait_for(rf"^VIRTSTICK-{reply}=(.*?)\r?$", FILL_TIMEOUT).group(1)


def test_freed_memory_goes_back_to_the_host_with_page_reporting(
    start_guest: StartGuest,
) -> None:
    """The same fill and free in two guests: with free page reporting the host gets the
    200 MiB back, without it (plain libvirt) QEMU keeps them."""
    reporting = start_guest(give_back=True, memory_mib=512)
    plain = start_guest(memory_mib=512)
    for guest in (reporting, plain):
        guest.console.wait_for(READY, BOOT_TIMEOUT)
    before = {g: hostmemory.settled(functools.partial(_host_memory, g), timeout=30)
              for g in (reporting, plain)}  # fmt: skip
    for guest in (reporting, plain):
        assert _ask(guest, f"mem fill {FILL_MIB}", "MEM-FILLED") == str(FILL_MIB)
        assert _host_memory(guest) > before[guest] + 150 * MiB
        assert _ask(guest, "mem free", "MEM-FREED") == "0"
    back, _ = hostmemory.wait_until(lambda: _host_memory(reporting),
                                    lambda held: held < before[reporting] + 30 * MiB,
                                    timeout=30)
    assert back < before[reporting] + 30 * MiB, (
        f"the host still holds {(back - before[reporting]) / MiB:.0f} MiB after the guest "
        "freed its 200 MiB")
    assert _host_memory(plain) > before[plain] + 150 * MiB  # the contrast: nothing came back


def test_discarded_disk_blocks_go_back_to_the_host(start_guest: StartGuest) -> None:
    """``disk free`` TRIMs the scratch partition: with discard=unmap the overlay gets holes
    where the 200 MiB were, without it (plain libvirt) the file keeps them."""
    unmapping, plain = start_guest(give_back=True), start_guest()
    for guest in (unmapping, plain):
        guest.console.wait_for(READY, BOOT_TIMEOUT)
        empty = _disk_bytes(guest)
        assert _ask(guest, f"disk fill {FILL_MIB}", "DISK-FILLED") == str(FILL_MIB)
        assert _disk_bytes(guest) > empty + 190 * MiB
        assert _ask(guest, "disk free", "DISK-FREED") == "ok"
    assert _disk_bytes(unmapping) < 10 * MiB
    assert _disk_bytes(plain) > 190 * MiB


def test_fill_commands_refuse_what_is_not_a_size(start_guest: StartGuest) -> None:
    guest = start_guest()
    guest.console.wait_for(READY, BOOT_TIMEOUT)
    assert _ask(guest, "mem fill lots", "BAD-ARGUMENT") == "mem fill lots"
    assert _ask(guest, "disk fill 9999", "DISK-FILLED") == "256"  # capped at the partition
    assert _ask(guest, "disk fill -1", "BAD-ARGUMENT") == "disk fill -1"
