"""Write the appliance configuration the service reads (``appliance.config``'s format).

The wizard owns ``[storage]``, ``[network]``, ``[http]`` and the admin password hash; on a
re-run (the network step alone) the other values in an existing file are kept.
"""

from __future__ import annotations

import os
from pathlib import Path

from appliance import config as appliance_config
from appliance.config import Config
from firstboot.storage import PreparedStorage

HTTP_LISTEN = "0.0.0.0:80"
HTTPS_LISTEN = "0.0.0.0:443"


def build(*, storage: PreparedStorage, password_hash: str, bridge: str,
          base: Config | None = None) -> Config:
    return (base or Config()).replace(
        storage={"path": storage.path, "backing": storage.backing.value},
        network={"ovirtmgmt": f"bridge:{bridge}"},
        http={"listen": HTTP_LISTEN, "https_listen": HTTPS_LISTEN},
        auth={"admin_password_hash": password_hash},
    )


def write(config: Config, path: Path) -> None:
    """Atomically, readable by root only (it holds the admin password hash)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as stream:
        stream.write(appliance_config.to_toml(config))
    os.replace(temporary, path)


def existing(path: Path) -> Config | None:
    return appliance_config.load(path) if path.exists() else None
