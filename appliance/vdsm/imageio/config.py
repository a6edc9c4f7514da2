"""The daemon's configuration directory: one ``conf.d`` drop-in, written from our settings.

ovirt-imageio reads ``<dir>/conf.d/*.conf`` (``ovirt-imageio -c <dir>``); everything it
would otherwise take from /etc or /run (its control socket, its log, TLS files) is ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from appliance.connection_limits import ConnectionLimits
from appliance.security.certificates import Certificates

CONFIG_NAME = "50-virtstick.conf"
LOG_MAX_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class ImageioSettings:
    run_dir: Path  # configuration, control socket, qemu-nbd sockets, staging notes, log
    host: str  # where the public data port binds ("0.0.0.0", "127.0.0.1", "::")
    port: int  # 0: any free port, chosen at start
    certificates: Certificates
    # Idle connections of an authorized client are dropped after this long (the ticket may
    # ask for more); unauthorized ones after the daemon's own 60 s.
    inactivity_timeout: int = 60
    # Connections one transfer may use: the daemon tells clients (OPTIONS max_readers and
    # max_writers) and qemu-nbd accepts this many (--shared).
    max_connections: int = 8
    # The public port's front: an ovirt-imageio client opens up to max_connections for one
    # transfer (and one more for its questions); a browser a few.
    front_limits: ConnectionLimits = ConnectionLimits(total=64, per_address=16,
                                                      header_seconds=5.0)

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
    """The drop-in for a daemon listening on 127.0.0.1:``port`` (behind the front, which
    holds the TLS); returns the directory for ``-c``."""
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

# Plain HTTP on loopback: remote clients reach it through the front, which speaks TLS with
# the appliance's certificate.
[tls]
enable = false
ca_file = {certs.ca_cert}

[remote]
host = 127.0.0.1
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
