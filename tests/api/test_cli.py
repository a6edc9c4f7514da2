"""The ``virtstick`` CLI as a client of the API: list, show, start, stop, console."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import ovirtsdk4 as sdk
import ovirtsdk4.types as types

from tests.api.conftest import ADMIN_PASSWORD, Appliance, unique


def _cli(appliance: Appliance, *args: str, password: str = ADMIN_PASSWORD
         ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VIRTSTICK_PASSWORD": password, "VIRTSTICK_URL": appliance.url}
    return subprocess.run([sys.executable, "-m", "appliance.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def test_cli_drives_a_vm(appliance: Appliance, admin: sdk.Connection) -> None:
    name = unique("cli")
    vm = admin.system_service().vms_service().add(types.Vm(
        name=name, template=types.Template(name="Blank"),
        cluster=types.Cluster(name="Default"), memory=64 * 1024 * 1024))
    try:
        listed = _cli(appliance, "list", "--search", f"name={name}")
        assert listed.returncode == 0, listed.stderr
        assert name in listed.stdout and "down" in listed.stdout
        shown = _cli(appliance, "show", name)
        assert json.loads(shown.stdout)["id"] == vm.id
        started = _cli(appliance, "start", name)
        assert started.returncode == 0, started.stderr
        assert "status up" in started.stdout
        console = _cli(appliance, "console", vm.id)
        assert f"/ovirt-engine/api/vms/{vm.id}/graphicsconsoles/" in console.stdout
        stopped = _cli(appliance, "stop", name)
        assert "status down" in stopped.stdout
    finally:
        admin.system_service().vms_service().vm_service(vm.id).remove()


def test_cli_errors_are_one_line(appliance: Appliance) -> None:
    missing = _cli(appliance, "show", "no-such-vm")
    assert missing.returncode == 2
    assert missing.stderr.strip() == "virtstick: There is no VM named or with id 'no-such-vm'."
    denied = _cli(appliance, "list", password="wrong-password")
    assert denied.returncode == 2 and "Login as admin@internal failed" in denied.stderr


def test_console_commands_without_a_store_say_where_they_looked(tmp_path: object) -> None:
    """``virtstick user password`` works on the service's state; without one it says so in
    one line and changes nothing."""
    missing = f"{tmp_path}/nothing-here"
    done = subprocess.run([sys.executable, "-m", "appliance.cli", "user", "password", "jdoe",
                           "--state-dir", missing], input="a long password\n",
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith("virtstick: There is no VirtStick store at")
    assert "Traceback" not in done.stderr
