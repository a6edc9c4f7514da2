"""The combined service's WSGI application: health, then the API and portals as blueprints
over the same engine."""

from __future__ import annotations

from flask import Flask, Response, jsonify

from appliance import __version__, metrics
from appliance.api import create_blueprint as api_blueprint
from appliance.api import hostjoin
from appliance.engine.engine import Engine
from webui import register as register_portals


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
    return app
