"""Roles: sets of permits a permission gives. oVirt's predefined roles keep oVirt's names and
ids (read-only, as on oVirt); custom roles are made with oVirt's permit ids and kept in the
store. What each permit means here is in permits.py.

VirtStick's UserRole also holds create_vm and create_disk: given on the system (as the
portal does for new users) it lets a user make VMs of their own.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, replace
from enum import StrEnum

from appliance.engine import validation
from appliance.engine.audit import audited
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, require_superuser
from appliance.engine.context import EngineContext
from appliance.engine.event_codes import EventCode
from appliance.engine.ids import new_id
from appliance.engine.permits import Permit
from appliance.engine.store.tables import Table
from appliance.errors import Conflict, InvalidInput, InvalidState, NameInUse, NotFound


class RoleName(StrEnum):
    """oVirt's predefined roles."""

    SUPER_USER = "SuperUser"
    USER_ROLE = "UserRole"
    POWER_USER_ROLE = "PowerUserRole"
    CLUSTER_ADMIN = "ClusterAdmin"
    DATA_CENTER_ADMIN = "DataCenterAdmin"
    STORAGE_ADMIN = "StorageAdmin"
    HOST_ADMIN = "HostAdmin"
    NETWORK_ADMIN = "NetworkAdmin"
    USER_VM_MANAGER = "UserVmManager"
    VM_POOL_ADMIN = "VmPoolAdmin"
    TEMPLATE_ADMIN = "TemplateAdmin"
    QUOTA_CONSUMER = "QuotaConsumer"
    DISK_OPERATOR = "DiskOperator"
    DISK_CREATOR = "DiskCreator"
    GLUSTER_ADMIN = "GlusterAdmin"
    VM_CREATOR = "VmCreator"
    TEMPLATE_CREATOR = "TemplateCreator"
    TEMPLATE_OWNER = "TemplateOwner"
    EXTERNAL_EVENTS_CREATOR = "ExternalEventsCreator"
    EXTERNAL_TASKS_CREATOR = "ExternalTasksCreator"
    VNIC_PROFILE_USER = "VnicProfileUser"
    USER_TEMPLATE_BASED_VM = "UserTemplateBasedVm"
    INSTANCE_CREATOR = "InstanceCreator"
    USER_INSTANCE_MANAGER = "UserInstanceManager"
    READ_ONLY_ADMIN = "ReadOnlyAdmin"
    TAG_MANAGER = "TagManager"
    BOOKMARK_MANAGER = "BookmarkManager"
    EVENT_NOTIFICATION_MANAGER = "EventNotificationManager"
    AUDIT_LOG_MANAGER = "AuditLogManager"
    MAC_POOL_ADMIN = "MacPoolAdmin"
    MAC_POOL_USER = "MacPoolUser"
    DISK_PROFILE_USER = "DiskProfileUser"
    USER_VM_RUN_TIME_MANAGER = "UserVmRunTimeManager"
    USER_PROFILE_EDITOR = "UserProfileEditor"
    VM_IMPORTER_EXPORTER = "VmImporterExporter"
    CPU_PROFILE_OPERATOR = "CpuProfileOperator"
    CPU_PROFILE_CREATOR = "CpuProfileCreator"


@dataclass(frozen=True)
class Role:
    id: str
    name: str
    description: str
    administrative: bool
    permits: tuple[Permit, ...]
    mutable: bool = False  # a custom role; oVirt's own are read-only


P = Permit
_RUN = (P.RUN_VM, P.SHUT_DOWN_VM, P.STOP_VM, P.REBOOT_VM, P.RESET_VM, P.HIBERNATE_VM,
        P.CONNECT_TO_VM, P.CHANGE_VM_CD, P.CONNECT_TO_SERIAL_CONSOLE, P.LOGIN)
_MANAGE = (*_RUN, P.DELETE_VM, P.EDIT_VM_PROPERTIES, P.CONFIGURE_VM_NETWORK,
           P.CONFIGURE_VM_STORAGE, P.MANIPULATE_VM_SNAPSHOTS, P.RECONNECT_TO_VM,
           P.MANIPULATE_PERMISSIONS, P.ATTACH_DISK, P.EDIT_DISK_PROPERTIES, P.DELETE_DISK)
_DISKS = (P.CREATE_DISK, P.ATTACH_DISK, P.EDIT_DISK_PROPERTIES, P.CONFIGURE_DISK_STORAGE,
          P.DELETE_DISK, P.SPARSIFY_DISK)
