"""``POST /ovirt-engine/services/host-join``: where a host on another machine trades a
one-time join token and a certificate request for its libvirtd certificate. The token is
the credential, so this sits outside the API's login."""

from __future__ import annotations

import base64
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from appliance.errors import InvalidInput, VirtStickError


def blueprint() -> Blueprint:
    services = Blueprint("hostjoin", __name__, url_prefix="/ovirt-engine/services")
    services.add_url_rule("/host-join", view_func=host_join, methods=["POST"])
    return services


def host_join() -> tuple[Response, int]:
    try:
        data = request.get_json(silent=True)
        fields = _fields(data)
        reply = current_app.extensions["engine"].joining.join(
            fields["token"], name=fields["name"], address=fields["address"],
            csr_pem=fields["csr"].encode())
    except VirtStickError as exc:
        return jsonify(reason=exc.reason, detail=exc.detail), exc.status
    return jsonify(cert=base64.b64encode(reply.cert_pem).decode(),
                   ca=base64.b64encode(reply.ca_pem).decode()), 200


def _fields(data: Any) -> dict[str, str]:
    if not isinstance(data, dict):
        raise InvalidInput("Send JSON: {token, name, address, csr}.")
    fields = {}
    for key in ("token", "name", "address", "csr"):
        value = data.get(key)
        if not isinstance(value, str) or not value or len(value) > 20000:
            raise InvalidInput(f"The join request needs '{key}'.")
        fields[key] = value
    return fields
