"""The ``virtstick`` commands for many hosts, through the REST API: ``hosts`` (list),
``lab-host start|stop NAME`` (hosts on this machine), ``maintenance`` and ``activate`` a
host, ``migrate`` a VM, the cluster's scheduling ``policy``; ``join-token`` (on the engine)
and ``agent --join URL --token T`` (on another machine) make that machine a host."""

from __future__ import annotations

import argparse
import socket
from pathlib import Path
from typing import Any

from appliance.client import ApiClient, connect
from appliance.errors import NotFound
from appliance.vdsm import join

MiB = 1024 * 1024


def add_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    hosts = commands.add_parser("hosts", parents=[common], help="list hosts")
    hosts.set_defaults(func=_hosts)
    lab = commands.add_parser("lab-host", parents=[common],
                              help="start or stop a lab host (an extra host on this machine)")
    lab.add_argument("verb", choices=("start", "stop"),
                     help="stop cuts its power: highly available VMs restart elsewhere")
    lab.add_argument("name")
    lab.add_argument("--memory", type=int, default=0, help="MiB it offers VMs (new hosts)")
    lab.set_defaults(func=_lab_host)
    for verb, text in (("maintenance", "move a host to maintenance (its VMs migrate away)"),
                       ("activate", "bring a host back from maintenance")):
        command = commands.add_parser(verb, parents=[common], help=text)
        command.add_argument("host", help="host name or id")
        command.set_defaults(func=_host_verb, verb=verb)
    migrate = commands.add_parser("migrate", parents=[common], help="live-migrate a VM")
    migrate.add_argument("vm", help="VM name or id")
    migrate.add_argument("--host", help="target host (default: the scheduler's choice)")
    migrate.set_defaults(func=_migrate)
    policy = commands.add_parser("policy", parents=[common],
                                 help="set the Default cluster's scheduling policy")
    policy.add_argument("policy", choices=("none", "evenly_distributed",
                                           "vm_evenly_distributed", "power_saving"))
    policy.add_argument("properties", nargs="*", metavar="KEY=VALUE",
                        help="e.g. HostsInReserve=1 HighUtilization=70")
    policy.set_defaults(func=_policy)
    token = commands.add_parser("join-token", parents=[common],
                                help="make a one-time token for a host to join")
    token.set_defaults(func=_join_token)
    agent = commands.add_parser("agent", help="join this machine to an engine as a host")
    agent.add_argument("--join", required=True, metavar="URL", help="the engine's URL")
    agent.add_argument("--token", required=True, help="from 'virtstick join-token'")
    agent.add_argument("--name", default=socket.gethostname(), help="host name (%(default)s)")
    agent.add_argument("--address", required=True,
                       help="this machine's address, as the engine and other hosts reach it")
    agent.add_argument("--pki-dir", type=Path, default=Path("/etc/pki/virtstick"))
    agent.add_argument("--libvirtd-conf", type=Path,
                       default=Path("/etc/libvirt/libvirtd.conf"))
    agent.add_argument("--pid-file", type=Path, default=Path("/run/libvirtd.pid"))
    agent.add_argument("--ca-file", type=Path, help="the engine's CA, to check https")
    agent.set_defaults(func=_agent)


def _hosts(args: argparse.Namespace) -> int:
    with connect(args) as client:
        hosts = client.get("/hosts").get("host", [])
    print(f"{'NAME':20} {'STATUS':26} {'MEMORY':>9}  ADDRESS")
    for host in hosts:
        memory = f"{int(host.get('memory', 0)) // MiB} MiB"
        print(f"{host['name'][:20]:20} {host.get('status', '')[:26]:26} {memory:>9}  "
              f"{host.get('address', '')}")
    return 0


def _lab_host(args: argparse.Namespace) -> int:
    with connect(args) as client:
        existing = _lookup_host(client, args.name)
        if args.verb == "start" and existing is None:
            body: dict[str, Any] = {"name": args.name, "type": "lab"}
            if args.memory:
                body["memory"] = args.memory * MiB
            host = client.send("POST", "/hosts", body)
        else:
            host = existing or _find_host(client, args.name)
            client.action(f"/hosts/{host['id']}/fence", {"fence_type": args.verb})
            host = client.get(f"/hosts/{host['id']}")
    print(f"{host['name']}: {args.verb} done; status {host.get('status')}")
    return 0


def _host_verb(args: argparse.Namespace) -> int:
    with connect(args) as client:
        host = _find_host(client, args.host)
        verb = "deactivate" if args.verb == "maintenance" else "activate"
        client.action(f"/hosts/{host['id']}/{verb}")
    print(f"{host['name']}: {args.verb} requested")
    return 0


def _migrate(args: argparse.Namespace) -> int:
    with connect(args) as client:
        vm = client.find_vm(args.vm)
        body = {"host": {"name": args.host}} if args.host else {}
        reply = client.action(f"/vms/{vm['id']}/migrate", body)
    job = reply.get("job", {}).get("id", "")
    print(f"{vm['name']}: migration started (job {job})")
    return 0


def _policy(args: argparse.Namespace) -> int:
    properties = []
    for item in args.properties:
        key, equals, value = item.partition("=")
        if not equals:
            raise SystemExit(f"virtstick: '{item}' is not KEY=VALUE")
        properties.append({"name": key, "value": value})
    with connect(args) as client:
        cluster = client.default_cluster()
        body: dict[str, Any] = {"scheduling_policy": {"name": args.policy}}
        if properties:
            body["custom_scheduling_policy_properties"] = {"property": properties}
        client.send("PUT", f"/clusters/{cluster['id']}", body)
    print(f"Default cluster: scheduling policy {args.policy}")
    return 0


def _join_token(args: argparse.Namespace) -> int:
    with connect(args) as client:
        token = client.send("POST", "/jointokens", {})
    print(token["token"])
    return 0


def _agent(args: argparse.Namespace) -> int:
    join.join(join.AgentSettings(
        engine_url=args.join, token=args.token, name=args.name, address=args.address,
        pki_dir=args.pki_dir, libvirtd_conf=args.libvirtd_conf, pid_file=args.pid_file,
        ca_file=args.ca_file))
    print(f"{args.name}: joined {args.join}; libvirtd listens with TLS on {args.address}")
    return 0


def _find_host(client: ApiClient, name_or_id: str) -> dict[str, Any]:
    found = _lookup_host(client, name_or_id)
    if found is None:
        raise NotFound(f"There is no host named or with id '{name_or_id}'.")
    return found


def _lookup_host(client: ApiClient, name_or_id: str) -> dict[str, Any] | None:
    for host in client.get("/hosts").get("host", []):
        if name_or_id in (host["name"], host["id"]):
            return dict(host)
    return None
