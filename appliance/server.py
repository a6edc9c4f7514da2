"""Run the combined service: the engine, then waitress serving the app, until stopped."""

from __future__ import annotations

import logging
import resource
import signal
import socket
import threading
from dataclasses import dataclass
from types import FrameType

from flask import Flask
from waitress.server import BaseWSGIServer, MultiSocketServer

from appliance import httpserver, tls
from appliance.config import Config
from appliance.connection_limits import ConnectionLimiter, ConnectionLimits
from appliance.engine.engine import Engine
from appliance.security import certificates
from appliance.startup import StartupClock
from appliance.tls import TlsFront
from appliance.vdsm.qemu_access import require_reachable
from appliance.web import create_app
from webui import start_console_proxy
from webui import stop as stop_portals

log = logging.getLogger(__name__)


def serve(config: Config, *, ready: threading.Event | None = None,
          clock: StartupClock | None = None, routed: Flask | None = None) -> None:
    """Serve until stopped; ``clock`` times the start-up's phases in the log (one is made
    here when the caller has none); ``routed``: the routes, made before the configuration
    was there (appliance.web.routes)."""
    if clock is None:
        clock = StartupClock()
        clock.mark("interpreter and imports")
    with clock.phase("checks"):
        # VMs that could never start are refused now, in one line that says what to change.
        require_reachable({"the storage domain": config.storage.path,
                           "the serial consoles": config.appliance.state_dir},
                          libvirt_uri=config.appliance.libvirt_uri)
        _raise_open_files_limit()
        listeners = _bind(config)  # a taken port fails now, not after the engine's slow start
    with clock.phase("engine"):
        engine = Engine(config)
        engine.start(clock)
    with clock.phase("web application"):
        app = create_app(engine, routed=routed)
    with clock.phase("listeners"):
        server, front = _serve_on(listeners, config, app)
        console_proxies = start_console_proxy(app, engine)
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping (running VMs keep running)", signum)
        stop.set()
        if front is not None:
            front.close()
        server.close()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if config.http.listen:
        log.info("serving on http://%s", config.http.listen)
    if front is not None:
        front.start()
        log.info("serving on https://%s", config.http.https_listen)
    clock.mark("ready to serve")
    if ready is not None:
        ready.set()
    try:
        server.run()
    except (OSError, ValueError):
        if not stop.is_set():
            raise
    finally:
        for proxy in console_proxies:
            proxy.stop()
        stop_portals(app)
        engine.stop()


@dataclass(frozen=True)
class _Listeners:
    plain: socket.socket | None
    https: socket.socket | None


def _bind(config: Config) -> _Listeners:
    return _Listeners(
        plain=tls.bind(config.http.listen) if config.http.listen else None,
        https=tls.bind(config.http.https_listen) if config.http.https_listen else None,
    )


def _serve_on(listeners: _Listeners, config: Config,
              app: Flask) -> tuple[BaseWSGIServer | MultiSocketServer, TlsFront | None]:
    """Plain HTTP on ``http.listen``; HTTPS on ``http.https_listen`` through a TLS front that
    pipes to a loopback listener of its own (either may be disabled with "")."""
    limits = ConnectionLimits.from_config(config.http)
    served = []
    if listeners.plain is not None:
        served.append(httpserver.Listener(listeners.plain, limits,
                                          ConnectionLimiter(limits, name="http")))
    gate = app.extensions["body_gate"]
    if listeners.https is None:
        return httpserver.create_server(app, served, gate=gate), None
    internal = tls.bind("127.0.0.1:0")
    internal_port = int(internal.getsockname()[1])
    addresses = tls.ClientAddresses()
    host = config.http.https_listen.rpartition(":")[0].strip("[]")
    front = TlsFront(listeners.https, backend_port=internal_port,
                     certificates=certificates.ensure(config.appliance.state_dir, names=(host,)),
                     addresses=addresses, limits=limits)
    # The front counts HTTPS clients by their real address; its pipes all come from here.
    served.append(httpserver.Listener(internal, limits, None))
    server = httpserver.create_server(addresses.middleware(app, internal_port=internal_port),
                                      served, gate=gate)
    return server, front


def _raise_open_files_limit() -> None:
    """Each HTTPS connection holds three descriptors (client, pipe, waitress's end): the
    connection limits, not the usual 1024 descriptors, must be what refuses clients."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (ValueError, OSError) as exc:
            log.warning("cannot raise the open files limit from %d: %s", soft, exc)