_TEMPLATES = (P.CREATE_TEMPLATE, P.EDIT_TEMPLATE_PROPERTIES, P.DELETE_TEMPLATE,
              P.COPY_TEMPLATE, P.CONFIGURE_TEMPLATE_NETWORK)
_POOLS = (P.CREATE_VM_POOL, P.EDIT_VM_POOL_CONFIGURATION, P.DELETE_VM_POOL,
          P.VM_POOL_BASIC_OPERATIONS)
_VMS_ADMIN = (*_MANAGE, P.CREATE_VM, P.MIGRATE_VM, P.MOVE_VM, P.IMPORT_EXPORT_VM,
              P.CHANGE_VM_CUSTOM_PROPERTIES, P.EDIT_ADMIN_VM_PROPERTIES, *_DISKS, *_TEMPLATES,
              *_POOLS)
_HOSTS = (P.CREATE_HOST, P.EDIT_HOST_CONFIGURATION, P.DELETE_HOST, P.MANIPULATE_HOST,
          P.CONFIGURE_HOST_NETWORK)
_CLUSTER = (*_VMS_ADMIN, *_HOSTS, P.CREATE_CLUSTER, P.EDIT_CLUSTER_CONFIGURATION,
            P.DELETE_CLUSTER, P.CONFIGURE_CLUSTER_NETWORK, P.ASSIGN_CLUSTER_NETWORK,
            P.MANIPULATE_AFFINITY_GROUPS, P.MANIPULATE_PERMISSIONS)
_NETWORK = (P.CONFIGURE_STORAGE_POOL_NETWORK, P.CREATE_STORAGE_POOL_NETWORK,
            P.DELETE_STORAGE_POOL_NETWORK, P.CONFIGURE_CLUSTER_NETWORK,
            P.ASSIGN_CLUSTER_NETWORK, P.CONFIGURE_VM_NETWORK, P.CONFIGURE_TEMPLATE_NETWORK,
            P.CONFIGURE_NETWORK_VNIC_PROFILE, P.CREATE_NETWORK_VNIC_PROFILE,
            P.DELETE_NETWORK_VNIC_PROFILE, P.LOGIN)
_STORAGE = (P.CREATE_STORAGE_DOMAIN, P.EDIT_STORAGE_DOMAIN_CONFIGURATION,
            P.DELETE_STORAGE_DOMAIN, P.MANIPULATE_STORAGE_DOMAIN, P.CONFIGURE_DISK_STORAGE,
            P.CONFIGURE_STORAGE_DISK_PROFILE, P.CREATE_STORAGE_DISK_PROFILE,
            P.DELETE_STORAGE_DISK_PROFILE, P.LOGIN)
_GLUSTER = (P.CREATE_GLUSTER_VOLUME, P.MANIPULATE_GLUSTER_VOLUME, P.DELETE_GLUSTER_VOLUME,
            P.MANIPULATE_GLUSTER_HOOK, P.MANIPULATE_GLUSTER_SERVICE, P.LOGIN)


def _role(role_id: str, name: RoleName, description: str, administrative: bool,
          *permits: Permit) -> Role:
    return Role(id=role_id, name=name.value, description=description,
                administrative=administrative, permits=tuple(dict.fromkeys(permits)))


