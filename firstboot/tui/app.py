"""The console face: a Textual app walking the steps, or just the network step on a re-run.

It shares the WizardSession with the web face; if the web page finishes first, the console
shows the result too.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from textual import work
from textual.app import App
from textual.widgets import Label, Static

from appliance.errors import VirtStickError
from firstboot.answers import parse_network
from firstboot.apply import apply_network_again
from firstboot.session import SessionState, WizardSession
from firstboot.tui.screens import (
    AdminScreen,
    DoneScreen,
    NetworkScreen,
    StepScreen,
    StorageScreen,
    SummaryScreen,
    WelcomeScreen,
)

FULL = (WelcomeScreen, NetworkScreen, StorageScreen, AdminScreen, SummaryScreen)
NETWORK_ONLY = (NetworkScreen, SummaryScreen)
OTHER_FACE_EXIT_S = 3.0


class WizardApp(App[str]):
    """Returns the appliance URL when done (None when quit)."""

    CSS_PATH = Path(__file__).with_name("wizard.tcss")
    TITLE = "VirtStick setup"
    BINDINGS = [("ctrl+q", "quit", "Quit")]

    def __init__(self, session: WizardSession, *, network_only: bool = False,
                 initial: Mapping[str, Mapping[str, str]] | None = None) -> None:
        super().__init__()
        self.session = session
        self.network_only = network_only
        self.steps: tuple[type[StepScreen], ...] = NETWORK_ONLY if network_only else FULL
        # Raw values per step; ``initial`` pre-fills them (the current network on a re-run).
        self.answers: dict[str, Any] = {k: dict(v) for k, v in (initial or {}).items()}
        self._applying = False

    def on_mount(self) -> None:
        self.push_screen(self.steps[0](self))
        self.set_interval(0.5, self._watch_other_face)

    def next_step(self, current: str) -> None:
        names = [s.name_ for s in self.steps]
        self.push_screen(self.steps[names.index(current) + 1](self))

    def start_apply(self) -> None:
        self._applying = True
        self._apply()

    @work(thread=True, exclusive=True)
    def _apply(self) -> None:
        try:
            if self.network_only:
                network = parse_network(self.answers["network"], self.session.facts)
                result = apply_network_again(network, self.session.settings,
                                             on_step=self._progress)
                url = ", ".join(result.addresses)
            else:
                raw = {"network": self.answers["network"], "storage": {
                    **self.answers["storage"],
                    "confirm_wipe": self.answers["storage"].get("confirm_wipe") is True},
                    "admin": {k: v for k, v in self.answers["admin"].items()
                              if k != "timezone"},
                    "timezone": self.answers["admin"].get("timezone", "UTC")}
                url = self.session.submit(raw).url
        except VirtStickError as exc:
            self.call_from_thread(self._failed, exc.detail)
            return
        self.call_from_thread(self.push_screen,
                              DoneScreen(url, network_only=self.network_only))

    def _progress(self, step: object, state: object, detail: str) -> None:
        self.call_from_thread(self._show_progress, f"{step}: {state} {detail}".strip())

    def _show_progress(self, text: str) -> None:
        if isinstance(self.screen, SummaryScreen):
            self.screen.query_one("#progress", Static).update(text)

    def _failed(self, detail: str) -> None:
        self._applying = False
        if isinstance(self.screen, SummaryScreen):
            self.screen.query_one("#failure", Label).update(detail)
            self.screen.query_one("#next").disabled = False

    def _watch_other_face(self) -> None:
        if self.session.progress.steps:
            self._show_progress(", ".join(f"{step.value}: {state.value}" for step, state
                                          in list(self.session.progress.steps.items())))
        outcome = self.session.outcome
        if (self.session.state is SessionState.DONE and outcome is not None
                and not self._applying and not isinstance(self.screen, DoneScreen)):
            self._applying = True
            self.push_screen(DoneScreen(outcome.url))
            # Nobody may be at the console: finish by ourselves so the service can start.
            self.set_timer(OTHER_FACE_EXIT_S, lambda: self.exit(outcome.url))
