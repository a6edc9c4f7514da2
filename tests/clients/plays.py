"""Run one of our playbooks (playbooks/) with ansible-playbook from the venv, as the issue
says a user would: ``-i localhost, -c local`` with the venv's Python and the connection in
a vars file; the recap and the first failed task come back with the refused requests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.clients.service import ADMIN, ClientService, Request

PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"


@dataclass(frozen=True)
class PlayRun:
    playbook: str
    returncode: int | None  # None: killed at its deadline
    output: str  # the json callback's document, then stderr
    requests: tuple[Request, ...]

    @property
    def report(self) -> dict[str, Any]:
        start = self.output.find("{")
        try:
            data, _ = json.JSONDecoder().raw_decode(self.output[start:])
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    @property
    def changed(self) -> int | None:
        stats = self.report.get("stats", {}).get("localhost")
        return int(stats["changed"]) if stats else None

    @property
    def failures(self) -> list[str]:
        """The failed task that stopped the play (ignored failures come before it), each
        failed loop item on its own."""
        failed = [task for play in self.report.get("plays", []) for task in play["tasks"]
                  if task.get("hosts", {}).get("localhost", {}).get("failed")]
        if self.returncode == 0 or not failed:
            return []
        name = failed[-1].get("task", {}).get("name", "?")
        result = failed[-1]["hosts"]["localhost"]
        items = [r for r in result.get("results", []) if r.get("failed")]
        if not items:
            return [f"{name}: {result.get('msg', '')}"]
        return [f"{name} [{_label(r.get('item'))}]: {r.get('msg', '')}" for r in items]

    def summary(self) -> str:
        lines = [f"{self.playbook}: exit {self.returncode}"]
        lines += ["  failed: " + failure[:700] for failure in self.failures]
        refused = [r for r in self.requests if r.status >= 400]
        if refused:
            lines.append(f"  first refused request: {refused[0].line()}")
            if refused[0].request:
                lines.append(f"    sent: {refused[0].request[:300]}")
            lines.append(f"    answer: {refused[0].reply[:400]}")
        if not self.report:
            lines += ["  " + line for line in self.output.strip().splitlines()[-8:]]
        return "\n".join(lines)


def play_command(playbook: Path, vars_file: Path) -> list[str]:
    return [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,",
            "-c", "local", "-e", f"ansible_python_interpreter={sys.executable}",
            "-e", f"@{vars_file}", str(playbook)]


def write_vars(service: ClientService, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"url: {service.api_url}\nusername: {ADMIN}\n"
                    f"password: {service.password}\nca_file: {service.ca_file}\n"
                    f"host_name: {service.host_name}\n")
    return path


def run_play(service: ClientService, name: str, *, workdir: Path,
             timeout: float = 600) -> PlayRun:
    workdir.mkdir(parents=True, exist_ok=True)
    vars_file = write_vars(service, workdir / "vars.yml")
    env = {**os.environ, "ANSIBLE_HOME": str(workdir / ".ansible"),
           "ANSIBLE_LOCAL_TEMP": str(workdir / ".ansible" / "tmp"), "ANSIBLE_NOCOLOR": "1",
           "ANSIBLE_RETRY_FILES_ENABLED": "0", "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
           "ANSIBLE_STDOUT_CALLBACK": "json"}
    offset = service.log_offset()
    try:
        done = subprocess.run(play_command(PLAYBOOKS / f"{name}.yml", vars_file), env=env,
                              cwd=workdir, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
        returncode: int | None = done.returncode
        output = done.stdout + done.stderr
    except subprocess.TimeoutExpired as expired:
        returncode = None
        output = _text(expired.stdout) + _text(expired.stderr)
    (workdir / "output.txt").write_text(output)
    return PlayRun(name, returncode, output, tuple(service.requests_since(offset)))


def _label(item: object) -> object:
    return item.get("what", item) if isinstance(item, dict) else item


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode("utf-8", "replace")
