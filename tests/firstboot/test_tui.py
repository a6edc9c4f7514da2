"""The console face driven with Textual's pilot, on the network lab."""

from __future__ import annotations

import asyncio
import os
from ipaddress import IPv4Address, IPv4Interface

from textual.pilot import Pilot
from textual.widgets import Input, Label, Select

from appliance import config as appliance_config
from firstboot.answers import NetworkAnswers, NetworkMode
from firstboot.apply import apply_network_again
from firstboot.hardware import CpuVirtualization, Hardware
from firstboot.network.bus import NetworkManagerClient
from firstboot.network.current import current_network
from firstboot.session import WizardSession
from firstboot.settings import WizardSettings
from firstboot.storage import release
from firstboot.tui.app import WizardApp
from firstboot.tui.screens import (
    AdminScreen,
    DoneScreen,
    NetworkScreen,
    StorageScreen,
    SummaryScreen,
)
from tests.firstboot.nmlab import Lab


def _error(app: WizardApp, key: str) -> str:
    return str(app.screen.query_one(f"#error-{key.replace('.', '-')}", Label).render())


def _fill(app: WizardApp, **values: str) -> None:
    for widget_id, value in values.items():
        app.screen.query_one(f"#{widget_id}", Input).value = value


async def _next(pilot: Pilot[str]) -> None:
    """Click Next; a Button ignores presses for 0.2 s after the last one (its animation)."""
    await pilot.pause(0.25)
    await pilot.click("#next")
    await pilot.pause()


async def _walk(app: WizardApp, lab: Lab, settings: WizardSettings) -> None:
    async with app.run_test(size=(80, 25)) as pilot:  # the Linux console on tty1
        await _next(pilot)  # welcome
        assert isinstance(app.screen, NetworkScreen)
        app.screen.query_one("#network-mode", Select).value = "static"
        _fill(app, **{"network-address": f"{lab.subnet}.50/33",
                      "network-gateway": "198.51.100.1", "network-hostname": "tui_lab"})
        await _next(pilot)
        assert isinstance(app.screen, NetworkScreen)  # stays: errors inline
        assert "prefix /33" in _error(app, "network.address")
        assert "not a valid host name" in _error(app, "network.hostname")
        _fill(app, **{"network-address": f"{lab.subnet}.50/24", "network-gateway": "",
                      "network-hostname": "tuilab"})
        await _next(pilot)
        assert isinstance(app.screen, StorageScreen), [
            _error(app, "network." + k) for k in ("address", "gateway", "hostname", "interface",
                                                  "mode")] + [app.screen.values()]
        assert "the VMs keep about" in str(app.screen.query_one("#tradeoff").render())
        _fill(app, **{"storage-size_mib": "99999"})
        await _next(pilot)
        assert "safe maximum" in _error(app, "storage.size_mib")
        _fill(app, **{"storage-size_mib": "256"})
        await _next(pilot)
        assert isinstance(app.screen, AdminScreen)
        _fill(app, **{"admin-password": "weakpass", "admin-password_confirm": "weakpass"})
        await _next(pilot)
        assert "too short" in _error(app, "admin.password")
        _fill(app, **{"admin-password": "Console-Pass-77",
                      "admin-password_confirm": "Console-Pass-77"})
        await _next(pilot)
        assert isinstance(app.screen, SummaryScreen), [
            _error(app, k) for k in ("admin.password", "admin.password_confirm", "timezone")] + [
            app.screen.values()]
        assert not settings.config_path.exists()  # nothing applied before Apply
        await _next(pilot)
        for _ in range(300):
            await pilot.pause(0.1)
            if isinstance(app.screen, DoneScreen):
                break
        assert isinstance(app.screen, DoneScreen), str(
            app.screen.query_one("#failure", Label).render())
        await pilot.pause(0.25)
        await pilot.click("#finish")


def test_console_walkthrough_with_inline_errors(lab: Lab, lab_settings: WizardSettings,
                                                lab_hardware: Hardware) -> None:
    session = WizardSession(settings=lab_settings, hardware=lab_hardware)
    app = WizardApp(session)
    asyncio.run(_walk(app, lab, lab_settings))
    try:
        assert app.return_value == f"https://{lab.subnet}.50/"
        assert f"{lab.subnet}.50/24" in lab.ip("-4", "addr", "show", "dev", "ovirtmgmt")
        config = appliance_config.load(lab_settings.config_path)
        assert config.storage.backing.value == "tmpfs"
        assert os.path.ismount(lab_settings.storage_path)
        assert (lab_settings.etc_dir / "hostname").read_text() == "tuilab\n"
    finally:
        assert session.outcome is not None
        release(session.outcome.storage, zram_control=lab_settings.zram_control,
                sys_block=lab_settings.sys_block)


