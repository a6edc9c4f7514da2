"""A private network lab: real NetworkManager on a private D-Bus in its own network namespace.

Layout: namespace ``<token>h`` (the laptop) holds the NIC ``<token>n``, one end of a veth
pair; namespace ``<token>p`` (the LAN) holds the other end with the gateway address and
dnsmasq serving DHCP. NetworkManager runs in the laptop namespace inside a private mount
namespace with a fresh /run and a read-only /sys (see shared notes: a writable /sys makes it
wait for udev forever). Everything is torn down on exit; nothing touches the machine's own
network. Used by the tests and the benchmark.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/><allow own="*"/><allow send_type="method_call"/>
    <allow send_destination="*"/><allow receive_sender="*"/>
  </policy>
</busconfig>
"""

NM_CONFIG = """[main]
plugins=keyfile
no-auto-default=*
dns=none
rc-manager=unmanaged
hostname-mode=none
auth-polkit=false
[keyfile]
path={keyfiles}
[logging]
level=INFO
"""


@dataclass(frozen=True)
class Lab:
    token: str
    host_ns: str
    peer_ns: str
    nic: str
    subnet: str  # "10.199.N"
    bus_address: str
    workdir: Path

    @property
    def gateway(self) -> str:
        return f"{self.subnet}.1"

    def ip(self, *args: str) -> str:
        """``ip`` inside the laptop namespace: how the tests verify what NetworkManager did."""
        return subprocess.run(["ip", "-n", self.host_ns, *args], capture_output=True,
                              text=True, check=True).stdout


@contextlib.contextmanager
def network_lab(*, dhcp_ping: bool = True) -> Iterator[Lab]:
    """``dhcp_ping=False``: dnsmasq offers without first pinging the address (its default
    check waits seconds for an answer), to tell its delay from the wizard's."""
    token = "vf" + secrets.token_hex(3)
    workdir = Path(tempfile.mkdtemp(prefix=f"virtstick-{token}-"))
    lab = Lab(token=token, host_ns=f"{token}h", peer_ns=f"{token}p", nic=f"{token}n",
              subnet=f"10.199.{secrets.randbelow(250) + 1}",
              bus_address=f"unix:path={workdir}/bus", workdir=workdir)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        _namespaces(lab)
        processes.append(_dnsmasq(lab, ping=dhcp_ping))
        processes.append(_dbus(lab))
        processes.append(_network_manager(lab))
        _wait_for_nm(lab, processes[-1])
        yield lab
    finally:
        for process in reversed(processes):
            _stop(process)
        for ns in (lab.host_ns, lab.peer_ns):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)
        shutil.rmtree(workdir, ignore_errors=True)


def _namespaces(lab: Lab) -> None:
    peer = f"{lab.token}l"
    for command in (
        ["ip", "netns", "add", lab.host_ns],
        ["ip", "netns", "add", lab.peer_ns],
        ["ip", "link", "add", lab.nic, "netns", lab.host_ns, "type", "veth", "peer", "name",
         peer, "netns", lab.peer_ns],
        ["ip", "-n", lab.peer_ns, "addr", "add", f"{lab.gateway}/24", "dev", peer],
        ["ip", "-n", lab.peer_ns, "link", "set", peer, "up"],
        ["ip", "-n", lab.peer_ns, "link", "set", "lo", "up"],
        ["ip", "-n", lab.host_ns, "link", "set", "lo", "up"],
    ):
        subprocess.run(command, check=True, capture_output=True)


def _dnsmasq(lab: Lab, *, ping: bool) -> subprocess.Popen[bytes]:
    return _spawn(lab, "dnsmasq", [
        "ip", "netns", "exec", lab.peer_ns, "dnsmasq", "--no-daemon", "--conf-file=/dev/null",
        *([] if ping else ["--no-ping"]),
        f"--interface={lab.token}l", "--bind-interfaces", "--port=0",
        f"--dhcp-range={lab.subnet}.100,{lab.subnet}.150,255.255.255.0,1h",
        f"--dhcp-option=3,{lab.gateway}", f"--dhcp-leasefile={lab.workdir}/leases",
        f"--pid-file={lab.workdir}/dnsmasq.pid"])


def _dbus(lab: Lab) -> subprocess.Popen[bytes]:
    conf = lab.workdir / "bus.conf"
    conf.write_text(BUS_CONFIG.format(socket=f"{lab.workdir}/bus"))
    process = _spawn(lab, "dbus", ["dbus-daemon", f"--config-file={conf}", "--nofork"])
    _wait(lambda: (lab.workdir / "bus").exists(), "dbus-daemon's socket", process)
    return process


def _network_manager(lab: Lab) -> subprocess.Popen[bytes]:
    keyfiles = lab.workdir / "connections"
    keyfiles.mkdir()
    conf = lab.workdir / "nm.conf"
    conf.write_text(NM_CONFIG.format(keyfiles=keyfiles))
    inner = ("mount -t tmpfs tmpfs /run && mount -o remount,bind,ro /sys && exec NetworkManager "
             f"--no-daemon --config={conf} --state-file={lab.workdir}/nm.state "
             f"--pid-file={lab.workdir}/nm.pid")
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": lab.bus_address}
    return _spawn(lab, "nm", ["ip", "netns", "exec", lab.host_ns, "unshare", "-m",
                              "--propagation", "private", "sh", "-c", inner], env=env)


def _wait_for_nm(lab: Lab, process: subprocess.Popen[bytes]) -> None:
    """Until NetworkManager manages the NIC (state 30, disconnected)."""
    def ready() -> bool:
        result = subprocess.run(
            ["dbus-send", f"--bus={lab.bus_address}", "--print-reply",
             "--dest=org.freedesktop.NetworkManager", "/org/freedesktop/NetworkManager",
             "org.freedesktop.NetworkManager.GetDeviceByIpIface", f"string:{lab.nic}"],
            capture_output=True, text=True, check=False)
        if result.returncode != 0:
            return False
        path = result.stdout.split('"')[1]
        state = subprocess.run(
            ["dbus-send", f"--bus={lab.bus_address}", "--print-reply",
             "--dest=org.freedesktop.NetworkManager", path, "org.freedesktop.DBus.Properties.Get",
             "string:org.freedesktop.NetworkManager.Device", "string:State"],
            capture_output=True, text=True, check=False).stdout
        return "uint32 30" in state or "uint32 100" in state
    _wait(ready, "NetworkManager managing the NIC", process, timeout=30)


def _spawn(lab: Lab, name: str, command: list[str],
           env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    log = open(lab.workdir / f"{name}.log", "wb")  # noqa: SIM115 - lives as long as the process
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)


def _wait(condition: object, what: str, process: subprocess.Popen[bytes],
          timeout: float = 10) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode} "
                               f"while waiting for {what}")
        time.sleep(0.1)
    raise RuntimeError(f"timed out waiting for {what}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
