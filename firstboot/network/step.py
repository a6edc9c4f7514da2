"""The network step as a transaction: checkpoint, apply, check the gateway, commit or roll back.

NetworkManager holds a checkpoint of every device while the new profiles come up. If the
gateway answers (or, without a gateway, the bridge got its address) the wizard destroys the
checkpoint, which commits. If not, the wizard rolls back at once; and if the wizard dies or
the console that ran it is cut off, NetworkManager rolls back by itself when the checkpoint's
timeout expires. Nothing else is applied while this runs.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from appliance.errors import InvalidState
from firstboot.answers import NetworkAnswers
from firstboot.network import profiles
from firstboot.network.bus import CheckpointFlag, NetworkManagerClient, NetworkManagerError
from firstboot.network.probe import answers_in

ACTIVATION_TIMEOUT_S = 45.0
RESTORE_TIMEOUT_S = 15.0
DEVICE_TIMEOUT_S = 30.0  # NetworkManager adds a card udev named after it started


class NetworkRolledBack(InvalidState):
    code = "network-rolled-back"
    reason = "Network change rolled back"


@dataclass(frozen=True)
class NetworkResult:
    bridge: str
    addresses: tuple[str, ...]  # address/prefix on the bridge
    gateway: str
    gateway_answered: bool


@dataclass(frozen=True)
class Transaction:
    """An applied but unconfirmed change: the checkpoint and the bridge device it made."""

    checkpoint: str
    bridge_device: str


async def begin(client: NetworkManagerClient, answers: NetworkAnswers, *, bridge: str,
                rollback_timeout_s: int) -> Transaction:
    """Checkpoint, save the profiles and bring the bridge up; not yet committed."""
    nic = await client.wait_for_device(answers.interface, DEVICE_TIMEOUT_S)
    if nic is None:
        raise NetworkManagerError(f"NetworkManager does not know {answers.interface}")
    checkpoint = await client.checkpoint_create(
        [],  # every device: a re-run may move things around the existing bridge too
        rollback_timeout_s=rollback_timeout_s,
        flags=CheckpointFlag.DELETE_NEW_CONNECTIONS | CheckpointFlag.DISCONNECT_NEW_DEVICES,
    )
    try:
        await client.add_or_update(profiles.port_profile(answers.interface, bridge=bridge))
        bridge_conn = await client.add_or_update(profiles.bridge_profile(answers, bridge=bridge,
                                                                   mac=nic.hw_address))
        active = await client.activate(bridge_conn)
        await client.wait_activated(active, ACTIVATION_TIMEOUT_S)
        device = await client.device_by_interface(bridge)
        if device is None:
            raise NetworkManagerError(f"the bridge {bridge} did not appear")
    except BaseException:
        await client.checkpoint_rollback(checkpoint)
        raise
    return Transaction(checkpoint=checkpoint, bridge_device=device.path)


async def confirm(client: NetworkManagerClient, tx: Transaction, answers: NetworkAnswers, *,
                  bridge: str, probe_netns: str, timeout_s: float) -> NetworkResult:
    """Commit if the gateway answers; else roll back and raise NetworkRolledBack."""
    addresses, gateway = await client.ip4(tx.bridge_device)
    if answers.gateway is not None:
        gateway = str(answers.gateway)
    answered = False
    if gateway:
        answered = await asyncio.to_thread(answers_in, probe_netns, gateway, timeout_s)
        if not answered:
            await _roll_back(client, tx, bridge=bridge, abandoned=addresses)
            raise NetworkRolledBack(
                f"the gateway {gateway} did not answer within {timeout_s:.0f} s on {bridge}; "
                "the previous network configuration is back. Check the cable, the address "
                "and the gateway, then try again")
    elif not addresses:
        await _roll_back(client, tx, bridge=bridge, abandoned=addresses)
        raise NetworkRolledBack(f"{bridge} got no IPv4 address; the previous network "
                                "configuration is back")
    await client.checkpoint_destroy(tx.checkpoint)
    return NetworkResult(bridge=bridge, addresses=tuple(addresses), gateway=gateway,
                         gateway_answered=answered)


async def _roll_back(client: NetworkManagerClient, tx: Transaction, *, bridge: str,
                     abandoned: list[str]) -> None:
    """Roll back and wait until the abandoned addresses are gone (NM re-activates the old
    profiles after the call returns), so "the previous configuration is back" is true."""
    await client.checkpoint_rollback(tx.checkpoint)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + RESTORE_TIMEOUT_S
    while loop.time() < deadline:
        try:
            device = await client.device_by_interface(bridge)
            if device is None or not set(abandoned) & set((await client.ip4(device.path))[0]):
                return
        except NetworkManagerError:
            return  # the bridge went away while we looked: it was new, now removed
        await asyncio.sleep(0.1)


async def apply_network(answers: NetworkAnswers, *, bridge: str, rollback_timeout_s: int,
                        probe_netns: str, connectivity_timeout_s: float,
                        bus_address: str = "") -> NetworkResult:
    client = await NetworkManagerClient.connect(bus_address)
    try:
        tx = await begin(client, answers, bridge=bridge, rollback_timeout_s=rollback_timeout_s)
        return await confirm(client, tx, answers, bridge=bridge, probe_netns=probe_netns,
                             timeout_s=connectivity_timeout_s)
    finally:
        client.close()
