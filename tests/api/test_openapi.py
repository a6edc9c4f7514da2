"""The OpenAPI document that ``/ovirt-engine/api/openapi.json`` serves describes exactly the
API routes of the whole service's Flask app, both ways, and its references resolve.

The document is built from the route table the API registers through, so the checks here
read the other side independently: Flask's own ``url_map`` of the app ``virtstick serve``
runs (every blueprint, not only the API's) and Flask's own matching of each documented path.
The last tests show both checks fail on a route that bypasses the table and on a documented
route that Flask does not serve.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response
from werkzeug.exceptions import MethodNotAllowed, NotFound

from appliance.cli import ADMIN_PASSWORD_ENV, development_config
from appliance.engine.engine import Engine
from appliance.web import create_app

PREFIX = "/ovirt-engine/api"
DOCUMENT_ENDPOINT = "ovirt.api.openapi"
Route = tuple[str, str]  # ("/vms/{vm_id}/start", "post")


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """The service's real app over an engine that is built but not started: routes need
    no libvirt."""
    monkeypatch.setenv(ADMIN_PASSWORD_ENV, "openapi-test-password")
    engine = Engine(development_config(tmp_path))
    yield create_app(engine)
    engine.stop()


def _document(app: Flask) -> dict[str, Any]:
    reply = app.test_client().get(f"{PREFIX}/openapi.json")
    assert reply.status_code == 200  # public, as oVirt's model is: no login
    document: dict[str, Any] = reply.get_json()
    return document


def _served(app: Flask) -> set[Route]:
    """Every (path, method) Flask serves under the API prefix, in OpenAPI's path syntax."""
    served = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX) or rule.endpoint == DOCUMENT_ENDPOINT:
            continue
        path = re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule[len(PREFIX):]) or "/"
        served |= {(path, m.lower()) for m in rule.methods or () if m not in ("HEAD", "OPTIONS")}
    return served


def _documented(document: dict[str, Any]) -> set[Route]:
    return {(path, method) for path, ops in document["paths"].items() for method in ops}


def _unrouted(app: Flask, documented: set[Route]) -> set[Route]:
    """Documented routes that Flask's matcher does not send to the API with the documented
    path parameters."""
    adapter = app.url_map.bind("localhost")
    missing = set()
    for path, method in documented:
        names = re.findall(r"{([^{}]+)}", path)
        url = PREFIX + re.sub(r"{([^{}]+)}", r"\1-value", path).rstrip("/")
        try:
            endpoint, args = adapter.match(url, method=method.upper())
        except (NotFound, MethodNotAllowed):
            missing.add((path, method))
            continue
        if not str(endpoint).startswith("ovirt.api.") or sorted(args) != sorted(names):
            missing.add((path, method))
    return missing


def test_document_matches_the_service_routes(app: Flask) -> None:
    document = _document(app)
    served, documented = _served(app), _documented(document)
    assert served - documented == set(), "served by Flask, missing from the document"
    assert documented - served == set(), "documented, not served by Flask"
    assert _unrouted(app, documented) == set()
    for required in (("/vms", "get"), ("/vms", "post"), ("/vms/{vm_id}/start", "post"),
                     ("/vms/{vm_id}/snapshots", "post"), ("/users", "post"), ("/", "get"),
                     ("/hosts/{host_id}/fence", "post"), ("/vms/{vm_id}/migrate", "post")):
        assert required in documented


def test_a_route_outside_the_table_is_caught(app: Flask) -> None:
    def rogue() -> Response:
        return Response("")

    app.add_url_rule(f"{PREFIX}/vms/<vm_id>/rogue", endpoint="rogue", view_func=rogue,
                     methods=["POST"])
    missing = _served(app) - _documented(_document(app))
    assert missing == {("/vms/{vm_id}/rogue", "post")}


def test_a_documented_route_flask_does_not_serve_is_caught(app: Flask) -> None:
    documented = _documented(_document(app)) | {("/vms/{vm_id}/hibernate", "post"),
                                                ("/vms", "patch")}
    assert _unrouted(app, documented) == {("/vms/{vm_id}/hibernate", "post"), ("/vms", "patch")}
    assert documented - _served(app) == {("/vms/{vm_id}/hibernate", "post"), ("/vms", "patch")}


def test_references_resolve(app: Flask) -> None:
    document = _document(app)
    schemas = document["components"]["schemas"]
    refs = re.findall(r'"\$ref": "#/components/schemas/([a-z_]+)"', json.dumps(document))
    assert refs and set(refs) <= set(schemas)
    vm: dict[str, Any] = schemas["vm"]["properties"]
    assert vm["cpu"]["properties"]["topology"]["properties"]["sockets"]["pattern"]
    assert vm["status"]["readOnly"] is True and "up" in vm["status"]["enum"]
