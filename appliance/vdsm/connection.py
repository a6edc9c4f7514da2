"""A libvirt connection that survives libvirtd restarts and follows libvirt's events.

libvirt delivers events only through an event loop registered before the connection opens,
so one loop thread serves the process. When libvirtd goes away the close callback fires;
a watcher reconnects, re-registers the callbacks and tells the owner, who reconciles
(events may have been missed meanwhile).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

import libvirt

from appliance.errors import HostAgentError

log = logging.getLogger(__name__)

LifecycleCallback = Callable[[str, int, int], None]  # domain uuid, event, detail
# domain uuid, domain name, phase, the display's port the client reached ("" if unknown)
GraphicsCallback = Callable[[str, str, int, str], None]

_loop_lock = threading.Lock()
_loop_started = False


def _ensure_event_loop() -> None:
    global _loop_started
    with _loop_lock:
        if _loop_started:
            return
        libvirt.virEventRegisterDefaultImpl()

        def run() -> None:
            while True:
                libvirt.virEventRunDefaultImpl()

        threading.Thread(target=run, name="libvirt-events", daemon=True).start()
        _loop_started = True


# libvirt logs every failed call to stderr by default; our callers turn them into errors.
libvirt.registerErrorHandler(lambda _ctx, _err: None, None)


class LibvirtConnection:
    def __init__(self, uri: str, *, on_lifecycle: LifecycleCallback | None = None,
                 on_graphics: GraphicsCallback | None = None,
                 on_reconnect: Callable[[], None] | None = None,
                 retry_interval: float = 1.0) -> None:
        self.uri = uri
        self._on_lifecycle = on_lifecycle
        self._on_graphics = on_graphics
        self._on_reconnect = on_reconnect
        self._retry_interval = retry_interval
        self._conn: libvirt.virConnect | None = None
        self._callback_id: int | None = None
        self._graphics_id: int | None = None
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None

    def open(self) -> None:
        _ensure_event_loop()
        self._connect()
        self._watcher = threading.Thread(target=self._watch, name="libvirt-watch", daemon=True)
        self._watcher.start()

    @property
    def conn(self) -> libvirt.virConnect:
        conn = self._conn
        if conn is None:
            raise HostAgentError(f"libvirt at {self.uri} is not reachable; retrying")
        return conn

    @property
    def connected(self) -> bool:
        return self._conn is not None

    def close(self) -> None:
        self._stopping.set()
        self._closed.set()
        with self._lock:
            if self._conn is not None:
                # libvirt keeps a connection (and its callbacks) alive while callbacks are
                # registered: deregister first, or a stopped engine would still get events.
                with contextlib.suppress(libvirt.libvirtError):
                    for callback_id in (self._callback_id, self._graphics_id):
                        if callback_id is not None:
                            self._conn.domainEventDeregisterAny(callback_id)
                    self._conn.unregisterCloseCallback()
                    self._conn.close()
                self._conn = None

    def _connect(self) -> None:
        self._closed.clear()  # before the callbacks exist, so a close right away is not lost
        try:
            conn = libvirt.open(self.uri)
        except libvirt.libvirtError as exc:
            raise HostAgentError(f"cannot connect to libvirt at {self.uri}: {exc}") from None
        try:
            conn.setKeepAlive(5, 3)
            conn.registerCloseCallback(self._closed_by_libvirt, None)
            if self._on_lifecycle is not None:
                self._callback_id = conn.domainEventRegisterAny(
                    None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self._lifecycle, None
                )
            if self._on_graphics is not None:
                self._graphics_id = conn.domainEventRegisterAny(
                    None, libvirt.VIR_DOMAIN_EVENT_ID_GRAPHICS, self._graphics, None)
        except libvirt.libvirtError as exc:
            # The daemon went away while we set up (it may still be starting): try again.
            with contextlib.suppress(libvirt.libvirtError):
                conn.close()
            raise HostAgentError(f"libvirt at {self.uri} closed while connecting: {exc}") from None
        with self._lock:
            self._conn = conn

    def _lifecycle(self, _conn: Any, dom: Any, event: int, detail: int, _opaque: Any) -> None:
        assert self._on_lifecycle is not None
        if self._stopping.is_set():
            return
        try:
            self._on_lifecycle(dom.UUIDString(), event, detail)
        except Exception:
            log.exception("handling a libvirt lifecycle event failed")

    def _graphics(self, _conn: Any, dom: Any, phase: int, local: Any, _remote: Any,
                  _scheme: Any, _subject: Any, _opaque: Any) -> None:
        assert self._on_graphics is not None
        if self._stopping.is_set():
            return
        port = str(local.get("service", "")) if isinstance(local, dict) else ""
        try:
            self._on_graphics(dom.UUIDString(), dom.name(), phase, port)
        except Exception:
            log.exception("handling a libvirt graphics event failed")

    def _closed_by_libvirt(self, conn: Any, reason: int, _opaque: Any) -> None:
        log.warning("libvirt connection to %s closed (reason %d)", self.uri, reason)
        with self._lock:
            if self._conn is None or self._conn is conn or conn is None:
                self._conn = None  # a late close of an older connection drops nothing
        self._closed.set()

    def _watch(self) -> None:
        """Reconnect whenever the connection is gone: at once when libvirt says it closed,
        and at every check otherwise (a close can go unreported while the daemon restarts)."""
        while not self._stopping.is_set():
            self._closed.wait(timeout=self._retry_interval * 5)
            if self._stopping.is_set():
                return
            conn = self._conn
            if conn is not None:
                try:
                    alive = bool(conn.isAlive())
                except libvirt.libvirtError:
                    alive = False
                if alive:
                    self._closed.clear()
                    continue
                with self._lock:
                    self._conn = None
            try:
                self._connect()
            except HostAgentError:
                self._closed.set()  # keep trying
                self._stopping.wait(self._retry_interval)
                continue
            log.info("reconnected to libvirt at %s", self.uri)
            if self._on_reconnect is not None:
                try:
                    self._on_reconnect()
                except Exception:
                    log.exception("reconciling after reconnect failed")
