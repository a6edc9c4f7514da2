"""One run of the wizard shared by its faces: the machine's facts, the progress, the result.

The console and the web page may both be open; the first complete, valid set of answers is
applied and the other face sees the session finish. Answers are validated before anything is
applied, so bad input leaves the machine as it was.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from appliance.errors import InvalidState, VirtStickError
from firstboot.answers import Answers, parse_answers
from firstboot.apply import Outcome, Step, StepState, apply_all
from firstboot.hardware import Hardware
from firstboot.settings import WizardSettings

_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off a console


class SessionState(StrEnum):
    ASKING = "asking"
    APPLYING = "applying"
    DONE = "done"
    FAILED = "failed"  # the last apply failed; the faces ask again


class AlreadyApplying(InvalidState):
    code = "wizard-busy"


@dataclass
class Progress:
    steps: dict[Step, StepState] = field(default_factory=dict)
    detail: str = ""


class WizardSession:
    def __init__(self, *, settings: WizardSettings, hardware: Hardware,
                 setup_code: str | None = None, defer_service: bool = False,
                 notices: Sequence[str] = ()) -> None:
        self.settings = settings
        # Shown on both faces' first step: e.g. why the seed was not used.
        self.notices = tuple(notices)
        self._pending: dict[str, Answers] = {}
        # With the web face up, the caller starts the service once port 80 is free.
        self.defer_service = defer_service
        self.hardware = hardware
        self.facts = hardware.facts()
        # Asked of browsers that are not on this machine (the console shows it).
        self.setup_code = setup_code or "".join(secrets.choice(_CODE_ALPHABET)
                                                for _ in range(8))
        self.state = SessionState.ASKING
        self.progress = Progress()
        self.outcome: Outcome | None = None
        self.error: VirtStickError | None = None
        self.done = threading.Event()
        self._lock = threading.Lock()

    def validate(self, raw: Mapping[str, Any]) -> Answers:
        return parse_answers(raw, self.facts)

    def submit(self, raw: Mapping[str, Any]) -> Outcome:
        """Validate then apply; InvalidAnswers (nothing applied) or the failing step's error."""
        return self.apply(self.validate(raw))

    def hold(self, answers: Answers) -> str:
        """Keep validated answers for a summary page; the token applies them later (the
        password travels once, not again in hidden fields)."""
        token = secrets.token_urlsafe(16)
        with self._lock:
            self._pending[token] = answers
        return token

    def held(self, token: str) -> Answers | None:
        with self._lock:
            return self._pending.get(token)

    def apply(self, answers: Answers) -> Outcome:
        with self._lock:
            if self.state in (SessionState.APPLYING, SessionState.DONE):
                raise AlreadyApplying(f"the wizard is already {self.state.value}")
            self.state = SessionState.APPLYING
            self.progress = Progress()
        try:
            outcome = apply_all(answers, self.settings, on_step=self._record,
                                start=not self.defer_service)
        except VirtStickError as exc:
            self.error, self.state = exc, SessionState.FAILED
            raise
        except BaseException:
            self.state = SessionState.FAILED
            raise
        self.outcome, self.error, self.state = outcome, None, SessionState.DONE
        self.done.set()
        return outcome

    def check_code(self, code: str) -> bool:
        return secrets.compare_digest(code.strip().upper(), self.setup_code)

    def _record(self, step: Step, state: StepState, detail: str) -> None:
        self.progress.steps[step] = state
        self.progress.detail = detail
