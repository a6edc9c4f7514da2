"""The service's command line: mistakes end in one line with a hint, never a traceback."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path


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
