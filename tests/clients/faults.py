"""What stops each client today, by noun: the first request the service refuses (or the
value it drops) and what oVirt does instead. Each entry is a strict xfail; the fix that makes
a client pass removes its line (a passing xfail fails the suite until then)."""

from __future__ import annotations

EXAMPLE_FAULTS: dict[str, str] = {
}

PLAY_FAULTS: dict[str, str] = {
    # behind the search terms
}
