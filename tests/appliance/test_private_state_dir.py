"""A state directory made by ``mktemp -d`` (mode 0700) still gives VMs that start: QEMU runs
as libvirt's unprivileged user and must traverse every directory above its disks. Where the
service cannot make a directory traversable (it is not its own), it refuses to start in one
line that says which directory and what to do."""

from __future__ import annotations

import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.cli import main
from appliance.engine.authz import SYSTEM
from appliance.engine.engine import Engine
from appliance.engine.enums import VmStatus
from appliance.vdsm.qemu_access import QemuUser, blocking_directory, qemu_user
from tests.appliance.conftest import make_config
from tests.appliance.guests import READY, console, create_demo_vm

pytestmark = pytest.mark.slow


@pytest.fixture
def private_dir() -> Iterator[Path]:
    """What ``mktemp -d`` makes: a 0700 directory of root's, under /var/tmp."""
    path = Path(tempfile.mkdtemp(prefix="virtstick-private-", dir="/var/tmp"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o700
    yield path
    shutil.rmtree(path, ignore_errors=True)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_vm_starts_from_a_0700_state_dir(private_dir: Path, domain_prefix: str,
                                         demo_disk: Path) -> None:
    config = make_config(private_dir, domain_prefix, demo_disk=str(demo_disk))
    assert mode(private_dir) == 0o711  # traversable, not listable by others
    engine = Engine(config)
    engine.start()
    try:
        vm = create_demo_vm(engine, "private")
        engine.vms.start(vm.id, actor=SYSTEM)
        assert engine.ctx.store.vms.get(vm.id).status is VmStatus.UP
        console(engine, vm).wait_for(READY, timeout=120)
    finally:
        engine.stop()
    assert mode(private_dir / "engine.db") == 0o600  # traversable is not readable


def test_storage_under_a_directory_not_ours_is_refused_with_the_fix(
        private_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A configuration naming storage under someone else's 0700 directory (here pytest's
    private tmp_path, root's but not the service's to open): one line, before anything
    starts."""
    blocked = tmp_path / "locked"
    blocked.mkdir(mode=0o700)
    storage = blocked / "storage"
    storage.mkdir()
    config_file = private_dir / "virtstick.toml"
    config_file.write_text(f'[appliance]\nstate_dir = "{private_dir}"\nvirt_type = "qemu"\n'
                           f'[storage]\npath = "{storage}"\n'
                           '[http]\nlisten = "127.0.0.1:0"\nhttps_listen = ""\n')
    assert main(["serve", "--config", str(config_file)]) == 2
    said = capsys.readouterr().err.strip()
    assert len(said.splitlines()) == 1, said
    user = qemu_user()
    first_blocked = blocking_directory(storage, user)
    assert first_blocked is not None
    assert f"QEMU runs as {user.name} and cannot reach {storage}" in said
    assert f"chmod o+x {first_blocked}" in said
    assert not (private_dir / "engine.db").exists()  # refused before the engine started


def test_qemu_user_from_libvirts_configuration(tmp_path: Path) -> None:
    conf = tmp_path / "qemu.conf"
    conf.write_text('# user = "nobody"\nuser = "root"\ngroup = "root"\n')
    assert qemu_user(conf) == QemuUser(name="root", uid=0, gid=0, groups=(0,))
    conf.write_text("#user = 'libvirt-qemu'\n")
    default = qemu_user(conf)
    assert default.name in ("libvirt-qemu", "qemu", "root")  # the distribution's default


def test_blocking_directory_is_the_first_one_qemu_cannot_search(tmp_path: Path) -> None:
    user = qemu_user()
    if user.uid == 0:
        pytest.skip("QEMU runs as root here: every directory is reachable")
    top = Path(tempfile.mkdtemp(dir="/var/tmp"))
    try:
        inner = top / "a" / "b"
        inner.mkdir(parents=True)
        top.chmod(0o711)
        (top / "a").chmod(0o700)
        assert blocking_directory(inner, user) == top / "a"
        (top / "a").chmod(0o711)
        assert blocking_directory(inner, user) is None
    finally:
        shutil.rmtree(top, ignore_errors=True)

