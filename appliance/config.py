"""The appliance configuration: parsed once from TOML into frozen values and passed down.

The firstboot wizard writes this file (``/etc/virtstick/virtstick.toml`` on the stick);
``virtstick run`` makes a development one under a temporary state directory. Every path the
appliance touches comes from here, so tests point them at temporary directories.

Example::

    [appliance]
    state_dir = "/var/lib/virtstick"     # SQLite store, certificates
    libvirt_uri = "qemu:///system"
    virt_type = "auto"                   # auto (KVM when it works), kvm, qemu
    domain_prefix = ""                   # prefix of libvirt domain names
    demo_disk = "/usr/share/virtstick/demo-guest.qcow2"  # imported as template "Demo"; "" for none
    runtime_dir = "/run/virtstick"       # what holds for one boot (the KVM verdict)

    [storage]
    path = "/run/virtstick/storage"      # the RAM storage domain's directory
    backing = "tmpfs"                    # tmpfs, zram, disk or directory (informational)
    overcommit_percent = 400             # thin disks may promise this much of the space
    iso_max_size = 8589934592            # largest ISO image an upload may bring (bytes)

    [network]
    ovirtmgmt = "bridge:ovirtmgmt"       # or "user" (QEMU user networking, no host bridge)
    others = "auto"                      # other networks: isolated (libvirt's, one per network
                                         # and host), user, none; auto: isolated on a bridge

    [http]
    listen = "127.0.0.1:8080"            # plain HTTP, local use
    https_listen = "0.0.0.0:8443"        # empty string disables HTTPS
    console_listen = "127.0.0.1:6100"    # the in-browser console's WebSocket proxy; port 0: any
    console_tls_listen = "0.0.0.0:6101"  # the same over TLS, for pages served by HTTPS
    max_connections = 400                # open connections a listener holds at most
    max_connections_per_address = 32     # ... of which one client address may hold
    request_header_seconds = 5.0         # a request's head must arrive within this
    response_stall_seconds = 30.0        # a client taking none of an answer this long is dropped

    [auth]
    admin_password_hash = "scrypt$..."   # appliance.security.passwords.hash_password
    token_idle_minutes = 30
    console_ticket_seconds = 20          # a console ticket (and its display password) expires

    [quotas]                             # what one user without an admin role may promise
    user_storage_gib = 100               # disks they own or their VMs have; 0: no quota
    user_memory_gib = 32                 # memory of the VMs they own
    user_vcpus = 32                      # virtual CPUs of the VMs they own

    [monitoring]
    interval_seconds = 10                # how often hosts, VMs and storage are sampled
    metrics_access = "localhost"         # /metrics: "localhost" only, or "authenticated"

    [imageio]
    listen = "0.0.0.0:54322"             # ovirt-imageio's data listener (oVirt's port); port 0: any

    [memory]
    ksm = "auto"                         # page merging: auto (when memory gets tight), on, off
    ksm_interval_seconds = 10            # how often the engine looks again
    ksm_threshold_percent = 20           # "tight": less free than this, or VMs promised more
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from appliance.engine.enums import MaintenancePolicy
from appliance.errors import ConfigError

DEFAULT_CONFIG_PATH = Path("/etc/virtstick/virtstick.toml")


class VirtType(StrEnum):
    AUTO = "auto"
    KVM = "kvm"
    QEMU = "qemu"


class OtherNetworksChoice(StrEnum):
    """How hosts carry the logical networks besides ovirtmgmt (appliance/vdsm/networks.py)."""

    AUTO = "auto"
    ISOLATED = "isolated"
    USER = "user"
    NONE = "none"


class StorageBacking(StrEnum):
    TMPFS = "tmpfs"
    ZRAM = "zram"
    DISK = "disk"
    DIRECTORY = "directory"


@dataclass(frozen=True)
class ApplianceSection:
    state_dir: Path = Path("/var/lib/virtstick")
    libvirt_uri: str = "qemu:///system"
    virt_type: VirtType = VirtType.AUTO
    domain_prefix: str = ""
    demo_disk: str = "/usr/share/virtstick/demo-guest.qcow2"
    runtime_dir: Path = Path("/run/virtstick")


@dataclass(frozen=True)
class StorageSection:
    path: Path = Path("/run/virtstick/storage")
    backing: StorageBacking = StorageBacking.TMPFS
    overcommit_percent: int = 400
    iso_max_size: int = 8 * 1024**3  # bytes an uploaded ISO image may have


@dataclass(frozen=True)
class NetworkSection:
    ovirtmgmt: str = "bridge:ovirtmgmt"
    others: OtherNetworksChoice = OtherNetworksChoice.AUTO

    @property
    def other_networks(self) -> str:
        """``others`` decided: isolated networks beside a bridged ovirtmgmt, QEMU's user
        networking beside a user-mode one (nothing on the machine changes)."""
        if self.others is not OtherNetworksChoice.AUTO:
            return self.others.value
        return "isolated" if self.ovirtmgmt.startswith("bridge:") else "user"


@dataclass(frozen=True)
class HttpSection:
    listen: str = "127.0.0.1:8080"
    https_listen: str = "0.0.0.0:8443"
    console_listen: str = "127.0.0.1:6100"
    console_tls_listen: str = "0.0.0.0:6101"
    max_connections: int = 400
    max_connections_per_address: int = 32
    request_header_seconds: float = 5.0
    response_stall_seconds: float = 30.0


class MetricsAccess(StrEnum):
    LOCALHOST = "localhost"
    AUTHENTICATED = "authenticated"


@dataclass(frozen=True)
class AuthSection:
    admin_password_hash: str = ""
    token_idle_minutes: float = 30.0  # fractions for tests
    console_ticket_seconds: int = 20


@dataclass(frozen=True)
class HostsSection:
    monitor_interval: float = 2.0  # seconds between checks that hosts answer
    fence_after: float = 4.0  # seconds a host may not answer before it is fenced
    balance_interval: float = 60.0  # seconds between load-balancing runs (oVirt's minute)
    lab_memory_mib: int = 1024  # memory a lab host offers VMs
    # VMs no other host can take: shutdown; migrate: refuse maintenance instead
    maintenance_policy: MaintenancePolicy = MaintenancePolicy.SHUTDOWN


@dataclass(frozen=True)
class MonitoringSection:
    interval_seconds: int = 10
    metrics_access: MetricsAccess = MetricsAccess.LOCALHOST


class KsmMode(StrEnum):
    """Who decides whether the kernel merges identical pages: the engine, as ksmtuned does
    (auto), always merging (on), or nobody here (off: KSM is left as it is)."""

    AUTO = "auto"
    ON = "on"
    OFF = "off"


@dataclass(frozen=True)
class MemorySection:
    ksm: KsmMode = KsmMode.AUTO
    ksm_interval_seconds: int = 10
    ksm_threshold_percent: int = 20


@dataclass(frozen=True)
class QuotasSection:
    user_storage_gib: int = 100
    user_memory_gib: int = 32
    user_vcpus: int = 32


@dataclass(frozen=True)
class ImageioSection:
    listen: str = "0.0.0.0:54322"  # image transfers' data (ovirt-imageio); port 0: any free one


@dataclass(frozen=True)
class Config:
    appliance: ApplianceSection = field(default_factory=ApplianceSection)
    storage: StorageSection = field(default_factory=StorageSection)
    network: NetworkSection = field(default_factory=NetworkSection)
    http: HttpSection = field(default_factory=HttpSection)
    auth: AuthSection = field(default_factory=AuthSection)
    hosts: HostsSection = field(default_factory=HostsSection)
    monitoring: MonitoringSection = field(default_factory=MonitoringSection)
    quotas: QuotasSection = field(default_factory=QuotasSection)
    imageio: ImageioSection = field(default_factory=ImageioSection)
    memory: MemorySection = field(default_factory=MemorySection)

    @property
    def database_path(self) -> Path:
        return self.appliance.state_dir / "engine.db"

    def replace(self, **sections: Any) -> Config:
        """A copy with some sections' fields changed: ``replace(storage={"path": p})``."""
        changed = {
            name: _section(
                _section_types()[name],
                {**dataclasses.asdict(getattr(self, name)), **values},
                f"[{name}]",
            )
            for name, values in sections.items()
        }
        return dataclasses.replace(self, **changed)


