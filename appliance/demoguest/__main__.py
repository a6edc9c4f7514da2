"""Command line: ``python -m appliance.demoguest build --cache DIR`` prints the disk path."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from appliance.demoguest.build import build
from appliance.errors import VirtStickError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m appliance.demoguest")
    commands = parser.add_subparsers(dest="command", required=True)
    build_cmd = commands.add_parser("build", help="build (or reuse) the demo guest disk")
    build_cmd.add_argument("--cache", type=Path, required=True, help="cache directory")
    args = parser.parse_args(argv)
    try:
        guest = build(args.cache)
    except VirtStickError as error:
        print(f"demoguest: {error.detail}", file=sys.stderr)
        return 1
    print(guest.disk)
    return 0


if __name__ == "__main__":
    sys.exit(main())
