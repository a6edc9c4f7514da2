"""The portals' guards: CSRF tokens, session cookie flags, and console tickets that work once
and for one user (their expiry is driven by a clock in test_console_tickets.py)."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable, Iterator

import libvirt
import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from playwright.sync_api import Browser, Page
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.webui.conftest import VIEWPORT, create_vm, csrf, log_in, post
from tests.webui.service import ADMIN, Service


def cookie_header(page: Page) -> str:
    return "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies())


def test_wrong_password_is_refused(page: Page, service: Service) -> None:
    log_in(page, service, ADMIN, "not-the-password")
    assert page.url.endswith("/login")
    assert "incorrect" in page.locator(".flash.error").inner_text()
    page.goto(service.url + "/admin/")
    assert "/login" in page.url


@pytest.mark.parametrize("target", ["/admin/vms%0D%0ASet-Cookie:%20planted=1",
                                    "/%5Cevil.example", "//evil.example/", "https://evil.example/"])
def test_unsafe_next_targets_are_ignored(page: Page, service: Service, target: str) -> None:
    """A login link with a header-splitting or off-site ``next`` logs in to the portal's own
    front page: no error page, no planted cookie, no trip elsewhere."""
    page.goto(f"{service.url}/login?next={target}")
    page.fill("#username", ADMIN)
    page.fill("#password", service.admin_password)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.url == service.url + "/admin/"
    assert "planted" not in {c["name"] for c in page.context.cookies()}
    again = page.request.get(f"{service.url}/login?next={target}", max_redirects=0)
    assert again.status == 200  # logged in, nowhere safe to go: the login page


def test_session_cookie_is_httponly_and_samesite(admin: Page) -> None:
    cookie = next(c for c in admin.context.cookies() if c["name"] == "virtstick_session")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"


def test_forms_without_the_csrf_token_are_refused(admin: Page, service: Service) -> None:
    admin.goto(service.url + "/admin/vms")
    form: dict[str, str | float | bool] = {"name": "csrf-victim", "memory_mib": "64"}
    missing = admin.request.post(service.url + "/admin/vms", form=form)
    wrong = admin.request.post(service.url + "/admin/vms", form={**form, "csrf_token": "x" * 43})
    logout = admin.request.post(service.url + "/logout", form={})
    assert (missing.status, wrong.status, logout.status) == (403, 403, 403)
    assert "security token" in missing.text()
    admin.goto(service.url + "/admin/vms")
    assert admin.locator("a", has_text="csrf-victim").count() == 0
    assert admin.locator("[data-user]").inner_text() == ADMIN  # still logged in


def test_logout_ends_the_session(browser: Browser, service: Service) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    log_in(page, service, ADMIN, service.admin_password)
    copied = context.cookies()  # what someone who stole the cookie would hold
    page.get_by_role("button", name="Log out").click()
    assert page.url.endswith("/login")
    page.goto(service.url + "/admin/vms")
    assert "/login" in page.url
    assert page.request.get(service.url + "/status/vms.json").status == 401
    context.close()
    thief = browser.new_context(viewport=VIEWPORT)
    thief.add_cookies(copied)  # type: ignore[arg-type]
    assert thief.request.get(service.url + "/status/vms.json").status == 401
    thief.close()


@pytest.fixture(scope="module")
def running_vm(admin_session: Page, service: Service) -> Iterator[tuple[Page, str]]:
    """A demo VM that runs, and an admin page logged in to reach it."""
    vm_id = create_vm(admin_session, service, "ticketed", start=True)
    yield admin_session, vm_id
    post(admin_session, service, f"/admin/vms/{vm_id}/action", action="stop")


def ticket(page: Page, service: Service, vm_id: str) -> dict[str, object]:
    response = page.request.post(service.url + f"/console/{vm_id}/ticket.json",
                                 headers={"X-CSRF-Token": csrf(page)})
    assert response.ok, response.text()
    answer: dict[str, object] = response.json()
    return answer


def open_console(service: Service, answer: dict[str, object], cookie: str) -> bytes:
    """Through the proxy to the VM's VNC server: its first words are the RFB version."""
    url = f"ws://127.0.0.1:{service.console_port}{answer['path']}"
    with connect(url, additional_headers={"Cookie": cookie}, open_timeout=10) as ws:
        greeting = ws.recv(timeout=10)
    assert isinstance(greeting, bytes)
    return greeting


@pytest.mark.slow
def test_console_ticket_works_once(running_vm: tuple[Page, str], service: Service) -> None:
    page, vm_id = running_vm
    answer = ticket(page, service, vm_id)
    assert open_console(service, answer, cookie_header(page)).startswith(b"RFB 003.")
    with pytest.raises(InvalidStatus) as refused:
        open_console(service, answer, cookie_header(page))
    assert refused.value.response.status_code == 401


@pytest.mark.slow
def test_console_needs_the_users_session(running_vm: tuple[Page, str], service: Service) -> None:
    page, vm_id = running_vm
    answer = ticket(page, service, vm_id)
    with pytest.raises(InvalidStatus) as refused:
        open_console(service, answer, "virtstick_session=forged")
    assert refused.value.response.status_code == 401
    # Without a session the ticket is not even looked at: its user can still use it.
    assert open_console(service, answer, cookie_header(page)).startswith(b"RFB 003.")


@pytest.mark.slow
def test_ticket_needs_the_csrf_token(running_vm: tuple[Page, str], service: Service) -> None:
    page, vm_id = running_vm
    response = page.request.post(service.url + f"/console/{vm_id}/ticket.json")
    assert response.status == 403
    assert response.json()["code"] == "csrf-refused"


