"""``virtstick-firstboot``: the wizard's entry point.

    virtstick-firstboot run              seed if valid, else console + web page; exit 0 when
                                         the configuration is written and the service started
    virtstick-firstboot apply --seed F   unattended from a seed file
    virtstick-firstboot tui | web [--listen ADDR]   one face only
    virtstick-firstboot network [--seed F]          re-run the network step later
    virtstick-firstboot hardware         what the welcome step sees, as JSON
    virtstick-firstboot seed             where the wizard looks for a seed and what it finds

Every subcommand takes ``--settings FILE`` (default /etc/virtstick/firstboot.toml; see
``firstboot.settings``). The image's ``virtstick-firstboot.service`` runs ``run`` on tty1
(``StandardInput=tty``, ``TTYPath=/dev/tty1``) while /etc/virtstick/virtstick.toml is absent;
the image needs NetworkManager, udev, mtools and xorriso (seed media) and e2fsprogs (zram).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
import threading
from pathlib import Path

from appliance.errors import VirtStickError
from firstboot.answers import InvalidAnswers, parse_network
from firstboot.apply import Step, StepState, apply_all, apply_network_again, start_service
from firstboot.hardware import DataSource, Hardware, detect
from firstboot.network.bus import NetworkManagerClient
from firstboot.network.current import current_network
from firstboot.seed import Seed, SeedSearch, answers_from_seed, parse_seed_text, search_seed
from firstboot.session import WizardSession
from firstboot.settings import WizardSettings, load_settings
from firstboot.settle import settle


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(args.settings)
        return int(args.handler(args, settings))
    except InvalidAnswers as exc:
        _say("error: the answers are invalid:")
        for error in exc.errors:
            _say(f"  {error.line()}")
        return 2
    except VirtStickError as exc:
        _say(f"error: {exc.detail}")
        return 1
    except KeyboardInterrupt:
        return 130


def _run(args: argparse.Namespace, settings: WizardSettings) -> int:
    notices: list[str] = []  # why the seed was not used, for the faces too
    try:
        seed = _search(settings).seed
    except VirtStickError as exc:
        notices.append(f"Seed: {exc.detail}")
        seed = None
    hardware = _detected(settings)
    if seed is not None:
        try:
            answers = answers_from_seed(seed, hardware.facts())
        except InvalidAnswers as exc:
            notices.append(f"The seed from {seed.source} is invalid: "
                           + "; ".join(e.line() for e in exc.errors))
        else:
            _say(f"applying the seed from {seed.source}")
            try:
                outcome = apply_all(answers, settings, on_step=_print_step)
            except VirtStickError as exc:
                notices.append(f"The seed from {seed.source} could not be applied: "
                               f"{exc.detail}")
            else:
                _say(f"VirtStick is ready: {outcome.url}")
                return 0
    for notice in notices:
        _say(f"{notice} (asking instead)")
    return _ask(settings, hardware, listen=settings.web_listen, console=sys.stdin.isatty(),
                notices=notices)


def _detect(settings: WizardSettings) -> Hardware:
    return detect(include_loop=settings.include_loop_disks, bridge=settings.bridge,
                  zram_control=settings.zram_control)


def _detected(settings: WizardSettings) -> Hardware:
    """The machine's devices, once udev has named the network cards: early in a loaded boot
    a card's driver may not be loaded yet, or udev not done renaming it (then we wait for
    udev's queue, which is long only then)."""
    hardware = _detect(settings)
    if hardware.nics and all(nic.source is DataSource.UDEV for nic in hardware.nics):
        return hardware
    settle(settings.seed_settle_timeout_s)
    return _detect(settings)


def _search(settings: WizardSettings) -> SeedSearch:
    """Look for a seed, saying on the console (and so in the journal) what was searched."""
    _say(f"looking for a seed (kernel command line, a filesystem labelled "
         f"{settings.seed_label}, {settings.baked_seed})")
    found = search_seed(settings, on_wait=_say)
    if found.seed is None:
        _say(f"no seed found; searched: {found.summary()}")
    return found


def _seed(args: argparse.Namespace, settings: WizardSettings) -> int:
    found = _search(settings)
    if found.seed is None:
        return 1
    _say(f"seed found: {found.seed.source}")
    return 0


