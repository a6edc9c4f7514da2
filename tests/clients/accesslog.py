"""``virtstick serve`` with an access log, for the client tests only: every request's method,
path, query, status and the heads of both bodies, one JSON line each, so a failing client
run can name its first refused request. The log wraps Flask's ``wsgi_app`` (Flask's own way
to add WSGI middleware); the service is otherwise the one users run.

    python -m tests.clients.accesslog LOGFILE serve --config virtstick.toml
"""

from __future__ import annotations

import io
import json
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from flask import Flask

import appliance.server
from appliance.cli import main as cli_main
from appliance.web import create_app

HEAD = 600  # bytes of each body kept: enough for a fault's reason and detail

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class AccessLog:
    def __init__(self, app: WsgiApp, path: Path) -> None:
        self.app = app
        self.file = path.open("a", encoding="utf-8")
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterator[bytes]:
        body = _read_body(environ)
        status: list[str] = []

        def recording_start(code: str, headers: list[tuple[str, str]],
                            *args: Any) -> Any:
            status.append(code)
            return start_response(code, headers, *args)

        started = time.time()
        reply = bytearray()
        for chunk in self.app(environ, recording_start):
            if len(reply) < HEAD:
                reply += chunk[:HEAD - len(reply)]
            yield chunk
        self._write({
            "time": round(started, 3), "method": environ.get("REQUEST_METHOD", ""),
            "path": environ.get("PATH_INFO", ""), "query": environ.get("QUERY_STRING", ""),
            "status": int(status[0].split()[0]) if status else 0,
            "request": body[:HEAD].decode("utf-8", "replace"),
            "reply": bytes(reply).decode("utf-8", "replace"),
        })

    def _write(self, record: dict[str, object]) -> None:
        with self.lock:
            self.file.write(json.dumps(record) + "\n")
            self.file.flush()


def _read_body(environ: dict[str, Any]) -> bytes:
    """The request body, read once and put back for the app."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def main(argv: list[str]) -> int:
    log_path = Path(argv[0])

    def logged_app(engine: Any, *, routed: Flask | None = None) -> Flask:
        app = create_app(engine, routed=routed)
        app.wsgi_app = AccessLog(app.wsgi_app, log_path)  # type: ignore[method-assign]
        return app

    # The one seam of this harness: serve() builds its app with this name.
    appliance.server.create_app = logged_app  # type: ignore[attr-defined]
    return cli_main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
