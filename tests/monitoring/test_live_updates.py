"""The engine's live updates on a real engine: what a subscriber gets as VMs, jobs, events
and statistics change, limited to what its user may see; and a page's stream through Flask's
client, where no server hands the stream over (it holds its thread, for a bounded time)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

from flask.testing import FlaskClient

from appliance.engine import changes
from appliance.engine.authz import Actor
from appliance.engine.changes import ChangeKind
from appliance.engine.engine import Engine
from appliance.engine.enums import VmStatus
from appliance.engine.event_codes import EventCode
from appliance.engine.live import LiveBatch, LiveFeed
from appliance.engine.model import MiB
from appliance.engine.monitoring.measurements import ObjectKind
from appliance.engine.vms import VmCreate
from appliance.web import create_app
from tests.monitoring.conftest import ADMIN_PASSWORD

LOCAL = {"REMOTE_ADDR": "127.0.0.1"}
EVERYTHING = frozenset(ChangeKind)


def take_until(feed: LiveFeed, done: Callable[[LiveBatch], object],
               timeout: float = 20) -> LiveBatch:
    """The batches taken until ``done`` holds for them all together."""
    deadline = time.monotonic() + timeout
    merged = LiveBatch((), (), (), (), (), (), False)
    while time.monotonic() < deadline:
        batch = feed.take()
        merged = LiveBatch(vms=merged.vms + batch.vms,
                           removed_vms=merged.removed_vms + batch.removed_vms,
                           hosts=merged.hosts + batch.hosts, jobs=merged.jobs + batch.jobs,
                           events=merged.events + batch.events,
                           samples=merged.samples + batch.samples,
                           lost=merged.lost or batch.lost)
        if done(merged):
            return merged
        time.sleep(0.05)
    raise AssertionError(f"not in time; got {merged}")


def _admin(engine: Engine) -> Actor:
    return engine.users.authenticate("admin@internal", ADMIN_PASSWORD)


def test_a_user_gets_what_changes_on_their_own_vms_and_nothing_else(engine: Engine) -> None:
    admin = _admin(engine)
    carol = engine.users.actor(engine.users.create_user("carol", "carol-password-1",
                                                        actor=admin).id)
    woken = threading.Event()
    admins = engine.live.subscribe(actor=admin, kinds=EVERYTHING)
    carols = engine.live.subscribe(actor=carol, kinds=EVERYTHING, wake=woken.set)
    cluster = engine.clusters.default().id
    mine = engine.vms.create(VmCreate(name="carols", cluster_id=cluster, memory=64 * MiB),
                             actor=carol)
    other = engine.vms.create(VmCreate(name="admins", cluster_id=cluster, memory=64 * MiB),
                              actor=admin)
    assert woken.wait(5), "the subscriber was not woken"
    seen = take_until(carols, lambda b: b.vms and b.events)
    engine.monitor.wait_rounds(2)
    later = carols.take()
    assert {s.name for s in seen.vms + later.vms} == {"carols"}
    assert {e.event.vm_id for e in seen.events + later.events} == {mine.id}
    assert all(e.vm_name == "carols" for e in seen.events)
    assert not seen.hosts and not later.hosts
    assert not later.samples  # the rounds measured hosts and storage, none of hers
    everything = take_until(admins, lambda b: {"carols", "admins"} <= {s.name for s in b.vms}
                            and b.samples)
    assert {ObjectKind.HOST, ObjectKind.STORAGE_DOMAIN} <= {m.kind for m in everything.samples}
    engine.vms.remove(other.id, actor=admin)
    gone = take_until(admins, lambda b: b.removed_vms)
    assert gone.removed_vms == (other.id,)
    for feed in (admins, carols):
        feed.close()
    assert engine.live.feed.subscribers == 0


def test_a_queue_keeps_each_objects_latest_state_and_says_when_events_were_lost(
        engine: Engine) -> None:
    admin = _admin(engine)
    feed = engine.live.subscribe(actor=admin, kinds=frozenset({ChangeKind.VM, ChangeKind.EVENT}))
    vm = engine.vms.create(VmCreate(name="often", cluster_id=engine.clusters.default().id,
                                    memory=64 * MiB), actor=admin)
    store = engine.ctx.store
    for status in (VmStatus.WAIT_FOR_LAUNCH, VmStatus.POWERING_UP, VmStatus.DOWN):
        store.vms.update(replace(store.vms.get(vm.id), status=status))
    for n in range(changes.MAX_EVENTS + 5):
        engine.events.record(EventCode.VM_UPDATED, f"note {n}")
    batch = feed.take()
    [state] = [s for s in batch.vms if s.id == vm.id]
    assert state.status is VmStatus.DOWN  # one state per VM: the latest
    assert batch.lost and len(batch.events) == changes.MAX_EVENTS
    assert batch.events[-1].event.description == f"note {changes.MAX_EVENTS + 4}"
    feed.close()


def stream_lines(client: FlaskClient, url: str) -> Iterator[str]:
    response = client.get(url, environ_base=LOCAL, buffered=False)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "text/event-stream"
    for chunk in response.response:
        yield from (chunk.decode() if isinstance(chunk, bytes) else chunk).splitlines()


def test_a_page_stream_without_a_hand_over_still_streams(engine: Engine) -> None:
    client = create_app(engine).test_client()
    admin = _admin(engine)
    with client.session_transaction() as session:
        session["token"] = engine.users.issue_token(admin)
    lines = stream_lines(client, "/live/stream?topics=vms,dashboard")
    assert next(lines).startswith("retry: ")
    threading.Timer(0.5, lambda: engine.vms.create(
        VmCreate(name="streamed", cluster_id=engine.clusters.default().id, memory=64 * MiB),
        actor=admin)).start()
    found: dict[str, dict[str, object]] = {}
    event = ""
    for line in lines:
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: ") and event in ("vm", "dashboard"):
            found[event] = json.loads(line[6:])
        if {"vm", "dashboard"} <= found.keys():
            break
    assert found["vm"]["name"] == "streamed" and found["vm"]["label"] == "Down"
    assert found["dashboard"]["vms_total"] == 1
    assert client.get("/live/stream?topics=nothing", environ_base=LOCAL).status_code == 400
