"""Benchmark: time to apply network + storage + start the service, on the test setup.

The wizard's whole apply (NetworkManager over D-Bus under a checkpoint, gateway probe,
storage mount, configuration, service command) on a fresh network lab each round, against a
baseline measured in the same run: the same end state made by hand with ``ip`` and ``mount``
(no NetworkManager, no checkpoint), the floor for what the kernel has to do.
"""

from __future__ import annotations

import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from appliance.security.passwords import hash_password
from firstboot.answers import Facts, parse_answers
from firstboot.apply import Step, apply_all
from firstboot.network.probe import answers_in
from firstboot.settings import WizardSettings
from firstboot.storage import release
from tests.bench import Figure
from tests.firstboot.nmlab import Lab, network_lab

ROUNDS = 3


def run() -> list[Figure]:
    wizard: dict[str, list[float]] = {}
    baseline: list[float] = []
    password_hash = hash_password("Bench-Pass-2024")  # scrypt is not part of the apply
    for _ in range(ROUNDS):
        with network_lab() as lab:
            baseline.append(_by_hand(lab))
            for mode, backing in (("static", "tmpfs"), ("dhcp", "zram")):
                for name, seconds in _wizard(lab, mode, backing, password_hash).items():
                    wizard.setdefault(name, []).append(seconds)
        with network_lab(dhcp_ping=False) as lab:
            steps = _wizard(lab, "dhcp", "tmpfs", password_hash)
            wizard.setdefault("dhcp+tmpfs network, dnsmasq --no-ping", []).append(
                steps["dhcp+tmpfs network"])
    floor = statistics.median(baseline)
    figures = [Figure(f"apply {key} (median of {ROUNDS})", statistics.median(values), "s",
                      baseline=floor if key.endswith("total") else None,
                      target="< 10 s" if key.endswith("total") else "")
               for key, values in wizard.items()]
    figures.append(Figure("baseline: same state by hand (ip + mount)", floor, "s"))
    return figures


def _wizard(lab: Lab, mode: str, backing: str, password_hash: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="virtstick-bench-") as tmp:
        root = Path(tmp)
        settings = WizardSettings(
            config_path=root / "virtstick.toml", storage_path=root / "storage",
            start_command=("true",), etc_dir=root / "etc", set_live_hostname=False,
            probe_netns=lab.host_ns, system_bus=lab.bus_address, connectivity_timeout_s=10)
        network = {"interface": lab.nic, "mode": mode, "hostname": "bench"}
        if mode == "static":
            network |= {"address": f"{lab.subnet}.80/24", "gateway": lab.gateway}
        answers = parse_answers({"network": network,
                                 "storage": {"backing": backing, "size_mib": 512},
                                 "admin": {"password_hash": password_hash}}, Facts(ram_mib=8192))
        started = time.monotonic()
        outcome = apply_all(answers, settings)
        total = time.monotonic() - started
        release(outcome.storage, zram_control=settings.zram_control,
                sys_block=settings.sys_block)
        label = f"{mode}+{backing}"
        figures = {f"{label} {step.value}": outcome.seconds[step]
                   for step in (Step.NETWORK, Step.STORAGE, Step.SERVICE)}
        return {**figures, f"{label} total": total}


def _by_hand(lab: Lab) -> float:
    bridge = "rawbr0"
    with tempfile.TemporaryDirectory(prefix="virtstick-bench-") as tmp:
        started = time.monotonic()
        for args in (["link", "add", bridge, "type", "bridge", "stp_state", "0"],
                     ["link", "set", lab.nic, "master", bridge, "up"],
                     ["link", "set", bridge, "up"],
                     ["addr", "add", f"{lab.subnet}.90/24", "dev", bridge]):
            lab.ip(*args)
        assert answers_in(lab.host_ns, lab.gateway, 10)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512M", "bench", tmp], check=True)
        subprocess.run(["true"], check=True)
        elapsed = time.monotonic() - started
        subprocess.run(["umount", tmp], check=True)
    lab.ip("link", "set", lab.nic, "nomaster")
    lab.ip("link", "del", bridge)
    return elapsed
