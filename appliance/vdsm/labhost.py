"""Lab hosts: extra hosts on this machine, each a libvirtd (and virtlogd) of its own.

A lab host lives in its own network, mount and UTS namespace: its own hostname, host UUID
(``host_uuid`` in its libvirtd.conf), /run/libvirt, /var/lib/libvirt, /var/log/libvirt and
/etc/libvirt (bind mounts of directories under the lab's root). Everything else of the
machine's file system stays visible at the same paths, so the RAM storage domain and the
console directory are shared by every host, as a shared storage domain is in oVirt.

The lab network is a bridge inside a namespace of its own (the "switch"); each lab host and
the machine itself (one veth in the main namespace, the only change to the machine's own
network) have a port on it, so QEMU's migration streams run over TCP as between machines.
The engine talks to a lab libvirtd over its unix socket, which is visible from the main
namespace under the lab's root; libvirt's peer-to-peer migration uses the same sockets.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from appliance.errors import HostAgentError, InvalidInput

# Directories of a lab host's own, bound over the machine's inside its mount namespace.
_PRIVATE_DIRS = {"run": "/run/libvirt", "lib": "/var/lib/libvirt",
                 "cache": "/var/cache/libvirt", "log": "/var/log/libvirt", "etc": "/etc/libvirt"}
# QEMU of a lab host runs as root without cgroups: the lab hosts share one machine, its
# cgroup names and the ownership of the shared images (two libvirtds must not fight over them).
_QEMU_CONF = """
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
cgroup_controllers = [ ]
"""
_START_TIMEOUT = 30.0


@dataclass(frozen=True)
class LabNetwork:
    """The lab's switch: names of its namespaces and the /24 its hosts have addresses in."""

    token: str  # short, unique per appliance: namespaces and interfaces are named after it
    subnet: str  # e.g. 10.213.7.0/24

    @property
    def switch_netns(self) -> str:
        return f"vs{self.token}-sw"

    @property
    def machine_veth(self) -> str:
        return f"vs{self.token}m"

    @property
    def gateway(self) -> str:
        """The machine's own address on the lab network (migrations to the local host)."""
        return str(ipaddress.ip_network(self.subnet)[1])

    def address(self, index: int) -> str:
        return str(ipaddress.ip_network(self.subnet)[10 + index])

    def host_netns(self, index: int) -> str:
        return f"vs{self.token}-h{index}"


@dataclass(frozen=True)
class LabHostInfo:
    name: str
    index: int
    address: str  # on the lab network: where QEMU receives migrations
    root: Path
    host_uuid: str

    @property
    def socket(self) -> Path:
        return self.root / "run" / "libvirt-sock"

    @property
    def uri(self) -> str:
        return f"qemu+unix:///system?socket={self.socket}"

    @property
    def machine_socket(self) -> Path:
        """Inside the lab host: the machine's own libvirtd (migrations to the local host)."""
        return self.root / "machine-run" / "libvirt-sock"


