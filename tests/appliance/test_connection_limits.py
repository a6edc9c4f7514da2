"""The connection limiter every listener shares, without sockets: per-address and total
bounds, and who makes room when the listener is full."""

from __future__ import annotations

from dataclasses import dataclass

from appliance.connection_limits import ConnectionLimiter, ConnectionLimits


@dataclass(eq=False)
class Fake:
    """Stands in for a connection: the limiter only asks whether it waits and evicts it."""

    since: float | None = 0.0
    evicted: bool = False

    def waiting_since(self) -> float | None:
        return self.since

    def evict(self) -> None:
        self.evicted = True


def test_an_address_holds_its_limit_and_no_more() -> None:
    limiter = ConnectionLimiter(ConnectionLimits(total=100, per_address=3), name="t")
    held = [Fake() for _ in range(3)]
    assert all(limiter.admit("10.0.0.9", h) for h in held)
    assert not limiter.admit("10.0.0.9", Fake())
    assert limiter.admit("10.0.0.8", Fake())  # another address is not affected
    limiter.release(held[0])
    limiter.release(held[0])  # twice is harmless
    assert limiter.open_connections("10.0.0.9") == 2
    assert limiter.admit("10.0.0.9", Fake())


def test_a_full_listener_evicts_the_busiest_addresss_oldest_waiting() -> None:
    limiter = ConnectionLimiter(ConnectionLimits(total=4, per_address=3), name="t")
    serving, waiting_old, waiting_new = Fake(since=None), Fake(since=1.0), Fake(since=2.0)
    other = Fake(since=0.5)
    for held in (serving, waiting_old, waiting_new):
        assert limiter.admit("10.0.0.9", held)
    assert limiter.admit("10.0.0.7", other)
    newcomer = Fake()
    assert limiter.admit("127.0.0.1", newcomer)
    assert waiting_old.evicted and not serving.evicted and not other.evicted
    assert limiter.open_connections() == 4
    assert limiter.open_connections("10.0.0.9") == 2


def test_a_full_listener_of_busy_connections_refuses() -> None:
    limiter = ConnectionLimiter(ConnectionLimits(total=2, per_address=2), name="t")
    busy = [Fake(since=None), Fake(since=None)]
    assert all(limiter.admit("10.0.0.9", h) for h in busy)
    assert not limiter.admit("127.0.0.1", Fake())
    assert not any(h.evicted for h in busy)
