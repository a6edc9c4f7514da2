"""Admin Portal, the audit log: who did what from where, filtered by user and result."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from appliance.engine.audit import AuditResult
from webui.session import admin_required, engine

blueprint = Blueprint("audit", __name__)

SHOWN = 500


@blueprint.get("/audit")
@admin_required
def index() -> str:
    result_text = request.args.get("result", "")
    try:
        result = AuditResult(result_text) if result_text else None
    except ValueError:
        abort(400)
    user = request.args.get("user", "").strip() or None
    entries = engine().audit.search(user=user, result=result, limit=SHOWN)
    return render_template("admin/audit.html", entries=entries, results=list(AuditResult),
                           result=result_text, user=user or "")
