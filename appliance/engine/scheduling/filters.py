"""Filters: may this VM run on this host? Each says why not, in words for the user."""

from __future__ import annotations

from collections.abc import Callable

from appliance.engine import validation
from appliance.engine.model import Vm
from appliance.engine.scheduling.load import HostLoad

Filter = Callable[[Vm, HostLoad, frozenset[str]], str | None]  # vm, host, vm's networks


def memory(vm: Vm, load: HostLoad, _networks: frozenset[str]) -> str | None:
    """oVirt's Memory filter: the VM must fit in what the host may still promise under the
    cluster's memory overcommit (oVirt's wording first, then ours)."""
    if vm.memory > load.free_memory:
        free = max(load.free_memory, 0)
        return (f"The host {load.host.name} did not satisfy internal filter Memory because "
                f"its available memory is too low ({free // 2**20} MB) to run the VM: "
                f"{validation.human_size(free)} of memory free for VMs under the cluster's "
                f"{load.overcommit_percent}% memory overcommit "
                f"({validation.human_size(load.schedulable_memory)} in all); VM {vm.name} "
                f"needs {validation.human_size(vm.memory)}")
    return None


def cpu(vm: Vm, load: HostLoad, _networks: frozenset[str]) -> str | None:
    if vm.vcpus > load.host.cpus:
        return (f"host {load.host.name} has {load.host.cpus} CPUs; VM {vm.name} needs "
                f"{vm.vcpus}")
    return None


def network(vm: Vm, load: HostLoad, networks: frozenset[str]) -> str | None:
    missing = sorted(networks - load.networks)
    if missing:
        # A logical network is a definition until a host carries it (vdsm/networks.py).
        carried = ("ovirtmgmt and every network without a VLAN" if load.untagged
                   else ", ".join(sorted(load.networks)) or "none")
        return (f"host {load.host.name} lacks the network(s) {', '.join(missing)} that VM "
                f"{vm.name} is connected to (it carries {carried}; a VLAN needs a tagged host "
                "NIC, which VirtStick's hosts do not give VMs: move the NIC to a network "
                "they carry)")
    return None


def placement(vm: Vm, load: HostLoad, _networks: frozenset[str]) -> str | None:
    if vm.placement.host_ids and load.host.id not in vm.placement.host_ids:
        return (f"VM {vm.name} may run only on the hosts its placement policy names, not on "
                f"host {load.host.name}")
    return None


FILTERS: tuple[Filter, ...] = (memory, cpu, network, placement)


def rejections(vm: Vm, load: HostLoad, networks: frozenset[str]) -> list[str]:
    return [reason for check in FILTERS if (reason := check(vm, load, networks)) is not None]
