"""The wizard's own configuration: where it writes, what it runs, where it looks for seeds.

Read once from ``/etc/virtstick/firstboot.toml`` when that file exists (the image may bake
one), else the defaults below, and passed down; tests write their own file so every path
points into a temporary directory and no step touches the machine's own state.

Example (every key optional)::

    config_path = "/etc/virtstick/virtstick.toml"   # the appliance configuration written
    storage_path = "/run/virtstick/storage"         # where the storage domain is mounted
    start_command = ["systemctl", "start", "virtstick.service"]
    etc_dir = "/etc"                                # hostname, timezone, localtime
    set_live_hostname = true                        # also sethostname(2) the running system
    cmdline_path = "/proc/cmdline"
    seed_label = "VSSEED"
    by_label_dir = "/dev/disk/by-label"
    baked_seed = "/etc/virtstick/seed.toml"
    seed_settle_timeout_s = 30                      # udevadm settle before the first look
    seed_wait_until_uptime_s = 20                   # watch for late USB sticks until then
    seed_quiet_s = 3                                # ... and this long after each new device
    seed_wait_max_s = 30                            # the longest the search ever waits
    uptime_path = "/proc/uptime"
    zram_control = "/sys/class/zram-control"
    sys_block = "/sys/block"
    probe_netns = ""                                # run connectivity probes in this netns
    system_bus = ""                                 # D-Bus address; empty: the system bus
    rollback_timeout_s = 60                         # NetworkManager rolls back by itself
    connectivity_timeout_s = 30                     # how long the wizard waits for the gateway
    bridge = "ovirtmgmt"
    include_loop_disks = false
    web_listen = "0.0.0.0:80"                       # other machines need the setup code
    appliance_url = ""                              # shown at the end; default from the address
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.errors import ConfigError

DEFAULT_SETTINGS_PATH = Path("/etc/virtstick/firstboot.toml")


@dataclass(frozen=True)
class WizardSettings:
    config_path: Path = Path("/etc/virtstick/virtstick.toml")
    storage_path: Path = Path("/run/virtstick/storage")
    start_command: tuple[str, ...] = ("systemctl", "start", "virtstick.service")
    etc_dir: Path = Path("/etc")
    set_live_hostname: bool = True
    cmdline_path: Path = Path("/proc/cmdline")
    seed_label: str = "VSSEED"
    by_label_dir: Path = Path("/dev/disk/by-label")
    baked_seed: Path = Path("/etc/virtstick/seed.toml")
    seed_settle_timeout_s: int = 30
    seed_wait_until_uptime_s: int = 20
    seed_quiet_s: int = 3
    seed_wait_max_s: int = 30
    uptime_path: Path = Path("/proc/uptime")
    zram_control: Path = Path("/sys/class/zram-control")
    sys_block: Path = Path("/sys/block")
    probe_netns: str = ""
    system_bus: str = ""
    rollback_timeout_s: int = 60
    connectivity_timeout_s: int = 30
    bridge: str = "ovirtmgmt"
    include_loop_disks: bool = False
    web_listen: str = "0.0.0.0:80"
    appliance_url: str = ""


def load_settings(path: Path | None = None) -> WizardSettings:
    """The settings file if there is one (``path`` must exist when given), else defaults."""
    chosen = path or DEFAULT_SETTINGS_PATH
    try:
        raw = tomllib.loads(chosen.read_text())
    except FileNotFoundError:
        if path is not None:
            raise ConfigError(f"{path} does not exist") from None
        return WizardSettings()
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{chosen} is not valid TOML: {exc}") from None
    return settings_from_dict(raw, source=str(chosen))


def settings_from_dict(raw: dict[str, Any], *, source: str = "settings") -> WizardSettings:
    fields = {f.name: f for f in dataclasses.fields(WizardSettings)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) {', '.join(unknown)}")
    defaults = WizardSettings()
    values: dict[str, Any] = {}
    for key, value in raw.items():
        kind = type(getattr(defaults, key))
        if kind is tuple:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{source}: {key} must be a list of strings")
            values[key] = tuple(value)
        elif kind in (bool, int) and type(value) is not kind:
            raise ConfigError(f"{source}: {key} must be a {kind.__name__}")
        elif issubclass(kind, Path):
            values[key] = Path(str(value))
        else:
            values[key] = kind(value)
    return WizardSettings(**values)
