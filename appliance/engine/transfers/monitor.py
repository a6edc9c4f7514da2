"""Watches open transfers: progress for the API, and the inactivity timeout.

oVirt's engine polls the host's tickets the same way: a transfer whose client made no request
for its ``inactivity_timeout`` is cancelled (policies ``legacy`` and ``cancel``) or paused
(``pause``); one whose ticket the daemon no longer has (it restarted) is cancelled. Finished
transfers are kept for a while, then forgotten.
"""

from __future__ import annotations

import logging
import threading

from appliance.engine.context import EngineContext
from appliance.engine.transfers.model import ImageTransfer, TimeoutPolicy
from appliance.engine.transfers.service import ImageTransfers
from appliance.errors import VirtStickError

log = logging.getLogger(__name__)

KEEP_FINISHED = 15 * 60.0  # seconds a finished transfer stays visible


class TransferMonitor:
    def __init__(self, ctx: EngineContext, transfers: ImageTransfers, *,
                 interval: float = 1.0) -> None:
        self.ctx = ctx
        self.transfers = transfers
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="image-transfers", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def check(self) -> None:
        """One pass over the open transfers (the thread's loop; tests call it directly)."""
        for transfer in self.transfers.open_transfers():
            try:
                self._check_one(transfer)
            except VirtStickError as exc:
                log.warning("image transfer %s: %s", transfer.id, exc.detail)
        self.transfers.forget_finished(older_than=KEEP_FINISHED)

    def _check_one(self, transfer: ImageTransfer) -> None:
        status = self.ctx.hosts.agent(transfer.host_id).image_transfer_status(transfer.ticket_id)
        if status is None:
            self.transfers.cancel_by_system(transfer, "the host's data server lost the "
                                            "transfer's ticket (it restarted)")
            return
        self.transfers.record_progress(transfer, transferred=status.transferred,
                                       active=status.active)
        if status.active or status.idle_time < transfer.inactivity_timeout:
            return
        reason = (f"no request from the client for {status.idle_time} s (the inactivity "
                  f"timeout is {transfer.inactivity_timeout} s)")
        if transfer.timeout_policy is TimeoutPolicy.PAUSE:
            self.transfers.pause_by_system(transfer, reason)
        else:
            self.transfers.cancel_by_system(transfer, reason)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception:
                log.exception("image transfer monitor failed")
