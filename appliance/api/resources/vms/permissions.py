"""``/vms/{id}/permissions``: roles given to users on one VM."""

from __future__ import annotations

from flask import Response

from appliance.api import http
from appliance.api.resources import permissions
from appliance.api.routing import Operation, Routes
from appliance.engine.users import ObjectType, Permission
from appliance.errors import NotFound


def install(routes: Routes) -> None:
    base = "/vms/<vm_id>/permissions"
    routes.add(base, Operation.LIST, tag="permission",
               summary="Permissions on a VM")(list_vm_permissions)
    routes.add(base, Operation.ADD, tag="permission",
               summary="Give a user a role on a VM")(add_vm_permission)
    routes.add(f"{base}/<permission_id>", Operation.GET, tag="permission",
               summary="Get a permission on a VM")(get_vm_permission)
    routes.add(f"{base}/<permission_id>", Operation.REMOVE, tag="permission",
               summary="Remove a permission on a VM")(remove_vm_permission)


def list_vm_permissions(vm_id: str) -> Response:
    engine, actor = http.engine(), http.actor()
    vm = engine.vms.get(vm_id, actor=actor)
    found = engine.users.permissions(actor=actor, object_id=vm.id)
    return permissions.respond_list(found, base=http.href("vms", vm.id, "permissions"))


def add_vm_permission(vm_id: str) -> Response:
    vm = http.engine().vms.get(vm_id, actor=http.actor())
    return permissions.grant(ObjectType.VM, vm.id,
                             base=http.href("vms", vm.id, "permissions"))


def get_vm_permission(vm_id: str, permission_id: str) -> Response:
    permission = _on_vm(vm_id, permission_id)
    return http.respond(permissions.PERMISSION.tag, permissions.render(
        permission, http.href("vms", permission.object_id, "permissions")))


def remove_vm_permission(vm_id: str, permission_id: str) -> Response:
    _on_vm(vm_id, permission_id)
    http.engine().users.remove_permission(permission_id, actor=http.actor())
    return Response(status=200)


def _on_vm(vm_id: str, permission_id: str) -> Permission:
    engine, actor = http.engine(), http.actor()
    vm = engine.vms.get(vm_id, actor=actor)
    permission = engine.users.get_permission(permission_id, actor=actor)
    if permission.object_id != vm.id:
        raise NotFound(f"VM '{vm.name}' has no permission with id '{permission_id[:60]}'.")
    return permission
