"""``python -m image build|usb``: the builder's command line (``make image``, ``make usb``).

User errors print ``error:`` and ``hint:`` lines and exit 2; tracebacks only with ``--debug``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from image.build import build
from image.distro import DistroName, HostSources
from image.errors import ImageError
from image.options import PROJECT_DIR, BuildOptions
from image.usb import SystemState, write_stick


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m image", description=__doc__)
    top.add_argument("--debug", action="store_true", help="show tracebacks")
    commands = top.add_subparsers(dest="command", required=True)
    b = commands.add_parser("build", help="build the live hybrid ISO into the output directory")
    b.add_argument(
        "--distro",
        default=os.environ.get("DISTRO") or "auto",
        help="auto (Fedora when its mirror answers, else Debian), debian or fedora",
    )
    b.add_argument("--output", type=Path, default=PROJECT_DIR / "out", help="where the ISO goes")
    b.add_argument(
        "--cache",
        type=Path,
        default=PROJECT_DIR / ".cache" / "image",
        help="downloads, debootstrap, wheels and logs, kept between builds",
    )
    b.add_argument("--seed", type=Path, default=None, help="bake this seed file into the image")
    b.add_argument("--no-demo", action="store_true", help="leave the demo template out")
    b.add_argument(
        "--fedora-mirror",
        default=os.environ.get("FEDORA_MIRROR") or None,
        help="a Fedora mirror's fedora/linux URL (default: the host's dnf configuration)",
    )
    b.add_argument("--keep-work", action="store_true", help="keep the root tar and ISO tree")
    u = commands.add_parser("usb", help="write the ISO to a removable USB stick and verify it")
    u.add_argument("device", help="the stick, e.g. /dev/sdX")
    u.add_argument("--iso", type=Path, default=None, help="default: the newest ISO in out/")
    u.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "build":
            return _build(args)
        return _usb(args)
    except ImageError as exc:
        if args.debug:
            raise
        print(f"error: {exc.detail}", file=sys.stderr)
        if exc.hint:
            print(f"hint: {exc.hint}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _build(args: argparse.Namespace) -> int:
    options = BuildOptions(
        distro=DistroName.parse(args.distro),
        output_dir=args.output.absolute(),
        cache_dir=args.cache.absolute(),
        seed=args.seed.absolute() if args.seed else None,
        demo=not args.no_demo,
        sources=HostSources(fedora_mirror=args.fedora_mirror),
        keep_work=args.keep_work,
    )
    build(options, out=sys.stdout)
    return 0


def _usb(args: argparse.Namespace) -> int:
    iso = args.iso or _newest_iso(PROJECT_DIR / "out")
    write_stick(
        iso,
        args.device,
        yes=args.yes,
        confirm=lambda question: input(question).strip().lower() in {"y", "yes"},
        out=sys.stdout,
        state=SystemState(),
    )
    return 0


def _newest_iso(directory: Path) -> Path:
    isos = sorted(directory.glob("*.iso"), key=lambda path: path.stat().st_mtime)
    if not isos:
        raise ImageError(f"no ISO in {directory}", hint="run 'make image' first, or pass --iso")
    return isos[-1]


if __name__ == "__main__":
    sys.exit(main())
