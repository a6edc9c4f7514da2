"""Run the combined service: the engine, then waitress serving the app, until stopped."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

import waitress

from appliance.config import Config
from appliance.engine.engine import Engine
from appliance.web import create_app

log = logging.getLogger(__name__)


def serve(config: Config, *, ready: threading.Event | None = None) -> None:
    engine = Engine(config)
    engine.start()
    app = create_app(engine)
    server = waitress.create_server(app, listen=config.http.listen, threads=8,
                                    ident="VirtStick")
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping (running VMs keep running)", signum)
        stop.set()
        server.close()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log.info("serving on http://%s", config.http.listen)
    if ready is not None:
        ready.set()
    try:
        server.run()
    except (OSError, ValueError):
        if not stop.is_set():
            raise
    finally:
        engine.stop()
