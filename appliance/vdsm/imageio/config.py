"""The daemon's configuration directory: one ``conf.d`` drop-in, written from our settings.

ovirt-imageio reads ``<dir>/conf.d/*.conf`` (``ovirt-imageio -c <dir>``); everything it
would otherwise take from /etc or /run (its control socket, its log, TLS files) is ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from appliance.security.certificates import Certificates

CONFIG_NAME = "50-virtstick.conf"
LOG_MAX_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class ImageioSettings:
    run_dir: Path  # configuration, control socket, qemu-nbd sockets, staging notes, log
    host: str  # where the data listener binds ("0.0.0.0", "127.0.0.1", "::")
    port: int  # 0: any free port, chosen at start
    certificates: Certificates
    # Idle connections of an authorized client are dropped after this long (the ticket may
    # ask for more); unauthorized ones after the daemon's own 60 s.
    inactivity_timeout: int = 60
    # Connections one transfer may use: the daemon tells clients (OPTIONS max_readers and
    # max_writers) and qemu-nbd accepts this many (--shared).
    max_connections: int = 8

    @property
    def conf_dir(self) -> Path:
        return self.run_dir / "conf"

    @property
    def control_socket(self) -> Path:
        return self.run_dir / "control.sock"

    @property
    def nbd_dir(self) -> Path:
        return self.run_dir / "nbd"

    @property
    def log_file(self) -> Path:
        return self.run_dir / "daemon.log"


def write(settings: ImageioSettings, *, port: int) -> Path:
    """The drop-in for a daemon listening on ``port``; returns the directory for ``-c``."""
    conf_d = settings.conf_dir / "conf.d"
    conf_d.mkdir(parents=True, exist_ok=True)
    settings.conf_dir.chmod(0o700)
    certs = settings.certificates
    text = f"""\
# Written by VirtStick at every start; edits are lost.
[daemon]
systemd_enable = false
drop_privileges = false
run_dir = {settings.run_dir}
max_connections = {settings.max_connections}
inactivity_timeout = {settings.inactivity_timeout}

[tls]
enable = true
key_file = {certs.key}
cert_file = {certs.cert}
ca_file = {certs.ca_cert}

[remote]
host = {settings.host}
port = {port}

# Clients on this machine switch to a unix socket (an abstract one, named by the daemon)
# once a ticket's OPTIONS tells them where: oVirt's optimization, the same ticket checks.
[local]
enable = true
socket =

[control]
transport = unix
socket = {settings.control_socket}
remove_timeout = 30

[profile]
filename = {settings.run_dir / "profile"}

[handlers]
keys = logfile

[logger_root]
level = INFO
handlers = logfile

[handler_logfile]
args = ("{settings.log_file}",)
kwargs = {{"maxBytes": {LOG_MAX_BYTES}, "backupCount": 1}}
level = INFO
"""
    (conf_d / CONFIG_NAME).write_text(text)
    return settings.conf_dir
