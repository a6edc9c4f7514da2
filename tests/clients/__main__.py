"""Run one SDK example or one playbook by hand against a service that is already running,
with the same preparation, substitutions and reset as the tests:

    python -m tests.clients example add_vm_nic --password PW
    python -m tests.clients play vm --password PW --keep

The service's CA is fetched from it. Start the service with the access log to see the
refused requests too: ``python -m tests.clients.accesslog access.log serve --config FILE``
and pass ``--access-log access.log``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import urllib.request
from pathlib import Path

from appliance.config import Config
from tests.api.conftest import Appliance
from tests.clients.examples import APPLICABLE, environment_names
from tests.clients.plays import run_play
from tests.clients.runner import run_example
from tests.clients.service import ClientService
from tests.clients.test_ansible import PREPARE
from tests.clients.world import World


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix=f"vs-client-{args.name}-", dir="/var/tmp"))
    service = _service(args, workdir)
    connection = service.connect()
    world = World(service, connection)
    baseline = world.baseline()
    try:
        if args.kind == "example":
            example = next(e for e in APPLICABLE if e.name == args.name)
            values = example.prepare(world) if example.prepare else {}
            run = run_example(service, example.name,
                              args=tuple(a.format(**values) for a in example.args),
                              names=environment_names(example, service.host_name),
                              workdir=workdir / "run", timeout=example.timeout)
            print(run.summary())
            ok = run.returncode == 0 or (example.forever and run.returncode is None)
        else:
            prepare = PREPARE.get(args.name)
            if prepare is not None:
                prepare(world)
            play = run_play(service, args.name, workdir=workdir / "run")
            print(play.summary())
            ok = play.returncode == 0
        print(f"(files in {workdir / 'run'})")
        return 0 if ok else 1
    finally:
        if not args.keep:
            world.reset(baseline)
        connection.close()


def _service(args: argparse.Namespace, workdir: Path) -> ClientService:
    ca_file = workdir / "ca.pem"
    with urllib.request.urlopen(f"{args.http}/ovirt-engine/services/pki-resource?"
                                "resource=ca-certificate&format=X509-PEM-CA") as reply:
        ca_file.write_bytes(reply.read())
    appliance = Appliance(url=args.http, https_url=args.https, state_dir=workdir,
                          config=Config(), prefix="")
    log = Path(args.access_log) if args.access_log else workdir / "no-access.log"
    service = ClientService(appliance, ca_file, log, "", args.password)
    host = service.connect().system_service().hosts_service().list()[0]
    return ClientService(appliance, ca_file, log, str(host.name), args.password)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.clients", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=("example", "play"))
    parser.add_argument("name", help="an example (examples.py) or a playbook (playbooks/)")
    parser.add_argument("--http", default="http://127.0.0.1:8080", help="http.listen")
    parser.add_argument("--https", default="https://127.0.0.1:8443", help="http.https_listen")
    parser.add_argument("--password", required=True, help="admin@internal's password")
    parser.add_argument("--access-log", help="the access log of tests.clients.accesslog")
    parser.add_argument("--keep", action="store_true", help="leave what the run made")
    return parser


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