class Lab:
    """The lab hosts of one appliance, rooted in a directory of its state."""

    def __init__(self, root: Path, *, token: str) -> None:
        self.root = root
        self.token = token

    # The network

    def network(self) -> LabNetwork:
        """The lab network, made on first use (a subnet no route of the machine uses)."""
        state = self.root / "network.json"
        if state.exists():
            network = LabNetwork(**json.loads(state.read_text()))
            if _netns_exists(network.switch_netns):
                return network
        else:
            network = LabNetwork(token=self.token, subnet=_free_subnet())
        self._make_network(network)
        self.root.mkdir(parents=True, exist_ok=True)
        state.write_text(json.dumps({"token": network.token, "subnet": network.subnet}))
        return network

    def _make_network(self, net: LabNetwork) -> None:
        sw = net.switch_netns
        _run("ip", "netns", "add", sw)
        _run("ip", "-n", sw, "link", "set", "lo", "up")
        _run("ip", "-n", sw, "link", "add", "br0", "type", "bridge")
        _run("ip", "-n", sw, "link", "set", "br0", "up")
        _run("ip", "-n", sw, "link", "add", "pm", "type", "veth", "peer", "name",
             net.machine_veth, "netns", "1")
        _run("ip", "-n", sw, "link", "set", "pm", "master", "br0", "up")
        prefix = ipaddress.ip_network(net.subnet).prefixlen
        _run("ip", "addr", "add", f"{net.gateway}/{prefix}", "dev", net.machine_veth)
        _run("ip", "link", "set", net.machine_veth, "up")

    # Hosts

    def hosts(self) -> list[LabHostInfo]:
        found = []
        for info_file in sorted(self.root.glob("h*/host.json")):
            found.append(_load_info(info_file))
        return found

    def find(self, name: str) -> LabHostInfo | None:
        return next((h for h in self.hosts() if h.name == name), None)

    def running(self, info: LabHostInfo) -> bool:
        return _netns_exists(self.network_state().host_netns(info.index)) and \
            _pid_alive(info.root / "libvirtd.pid")

    def network_state(self) -> LabNetwork:
        state = self.root / "network.json"
        if not state.exists():
            return LabNetwork(token=self.token, subnet="10.213.0.0/24")
        return LabNetwork(**json.loads(state.read_text()))

    def start(self, name: str, *, agent_command: str = "") -> LabHostInfo:
        """Start the lab host ``name`` (made on first start); a running one is left alone.

        ``agent_command`` runs inside instead of libvirtd (which it must start, with the
        host's pid file and configuration): a machine joining by itself, as a second stick
        would (``virtstick agent --join``)."""
        _check_name(name)
        net = self.network()
        info = self.find(name) or self._new_host(name, net)
        if self.running(info):
            return info
        self._kill_namespace(net.host_netns(info.index))
        self._prepare_dirs(info)
        netns = net.host_netns(info.index)
        _run("ip", "netns", "add", netns)
        _run("ip", "-n", net.switch_netns, "link", "add", f"p{info.index}", "type", "veth",
             "peer", "name", "eth0", "netns", netns)
        _run("ip", "-n", net.switch_netns, "link", "set", f"p{info.index}", "master", "br0",
             "up")
        _run("ip", "-n", netns, "link", "set", "lo", "up")
        prefix = ipaddress.ip_network(net.subnet).prefixlen
        _run("ip", "-n", netns, "addr", "add", f"{info.address}/{prefix}", "dev", "eth0")
        _run("ip", "-n", netns, "link", "set", "eth0", "up")
        _run("ip", "netns", "exec", netns, "unshare", "--mount", "--uts",
             "--propagation", "slave", "sh", "-ec", _inside_script(info, agent_command))
        self._wait_for_socket(info)
        return info

    def restart_daemons(self, info: LabHostInfo) -> bool:
        """Soft fencing: start libvirtd (and virtlogd) again inside the lab host's namespaces
        when they died but the host lives on (its QEMUs keep running and libvirtd finds
        them again). False when nothing of the host is left to enter."""
        netns = self.network_state().host_netns(info.index)
        pids = _netns_pids(netns) if _netns_exists(netns) else []
        if not pids:
            return False
        daemons = []
        if not _pid_alive(info.root / "virtlogd.pid"):
            daemons.append(f"virtlogd -d -p {info.root}/virtlogd.pid")
        if not _pid_alive(info.root / "libvirtd.pid"):
            daemons.append(f"libvirtd -d -p {info.root}/libvirtd.pid "
                           f"-f {info.root}/etc/libvirtd.conf")
        if daemons:
            _run("nsenter", "-t", str(pids[0]), "-m", "-u", "-n", "sh", "-ec",
                 "\n".join(daemons))
        try:
            self._wait_for_socket(info)
        except HostAgentError:
            return False
        return True

    def stop(self, info: LabHostInfo, *, kill: bool = False) -> None:
        """Stop a lab host: everything in its namespace ends (``kill``: at once, as a power
        failure; else libvirtd and virtlogd are asked first). Idempotent."""
        netns = self.network_state().host_netns(info.index)
        if not kill:
            for pid_file in ("libvirtd.pid", "virtlogd.pid"):
                _signal_pid_file(info.root / pid_file, signal.SIGTERM)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and _pid_alive(info.root / "libvirtd.pid"):
                time.sleep(0.1)
        self._kill_namespace(netns)
        with contextlib.suppress(FileNotFoundError):
            info.socket.unlink()

    def remove(self, info: LabHostInfo) -> None:
        self.stop(info)
        shutil.rmtree(info.root, ignore_errors=True)

    def teardown(self) -> None:
        """Stop every lab host and remove the lab network (the lab's directories stay)."""
        for info in self.hosts():
            self.stop(info, kill=True)
        net = self.network_state()
        with contextlib.suppress(HostAgentError):
            _run("ip", "link", "del", net.machine_veth)
        if _netns_exists(net.switch_netns):
            _run("ip", "netns", "del", net.switch_netns)
        with contextlib.suppress(FileNotFoundError):
            (self.root / "network.json").unlink()

    def _new_host(self, name: str, net: LabNetwork) -> LabHostInfo:
        taken = {h.index for h in self.hosts()}
        index = next(i for i in range(1, 200) if i not in taken)
        root = self.root / f"h{index}"
        info = LabHostInfo(name=name, index=index, address=net.address(index), root=root,
                           host_uuid=str(uuid.uuid4()))
        root.mkdir(parents=True, exist_ok=True)
        (root / "host.json").write_text(json.dumps({
            "name": name, "index": index, "address": info.address,
            "host_uuid": info.host_uuid}))
        return info

    def _prepare_dirs(self, info: LabHostInfo) -> None:
        for mode_dir in (self.root, info.root):
            mode_dir.mkdir(parents=True, exist_ok=True)
            mode_dir.chmod(0o755)
        for sub in (*_PRIVATE_DIRS, "machine-run"):
            (info.root / sub).mkdir(exist_ok=True)
        # QEMU's capabilities are probed once per libvirtd (about 90 s under TCG): start
        # from the machine's cache, which libvirt checks and refreshes when stale.
        capabilities = Path("/var/cache/libvirt/qemu")
        if capabilities.is_dir() and not (info.root / "cache" / "qemu").exists():
            shutil.copytree(capabilities, info.root / "cache" / "qemu")
        etc = info.root / "etc"
        for conf in ("qemu.conf", "virtlogd.conf", "libvirt.conf"):
            source = Path("/etc/libvirt") / conf
            if source.exists():
                shutil.copy(source, etc / conf)
        with (etc / "qemu.conf").open("a") as qemu_conf:
            qemu_conf.write(_QEMU_CONF)
        (etc / "libvirtd.conf").write_text(f'host_uuid = "{info.host_uuid}"\n')

    def _wait_for_socket(self, info: LabHostInfo) -> None:
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if _pid_alive(info.root / "libvirtd.pid") and _socket_answers(info.socket):
                return
            time.sleep(0.1)
        raise HostAgentError(f"lab host {info.name}: libvirtd did not start within "
                             f"{_START_TIMEOUT:g} s; see {info.root / 'log'}")

    def _kill_namespace(self, netns: str) -> None:
        if not _netns_exists(netns):
            return
        for _ in range(50):
            pids = _netns_pids(netns)
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.1)
        _run("ip", "netns", "del", netns)


