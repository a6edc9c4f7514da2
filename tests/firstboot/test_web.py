"""The web face over real HTTP (waitress) on the network lab; the setup code for remote
browsers through Flask's test client (a remote address cannot be faked over loopback)."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from appliance import config as appliance_config
from appliance.config import Config
from firstboot.hardware import CpuVirtualization, DataSource, Hardware, Nic
from firstboot.session import SessionState, WizardSession
from firstboot.settings import WizardSettings
from firstboot.storage import release
from firstboot.web.app import create_app, serve_until_done
from tests.api import siege
from tests.api.conftest import Appliance
from tests.firstboot.nmlab import Lab


@dataclass
class Served:
    session: WizardSession
    base: str
    thread: threading.Thread


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(lab_settings: WizardSettings, lab_hardware: Hardware) -> Iterator[Served]:
    session = WizardSession(settings=lab_settings, hardware=lab_hardware)
    port = _free_port()
    thread = threading.Thread(target=serve_until_done, args=(session, f"127.0.0.1:{port}"),
                              kwargs={"grace_s": 0.1}, daemon=True)
    thread.start()
    _wait_listening(port)
    yield Served(session, f"http://127.0.0.1:{port}", thread)
    if session.outcome is not None:
        release(session.outcome.storage, zram_control=lab_settings.zram_control,
                sys_block=lab_settings.sys_block)
    else:
        session.done.set()  # stop the server of a test that never finished
    thread.join(10)


def _wait_listening(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def _post(url: str, form: dict[str, str]) -> tuple[int, str]:
    data = urllib.parse.urlencode(form).encode()
    try:
        with urllib.request.urlopen(url, data=data, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _form(lab: Lab, **changes: str) -> dict[str, str]:
    return {"network.interface": lab.nic, "network.mode": "static",
            "network.address": f"{lab.subnet}.40/24", "network.gateway": lab.gateway,
            "network.dns": lab.gateway, "network.hostname": "weblab",
            "storage.backing": "tmpfs", "storage.size_mib": "256",
            "admin.password": "Web-Face-2024", "admin.password_confirm": "Web-Face-2024",
            "timezone": "UTC", **changes}


def test_page_shows_steps_and_tradeoff(served: Served) -> None:
    with urllib.request.urlopen(served.base + "/", timeout=10) as response:
        page = response.read().decode()
    for step in ("step-welcome", "step-network", "step-storage", "step-admin"):
        assert f'id="{step}"' in page
    assert "the VMs keep about" in page and 'id="step-code"' not in page  # local: no code


def test_invalid_input_errors_inline_and_nothing_applied(served: Served, lab: Lab,
                                                         lab_settings: WizardSettings) -> None:
    status, page = _post(served.base + "/", _form(
        lab, **{"network.gateway": "198.51.100.1", "storage.size_mib": "999999",
                "admin.password_confirm": "other", "network.hostname": "bad_host"}))
    assert status == 422
    for key in ("network.gateway", "storage.size_mib", "admin.password_confirm",
                "network.hostname"):
        assert f'id="error-{key}"' in page
    assert "outside the subnet" in page
    assert not lab_settings.config_path.exists()
    assert not os.path.ismount(lab_settings.storage_path)
    assert "ovirtmgmt" not in lab.ip("-br", "link")
    assert served.session.state is SessionState.ASKING


def test_valid_form_then_summary_applies_and_shows_url(served: Served, lab: Lab,
                                                       lab_settings: WizardSettings) -> None:
    status, page = _post(served.base + "/", _form(lab))
    assert status == 200, page
    assert f"static {lab.subnet}.40/24, gateway {lab.gateway}" in page
    assert "the VMs keep about" in page
    assert not lab_settings.config_path.exists()  # the summary applies nothing
    token = re.search(r'name="token" value="([^"]+)"', page)
    assert token is not None
    status, page = _post(served.base + "/apply", {"token": token.group(1)})
    assert status == 200, page
    assert f"https://{lab.subnet}.40/" in page
    assert f"{lab.subnet}.40/24" in lab.ip("-4", "addr", "show", "dev", "ovirtmgmt")
    assert appliance_config.load(lab_settings.config_path).storage.path == \
        lab_settings.storage_path
    served.thread.join(10)
    assert not served.thread.is_alive()  # the page is served only until the wizard is done


def test_remote_browser_needs_the_setup_code(settings: WizardSettings,
                                             lab_hardware: Hardware) -> None:
    session = WizardSession(settings=settings, hardware=lab_hardware, setup_code="ABCD2345")
    client = create_app(session).test_client()
    remote = {"REMOTE_ADDR": "192.0.2.7"}
    assert 'id="step-code"' in client.get("/", environ_base=remote).get_data(as_text=True)
    response = client.post("/", data={"setup_code": "WRONG", "admin.password": "x"},
                           environ_base=remote)
    assert response.status_code == 403
    assert 'id="error-setup_code"' in response.get_data(as_text=True)
    response = client.post("/", data={"setup_code": "abcd2345", "admin.password": "x"},
                           environ_base=remote)
    assert response.status_code == 422  # past the code, on to validation
    assert not settings.config_path.exists()
    assert client.post("/apply", data={"token": "forged", "setup_code": "ABCD2345"},
                       environ_base=remote).status_code == 409


def test_remote_apply_without_the_code_is_refused(settings: WizardSettings, lab: Lab,
                                                  lab_hardware: Hardware) -> None:
    session = WizardSession(settings=settings, hardware=lab_hardware, setup_code="ABCD2345")
    client = create_app(session).test_client()
    remote = {"REMOTE_ADDR": "192.0.2.7"}
    summary = client.post("/", data={**_form(lab), "setup_code": "ABCD2345"},
                          environ_base=remote)
    assert summary.status_code == 200
    page = summary.get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', page)
    assert token is not None and 'value="ABCD2345"' in page  # typed once, carried along
    refused = client.post("/apply", data={"token": token.group(1), "setup_code": "NOPE"},
                          environ_base=remote)
    assert refused.status_code == 403
    assert session.state is SessionState.ASKING and not settings.config_path.exists()


@pytest.fixture
def bounded(settings: WizardSettings) -> Iterator[Appliance]:
    """The page on 127.0.0.1 (a made-up machine: nothing is applied), in the form the DoS
    helpers of tests/api take; attackers come from other loopback addresses."""
    nic = Nic(name="eth0", mac="02:00:00:00:00:02", driver="e1000", physical=True,
              wireless=False, carrier=True, speed_mbps=1000, model="", source=DataSource.SYSFS)
    hardware = Hardware(cpu=CpuVirtualization.INTEL_VTX, kvm_device=True, ram_mib=8192,
                        nics=(nic,), disks=())
    session = WizardSession(settings=settings, hardware=hardware)
    port = _free_port()
    thread = threading.Thread(target=serve_until_done, args=(session, f"127.0.0.1:{port}"),
                              kwargs={"grace_s": 0.1}, daemon=True)
    thread.start()
    _wait_listening(port)
    yield Appliance(url=f"http://127.0.0.1:{port}", https_url="", state_dir=settings.etc_dir,
                    config=Config(), prefix="")
    session.done.set()
    thread.join(10)


def test_a_large_form_is_refused_on_its_head(bounded: Appliance) -> None:
    head = (f"POST / HTTP/1.1\nHost: 127.0.0.1\nContent-Type: application/x-www-form-urlencoded"
            f"\nContent-Length: {1024**3}\n")
    status, text = siege.send_head(bounded, head, source=siege.attacker(0), body=b"x" * 1000)
    assert status == 413 and "the limit for the setup form is" in text, (status, text)


def test_connections_from_one_address_are_bounded(bounded: Appliance) -> None:
    attack = siege.ConnectionHolder(bounded, sources=[siege.attacker(1)], per_source=60)
    with siege.under(attack, warmup=2):
        watch = _page_probe(bounded, seconds=3)
    assert watch.failures == [] and watch.slowest < siege.HEALTH_DEADLINE, watch
    assert attack.most_open <= 8, attack.most_open


def test_a_head_that_never_ends_is_closed(bounded: Appliance) -> None:
    sock = siege.connect_from(siege.attacker(2), bounded, timeout=30)
    started = time.monotonic()
    try:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        while sock.recv(4096):
            pass
    except OSError:
        pass
    finally:
        sock.close()
    assert time.monotonic() - started < 15  # plain waitress waits 120 s


def _page_probe(page: Appliance, *, seconds: float) -> siege.Watch:
    watch = siege.Watch()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.monotonic()
        try:
            with urllib.request.urlopen(page.url + "/status.json", timeout=1) as response:
                response.read()
            watch.latencies.append(time.monotonic() - started)
        except OSError as exc:
            watch.failures.append(str(exc))
        time.sleep(0.05)
    return watch
