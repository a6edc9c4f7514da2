"""``virtstick-firstboot`` as the image runs it, inside the lab's network namespace (where it
sees the lab's NIC): unattended from a seed, and falling back to asking on a bad seed."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import time
from pathlib import Path

from appliance import config as appliance_config
from firstboot.settings import WizardSettings
from tests.firstboot.conftest import settings_toml
from tests.firstboot.nmlab import Lab

ENTRY = str(Path(sys.executable).with_name("virtstick-firstboot"))
POST = """
import re, sys, urllib.parse, urllib.request
form = dict(arg.split("=", 1) for arg in sys.argv[2:])
with urllib.request.urlopen(sys.argv[1], data=urllib.parse.urlencode(form).encode()) as r:
    token = re.search('name="token" value="([^"]+)"', r.read().decode()).group(1)
with urllib.request.urlopen(sys.argv[1] + "apply",
                            data=urllib.parse.urlencode({"token": token}).encode()) as r:
    print(r.status)
"""


def _settings_file(lab: Lab, settings: WizardSettings, tmp_path: Path) -> Path:
    marker = tmp_path / "service-started"
    # The storage tmpfs lives in the command's own mount namespace: the service check sees it.
    inside = dataclasses.replace(settings, probe_netns="", system_bus=lab.bus_address,
                                 web_listen="127.0.0.1:8099", start_command=(
        "sh", "-c", f"grep -q ' {settings.storage_path} tmpfs' /proc/self/mounts && "
                    f"touch {marker}"))
    path = tmp_path / "firstboot.toml"
    path.write_text(settings_toml(inside))
    return path


def _seed(lab: Lab, tmp_path: Path, gateway: str) -> Path:
    seed = tmp_path / "seed.toml"
    seed.write_text(f"""
[network]
interface = "{lab.nic}"
mode = "static"
address = "{lab.subnet}.60/24"
gateway = "{gateway}"
hostname = "clilab"
[storage]
backing = "tmpfs"
size_mib = 256
[admin]
password = "Cli-Seed-2024!"
""")
    return seed


def _cli(lab: Lab, *args: str) -> list[str]:
    return ["ip", "netns", "exec", lab.host_ns, ENTRY, *args]


def test_apply_seed_unattended(lab: Lab, settings: WizardSettings, tmp_path: Path) -> None:
    conf = _settings_file(lab, settings, tmp_path)
    result = subprocess.run(_cli(lab, "--settings", str(conf), "apply", "--seed",
                                 str(_seed(lab, tmp_path, lab.gateway))),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert f"VirtStick is ready: https://{lab.subnet}.60/" in result.stderr
    assert (tmp_path / "service-started").exists()
    assert appliance_config.load(settings.config_path).network.ovirtmgmt == "bridge:ovirtmgmt"
    assert f"{lab.subnet}.60/24" in lab.ip("-4", "addr", "show", "dev", "ovirtmgmt")


def test_run_with_invalid_seed_reports_and_asks(lab: Lab, settings: WizardSettings,
                                                tmp_path: Path) -> None:
    conf = _settings_file(lab, settings, tmp_path)
    settings.cmdline_path.write_text(
        f"quiet virtstick.seed={_seed(lab, tmp_path, '198.51.100.1')}")
    process = subprocess.Popen(_cli(lab, "--settings", str(conf), "run"),
                               stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        lines: list[str] = []
        while not any(line.startswith("virtstick-firstboot: setup page") for line in lines):
            line = process.stderr.readline()
            assert line, "".join(lines)
            lines.append(line)
        text = "".join(lines)
        assert "is invalid: " in text and "(asking instead)" in text
        assert "network.gateway: 198.51.100.1 is outside the subnet" in text
        assert not settings.config_path.exists()
        posted = _post_inside(lab, "http://127.0.0.1:8099/", {
            "network.interface": lab.nic, "network.mode": "dhcp",
            "network.hostname": "asked", "storage.backing": "tmpfs", "storage.size_mib": "256",
            "admin.password": "Asked-Pass-2024", "admin.password_confirm": "Asked-Pass-2024",
            "timezone": "UTC"})
        assert posted == "200"
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert appliance_config.load(settings.config_path).storage.path == settings.storage_path
    assert (settings.etc_dir / "hostname").read_text() == "asked\n"


def _post_inside(lab: Lab, url: str, form: dict[str, str]) -> str:
    args = [f"{k}={v}" for k, v in form.items()]
    for _ in range(50):
        result = subprocess.run(["ip", "netns", "exec", lab.host_ns, sys.executable, "-c", POST,
                                 url, *args], capture_output=True, text=True, timeout=120)
        if result.returncode == 0 or "Connection refused" not in result.stderr:
            return result.stdout.strip() or result.stderr
        time.sleep(0.1)
    return "never listened"


def test_network_rerun_from_seed(lab: Lab, settings: WizardSettings, tmp_path: Path) -> None:
    conf = _settings_file(lab, settings, tmp_path)
    seed = _seed(lab, tmp_path, lab.gateway)
    first = subprocess.run(_cli(lab, "--settings", str(conf), "network", "--seed", str(seed)),
                           capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    seed.write_text(seed.read_text().replace(f"{lab.subnet}.60/24", f"{lab.subnet}.61/24"))
    again = subprocess.run(_cli(lab, "--settings", str(conf), "network", "--seed", str(seed)),
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert f"network applied: {lab.subnet}.61/24 on ovirtmgmt" in again.stderr
    addresses = lab.ip("-4", "addr", "show", "dev", "ovirtmgmt")
    assert f"{lab.subnet}.61/24" in addresses and f"{lab.subnet}.60/24" not in addresses
    assert not settings.config_path.exists()  # only the network step ran


def test_run_falls_back_to_asking_when_the_seed_network_fails(
        lab: Lab, settings: WizardSettings, tmp_path: Path) -> None:
    conf = _settings_file(lab, settings, tmp_path)
    conf.write_text(conf.read_text().replace("connectivity_timeout_s = 5",
                                             "connectivity_timeout_s = 2"))
    settings.cmdline_path.write_text(
        f"virtstick.seed={_seed(lab, tmp_path, f'{lab.subnet}.254')}")
    process = subprocess.Popen(_cli(lab, "--settings", str(conf), "run"),
                               stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        lines: list[str] = []
        while not any(line.startswith("virtstick-firstboot: setup page") for line in lines):
            line = process.stderr.readline()
            assert line, "".join(lines)
            lines.append(line)
        assert f"{lab.subnet}.254 did not answer" in "".join(lines)
        assert "asking instead" in "".join(lines)
        assert "ovirtmgmt" not in lab.ip("-br", "link")  # rolled back
    finally:
        process.kill()
        process.wait()