def _inside_script(info: LabHostInfo, agent_command: str = "") -> str:
    """What runs inside the new namespaces: hostname, private directories, the daemons."""
    root = info.root
    lines = ["hostname " + _shell_word(info.name),
             # The machine's own libvirtd stays reachable for migrations to the local host.
             f"mount --bind /run/libvirt {root}/machine-run"]
    lines += [f"mount --bind {root}/{sub} {target}" for sub, target in _PRIVATE_DIRS.items()]
    lines += [f"virtlogd -d -p {root}/virtlogd.pid",
              agent_command or f"libvirtd -d -p {root}/libvirtd.pid -f {root}/etc/libvirtd.conf"]
    return "\n".join(lines)


def _check_name(name: str) -> None:
    if not name or len(name) > 40 or not all(c.isalnum() or c in "-_." for c in name):
        raise InvalidInput(f"'{name}' is not a valid lab host name: use letters, digits, "
                           "'-', '_' and '.' (at most 40).")


def _shell_word(text: str) -> str:
    return "'" + text.replace("'", "") + "'"


def _load_info(path: Path) -> LabHostInfo:
    raw = json.loads(path.read_text())
    return LabHostInfo(name=raw["name"], index=raw["index"], address=raw["address"],
                       root=path.parent, host_uuid=raw["host_uuid"])


def _free_subnet() -> str:
    """A 10.213-10.250.x.0/24 the machine has no route to, picked at random so that
    appliances of parallel test runs rarely collide."""
    routes = subprocess.run(["ip", "-4", "route", "show", "table", "all"],
                            capture_output=True, text=True, check=False).stdout
    used = [ipaddress.ip_network(word, strict=False) for word in routes.split()
            if "/" in word and word[0].isdigit()]
    candidates = [f"10.{a}.{b}.0/24" for a in range(213, 251) for b in range(256)]
    random.shuffle(candidates)
    for candidate in candidates:
        network = ipaddress.ip_network(candidate)
        if not any(network.overlaps(u) for u in used):
            return candidate
    raise HostAgentError("no free private subnet for the lab network")


def _netns_exists(name: str) -> bool:
    return Path("/run/netns", name).exists()


def _netns_pids(name: str) -> list[int]:
    result = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True,
                            check=False)
    return [int(p) for p in result.stdout.split()]


def _pid_alive(pid_file: Path) -> bool:
    """The pid file's process runs. A killed daemon nobody has reaped yet (the machine's
    PID 1 need not be an init that reaps at once) is a zombie: that counts as dead."""
    try:
        pid = int(pid_file.read_text().strip())
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (OSError, ValueError):
        return False
    state = stat.rpartition(")")[2].split()[0]
    return state not in ("Z", "X")


def _socket_answers(path: Path) -> bool:
    """Someone accepts connections on the unix socket (a stale socket file refuses them)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


def _signal_pid_file(pid_file: Path, sig: signal.Signals) -> None:
    with contextlib.suppress(OSError, ValueError):
        os.kill(int(pid_file.read_text().strip()), sig)


def _run(*argv: str) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise HostAgentError(f"{' '.join(argv[:4])}...: {result.stderr.strip()}")
