"""The two labs the density benchmark compares, each running demo guests on this machine's
libvirtd and saying what they cost the host.

- ``PlainLab``: what plain libvirt gives (virt-install ``--import`` style): each VM its own
  copy of the demo disk, qcow2 on a tmpfs, the demo guest's plain XML (a balloon without
  page reporting, no discard, QEMU's own TCG code cache).
- ``StickLab``: the engine, VMs from its Demo template (thin layers on a tmpfs RAM domain,
  free page reporting, discard and detect-zeroes, the small TCG code cache), KSM managed by
  the engine.

A lab's cost: the distinct physical pages its QEMUs map (``hostmemory.resident_bytes``),
the bytes its files hold on its tmpfs and, for VirtStick, the service's own memory (what
this process grew by when the engine started).
"""

from __future__ import annotations

import abc
import contextlib
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import libvirt

from appliance.cli import development_config
from appliance.demoguest.console import GuestConsole
from appliance.demoguest.domain import GuestFiles, domain_xml
from appliance.engine.authz import SYSTEM
from appliance.engine.engine import DEMO_TEMPLATE, Engine
from appliance.engine.enums import VmStatus
from appliance.engine.model import MiB
from appliance.engine.vms import VmCreate
from tests import hostmemory, sandbox

READY = r"^VIRTSTICK-GUEST-READY\r?$"
BOOT_TIMEOUT = 600.0  # TCG on a shared, busy machine
URI = "qemu:///system"


@dataclass(frozen=True)
class Guest:
    domain_name: str
    console: GuestConsole
    vm_id: str = ""  # the engine's id (VirtStick)


class Lab(abc.ABC):
    """A state directory with a tmpfs for the disks; the guests it started."""

    def __init__(self, name: str, tmpfs_mib: int) -> None:
        self.prefix = sandbox.domain_prefix(name)
        self.state = sandbox.state_dir(f"virtstick-bench-{name}-")
        self.disks = self.state / "disks"
        self.disks.mkdir(mode=0o755)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={tmpfs_mib}m,mode=0755",
                        f"bench-{name}", str(self.disks)], check=True)
        self.guests: list[Guest] = []

    def cost(self) -> int:
        pids = []
        for guest in self.guests:
            with contextlib.suppress(OSError, ValueError):
                pids.append(hostmemory.qemu_pid(guest.domain_name))
        files = [p for p in self.disks.rglob("*") if p.is_file()]
        return hostmemory.resident_bytes(pids) + hostmemory.allocated_bytes(files)

    @abc.abstractmethod
    def start(self, name: str, *, memory_mib: int) -> Guest:
        """A guest with ``memory_mib`` of RAM, once it says ready."""

    def ready(self, guest: Guest) -> Guest:
        guest.console.wait_for(READY, BOOT_TIMEOUT)
        self.guests.append(guest)
        return guest

    def stop(self, guest: Guest) -> None:
        """Power the guest off and remove it with its disk."""
        guest.console.close()
        sandbox.destroy_domains(guest.domain_name)
        self.guests.remove(guest)

    def close(self) -> None:
        for guest in list(self.guests):
            guest.console.close()
        sandbox.destroy_domains(self.prefix)
        subprocess.run(["umount", "-l", str(self.disks)], check=False)
        shutil.rmtree(self.state, ignore_errors=True)


class PlainLab(Lab):
    def __init__(self, demo_disk: Path, tmpfs_mib: int) -> None:
        super().__init__("plain", tmpfs_mib)
        self.demo_disk = demo_disk
        self.conn = libvirt.open(URI)

    def start(self, name: str, *, memory_mib: int) -> Guest:
        directory = self.disks / name
        directory.mkdir(mode=0o755)
        files = GuestFiles(overlay=directory / "disk.qcow2",
                           serial_socket=self.state / f"{name}.sock",
                           serial_log=self.state / f"{name}.log")
        shutil.copyfile(self.demo_disk, files.overlay)  # as a user imports an image
        domain_name = f"{self.prefix}{name}"
        self.conn.createXML(domain_xml(name=domain_name, files=files, memory_mib=memory_mib), 0)
        return self.ready(Guest(domain_name, GuestConsole(files.serial_socket, files.serial_log)))

    def stop(self, guest: Guest) -> None:
        super().stop(guest)  # virsh undefine --remove-all-storage
        shutil.rmtree(self.disks / guest.domain_name.removeprefix(self.prefix))

    def close(self) -> None:
        super().close()
        self.conn.close()


class StickLab(Lab):
    def __init__(self, demo_disk: Path, tmpfs_mib: int) -> None:
        super().__init__("stick", tmpfs_mib)
        config = development_config(self.state).replace(
            appliance={"virt_type": "qemu", "domain_prefix": self.prefix,
                       "demo_disk": str(demo_disk)},
            storage={"path": self.disks, "backing": "tmpfs", "overcommit_percent": 1000},
            monitoring={"interval_seconds": 2},
            # This 24 GiB machine is never tight for a lab of this size, as a laptop full of
            # the lab is: merging is on, at the pace the engine sets when memory is short.
            memory={"ksm": "on", "ksm_interval_seconds": 5})
        before = hostmemory.pss_bytes(os.getpid())
        self.engine = Engine(config)
        self.engine.start()
        for job in self.engine.jobs.list(actor=SYSTEM):
            self.engine.jobs.wait(job.id, BOOT_TIMEOUT)
        self.service = max(hostmemory.pss_bytes(os.getpid()) - before, 0)
        demo = self.engine.templates.find_by_name(DEMO_TEMPLATE)
        if demo is None:
            raise RuntimeError("the engine did not import the demo template")
        self.demo = demo

    def cost(self) -> int:
        return super().cost() + self.service

    def start(self, name: str, *, memory_mib: int) -> Guest:
        cluster = self.engine.clusters.default().id
        vm = self.engine.vms.create(VmCreate(name=name, cluster_id=cluster,
                                             template_id=self.demo.id, memory=memory_mib * MiB),
                                    actor=SYSTEM)
        agent = self.engine.ctx.hosts.any()
        console = GuestConsole(*agent.console_paths(vm.id))
        self.engine.vms.start(vm.id, actor=SYSTEM)
        return self.ready(Guest(f"{self.prefix}{name}", console, vm.id))

    def stop(self, guest: Guest) -> None:
        with contextlib.suppress(Exception):
            self.engine.vms.stop(guest.vm_id, actor=SYSTEM)
        super().stop(guest)
        with contextlib.suppress(Exception):  # the engine may still see it powering down
            _wait_down(self.engine, guest.vm_id)
            self.engine.vms.remove(guest.vm_id, actor=SYSTEM)

    def close(self) -> None:
        self.engine.ksm.stop()
        for guest in list(self.guests):
            self.stop(guest)
        self.engine.stop()
        super().close()


def _wait_down(engine: Engine, vm_id: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while engine.vms.get(vm_id, actor=SYSTEM).status is not VmStatus.DOWN:
        if time.monotonic() > deadline:
            raise TimeoutError(f"VM {vm_id} did not turn down")
        time.sleep(0.5)
