"""The web face: the console's steps as one form (errors inline at each field), then a
summary to confirm before anything is applied.

Browsers on this machine need nothing else; a browser elsewhere must type the one-time setup
code the console shows, so nobody on the LAN can set the admin password first. The server
(waitress) runs until the session is done.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from waitress.server import MultiSocketServer

from appliance import httpserver, tls
from appliance.body_limits import BodyGate, BodyRule
from appliance.connection_limits import ConnectionLimiter, ConnectionLimits
from appliance.errors import VirtStickError
from firstboot.answers import Answers, InvalidAnswers
from firstboot.session import SessionState, WizardSession
from firstboot.storage_sizing import Backing, budget_for, propose_backing

FIELDS = ("network.interface", "network.mode", "network.address", "network.gateway",
          "network.dns", "network.hostname", "storage.backing", "storage.size_mib",
          "storage.device", "storage.confirm_wipe", "admin.password", "admin.password_confirm",
          "timezone")
# The page listens on the LAN before any password exists: the service's bounds, smaller.
LIMITS = ConnectionLimits(total=64, per_address=8, header_seconds=5.0, request_seconds=30.0,
                          idle_seconds=15.0)
FORM_LIMIT = 16 * 1024  # the form's fields, a password among them


def create_app(session: WizardSession) -> Flask:
    app = Flask(__name__)
    app.config["SESSION"] = session

    @app.get("/")
    def form() -> Response | str:
        if session.state is SessionState.DONE:
            return render_template("done.html", session=session)
        return _page(session, values={}, errors={})

    @app.post("/")
    def submit() -> tuple[str, int] | str:
        values = {name: request.form.get(name, "") for name in FIELDS}
        if not _local(request.remote_addr) and not session.check_code(
                request.form.get("setup_code", "")):
            return _page(session, values=values, errors={
                "setup_code": "wrong setup code: type the code shown on the console"}), 403
        try:
            answers = session.validate(nest(values))
        except InvalidAnswers as exc:
            return _page(session, values=values, errors=exc.by_key()), 422
        return _summary(session, answers, session.hold(answers))

    @app.post("/apply")
    def apply() -> tuple[str, int] | str:
        token = request.form.get("token", "")
        answers = session.held(token)
        if answers is None:
            return _page(session, values={}, errors={},
                         failure="That summary has expired: fill in the form again."), 409
        if not _local(request.remote_addr) and not session.check_code(
                request.form.get("setup_code", "")):
            return _summary(session, answers, token,
                            failure="wrong setup code: type the code shown on the console"), 403
        try:
            session.apply(answers)
        except VirtStickError as exc:
            return _summary(session, answers, token, failure=exc.detail), exc.status
        return render_template("done.html", session=session)

    @app.get("/status.json")
    def status() -> Response:
        outcome = session.outcome
        return jsonify(state=session.state.value,
                       steps={k.value: v.value for k, v in session.progress.steps.items()},
                       url=outcome.url if outcome else "",
                       error=session.error.detail if session.error else "")

    return app


def nest(values: Mapping[str, str]) -> dict[str, Any]:
    """Form fields named by seed key ("network.address") into the seed's nested shape."""
    raw: dict[str, Any] = {}
    for name, value in values.items():
        section, _, key = name.rpartition(".")
        (raw.setdefault(section, {}) if section else raw)[key] = value
    return raw


def serve_until_done(session: WizardSession, listen: str, *, grace_s: float = 1.0) -> None:
    """Serve on ``listen`` (host:port, several separated by spaces) until the session is done."""
    server = _server(create_app(session), listen)
    thread = threading.Thread(target=server.run, name="firstboot-web", daemon=True)
    thread.start()
    try:
        session.done.wait()
        time.sleep(grace_s)  # let the browser fetch the page that shows the URL
    finally:
        server.close()


def _server(app: Flask, listen: str) -> httpserver.GuardedServer | MultiSocketServer:
    """waitress under the service's bounds (``appliance.httpserver``): connections per
    address and in total, a head within seconds, the form's size decided on its head."""
    limiter = ConnectionLimiter(LIMITS, name="firstboot-web")
    listeners = [httpserver.Listener(tls.bind(address), LIMITS, limiter)
                 for address in listen.split()]
    gate = BodyGate([BodyRule(r"/|/apply", FORM_LIMIT, frozenset({"POST"}),
                              what="the setup form")])
    return httpserver.create_server(app, listeners, gate=gate, ident="VirtStick setup")


def _summary(session: WizardSession, answers: Answers, token: str, *,
             failure: str = "") -> str:
    budget = budget_for(answers.storage.backing, ram_mib=session.hardware.ram_mib)
    return render_template("summary.html", answers=answers, token=token, failure=failure,
                           tradeoff=budget.tradeoff(answers.storage.size_mib),
                           needs_code=not _local(request.remote_addr),
                           code=request.form.get("setup_code", ""))


def _local(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _page(session: WizardSession, *, values: Mapping[str, str], errors: Mapping[str, str],
          failure: str = "") -> str:
    hardware = session.hardware
    budgets = {b.value: budget_for(b, ram_mib=hardware.ram_mib) for b in Backing}
    proposal = propose_backing(zram=hardware.zram)
    defaults = {"network.interface": hardware.default_nic(), "network.mode": "dhcp",
                "network.hostname": "virtstick", "storage.backing": proposal.backing.value,
                "storage.size_mib": str(budgets[proposal.backing.value].proposed_mib),
                "timezone": "UTC"}
    shown = {**defaults, **{k: v for k, v in values.items() if v and "password" not in k}}
    return render_template("wizard.html", session=session, hardware=hardware, values=shown,
                           errors=errors, budgets=budgets, failure=failure,
                           proposal=proposal,
                           needs_code=not _local(request.remote_addr))
