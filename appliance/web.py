"""The combined service's WSGI application: health, then the API and portals as blueprints
over the same engine."""

from __future__ import annotations

from flask import Flask, Response, jsonify

from appliance import __version__, metrics, web_security
from appliance.api import create_blueprint as api_blueprint
from appliance.api import hostjoin
from appliance.body_limits import ISO_SHORTCUT_LIMIT, BodyGate, Credentials, rules
from appliance.engine.engine import Engine
from webui import register as register_portals
from webui.session import COOKIE_NAME, TransportSessionInterface, session_reader


def create_app(engine: Engine) -> Flask:
    app = Flask("virtstick")
    app.config["MAX_CONTENT_LENGTH"] = 16 * 1024 * 1024
    app.extensions["engine"] = engine

    @app.get("/health")
    def health() -> Response:
        # Liveness only: no object names or counts, so it needs no login.
        return jsonify(status="ok", version=__version__)

    app.register_blueprint(api_blueprint())
    app.register_blueprint(hostjoin.blueprint())
    metrics.register(app, engine)
    register_portals(app, engine)
    web_security.install(app, https_listen=engine.config.http.https_listen)
    app.session_interface = TransportSessionInterface()
    _gate_bodies(app, engine)
    return app


def _gate_bodies(app: Flask, engine: Engine) -> None:
    """Bodies are judged on the request's head, before they are read (see body_limits);
    waitress asks the same gate (``app.extensions["body_gate"]``) before it buffers one."""
    gate = BodyGate(rules(upload_limit=min(ISO_SHORTCUT_LIMIT, engine.config.storage.iso_max_size)),
                    Credentials(engine.users, cookie_name=COOKIE_NAME,
                                read_session=session_reader(app)))
    app.extensions["body_gate"] = gate
    app.wsgi_app = gate.middleware(app.wsgi_app)  # type: ignore[method-assign,assignment]
