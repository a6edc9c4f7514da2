"""The service's command line: mistakes end in one line with a hint, never a traceback."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

from appliance.cli import development_config
from firstboot import appliance_config


def _serve(state_dir: Path, listen: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "appliance.cli", "serve", "--state-dir", str(state_dir),
         "--listen", listen],
        capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "VIRTSTICK_ADMIN_PASSWORD": "pw-1234567"},
    )


def test_a_taken_port_is_named_before_anything_starts(state_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _serve(state_dir, f"127.0.0.1:{port}")
    assert result.returncode == 2
    assert f"Cannot listen on 127.0.0.1:{port}: Address already in use" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (state_dir / "engine.db").exists()  # failed before the engine started


def test_a_listen_address_without_a_port_is_explained(state_dir: Path) -> None:
    result = _serve(state_dir, "127.0.0.1:http")
    assert result.returncode == 2
    assert "'127.0.0.1:http' is not HOST:PORT" in result.stderr
    assert "Traceback" not in result.stderr


def _client(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "appliance.cli", *args], capture_output=True,
                          text=True, timeout=60,
                          env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
                               "VIRTSTICK_PASSWORD": "pw-1234567"})


def test_a_url_or_ca_file_that_cannot_be_used_is_explained(tmp_path: Path) -> None:
    """No service needed: each is refused before any request (they ended in tracebacks)."""
    bad_ca = tmp_path / "ca.pem"
    bad_ca.write_text("not a certificate\n")
    for args, words in (
            (("--url", "http://[::1"), "is not a URL (Invalid IPv6 URL)"),
            (("--url", "not a url"), "is not an http:// or https:// URL"),
            (("--url", "http://127.0.0.1:99999"), "is not a URL (Port out of range"),
            (("--url", "https://127.0.0.1:1", "--ca-file", str(tmp_path / "none.pem")),
             "Cannot use the CA file"),
            (("--url", "https://127.0.0.1:1", "--ca-file", str(bad_ca)),
             "Cannot use the CA file")):
        result = _client("list", *args)
        assert result.returncode == 2, (args, result.stderr)
        assert words in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_serve_waits_for_the_wizards_configuration_then_serves(state_dir: Path,
                                                               domain_prefix: str) -> None:
    """The stick starts the service with the first-boot wizard: it loads its code, waits for
    the configuration file, then serves, and its log times each start-up phase."""
    path = state_dir / "virtstick.toml"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "VIRTSTICK_ADMIN_PASSWORD": "pw-1234567"}
    service = subprocess.Popen(
        [sys.executable, "-m", "appliance.cli", "serve", "--config", str(path),
         "--wait-for-config"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env=env)
    try:
        assert _log_until(service, "the first-boot wizard writes it")
        assert service.poll() is None
        config = development_config(state_dir / "state").replace(
            appliance={"virt_type": "qemu", "domain_prefix": domain_prefix, "demo_disk": ""},
            http={"listen": f"127.0.0.1:{port}"})
        appliance_config.write(config, path)
        assert _log_until(service, "startup: ready to serve")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=30) as answer:
            assert answer.status == 200
    finally:
        service.terminate()
        service.wait(timeout=60)


def _log_until(service: subprocess.Popen[str], text: str, timeout: float = 120) -> bool:
    """Whether the service's log says ``text`` within ``timeout`` (read in a thread: a
    silent service must not block the test)."""
    assert service.stderr is not None
    stream = service.stderr
    found = threading.Event()

    def read() -> None:
        for line in stream:
            if text in line:
                found.set()
                return

    threading.Thread(target=read, daemon=True).start()
    return found.wait(timeout)