@pytest.mark.slow
def test_remote_viewer_file(running_vm: tuple[Page, str], service: Service) -> None:
    page, vm_id = running_vm
    response = page.request.post(service.url + f"/console/{vm_id}/console.vv",
                                 form={"csrf_token": csrf(page)})
    assert response.ok
    assert response.headers["content-type"].startswith("application/x-virt-viewer")
    text = response.text()
    fields = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    assert text.startswith("[virt-viewer]")
    assert fields["type"] == "vnc"
    assert fields["host"] == "127.0.0.1"
    assert int(fields["port"]) >= 5900
    assert len(fields["password"]) == 8


@pytest.mark.slow
def test_console_ticket_is_for_its_user_alone(running_vm: tuple[Page, str], service: Service,
                                              browser: Browser) -> None:
    page, vm_id = running_vm
    post(page, service, "/admin/users", name="mallory", password="mallory-password-1",
         role="UserRole")
    context = browser.new_context(viewport=VIEWPORT)
    mallory = context.new_page()
    log_in(mallory, service, "mallory@internal", "mallory-password-1")
    answer = ticket(page, service, vm_id)
    with pytest.raises(InvalidStatus) as refused:
        open_console(service, answer, cookie_header(mallory))
    assert refused.value.response.status_code == 403
    # Nor may she ask for a ticket of a VM that is not hers: it does not exist for her.
    mallory.goto(service.url + "/user/")
    response = mallory.request.post(service.url + f"/console/{vm_id}/ticket.json",
                                    headers={"X-CSRF-Token": csrf(mallory)})
    assert response.status == 404
    context.close()


def vnc_response(password: str, challenge: bytes) -> bytes:
    """RFB's VNC authentication: DES of the challenge, keyed by the password with each
    byte's bits reversed (single DES is TripleDES with one 8-byte key)."""
    key = bytes(int(f"{b:08b}"[::-1], 2) for b in password.encode().ljust(8, b"\0")[:8])
    encryptor = Cipher(TripleDES(key * 3), modes.ECB()).encryptor()
    return encryptor.update(challenge) + encryptor.finalize()


def vnc_login(send: Callable[[bytes], None], recv: Callable[[int], bytes],
              password: str) -> int:
    """The RFB 3.8 handshake up to the security result: 0 means logged in."""
    version = recv(12)
    assert version.startswith(b"RFB 003.")
    send(b"RFB 003.008\n")
    count = recv(1)[0]
    types = recv(count)
    assert 2 in types, f"the display offers no VNC authentication: {types!r}"
    send(bytes([2]))
    send(vnc_response(password, recv(16)))
    return int.from_bytes(recv(4), "big")


def display_port(vm_id: str) -> int:
    conn = libvirt.open("qemu:///system")
    try:
        xml = conn.lookupByUUIDString(vm_id).XMLDesc(0)
    finally:
        conn.close()
    match = re.search(r"<graphics type='vnc' port='(\d+)'", xml)
    assert match, xml
    return int(match.group(1))


@pytest.mark.slow
def test_display_password_works_once(running_vm: tuple[Page, str], service: Service) -> None:
    page, vm_id = running_vm
    answer = ticket(page, service, vm_id)
    password = str(answer["password"])
    url = f"ws://127.0.0.1:{service.console_port}{answer['path']}"
    with connect(url, additional_headers={"Cookie": cookie_header(page)}) as ws:
        buffer = bytearray()

        def recv(n: int) -> bytes:
            while len(buffer) < n:
                message = ws.recv(timeout=10)
                buffer.extend(message if isinstance(message, bytes) else message.encode())
            data = bytes(buffer[:n])
            del buffer[:n]
            return data

        assert vnc_login(ws.send, recv, password) == 0
    # Straight to the display with the same password, within the ticket's seconds: refused.
    with socket.create_connection(("127.0.0.1", display_port(vm_id)), timeout=10) as sock:
        reader = sock.makefile("rb")
        assert vnc_login(sock.sendall, reader.read, password) != 0


def vnc_session(port: int, password: str) -> int:
    """A direct client of the display, as remote-viewer is: login, then ClientInit (after
    which QEMU reports the client as in)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        reader = sock.makefile("rb")
        result = vnc_login(sock.sendall, reader.read, password)
        if result == 0:
            sock.sendall(b"\x01")  # share the display
            assert len(reader.read(24)) == 24  # ServerInit: the display is ours
        return result


@pytest.mark.slow
@pytest.mark.parametrize("source", ["remote-viewer", "ticket"])
def test_direct_display_passwords_work_once(running_vm: tuple[Page, str], service: Service,
                                            source: str) -> None:
    """The ``.vv`` file's password (two minutes) and a browser ticket's (seconds) let one
    client in straight to 127.0.0.1:59xx; the next one with it is refused within seconds."""
    page, vm_id = running_vm
    if source == "remote-viewer":
        response = page.request.post(service.url + f"/console/{vm_id}/console.vv",
                                     form={"csrf_token": csrf(page)})
        assert response.ok
        password = dict(line.split("=", 1) for line in response.text().splitlines()
                        if "=" in line)["password"]
    else:
        password = str(ticket(page, service, vm_id)["password"])
    port = display_port(vm_id)
    assert vnc_session(port, password) == 0
    deadline = time.monotonic() + 5
    while vnc_session(port, password) == 0:
        assert time.monotonic() < deadline, "the password still works"
        time.sleep(0.2)
