"""Throttling of failed logins, by who tries from where, never by the account alone.

A lock on a user name that failures from anywhere trigger is a lock an attacker holds over
the real user: five guesses from one machine would keep ``admin@internal`` out of every
other. So failures count per (user, address), which slows a guesser on that name from that
place, and per address, which slows one place guessing many names; a correct password from
an address that has not failed gets in. IPv6 addresses count by their /64, which one
machine can fill with addresses of its own.
"""

from __future__ import annotations

import ipaddress
import threading
from dataclasses import dataclass

from appliance.errors import TooManyAttempts


@dataclass(frozen=True)
class _Failures:
    count: int
    last: float


class LoginThrottle:
    """After ``max_failures`` failed logins for a key, refuse it for a delay that doubles with
    each further failure; a success clears the key. At most ``max_keys`` keys are kept
    (the oldest go first), so a flood of addresses cannot fill memory."""

    def __init__(self, *, max_failures: int = 5, base_delay: float = 30.0,
                 max_delay: float = 900.0, max_keys: int = 10000) -> None:
        self.max_failures = max_failures
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.max_keys = max_keys
        self._lock = threading.Lock()
        self._failures: dict[str, _Failures] = {}  # in order of their last failure

    def check(self, key: str, *, now: float) -> None:
        with self._lock:
            found = self._failures.get(key)
        if found is None or found.count < self.max_failures:
            return
        wait = self._delay(found.count) - (now - found.last)
        if wait > 0:
            raise TooManyAttempts(f"Too many failed logins: try again in {int(wait) + 1} s.")

    def failed(self, key: str, *, now: float) -> None:
        with self._lock:
            found = self._failures.pop(key, None)
            self._failures[key] = _Failures((found.count if found else 0) + 1, now)
            self._forget_old(now)

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _delay(self, count: int) -> float:
        extra = max(0, count - self.max_failures)
        return float(min(self.max_delay, self.base_delay * 2 ** min(extra, 16)))

    def _forget_old(self, now: float) -> None:
        """Keys quiet for twice the longest delay are over; past ``max_keys``, the oldest."""
        for key, found in list(self._failures.items()):
            if now - found.last <= 2 * self.max_delay and len(self._failures) <= self.max_keys:
                break
            del self._failures[key]


class LoginThrottles:
    """The two throttles a login passes: (user, address) and address."""

    def __init__(self, *, per_user_and_address: int = 5, per_address: int = 30) -> None:
        self.user_at_address = LoginThrottle(max_failures=per_user_and_address)
        self.address = LoginThrottle(max_failures=per_address)

    def check(self, user: str, address: str, *, now: float) -> None:
        for throttle, key in self._keys(user, address):
            throttle.check(key, now=now)

    def failed(self, user: str, address: str, *, now: float) -> None:
        for throttle, key in self._keys(user, address):
            throttle.failed(key, now=now)

    def succeeded(self, user: str, address: str) -> None:
        for throttle, key in self._keys(user, address):
            throttle.succeeded(key)

    def _keys(self, user: str, address: str) -> tuple[tuple[LoginThrottle, str], ...]:
        source = source_of(address)
        return ((self.user_at_address, f"{user.lower()}\0{source}"), (self.address, source))


def source_of(address: str) -> str:
    """The unit one client controls: an IPv4 address, an IPv6 /64."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)