N = RoleName
# oVirt's ids, names and descriptions; the permits are oVirt's where VirtStick has the
# objects they govern.
PREDEFINED: tuple[Role, ...] = (
    _role("00000000-0000-0000-0000-000000000001", N.SUPER_USER,
          "Roles management administrator", True, *Permit),
    _role("00000000-0000-0000-0001-000000000001", N.USER_ROLE,
          "Standard User Role (here also: make VMs of one's own)", False, *_RUN,
          P.MANIPULATE_VM_SNAPSHOTS, P.VM_POOL_BASIC_OPERATIONS, P.CREATE_VM, P.CREATE_DISK),
    _role("00000000-0000-0000-0001-000000000002", N.POWER_USER_ROLE,
          "User Role, allowed to create VMs, Templates and Disks", False, P.CREATE_VM,
          P.CREATE_TEMPLATE, P.CREATE_DISK, P.CREATE_VM_POOL, P.EDIT_PROFILE, P.LOGIN),
    _role("def00001-0000-0000-0000-def000000001", N.CLUSTER_ADMIN,
          "Administrator Role, permission for all the objects underneath a specific Cluster",
          True, *_CLUSTER, P.LOGIN),
    _role("def00002-0000-0000-0000-def000000002", N.DATA_CENTER_ADMIN,
          "Administrator Role, permission for all the objects underneath a specific Data "
          "Center, except Storage", True, *_CLUSTER, *_NETWORK, P.CREATE_STORAGE_POOL,
          P.EDIT_STORAGE_POOL_CONFIGURATION, P.DELETE_STORAGE_POOL, P.CONFIGURE_QUOTA),
    _role("def00003-0000-0000-0000-def000000003", N.STORAGE_ADMIN,
          "Administrator Role, permission for all operations on a specific Storage Domain",
          True, *_STORAGE),
    _role("def00004-0000-0000-0000-def000000004", N.HOST_ADMIN,
          "Administrator Role, permission for all operations on a specific Host", True,
          *_HOSTS, P.LOGIN),
    _role("def00005-0000-0000-0000-def000000005", N.NETWORK_ADMIN,
          "Administrator Role, permission for all operations on a specific Logical Network",
          True, *_NETWORK),
    _role("def00006-0000-0000-0000-def000000006", N.USER_VM_MANAGER,
          "User Role, with permission for any operation on Vms", False, *_MANAGE),
    _role("def00007-0000-0000-0000-def000000007", N.VM_POOL_ADMIN,
          "Administrator Role, permission for all operations on a specific VM Pool", True,
          *_POOLS, *_MANAGE, P.CREATE_VM),
    _role("def00008-0000-0000-0000-def000000008", N.TEMPLATE_ADMIN,
          "Administrator Role, permission for all operations on a specific Template", True,
          *_TEMPLATES, P.EDIT_ADMIN_TEMPLATE_PROPERTIES, P.LOGIN),
    _role("def0000a-0000-0000-0000-def00000000a", N.QUOTA_CONSUMER,
          "User Role, permissions to consume the Quota resources", False, P.CONSUME_QUOTA,
          P.LOGIN),
    _role("def0000a-0000-0000-0000-def00000000b", N.DISK_OPERATOR,
          "User Role, permissions for all operations on a specific disk", False,
          *_DISKS[1:], P.LOGIN),
    _role("def0000a-0000-0000-0000-def00000000c", N.DISK_CREATOR,
          "User Role, permission to create Disks", False, P.CREATE_DISK, P.LOGIN),
    _role("def0000b-0000-0000-0000-def00000000b", N.GLUSTER_ADMIN,
          "Administrator Role, permissions for operations on Gluster objects", True,
          *_GLUSTER),
    _role("def0000a-0000-0000-0000-def00000000d", N.VM_CREATOR,
          "User Role, permission to create VMs", False, P.CREATE_VM, P.LOGIN),
    _role("def0000a-0000-0000-0000-def00000000e", N.TEMPLATE_CREATOR,
          "User Role, permission to create Templates", False, P.CREATE_TEMPLATE, P.LOGIN),
    _role("def0000a-0000-0000-0000-def00000000f", N.TEMPLATE_OWNER,
          "User Role, permissions for all operations on Templates", False, *_TEMPLATES[1:],
          P.MANIPULATE_PERMISSIONS, P.LOGIN),
    _role("def0000c-0000-0000-0000-def000000000", N.EXTERNAL_EVENTS_CREATOR,
          "External Events Creator", False, P.INJECT_EXTERNAL_EVENTS, P.LOGIN),
    _role("def0000d-0000-0000-0000-def000000000", N.EXTERNAL_TASKS_CREATOR,
          "External Tasks Creator", False, P.INJECT_EXTERNAL_TASKS, P.LOGIN),
    _role("def0000a-0000-0000-0000-def000000010", N.VNIC_PROFILE_USER,
          "VM Network Interface Profile User", False, P.CONFIGURE_VM_NETWORK, P.LOGIN),
    _role("def00009-0000-0000-0000-def000000009", N.USER_TEMPLATE_BASED_VM, "Template User",
          False, P.LOGIN),
    _role("def00011-0000-0000-0000-def000000011", N.INSTANCE_CREATOR,
          "User Role, permission to create Instances", False, P.CREATE_INSTANCE, P.LOGIN),
    _role("def00012-0000-0000-0000-def000000012", N.USER_INSTANCE_MANAGER,
          "User Role, with permission for any operation on Instances", False, *_MANAGE,
          P.CREATE_INSTANCE),
    _role("def0000c-0000-0000-0000-def00000000c", N.READ_ONLY_ADMIN,
          "Read Only Administrator Role", True, P.LOGIN),
    _role("def00011-0000-0000-0000-def000000013", N.TAG_MANAGER, "Tag Manager", True,
          P.TAG_MANAGEMENT, P.LOGIN),
    _role("def00011-0000-0000-0000-def000000014", N.BOOKMARK_MANAGER, "Bookmark Manager",
          True, P.BOOKMARK_MANAGEMENT, P.LOGIN),
    _role("def00011-0000-0000-0000-def000000015", N.EVENT_NOTIFICATION_MANAGER,
          "Event Notification Manager", True, P.EVENT_NOTIFICATION_MANAGEMENT, P.LOGIN),
    _role("def00011-0000-0000-0000-def000000016", N.AUDIT_LOG_MANAGER, "Audit Log Manager",
          True, P.AUDIT_LOG_MANAGEMENT, P.LOGIN),
    _role("def00013-0000-0000-0000-def000000013", N.MAC_POOL_ADMIN,
          "MAC Pool Administrator Role, permission for manipulation with MAC pools", True,
          P.CREATE_MAC_POOL, P.EDIT_MAC_POOL, P.DELETE_MAC_POOL, P.CONFIGURE_MAC_POOL,
          P.LOGIN),
    _role("def00014-0000-0000-0000-def000000014", N.MAC_POOL_USER,
          "MAC Pool User Role, permission allowing using MAC pools", False, P.LOGIN),
    _role("def00020-0000-0000-0000-abc000000010", N.DISK_PROFILE_USER, "Disk Profile User",
          False, P.ATTACH_DISK_PROFILE, P.LOGIN),
    _role("def00006-0000-0000-0000-def000000011", N.USER_VM_RUN_TIME_MANAGER,
          "User Role, with permissions for any operations on VMs except snapshot "
          "manipulation", False, *_RUN, P.MIGRATE_VM),
    _role("def00021-0000-0000-0000-def000000015", N.USER_PROFILE_EDITOR,
          "Role that allow users to edit the UserProfile", False, P.EDIT_PROFILE, P.LOGIN),
    _role("def00030-0000-0000-0000-def000000011", N.VM_IMPORTER_EXPORTER,
          "Administrator Role, with permission to import or export Vms", True,
          P.IMPORT_EXPORT_VM, P.LOGIN),
    _role("def00017-0000-0000-0000-def000000017", N.CPU_PROFILE_OPERATOR,
          "Cpu Profile Operation", False, P.ASSIGN_CPU_PROFILE, P.LOGIN),
    _role("def00016-0000-0000-0000-def000000016", N.CPU_PROFILE_CREATOR,
          "Cpu Profile Creation/Deletion/Updating and Operation", True, P.CREATE_CPU_PROFILE,
          P.UPDATE_CPU_PROFILE, P.DELETE_CPU_PROFILE, P.ASSIGN_CPU_PROFILE, P.LOGIN),
)
_PREDEFINED_BY_ID = {r.id: r for r in PREDEFINED}


