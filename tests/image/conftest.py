"""Fixtures for the image builder's tests: apt/dnf configuration in tmp dirs, a local mirror.

The "mirror" is a real HTTP server on 127.0.0.1 serving the files a mirror probe fetches, so
mirror detection is tested over real sockets; an unreachable mirror is a closed local port.
"""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest


class LocalMirror:
    def __init__(self, root: Path, url: str) -> None:
        self.root = root
        self.url = url

    def publish(self, relative: str, body: str = "ok\n") -> None:
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body)


@pytest.fixture
def local_mirror(tmp_path: Path) -> Iterator[LocalMirror]:
    root = tmp_path / "mirror"
    root.mkdir()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(root), **kwargs)  # type: ignore[arg-type]

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LocalMirror(root, f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def closed_url() -> str:
    """A URL on a local port nobody listens on: connection refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/fedora/linux"


def write_deb822(apt_dir: Path, archive: str, security: str) -> None:
    (apt_dir / "sources.list.d").mkdir(parents=True, exist_ok=True)
    (apt_dir / "sources.list.d" / "debian.sources").write_text(
        f"Types: deb\n# a comment\nURIs: {archive}\nSuites: bookworm bookworm-updates\n"
        "Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
        f"Types: deb\nURIs: {security}\nSuites: bookworm-security\nComponents: main\n"
    )
