"""Run one of the SDK's example scripts unchanged but for its environment: the connection's
URL, password and CA file, and the names of objects the lab already has (``mycluster`` is
our ``Default``). Substitutions touch string literals only (found with ``tokenize``), each
is logged, and the script runs with the venv's Python in a directory of its own, where its
``example.log`` (the SDK's debug log) stays for the post-mortem."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import tokenize
from dataclasses import dataclass
from pathlib import Path

from tests.clients.service import ClientService, Request

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = REPO_ROOT / ".cache" / "sdk-examples" / "examples"
CONFIG_SECTION = "engine"  # the helpers' ``-c engine`` reads ~/.config/ovirt.conf [engine]
CONNECTION_CALLS = ("Connection", "ConnectionBuilder")
ENGINE_URL = re.compile(r"https://engine[\w.]*/ovirt-engine/api")


@dataclass(frozen=True)
class Substitution:
    line: int
    old: str
    new: str

    def describe(self) -> str:
        return f"line {self.line}: {self.old} -> {self.new}"


@dataclass(frozen=True)
class Run:
    name: str
    returncode: int | None  # None: still running at its deadline (then killed)
    stdout: str
    stderr: str
    substitutions: tuple[Substitution, ...]
    requests: tuple[Request, ...]
    workdir: Path

    @property
    def failed_requests(self) -> list[Request]:
        return [r for r in self.requests if r.status >= 400]

    def summary(self) -> str:
        lines = [f"{self.name}: exit {self.returncode}"]
        lines += ["  substituted " + s.describe() for s in self.substitutions]
        if self.failed_requests:
            first = self.failed_requests[0]
            lines.append(f"  first refused request: {first.line()}")
            if first.request:
                lines.append(f"    sent: {first.request[:300]}")
            lines.append(f"    answer: {first.reply[:400]}")
        tail = self.stderr.strip().splitlines()[-6:]
        lines += ["  " + line for line in tail]
        return "\n".join(lines)


def examples_available() -> bool:
    return (EXAMPLES / "helpers" / "common.py").exists()


def missing_examples_hint() -> str:
    return f"the SDK's examples are not in {EXAMPLES}: run 'make setup' (target sdk-examples)"


def substitute(source: str, *, connection: dict[str, str],
               names: dict[str, str]) -> tuple[str, list[Substitution]]:
    """``source`` with the connection's keyword values and environment names replaced, in
    string literals only."""
    patterns = [(re.compile(rf"(?<![\w-]){re.escape(old)}(?![\w-])"), new)
                for old, new in names.items()]
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    edits: list[tuple[int, int, str, Substitution]] = []
    calls: list[str] = []
    recent: list[tokenize.TokenInfo] = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.OP and tok.string in "([{":
            calls.append(recent[-1].string if recent and recent[-1].type == tokenize.NAME
                         else "")
        elif tok.type == tokenize.OP and tok.string in ")]}" and calls:
            calls.pop()
        elif tok.type == tokenize.STRING:
            replaced = _literal(tok, recent, calls, connection, patterns)
            if replaced is not None:
                start = offsets[tok.start[0] - 1] + tok.start[1]
                end = offsets[tok.end[0] - 1] + tok.end[1]
                edits.append((start, end, replaced,
                              Substitution(tok.start[0], tok.string, replaced)))
        if tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT,
                            tokenize.INDENT, tokenize.DEDENT):
            recent = (recent + [tok])[-2:]
    for start, end, text, _ in sorted(edits, reverse=True):
        source = source[:start] + text + source[end:]
    return source, [edit[3] for edit in edits]


def _literal(tok: tokenize.TokenInfo, recent: list[tokenize.TokenInfo], calls: list[str],
             connection: dict[str, str],
             patterns: list[tuple[re.Pattern[str], str]]) -> str | None:
    keyword = (recent[0].string if len(recent) == 2 and recent[1].string == "="
               and recent[0].type == tokenize.NAME else None)
    if calls and calls[-1] in CONNECTION_CALLS and keyword in connection:
        return repr(connection[keyword])
    if ENGINE_URL.fullmatch(tok.string.strip("'\"")):
        return repr(connection["url"])
    text = tok.string
    for pattern, new in patterns:
        text = pattern.sub(new, text)
    return text if text != tok.string else None


def run_example(service: ClientService, name: str, *, args: tuple[str, ...] = (),
                names: dict[str, str], workdir: Path, timeout: float,
                forever: bool = False) -> Run:
    """Copy, substitute and run ``examples/<name>.py``; ``forever``: the script polls
    without end, so still running at ``timeout`` is how it should be."""
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copytree(EXAMPLES / "helpers", workdir / "helpers", dirs_exist_ok=True)
    connection = {"url": service.api_url, "password": service.password,
                  "ca_file": str(service.ca_file)}
    source, substitutions = substitute((EXAMPLES / f"{name}.py").read_text(),
                                       connection=connection, names=names)
    script = workdir / f"{name}.py"
    script.write_text(source)
    (workdir / "substitutions.log").write_text(
        "".join(s.describe() + "\n" for s in substitutions))
    _write_helpers_config(service, workdir)
    env = {**os.environ, "HOME": str(workdir), "PYTHONUNBUFFERED": "1"}
    offset = service.log_offset()
    command = [sys.executable, str(script), *args]
    with (workdir / "stdout").open("w") as out, (workdir / "stderr").open("w") as err:
        process = subprocess.Popen(command, cwd=workdir, env=env, stdout=out, stderr=err,
                                   stdin=subprocess.DEVNULL)
        try:
            returncode: int | None = process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            returncode = None
    del forever  # the caller judges a run that did not end
    return Run(name, returncode, (workdir / "stdout").read_text(),
               (workdir / "stderr").read_text(), tuple(substitutions),
               tuple(service.requests_since(offset)), workdir)


def _write_helpers_config(service: ClientService, home: Path) -> None:
    """~/.config/ovirt.conf as the examples' helpers/common.py reads it."""
    config = home / ".config"
    config.mkdir(exist_ok=True)
    (config / "ovirt.conf").write_text(
        f"[{CONFIG_SECTION}]\nengine_url = {service.engine_url}\nusername = admin@internal\n"
        f"password = {service.password}\ncafile = {service.ca_file}\n")