@dataclass(frozen=True)
class RoleCreate:
    name: str
    permit_ids: tuple[str, ...]
    administrative: bool = False
    description: str = ""


class Roles:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx
        self.table: Table[Role] = Table(ctx.store.db, name="roles", cls=Role, noun="role",
                                        columns=("name",))

    # Reads: every user may read the roles, as on oVirt

    def list(self) -> builtins.list[Role]:
        return [*PREDEFINED, *self.table.all()]

    def get(self, role_id: str) -> Role:
        found = self.find(role_id)
        if found is None:
            raise NotFound(f"There is no role with id '{role_id[:60]}'.")
        return found

    def find(self, role_id: str) -> Role | None:
        return _PREDEFINED_BY_ID.get(role_id) or self.table.find(role_id)

    def find_by_name(self, name: str) -> Role | None:
        wanted = name.strip().lower()
        return next((r for r in self.list() if r.name.lower() == wanted), None)

    def named(self, name: str) -> Role:
        found = self.find_by_name(name)
        if found is None:
            raise NotFound(f"There is no role named '{name[:60]}'; see GET /roles for the "
                           "roles there are.")
        return found

    # Custom roles

    @audited(AuditAction.ROLE_ADD)
    def add(self, request: RoleCreate, *, actor: Actor) -> Role:
        """A custom role from oVirt's permit ids (``<permit id="1"/>``: create_vm)."""
        require_superuser(actor, "add roles")
        validation.name(request.name, noun="role")
        permits = _permits(request.permit_ids, administrative=request.administrative,
                           name=request.name)
        role = Role(id=new_id(), name=request.name, description=request.description,
                    administrative=request.administrative, permits=permits, mutable=True)
        with self.ctx.store.db.transaction():
            if self.find_by_name(request.name) is not None:
                raise NameInUse(f"Cannot add Role. The name '{request.name}' is already "
                                "in use by another role.")
            self.table.insert(role)
        self.ctx.events.record(EventCode.ROLE_ADDED, f"Role {role.name} was added by "
                               f"{actor.name}.", user=actor.name)
        return role

    @audited(AuditAction.ROLE_UPDATE)
    def update(self, role_id: str, *, actor: Actor, name: str | None = None,
               description: str | None = None) -> Role:
        require_superuser(actor, "change roles")
        role = self._mutable(role_id, "update")
        if name is not None and name != role.name:
            validation.name(name, noun="role")
            if self.find_by_name(name) is not None:
                raise NameInUse(f"Cannot update Role. The name '{name}' is already in use.")
        updated = self.table.update(replace(
            role, name=role.name if name is None else name,
            description=_pick(description, role.description)))
        self.ctx.events.record(EventCode.ROLE_UPDATED, f"Role {updated.name} was changed by "
                               f"{actor.name}.", user=actor.name)
        return updated

    @audited(AuditAction.ROLE_REMOVE)
    def remove(self, role_id: str, *, actor: Actor, in_use: bool) -> None:
        """``in_use``: a permission gives the role (the permissions service knows)."""
        require_superuser(actor, "remove roles")
        role = self._mutable(role_id, "remove")
        if in_use:
            raise InvalidState(f"Cannot remove Role {role.name}: it is given by permissions; "
                               "remove them first.")
        self.table.delete(role.id)
        self.ctx.events.record(EventCode.ROLE_REMOVED, f"Role {role.name} was removed by "
                               f"{actor.name}.", user=actor.name)

    @audited(AuditAction.ROLE_ADD_PERMIT)
    def add_permit(self, role_id: str, permit_id: str, *, actor: Actor) -> Permit:
        require_superuser(actor, "change roles")
        role = self._mutable(role_id, "update")
        (permit,) = _permits((permit_id,), administrative=role.administrative, name=role.name)
        if permit not in role.permits:
            self.table.update(replace(role, permits=(*role.permits, permit)))
        return permit

    @audited(AuditAction.ROLE_REMOVE_PERMIT)
    def remove_permit(self, role_id: str, permit_id: str, *, actor: Actor) -> None:
        require_superuser(actor, "change roles")
        role = self._mutable(role_id, "update")
        permit = Permit.by_id(permit_id)
        if permit is None or permit not in role.permits:
            raise NotFound(f"Role {role.name} has no permit with id '{permit_id[:20]}'.")
        if len(role.permits) == 1:
            raise InvalidState(f"Cannot update Role {role.name}: a role keeps one permit at "
                               "least.")
        self.table.update(replace(role, permits=tuple(p for p in role.permits
                                                      if p is not permit)))

    def _mutable(self, role_id: str, verb: str) -> Role:
        role = self.get(role_id)
        if not role.mutable:
            raise InvalidState(f"Cannot {verb} Role {role.name}: it is one of oVirt's "
                               "predefined roles, which are read-only.")
        return role


def _permits(permit_ids: tuple[str, ...], *, administrative: bool,
             name: str) -> tuple[Permit, ...]:
    if not permit_ids:
        raise InvalidInput(f"Role {name} needs one permit at least: <permits><permit "
                           "id=\"1300\"/></permits> (1300 is login).")
    found: list[Permit] = []
    for permit_id in permit_ids:
        permit = Permit.by_id(permit_id)
        if permit is None:
            raise InvalidInput(f"There is no permit with id '{permit_id[:20]}'; see "
                               "GET /roles/{id}/permits of SuperUser for them all.")
        if permit.administrative and not administrative:
            raise Conflict(f"Cannot add administrator's permit {permit.value} to a user role "
                           "(administrative false).")
        found.append(permit)
    return tuple(dict.fromkeys(found))


def _pick(value: str | None, default: str) -> str:
    return default if value is None else value