def test_console_follows_when_the_web_face_finishes(lab: Lab, lab_settings: WizardSettings,
                                                    lab_hardware: Hardware) -> None:
    session = WizardSession(settings=lab_settings, hardware=lab_hardware)
    app = WizardApp(session)

    async def watch() -> None:
        async with app.run_test(size=(100, 60)) as pilot:
            await pilot.pause(0.2)
            raw = {"network": {"interface": lab.nic, "mode": "dhcp"},
                   "storage": {"backing": "tmpfs", "size_mib": 256},
                   "admin": {"password": "Other-Face-2024"}}
            await asyncio.to_thread(session.submit, raw)  # as the web page would
            for _ in range(100):
                await pilot.pause(0.1)
                if isinstance(app.screen, DoneScreen):
                    break
            assert isinstance(app.screen, DoneScreen)
            for _ in range(60):  # it leaves by itself: nobody may be at the console
                await pilot.pause(0.1)
                if app.return_value is not None:
                    break

    asyncio.run(watch())
    assert session.outcome is not None
    release(session.outcome.storage, zram_control=lab_settings.zram_control,
            sys_block=lab_settings.sys_block)
    assert app.return_value == session.outcome.url


def test_console_network_rerun_starts_from_current(lab: Lab, lab_settings: WizardSettings,
                                                   lab_hardware: Hardware) -> None:
    first = NetworkAnswers(interface=lab.nic, mode=NetworkMode.STATIC, hostname="before",
                           address=IPv4Interface(f"{lab.subnet}.70/24"),
                           gateway=IPv4Address(lab.gateway), dns=(IPv4Address(lab.gateway),))
    apply_network_again(first, lab_settings)

    async def current() -> dict[str, str]:
        client = await NetworkManagerClient.connect(lab.bus_address)
        try:
            return await current_network(client, bridge="ovirtmgmt")
        finally:
            client.close()

    now = asyncio.run(current())
    assert now == {"interface": lab.nic, "mode": "static", "address": f"{lab.subnet}.70/24",
                   "gateway": lab.gateway, "dns": lab.gateway, "hostname": "before"}
    session = WizardSession(settings=lab_settings, hardware=lab_hardware)
    app = WizardApp(session, network_only=True, initial={"network": now})

    async def rerun() -> None:
        async with app.run_test(size=(80, 25)) as pilot:
            assert isinstance(app.screen, NetworkScreen)
            address = app.screen.query_one("#network-address", Input)
            assert address.value == f"{lab.subnet}.70/24"  # pre-filled from NetworkManager
            address.value = f"{lab.subnet}.71/24"
            await _next(pilot)
            assert isinstance(app.screen, SummaryScreen)
            await _next(pilot)
            for _ in range(200):
                await pilot.pause(0.1)
                if isinstance(app.screen, DoneScreen):
                    break
            assert isinstance(app.screen, DoneScreen)
            await pilot.pause(0.25)
            await pilot.click("#finish")

    asyncio.run(rerun())
    assert app.return_value == f"{lab.subnet}.71/24"
    assert f"{lab.subnet}.71/24" in lab.ip("-4", "addr", "show", "dev", "ovirtmgmt")
    assert not lab_settings.config_path.exists() and not os.path.ismount(
        lab_settings.storage_path)


def test_console_shows_why_the_seed_was_not_used(settings: WizardSettings) -> None:
    hardware = Hardware(cpu=CpuVirtualization.NONE, kvm_device=False, ram_mib=2048, nics=(),
                        disks=())
    notice = "The seed from baked seed x is invalid: network.gateway: outside the subnet"
    app = WizardApp(WizardSession(settings=settings, hardware=hardware, notices=[notice]))

    async def look() -> list[str]:
        async with app.run_test(size=(100, 60)) as pilot:
            await pilot.pause()
            return [str(w.render()) for w in app.screen.query(".note, .notice")]

    shown = asyncio.run(look())
    assert notice in shown
    assert any("no hardware virtualization" in text for text in shown)
    assert any("Only 2048 MiB" in text for text in shown)
