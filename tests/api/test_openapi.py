"""The OpenAPI document matches the routes Flask serves, both ways, and its references
resolve."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask

from appliance.api import create_blueprint

PREFIX = "/ovirt-engine/api"


def _app() -> Flask:
    app = Flask("openapi-test")
    app.register_blueprint(create_blueprint())
    return app


def test_document_matches_routes() -> None:
    app = _app()
    reply = app.test_client().get(f"{PREFIX}/openapi.json")
    assert reply.status_code == 200
    document = reply.get_json()
    served = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX) or rule.endpoint.endswith("openapi"):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule[len(PREFIX):]) or "/"
        for method in rule.methods or ():
            if method not in ("HEAD", "OPTIONS"):
                served.add((path, method.lower()))
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    assert served == documented
    for required in (("/vms", "get"), ("/vms", "post"), ("/vms/{vm_id}/start", "post"),
                     ("/vms/{vm_id}/snapshots", "post"), ("/users", "post"), ("/", "get")):
        assert required in documented


def test_references_resolve() -> None:
    document = _app().test_client().get(f"{PREFIX}/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    refs = re.findall(r'"\$ref": "#/components/schemas/([a-z_]+)"', json.dumps(document))
    assert refs and set(refs) <= set(schemas)
    vm: dict[str, Any] = schemas["vm"]["properties"]
    assert vm["cpu"]["properties"]["topology"]["properties"]["sockets"]["pattern"]
    assert vm["status"]["readOnly"] is True and "up" in vm["status"]["enum"]
