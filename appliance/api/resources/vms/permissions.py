"""``/vms/{id}/permissions``: roles given to users or groups on one VM."""

from __future__ import annotations

from flask import Response

from appliance.api import http
from appliance.api.resources import permissions
from appliance.api.routing import Operation, Routes
from appliance.engine.grants import ObjectType


def install(routes: Routes) -> None:
    base = "/vms/<vm_id>/permissions"
    routes.add(base, Operation.LIST, tag="permission",
               summary="Permissions on a VM")(list_vm_permissions)
    routes.add(base, Operation.ADD, tag="permission",
               summary="Give a user or a group a role on a VM")(add_vm_permission)
    routes.add(f"{base}/<permission_id>", Operation.GET, tag="permission",
               summary="Get a permission on a VM")(get_vm_permission)
    routes.add(f"{base}/<permission_id>", Operation.REMOVE, tag="permission",
               summary="Remove a permission on a VM")(remove_vm_permission)


def list_vm_permissions(vm_id: str) -> Response:
    vm = http.engine().vms.get(vm_id, actor=http.actor())  # someone else's VM is not found
    found = http.engine().users.permissions_on(ObjectType.VM, vm.id, actor=http.actor())
    return permissions.respond_list(found, base=_base(vm.id))


def add_vm_permission(vm_id: str) -> Response:
    vm = http.engine().vms.get(vm_id, actor=http.actor())
    return permissions.grant(ObjectType.VM, vm.id, base=_base(vm.id))


def get_vm_permission(vm_id: str, permission_id: str) -> Response:
    vm = http.engine().vms.get(vm_id, actor=http.actor())
    permission = permissions.one_on(ObjectType.VM, vm.id, permission_id)
    return http.respond(permissions.PERMISSION.tag, permissions.render(permission,
                                                                       _base(vm.id)))


def remove_vm_permission(vm_id: str, permission_id: str) -> Response:
    vm = http.engine().vms.get(vm_id, actor=http.actor())
    permissions.one_on(ObjectType.VM, vm.id, permission_id)
    http.engine().users.remove_permission(permission_id, actor=http.actor())
    return Response(status=200)


def _base(vm_id: str) -> str:
    return http.href("vms", vm_id, "permissions")
