"""A page's live stream (``GET /live/stream``, server-sent events): what changes on it as the
engine works, without reloading. The page names what it shows in ``topics`` and the objects
whose charts it draws in ``watch``; the session's cookie says who it is for."""

from __future__ import annotations

from flask import Flask, abort, current_app, request, session
from werkzeug.wrappers import Response

from appliance.engine.engine import Engine
from appliance.push import hand_over
from webui import live_messages
from webui.blueprint import portal_blueprint
from webui.live_streams import LivePump, LiveTopic, PageAsks, StreamLimits
from webui.session import actor, login_required

blueprint = portal_blueprint("live", __name__, url_prefix="/live")

PUMP_EXTENSION = "live_pump"
MAX_WATCHED = 64  # chart objects a page may watch
HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


def start(app: Flask, engine: Engine) -> LivePump:
    pump = LivePump(engine, StreamLimits.from_config(engine.config.http))
    app.extensions[PUMP_EXTENSION] = pump
    return pump


def pump() -> LivePump:
    found: LivePump = current_app.extensions[PUMP_EXTENSION]
    return found


def end_session(token: str) -> None:
    """The session's pages stop now (logout); others notice within a heartbeat."""
    found = current_app.extensions.get(PUMP_EXTENSION)
    if isinstance(found, LivePump):
        found.end_session(token)


@blueprint.get("/stream")
@login_required
def stream() -> Response:
    asks = _asks()
    opened = pump().open(who=actor(), token=str(session["token"]),
                         address=request.remote_addr or "", asks=asks)
    give = hand_over(request.environ)
    if give is not None:
        give(opened)
        # An iterable body: no Content-Length, so the response stays open (chunked).
        body = iter([live_messages.opening(opened.id)])
        return Response(body, mimetype="text/event-stream", headers=HEADERS)
    return Response(pump().blocking_body(opened), mimetype="text/event-stream",
                    headers=HEADERS)


def _asks() -> PageAsks:
    try:
        topics = frozenset(LiveTopic(t) for t in request.args.get("topics", "").split(",")
                           if t)
    except ValueError:
        abort(400)
    watched = frozenset(i for i in request.args.get("watch", "").split(",") if i)
    if not topics or len(watched) > MAX_WATCHED or any(len(i) > 64 for i in watched):
        abort(400)
    return PageAsks(topics=topics, watched=watched)
