"""How the local host agent is set up: this appliance's id, where consoles live, KVM or TCG,
and how the lab's networks reach VMs on this host; made once by the engine, passed down."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from appliance.config import VirtType
from appliance.vdsm import networks as vdsm_networks
from appliance.vdsm import stats
from appliance.vdsm.host import VirtVerdict


@dataclass(frozen=True)
class AgentSettings:
    appliance_id: str
    run_dir: Path  # consoles' sockets and logs
    virt_type: VirtType  # kvm or qemu, as chosen for this machine
    domain_prefix: str = ""
    network_attachments: dict[str, str] = field(default_factory=dict)  # name -> bridge:X/user
    # how the networks not named above are carried (vdsm/networks.py)
    other_networks: vdsm_networks.OtherNetworks = vdsm_networks.OtherNetworks.NONE
    host_probe: stats.HostProbe = field(default_factory=stats.HostProbe)
    # Where KVM was chosen automatically: the machine's verdict, which a VM failing under
    # KVM (and starting under TCG) changes for every later start. None: virt_type holds.
    verdict: VirtVerdict | None = None
    backup_dir: Path | None = None  # running backups' sockets and scratch files
    tcg_cache_mib: int | None = 32  # TCG's translated-code cache per VM (see DomainSpec)

    @property
    def backups(self) -> Path:
        return self.backup_dir or self.run_dir.parent / "backups"

    def current_virt_type(self) -> VirtType:
        return self.verdict.virt_type if self.verdict is not None else self.virt_type
