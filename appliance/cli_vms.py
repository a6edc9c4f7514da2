"""The ``virtstick`` commands that talk to a running appliance through its REST API:
``list``, ``show``, ``start``, ``stop``, ``shutdown``, ``reboot`` and ``console``."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from typing import Any

from appliance.client import ApiClient, ClientSettings

URL_ENV = "VIRTSTICK_URL"
USER_ENV = "VIRTSTICK_USER"
PASSWORD_ENV = "VIRTSTICK_PASSWORD"
MiB = 1024 * 1024


def add_commands(commands: Any) -> None:
    """Register the client commands on the CLI's sub-parsers."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", default=os.environ.get(URL_ENV, "http://127.0.0.1:8080"),
                        help=f"the appliance (default ${URL_ENV} or %(default)s)")
    common.add_argument("--user", default=os.environ.get(USER_ENV, "admin@internal"),
                        help=f"user@internal (default ${USER_ENV} or %(default)s)")
    common.add_argument("--ca-file", help="CA certificate for https (from pki-resource)")
    listing = commands.add_parser("list", parents=[common], help="list VMs")
    listing.add_argument("--search", help='oVirt search, e.g. "name=web* and status=up"')
    listing.set_defaults(func=_list)
    for name, text in (("show", "show one VM"), ("start", "start a VM"),
                       ("stop", "power a VM off"), ("shutdown", "shut a VM down (ACPI)"),
                       ("reboot", "reboot a VM"), ("console", "print a VM's console URL")):
        command = commands.add_parser(name, parents=[common], help=text)
        command.add_argument("vm", help="VM name or id")
        command.set_defaults(func=_vm_command, verb=name)
    from appliance import cli_hosts

    cli_hosts.add_commands(commands, common)


def _client(args: argparse.Namespace) -> ApiClient:
    password = os.environ.get(PASSWORD_ENV) or getpass.getpass(f"Password for {args.user}: ")
    return ApiClient(ClientSettings(url=args.url, username=args.user, password=password,
                                    ca_file=args.ca_file))


def _list(args: argparse.Namespace) -> int:
    with _client(args) as client:
        query = {"search": args.search} if args.search else {}
        vms = client.get("/vms", **query).get("vm", [])
    print(f"{'NAME':24} {'STATUS':16} {'MEMORY':>8}  ID")
    for vm in vms:
        memory = f"{int(vm.get('memory', 0)) // MiB} MiB"
        print(f"{vm['name'][:24]:24} {vm.get('status', '')[:16]:16} {memory:>8}  {vm['id']}")
    return 0


def _vm_command(args: argparse.Namespace) -> int:
    with _client(args) as client:
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
