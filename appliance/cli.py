"""The ``virtstick`` command: run the service (``serve``, ``run``) and, later, talk to it.

User errors end as one line with a hint, never a traceback (``--debug`` shows it).
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from appliance import cli_hosts, cli_users, cli_vms, client
from appliance import config as configuration
from appliance.config import Config
from appliance.errors import VirtStickError
from appliance.security.passwords import hash_password
from appliance.vdsm.qemu_access import make_traversable

ADMIN_PASSWORD_ENV = "VIRTSTICK_ADMIN_PASSWORD"


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        result: int = args.func(args)
        return result
    except VirtStickError as exc:
        if args.debug:
            raise
        print(f"virtstick: {exc.detail}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="virtstick", description="VirtStick appliance")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the combined engine + host agent service")
    serve.add_argument("--config", type=Path, help="configuration file "
                       f"(default {configuration.DEFAULT_CONFIG_PATH}, or one made from "
                       "--state-dir)")
    serve.add_argument("--state-dir", type=Path, help="keep all state in this directory")
    serve.add_argument("--listen", help="HOST:PORT for plain HTTP")
    serve.add_argument("--wait-for-config", action="store_true",
                       help="load the code now, then wait until the configuration file exists "
                       "(the stick starts the service with the first-boot wizard)")
    serve.set_defaults(func=_serve)

    run = commands.add_parser("run", help="try the service on this machine, state in /tmp")
    run.add_argument("--listen", default="127.0.0.1:8080", help="HOST:PORT (default %(default)s)")
    run.set_defaults(func=_run)
    common = client.connection_arguments()
    cli_vms.add_commands(commands, common)
    cli_hosts.add_commands(commands, common)
    cli_users.add_commands(commands)
    return parser


def _serve(args: argparse.Namespace) -> int:
    from appliance.server import serve
    from appliance.startup import StartupClock
    from appliance.web import routes

    clock = StartupClock()
    clock.mark("interpreter and imports")
    with clock.phase("routes"):
        routed = routes()  # needs no configuration: made while the wizard writes it
    if args.config is not None or args.state_dir is None:
        path = args.config or configuration.DEFAULT_CONFIG_PATH
        if args.wait_for_config:
            with clock.phase("waiting for the configuration"):
                _wait_for(path)
        config = configuration.load(path)
    else:
        config = development_config(args.state_dir)
    if args.listen:
        config = config.replace(http={"listen": args.listen})
    serve(config, clock=clock, routed=routed)
    return 0


def _wait_for(path: Path, *, poll: float = 0.2) -> None:
    """Until the wizard has written ``path`` (it replaces the file whole, never in part)."""
    if not path.exists():
        logging.getLogger(__name__).info("waiting for %s (the first-boot wizard writes it)",
                                         path)
    while not path.exists():
        time.sleep(poll)


def _run(args: argparse.Namespace) -> int:
    from appliance.server import serve

    state_dir = Path(tempfile.mkdtemp(prefix="virtstick-run-"))
    state_dir.chmod(0o755)
    storage = state_dir / "storage"
    storage.mkdir()
    mounted = _mount_tmpfs(storage)
    config = development_config(state_dir).replace(
        http={"listen": args.listen},
        storage={"backing": "tmpfs" if mounted else "directory"})
    print(f"VirtStick is starting. State: {state_dir}; RAM storage: {storage}"
          f" ({'tmpfs' if mounted else 'a plain directory'}).")
    print(f"Open http://{args.listen}/ and log in as admin@internal.")
    serve(config)
    return 0


def development_config(state_dir: Path) -> Config:
    """A complete appliance rooted in ``state_dir``: VMs use QEMU's user networking, so
    nothing on the machine's own network changes."""
    state_dir.mkdir(parents=True, exist_ok=True)
    storage = state_dir / "storage"
    storage.mkdir(exist_ok=True)
    # QEMU (as libvirt's user) must traverse down to the disks and consoles: a mktemp -d
    # directory is 0700. Search only; nothing here becomes listable by others.
    make_traversable(storage, within=state_dir)
    return Config().replace(
        appliance={"state_dir": state_dir, "demo_disk": _demo_disk()},
        storage={"path": storage, "backing": "directory"},
        network={"ovirtmgmt": "user"},
        # Console proxies on any free port: the page learns it with its ticket, and two
        # development services never fight over one.
        http={"https_listen": "", "console_listen": "127.0.0.1:0",
              "console_tls_listen": "127.0.0.1:0"},
        auth={"admin_password_hash": _admin_password_hash(state_dir)},
        imageio={"listen": "127.0.0.1:0"},
    )


def _admin_password_hash(state_dir: Path) -> str:
    stored = state_dir / "admin-password.hash"
    password = os.environ.get(ADMIN_PASSWORD_ENV)
    if password:
        hashed = hash_password(password)
    elif stored.exists():
        return stored.read_text().strip()
    else:
        password = secrets.token_urlsafe(12)
        print(f"Generated password for admin@internal: {password}  (shown once)", flush=True)
        hashed = hash_password(password)
    stored.write_text(hashed)
    stored.chmod(0o600)
    return hashed


def _demo_disk() -> str:
    """The demo guest of the stick, or of this checkout's cache in development."""
    installed = Path(Config().appliance.demo_disk)
    if installed.is_file():
        return str(installed)
    cached = sorted(Path(__file__).resolve().parent.parent.glob(".cache/demoguest/*/*.qcow2"))
    return str(cached[-1]) if cached else ""


def _mount_tmpfs(directory: Path) -> bool:
    if os.geteuid() != 0:
        return False
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4G,mode=0755",
                             "virtstick-ram", str(directory)], capture_output=True)
    return result.returncode == 0


if __name__ == "__main__":
    sys.exit(main())