def load(path: Path = DEFAULT_CONFIG_PATH) -> Config:
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(
            f"{path} does not exist: run the firstboot wizard (virtstick-firstboot) or "
            "use 'virtstick run' for a development appliance"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    return from_dict(raw, source=str(path))


def from_dict(raw: dict[str, Any], *, source: str = "configuration") -> Config:
    sections: dict[str, Any] = {}
    for f in dataclasses.fields(Config):
        values = raw.get(f.name, {})
        if not isinstance(values, dict):
            raise ConfigError(f"{source}: [{f.name}] must be a table")
        section_type = _section_types()[f.name]
        sections[f.name] = _section(section_type, values, f"{source} [{f.name}]")
    unknown = set(raw) - set(sections)
    if unknown:
        raise ConfigError(f"{source}: unknown section(s) {', '.join(sorted(unknown))}")
    return Config(**sections)


def to_toml(config: Config) -> str:
    lines: list[str] = []
    for f in dataclasses.fields(config):
        lines.append(f"[{f.name}]")
        for key, value in dataclasses.asdict(getattr(config, f.name)).items():
            lines.append(f"{key} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)


def _section_types() -> dict[str, type]:
    return {
        "appliance": ApplianceSection,
        "storage": StorageSection,
        "network": NetworkSection,
        "http": HttpSection,
        "auth": AuthSection,
        "hosts": HostsSection,
        "monitoring": MonitoringSection,
        "quotas": QuotasSection,
        "imageio": ImageioSection,
        "memory": MemorySection,
    }


def _section(section_type: type, values: dict[str, Any], where: str) -> Any:
    fields = {f.name: f for f in dataclasses.fields(section_type)}
    unknown = set(values) - set(fields)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    converted: dict[str, Any] = {}
    defaults = section_type()
    for key, value in values.items():
        kind = type(getattr(defaults, key))
        try:
            if kind is int and not isinstance(value, int):
                raise ValueError(f"{value!r} is not a whole number")
            converted[key] = kind(value)
        except ValueError as exc:
            raise ConfigError(f"{where}: {key}: {exc}") from None
    return section_type(**converted)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'
