"""The ``virtstick`` commands for VMs, through the REST API: ``list``, ``show``,
``start``, ``stop``, ``shutdown``, ``reboot`` and ``console``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from appliance.client import connect

MiB = 1024 * 1024


def add_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    """Register the VM commands on the CLI's sub-parsers; ``common``: the connection
    options (``client.connection_arguments``)."""
    listing = commands.add_parser("list", parents=[common], help="list VMs")
    listing.add_argument("--search", help='oVirt search, e.g. "name=web* and status=up"')
    listing.set_defaults(func=_list)
    for name, text in (("show", "show one VM"), ("start", "start a VM"),
                       ("stop", "power a VM off"), ("shutdown", "shut a VM down (ACPI)"),
                       ("reboot", "reboot a VM"), ("console", "print a VM's console URL")):
        command = commands.add_parser(name, parents=[common], help=text)
        command.add_argument("vm", help="VM name or id")
        command.set_defaults(func=_vm_command, verb=name)


def _list(args: argparse.Namespace) -> int:
    with connect(args) as client:
        query = {"search": args.search} if args.search else {}
        vms = client.get("/vms", **query).get("vm", [])
    print(f"{'NAME':24} {'STATUS':16} {'MEMORY':>8}  ID")
    for vm in vms:
        memory = f"{int(vm.get('memory', 0)) // MiB} MiB"
        print(f"{vm['name'][:24]:24} {vm.get('status', '')[:16]:16} {memory:>8}  {vm['id']}")
    return 0


def _vm_command(args: argparse.Namespace) -> int:
    with connect(args) as client:
        vm = client.find_vm(args.vm)
        if args.verb == "show":
            json.dump(vm, sys.stdout, indent=2)
            print()
        elif args.verb == "console":
            consoles = client.get(f"/vms/{vm['id']}/graphicsconsoles").get(
                "graphics_console", [])
            for console in consoles:
                print(f"{args.url.rstrip('/')}{console['href']}  ({console.get('protocol')})")
        else:
            client.action(f"/vms/{vm['id']}/{args.verb}")
            status = client.get(f"/vms/{vm['id']}").get("status")
            print(f"{vm['name']}: {args.verb} done; status {status}")
    return 0
