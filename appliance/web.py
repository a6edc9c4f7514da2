"""The combined service's WSGI application: health, then the API and portals as blueprints
over the same engine."""

from __future__ import annotations

from flask import Flask, Response, jsonify

from appliance import __version__, metrics, web_security
from appliance.api import create_blueprint as api_blueprint
from appliance.api import hostjoin
from appliance.body_limits import ISO_SHORTCUT_LIMIT, BodyGate, Credentials, rules
from appliance.engine.engine import Engine
from webui import BLUEPRINTS as PORTAL_BLUEPRINTS
from webui import attach as attach_portals
from webui.session import COOKIE_NAME, TransportSessionInterface, session_reader


def routes() -> Flask:
    """Every route of the service, before there is an engine: werkzeug compiles each rule as
    it is added, the slowest part of making the application (seconds under emulation), so
    ``virtstick serve --wait-for-config`` does it while the first-boot wizard works."""
    app = Flask("virtstick")
    app.config["MAX_CONTENT_LENGTH"] = 16 * 1024 * 1024

    @app.get("/health")
    def health() -> Response:
        # Liveness only: no object names or counts, so it needs no login.
        return jsonify(status="ok", version=__version__)

    app.register_blueprint(api_blueprint())
    app.register_blueprint(hostjoin.blueprint())
    app.register_blueprint(metrics.blueprint)
    for blueprint in PORTAL_BLUEPRINTS:
        app.register_blueprint(blueprint)
    return app


def create_app(engine: Engine, *, routed: Flask | None = None) -> Flask:
    """The application over ``engine``: the routes (``routed``, or made now) and what serving
    them needs of the engine and its configuration."""
    app = routed if routed is not None else routes()
    app.extensions["engine"] = engine
    metrics.attach(app, engine)
    attach_portals(app, engine)
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
