"""Admin Portal, users and permissions: add and remove users, give a user a VM."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from appliance.engine.grants import ObjectType
from appliance.engine.roles import RoleName
from appliance.errors import InvalidInput, VirtStickError
from webui.outcome import act
from webui.session import actor, admin_required, engine
from webui.vm_forms import Refusal

blueprint = Blueprint("users", __name__)
# The roles on the system a new user may start with (the API gives any role on any object).
NEW_USER_ROLES = (RoleName.USER_ROLE, RoleName.SUPER_USER)


NEW_USER = "new-user"


@blueprint.get("/users")
@admin_required
def index() -> str:
    return _page(None)


def _page(refusal: Refusal | None) -> str:
    directory = engine().users
    all_roles = engine().roles.list()
    roles = {r.id: r.name for r in all_roles}
    vm_names = engine().inventory.list_vm_names(actor=actor())
    rows = []
    for user in sorted(directory.list_users(actor=actor()), key=lambda u: u.name):
        grants = [(p, roles.get(p.role_id, "?"),
                   "System" if p.object_type is ObjectType.SYSTEM
                   else f"VM {vm_names.get(p.object_id, p.object_id)}"
                   if p.object_type is ObjectType.VM
                   else f"{p.object_type.value.replace('_', ' ')} {p.object_id}")
                  for p in directory.permissions(actor=actor(), user_id=user.id)]
        rows.append((user, grants))
    offered = [r for r in all_roles if r.name in NEW_USER_ROLES]
    return render_template("admin/users.html", rows=rows, roles=offered,
                           vms=sorted(vm_names.items(), key=lambda kv: kv[1].lower()),
                           refusal=refusal)


@blueprint.post("/users")
@admin_required
def create() -> ResponseReturnValue:
    """A refusal opens the dialog again with the engine's message and what was typed (but
    the password, which a page never sends back)."""
    form = request.form
    try:
        try:
            role = RoleName(form.get("role", RoleName.USER_ROLE.value))
        except ValueError:
            role = None
        if role not in NEW_USER_ROLES:
            raise InvalidInput("Choose one of the roles offered.")
        user = engine().users.create_user(form.get("name", "").strip(), form.get("password", ""),
                                          actor=actor(), email=form.get("email", "").strip(),
                                          role=role)
    except VirtStickError as exc:
        return _page(Refusal(NEW_USER, exc.detail, form)), exc.status
    flash(f"User {user.user_name} was added.", "success")
    return redirect(url_for("admin.users.index"))


@blueprint.post("/users/<user_id>/permissions")
@admin_required
def grant(user_id: str) -> Response:
    """A UserRole on one VM: the user may then run it and open its console."""
    directory = engine().users
    try:
        directory.grant(user_id=user_id, role_id=engine().roles.named(RoleName.USER_ROLE).id,
                        object_type=ObjectType.VM, object_id=request.form.get("vm_id", ""),
                        actor=actor())
    except VirtStickError as exc:
        flash(exc.detail, "error")
    else:
        flash("The permission was given.", "success")
    return redirect(url_for("admin.users.index"))


@blueprint.post("/permissions/<permission_id>/delete")
@admin_required
def revoke(permission_id: str) -> Response:
    return act(lambda: engine().users.remove_permission(permission_id, actor=actor()),
               done="The permission was removed.", back="admin.users.index")


@blueprint.post("/users/<user_id>/delete")
@admin_required
def delete(user_id: str) -> Response:
    return act(lambda: engine().users.remove_user(user_id, actor=actor()),
               done="The user was removed.", back="admin.users.index")
