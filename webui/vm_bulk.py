"""Bulk actions of the VM list: run, shut down or remove the VMs ticked, each through its
engine service, and say for each VM how it went (one refusal stops no other).

A few VMs are acted on at once: starting one waits for its QEMU to launch (a second or two),
so ten in a row would keep the page waiting for half a minute."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from appliance.engine.authz import Actor
from appliance.engine.engine import Engine
from appliance.errors import VirtStickError
from webui.vm_actions import ACTIONS, VmAction

MOST = 500  # VMs in one request: a page holds 100, a search may tick more
AT_ONCE = 4  # VMs acted on together (each VM's own lock keeps its steps in order)


class BulkAction(StrEnum):
    START = "start"
    SHUTDOWN = "shutdown"
    REMOVE = "remove"


@dataclass(frozen=True)
class BulkStep:
    label: str  # on the button
    done: str  # after "VM NAME"
    run: Callable[[Engine, str, Actor], object]


def _remove(e: Engine, vm_id: str, who: Actor) -> None:
    e.vms.remove(vm_id, actor=who)


STEPS: Mapping[BulkAction, BulkStep] = MappingProxyType({
    BulkAction.START: BulkStep("Run", ACTIONS[VmAction.START].done, ACTIONS[VmAction.START].run),
    BulkAction.SHUTDOWN: BulkStep("Shut down", ACTIONS[VmAction.SHUTDOWN].done,
                                  ACTIONS[VmAction.SHUTDOWN].run),
    BulkAction.REMOVE: BulkStep("Remove", "was removed", _remove),
})


@dataclass(frozen=True)
class BulkResult:
    vm_id: str
    name: str
    ok: bool
    message: str  # what happened, or the engine's refusal


def apply(engine: Engine, action: BulkAction, vm_ids: list[str], who: Actor) -> list[BulkResult]:
    """``action`` on each VM (at most ``MOST``); the results in the order given."""
    names = engine.inventory.list_vm_names(actor=who)
    step = STEPS[action]

    def one(vm_id: str) -> BulkResult:
        name = names.get(vm_id, vm_id[:36])
        try:
            step.run(engine, vm_id, who)
        except VirtStickError as exc:
            return BulkResult(vm_id, name, False, exc.detail)
        return BulkResult(vm_id, name, True, f"VM {name} {step.done}.")

    with ThreadPoolExecutor(max_workers=AT_ONCE, thread_name_prefix="bulk") as pool:
        return list(pool.map(one, dict.fromkeys(vm_ids[:MOST])))
