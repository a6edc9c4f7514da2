"""The end of a portal form's action: say how it went and go back to the page."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response

from appliance.errors import VirtStickError


def act(action: Callable[[], object], *, done: str, back: str) -> Response:
    """Run an engine action; flash ``done`` or the error in the user's terms, then redirect
    to the ``back`` endpoint (nothing changed when the engine refused)."""
    try:
        action()
    except VirtStickError as exc:
        flash(exc.detail, "error")
    else:
        flash(done, "success")
    return redirect(url_for(back))


def back_or(default: str) -> str:
    """The page a form came from (its ``back`` field), when that is a path on this site."""
    target = request.form.get("back", "")
    return target if target.startswith("/") and not target.startswith("//") else default