def _apply(args: argparse.Namespace, settings: WizardSettings) -> int:
    hardware = _detect(settings)
    seed = Seed(f"file {args.seed}", Path(args.seed).read_text())
    outcome = apply_all(answers_from_seed(seed, hardware.facts()), settings,
                        on_step=_print_step)
    _say(f"VirtStick is ready: {outcome.url}")
    return 0


def _tui(args: argparse.Namespace, settings: WizardSettings) -> int:
    hardware = _detect(settings)
    return _ask(settings, hardware, listen="", console=True)


def _web(args: argparse.Namespace, settings: WizardSettings) -> int:
    hardware = _detect(settings)
    return _ask(settings, hardware, listen=args.listen or settings.web_listen, console=False)


def _network(args: argparse.Namespace, settings: WizardSettings) -> int:
    hardware = _detect(settings)
    if args.seed:
        raw = parse_seed_text(Seed(f"file {args.seed}", Path(args.seed).read_text()))
        answers = parse_network(raw.get("network", {}), hardware.facts())
        result = apply_network_again(answers, settings, on_step=_print_step)
        _say(f"network applied: {', '.join(result.addresses)} on {result.bridge}")
        return 0
    from firstboot.tui.app import WizardApp  # Textual only when a console face is wanted

    session = WizardSession(settings=settings, hardware=hardware)
    now = asyncio.run(_current_network(settings))
    return 0 if WizardApp(session, network_only=True, initial={"network": now}).run() else 1


async def _current_network(settings: WizardSettings) -> dict[str, str]:
    client = await NetworkManagerClient.connect(settings.system_bus)
    try:
        return await current_network(client, bridge=settings.bridge)
    finally:
        client.close()


def _hardware(args: argparse.Namespace, settings: WizardSettings) -> int:
    hardware = _detect(settings)
    print(json.dumps(dataclasses.asdict(hardware), indent=2))
    return 0


def _ask(settings: WizardSettings, hardware: Hardware, *, listen: str, console: bool,
         notices: list[str] | None = None) -> int:
    """The faces: the web page in a thread (when listening) and the console in front."""
    from firstboot.web.app import serve_until_done

    session = WizardSession(settings=settings, hardware=hardware, defer_service=bool(listen),
                            notices=notices or ())
    web = None
    if listen:
        web = threading.Thread(target=serve_until_done, args=(session, listen), daemon=True)
        web.start()
        _say(f"setup page: http://{listen.split()[0]}/ (from another machine: setup code "
             f"{session.setup_code})")
    if console:
        from firstboot.tui.app import WizardApp

        WizardApp(session).run()
    elif web is not None:
        web.join()
    if session.outcome is None:
        return 1
    if web is not None:
        session.done.wait()
        web.join()  # port 80 is the appliance's from now on
        _print_step(Step.SERVICE, StepState.RUNNING, "")
        start_service(settings.start_command)
    _say(f"VirtStick is ready: {session.outcome.url}")
    return 0


def _print_step(step: Step, state: StepState, detail: str) -> None:
    _say(f"{step.value}: {state.value}{' - ' + detail if detail else ''}")


def _say(text: str) -> None:
    print(f"virtstick-firstboot: {text}", file=sys.stderr, flush=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="virtstick-firstboot",
                                     description="VirtStick's first-boot wizard")
    parser.add_argument("--settings", type=Path, default=None,
                        help="the wizard's settings (default /etc/virtstick/firstboot.toml)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="seed if any, else ask").set_defaults(handler=_run)
    apply = commands.add_parser("apply", help="unattended from a seed file")
    apply.add_argument("--seed", required=True)
    apply.set_defaults(handler=_apply)
    commands.add_parser("tui", help="the console face only").set_defaults(handler=_tui)
    web = commands.add_parser("web", help="the web face only")
    web.add_argument("--listen", default="", help="host:port (default from the settings)")
    web.set_defaults(handler=_web)
    network = commands.add_parser("network", help="re-run the network step")
    network.add_argument("--seed", default="", help="take [network] from this seed file")
    network.set_defaults(handler=_network)
    commands.add_parser("hardware", help="print what is detected").set_defaults(
        handler=_hardware)
    commands.add_parser("seed", help="look for a seed and say where it was found").set_defaults(
        handler=_seed)
    return parser


if __name__ == "__main__":
    sys.exit(main())
