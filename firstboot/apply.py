"""The wizard's flow once the answers are complete, as named steps in order.

network (under a NetworkManager checkpoint) -> storage (mount the domain) -> system (host
name, time zone) -> configuration (the appliance's TOML) -> service (start it). Each step is
timed and reported to the face through ``on_step``; the first failure stops the flow with
that step's error, nothing after it runs, and the storage domain is released again so the
faces can retry.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from appliance.errors import HostAgentError
from firstboot import appliance_config, system
from firstboot.answers import Answers, NetworkAnswers
from firstboot.network.step import NetworkResult, apply_network
from firstboot.settings import WizardSettings
from firstboot.storage import PreparedStorage, prepare, release


class Step(StrEnum):
    NETWORK = "network"
    STORAGE = "storage"
    SYSTEM = "system"
    CONFIGURATION = "configuration"
    SERVICE = "service"


class StepState(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ServiceStartFailed(HostAgentError):
    code = "service-start-failed"
    reason = "The appliance service did not start"


StepListener = Callable[[Step, StepState, str], None]


@dataclass(frozen=True)
class Outcome:
    url: str
    network: NetworkResult
    storage: PreparedStorage
    seconds: dict[Step, float] = field(default_factory=dict)


def apply_all(answers: Answers, settings: WizardSettings, *,
              on_step: StepListener | None = None, start: bool = True) -> Outcome:
    """All steps; ``start=False`` leaves the service to the caller (the web face must give
    up port 80 first, since the appliance listens there too)."""
    timer = _Timer(on_step)
    with timer.step(Step.NETWORK):
        network = _network(answers.network, settings)
    with timer.step(Step.STORAGE):
        storage = prepare(answers.storage, path=settings.storage_path,
                          zram_control=settings.zram_control, sys_block=settings.sys_block)
    existed = settings.config_path.exists()
    try:
        _configure_and_start(answers, settings, storage, timer, start=start)
    except BaseException:
        # Leave the machine as a retry needs it: the domain unmounted (zram device gone),
        # no configuration that would stop the wizard from running again. The network
        # change was confirmed and stays.
        release(storage, zram_control=settings.zram_control, sys_block=settings.sys_block)
        if not existed:
            settings.config_path.unlink(missing_ok=True)
        raise
    return Outcome(url=appliance_url(settings, network), network=network, storage=storage,
                   seconds=timer.seconds)


def _configure_and_start(answers: Answers, settings: WizardSettings, storage: PreparedStorage,
                         timer: _Timer, *, start: bool) -> None:
    with timer.step(Step.SYSTEM):
        system.apply_hostname(answers.network.hostname, etc_dir=settings.etc_dir,
                              live=settings.set_live_hostname)
        system.apply_timezone(answers.timezone, etc_dir=settings.etc_dir)
    with timer.step(Step.CONFIGURATION):
        config = appliance_config.build(storage=storage, bridge=settings.bridge,
                                        password_hash=answers.admin.password_hash,
                                        base=appliance_config.existing(settings.config_path))
        appliance_config.write(config, settings.config_path)
    if start:
        with timer.step(Step.SERVICE):
            start_service(settings.start_command)


def apply_network_again(answers: NetworkAnswers, settings: WizardSettings, *,
                        on_step: StepListener | None = None) -> NetworkResult:
    """The re-run for network changes: the bridge keeps its name, so the service carries on."""
    timer = _Timer(on_step)
    with timer.step(Step.NETWORK):
        network = _network(answers, settings)
    with timer.step(Step.SYSTEM):
        system.apply_hostname(answers.hostname, etc_dir=settings.etc_dir,
                              live=settings.set_live_hostname)
    return network


def start_service(command: tuple[str, ...]) -> None:
    if not command:
        return
    result = subprocess.run(list(command), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ServiceStartFailed(f"{' '.join(command)} exited with {result.returncode}: "
                                 f"{(result.stderr or result.stdout).strip()}")


def appliance_url(settings: WizardSettings, network: NetworkResult) -> str:
    if settings.appliance_url:
        return settings.appliance_url
    host = network.addresses[0].split("/")[0] if network.addresses else "localhost"
    return f"https://{host}/"


def _network(answers: NetworkAnswers, settings: WizardSettings) -> NetworkResult:
    return asyncio.run(apply_network(
        answers, bridge=settings.bridge, rollback_timeout_s=settings.rollback_timeout_s,
        probe_netns=settings.probe_netns,
        connectivity_timeout_s=settings.connectivity_timeout_s, bus_address=settings.system_bus))


class _Timer:
    def __init__(self, listener: StepListener | None) -> None:
        self.listener = listener
        self.seconds: dict[Step, float] = {}

    def step(self, step: Step) -> _StepContext:
        return _StepContext(self, step)

    def report(self, step: Step, state: StepState, detail: str = "") -> None:
        if self.listener is not None:
            self.listener(step, state, detail)


class _StepContext:
    def __init__(self, timer: _Timer, step: Step) -> None:
        self.timer, self.step, self.started = timer, step, 0.0

    def __enter__(self) -> None:
        self.started = time.monotonic()
        self.timer.report(self.step, StepState.RUNNING)

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: object) -> None:
        self.timer.seconds[self.step] = time.monotonic() - self.started
        if exc is None:
            self.timer.report(self.step, StepState.DONE)
        else:
            self.timer.report(self.step, StepState.FAILED, str(exc))
