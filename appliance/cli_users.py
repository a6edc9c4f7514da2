"""``virtstick user password NAME`` and ``virtstick group add-user|remove-user GROUP NAME``:
the internal domain at this machine's console, on the service's own state (what oVirt's
ovirt-aaa-jdbc-tool does on its engine machine). The password is read without echo from the
terminal, asked twice, or as one line from standard input."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from appliance import config as configuration
from appliance.config import Config
from appliance.engine.local_directory import LocalDirectory
from appliance.errors import InvalidInput


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    place = argparse.ArgumentParser(add_help=False)
    place.add_argument("--config", type=Path, help="the service's configuration (default "
                       f"{configuration.DEFAULT_CONFIG_PATH})")
    place.add_argument("--state-dir", type=Path,
                       help="the state directory of a development service (virtstick serve "
                       "--state-dir)")

    user = commands.add_parser("user", help="users of the internal domain, at this machine")
    user_commands = user.add_subparsers(required=True, metavar="COMMAND")
    password = user_commands.add_parser(
        "password", parents=[place], help="set a user's password (read without echo)")
    password.add_argument("name", help="the user: jdoe, jdoe@internal or jdoe@internal-authz")
    password.set_defaults(func=_password)

    group = commands.add_parser("group", help="members of internal groups, at this machine")
    group_commands = group.add_subparsers(required=True, metavar="COMMAND")
    for verb, member in (("add-user", True), ("remove-user", False)):
        command = group_commands.add_parser(
            verb, parents=[place], help=f"{'put a user in' if member else 'take a user out of'}"
            " a group")
        command.add_argument("group")
        command.add_argument("name", help="the user")
        command.set_defaults(func=_member, member=member)


def _password(args: argparse.Namespace) -> int:
    directory = LocalDirectory(_config(args))
    try:
        user = directory.user(args.name)
        directory.set_password(user.name, _read_password(user.user_name))
    finally:
        directory.close()
    print(f"The password of {user.user_name} is set; they can log in now.")
    return 0


def _member(args: argparse.Namespace) -> int:
    directory = LocalDirectory(_config(args))
    try:
        user = directory.set_member(args.group, args.name, member=args.member)
    finally:
        directory.close()
    print(f"{user.user_name} is {'now' if args.member else 'no longer'} in group {args.group}.")
    return 0


def _config(args: argparse.Namespace) -> Config:
    if args.state_dir is not None and args.config is None:
        return Config().replace(appliance={"state_dir": args.state_dir})
    return configuration.load(args.config or configuration.DEFAULT_CONFIG_PATH)


def _read_password(user_name: str) -> str:
    if not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"New password for {user_name}: ")
        if getpass.getpass("The same again: ") != password:
            raise InvalidInput("The two passwords differ; nothing was changed.")
    if not password:
        raise InvalidInput("No password was given; nothing was changed.")
    return password
