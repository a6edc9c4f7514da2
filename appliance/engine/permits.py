"""oVirt's permits (its "action groups"): what a role allows, by oVirt's ids and names, so
custom roles made with ``<permit id="1"/>`` mean what they mean on oVirt.

VirtStick enforces the permits that map onto its model (``ENFORCED``); a role may hold the
others, which are kept and shown but allow nothing more here.
"""

from __future__ import annotations

from enum import StrEnum


class Permit(StrEnum):
    CREATE_VM = "create_vm"
    DELETE_VM = "delete_vm"
    EDIT_VM_PROPERTIES = "edit_vm_properties"
    CHANGE_VM_CD = "change_vm_cd"
    MIGRATE_VM = "migrate_vm"
    CONNECT_TO_VM = "connect_to_vm"
    IMPORT_EXPORT_VM = "import_export_vm"
    CONFIGURE_VM_NETWORK = "configure_vm_network"
    CONFIGURE_VM_STORAGE = "configure_vm_storage"
    MOVE_VM = "move_vm"
    MANIPULATE_VM_SNAPSHOTS = "manipulate_vm_snapshots"
    RECONNECT_TO_VM = "reconnect_to_vm"
    CHANGE_VM_CUSTOM_PROPERTIES = "change_vm_custom_properties"
    EDIT_ADMIN_VM_PROPERTIES = "edit_admin_vm_properties"
    CREATE_INSTANCE = "create_instance"
    REBOOT_VM = "reboot_vm"
    STOP_VM = "stop_vm"
    SHUT_DOWN_VM = "shut_down_vm"
    HIBERNATE_VM = "hibernate_vm"
    RUN_VM = "run_vm"
    RESET_VM = "reset_vm"
    CREATE_HOST = "create_host"
    EDIT_HOST_CONFIGURATION = "edit_host_configuration"
    DELETE_HOST = "delete_host"
    MANIPULATE_HOST = "manipulate_host"
    CONFIGURE_HOST_NETWORK = "configure_host_network"
    CREATE_TEMPLATE = "create_template"
    EDIT_TEMPLATE_PROPERTIES = "edit_template_properties"
    DELETE_TEMPLATE = "delete_template"
    COPY_TEMPLATE = "copy_template"
    CONFIGURE_TEMPLATE_NETWORK = "configure_template_network"
    EDIT_ADMIN_TEMPLATE_PROPERTIES = "edit_admin_template_properties"
    CREATE_VM_POOL = "create_vm_pool"
    EDIT_VM_POOL_CONFIGURATION = "edit_vm_pool_configuration"
    DELETE_VM_POOL = "delete_vm_pool"
    VM_POOL_BASIC_OPERATIONS = "vm_pool_basic_operations"
    CREATE_CLUSTER = "create_cluster"
    EDIT_CLUSTER_CONFIGURATION = "edit_cluster_configuration"
    DELETE_CLUSTER = "delete_cluster"
    CONFIGURE_CLUSTER_NETWORK = "configure_cluster_network"
    ASSIGN_CLUSTER_NETWORK = "assign_cluster_network"
    MANIPULATE_USERS = "manipulate_users"
    MANIPULATE_ROLES = "manipulate_roles"
    MANIPULATE_PERMISSIONS = "manipulate_permissions"
    ADD_USERS_AND_GROUPS_FROM_DIRECTORY = "add_users_and_groups_from_directory"
    EDIT_PROFILE = "edit_profile"
    CREATE_STORAGE_DOMAIN = "create_storage_domain"
    EDIT_STORAGE_DOMAIN_CONFIGURATION = "edit_storage_domain_configuration"
    DELETE_STORAGE_DOMAIN = "delete_storage_domain"
    MANIPULATE_STORAGE_DOMAIN = "manipulate_storage_domain"
    CREATE_STORAGE_POOL = "create_storage_pool"
    DELETE_STORAGE_POOL = "delete_storage_pool"
    EDIT_STORAGE_POOL_CONFIGURATION = "edit_storage_pool_configuration"
    CONFIGURE_STORAGE_POOL_NETWORK = "configure_storage_pool_network"
    CREATE_STORAGE_POOL_NETWORK = "create_storage_pool_network"
    DELETE_STORAGE_POOL_NETWORK = "delete_storage_pool_network"
    CONFIGURE_ENGINE = "configure_engine"
    CONFIGURE_QUOTA = "configure_quota"
    CONSUME_QUOTA = "consume_quota"
    CREATE_GLUSTER_VOLUME = "create_gluster_volume"
    MANIPULATE_GLUSTER_VOLUME = "manipulate_gluster_volume"
    DELETE_GLUSTER_VOLUME = "delete_gluster_volume"
    MANIPULATE_GLUSTER_HOOK = "manipulate_gluster_hook"
    MANIPULATE_GLUSTER_SERVICE = "manipulate_gluster_service"
    CREATE_DISK = "create_disk"
    ATTACH_DISK = "attach_disk"
    EDIT_DISK_PROPERTIES = "edit_disk_properties"
    CONFIGURE_DISK_STORAGE = "configure_disk_storage"
    DELETE_DISK = "delete_disk"
    CONFIGURE_SCSI_GENERIC_IO = "configure_scsi_generic_io"
    ACCESS_IMAGE_STORAGE = "access_image_storage"
    DISK_LIVE_STORAGE_MIGRATION = "disk_live_storage_migration"
    SPARSIFY_DISK = "sparsify_disk"
    REDUCE_DISK = "reduce_disk"
    BACKUP_DISK = "backup_disk"
    CONFIGURE_NETWORK_VNIC_PROFILE = "configure_network_vnic_profile"
    CREATE_NETWORK_VNIC_PROFILE = "create_network_vnic_profile"
    DELETE_NETWORK_VNIC_PROFILE = "delete_network_vnic_profile"
    LOGIN = "login"
    TAG_MANAGEMENT = "tag_management"
    BOOKMARK_MANAGEMENT = "bookmark_management"
    EVENT_NOTIFICATION_MANAGEMENT = "event_notification_management"
    AUDIT_LOG_MANAGEMENT = "audit_log_management"
    INJECT_EXTERNAL_EVENTS = "inject_external_events"
    INJECT_EXTERNAL_TASKS = "inject_external_tasks"
    MANIPULATE_AFFINITY_GROUPS = "manipulate_affinity_groups"
    CONFIGURE_STORAGE_DISK_PROFILE = "configure_storage_disk_profile"
    CREATE_STORAGE_DISK_PROFILE = "create_storage_disk_profile"
    DELETE_STORAGE_DISK_PROFILE = "delete_storage_disk_profile"
    ATTACH_DISK_PROFILE = "attach_disk_profile"
    CREATE_MAC_POOL = "create_mac_pool"
    EDIT_MAC_POOL = "edit_mac_pool"
    DELETE_MAC_POOL = "delete_mac_pool"
    CONFIGURE_MAC_POOL = "configure_mac_pool"
    CONNECT_TO_SERIAL_CONSOLE = "connect_to_serial_console"
    DELETE_CPU_PROFILE = "delete_cpu_profile"
    UPDATE_CPU_PROFILE = "update_cpu_profile"
    CREATE_CPU_PROFILE = "create_cpu_profile"
    ASSIGN_CPU_PROFILE = "assign_cpu_profile"

    @property
    def id(self) -> str:
        """oVirt's id of the permit, as ``<permit id="1"/>`` names it."""
        return str(_TABLE[self][0])

    @property
    def administrative(self) -> bool:
        return _TABLE[self][1]

    @classmethod
    def by_id(cls, permit_id: str) -> Permit | None:
        return _BY_ID.get(permit_id.strip())


# (oVirt's id, administrative): administrative permits belong to administrative roles only.
_TABLE: dict[Permit, tuple[int, bool]] = {
    Permit.CREATE_VM: (1, False), Permit.DELETE_VM: (2, False),
    Permit.EDIT_VM_PROPERTIES: (3, False), Permit.CHANGE_VM_CD: (5, False),
    Permit.MIGRATE_VM: (6, False), Permit.CONNECT_TO_VM: (7, False),
    Permit.IMPORT_EXPORT_VM: (8, True), Permit.CONFIGURE_VM_NETWORK: (9, False),
    Permit.CONFIGURE_VM_STORAGE: (10, False), Permit.MOVE_VM: (11, False),
    Permit.MANIPULATE_VM_SNAPSHOTS: (12, False), Permit.RECONNECT_TO_VM: (13, False),
    Permit.CHANGE_VM_CUSTOM_PROPERTIES: (14, True),
    Permit.EDIT_ADMIN_VM_PROPERTIES: (15, True), Permit.CREATE_INSTANCE: (16, False),
    Permit.REBOOT_VM: (17, False), Permit.STOP_VM: (18, False),
    Permit.SHUT_DOWN_VM: (19, False), Permit.HIBERNATE_VM: (21, False),
    Permit.RUN_VM: (22, False), Permit.RESET_VM: (23, False),
    Permit.CREATE_HOST: (100, True), Permit.EDIT_HOST_CONFIGURATION: (101, True),
    Permit.DELETE_HOST: (102, True), Permit.MANIPULATE_HOST: (103, True),
    Permit.CONFIGURE_HOST_NETWORK: (104, True), Permit.CREATE_TEMPLATE: (200, False),
    Permit.EDIT_TEMPLATE_PROPERTIES: (201, False), Permit.DELETE_TEMPLATE: (202, False),
    Permit.COPY_TEMPLATE: (203, False), Permit.CONFIGURE_TEMPLATE_NETWORK: (204, False),
    Permit.EDIT_ADMIN_TEMPLATE_PROPERTIES: (205, True), Permit.CREATE_VM_POOL: (300, False),
    Permit.EDIT_VM_POOL_CONFIGURATION: (301, False), Permit.DELETE_VM_POOL: (302, False),
    Permit.VM_POOL_BASIC_OPERATIONS: (303, False), Permit.CREATE_CLUSTER: (400, True),
    Permit.EDIT_CLUSTER_CONFIGURATION: (401, True), Permit.DELETE_CLUSTER: (402, True),
    Permit.CONFIGURE_CLUSTER_NETWORK: (403, True), Permit.ASSIGN_CLUSTER_NETWORK: (404, True),
    Permit.MANIPULATE_USERS: (500, True), Permit.MANIPULATE_ROLES: (501, True),
    Permit.MANIPULATE_PERMISSIONS: (502, False),
    Permit.ADD_USERS_AND_GROUPS_FROM_DIRECTORY: (503, False), Permit.EDIT_PROFILE: (504, False),
    Permit.CREATE_STORAGE_DOMAIN: (600, True),
    Permit.EDIT_STORAGE_DOMAIN_CONFIGURATION: (601, True),
    Permit.DELETE_STORAGE_DOMAIN: (602, True), Permit.MANIPULATE_STORAGE_DOMAIN: (603, True),
    Permit.CREATE_STORAGE_POOL: (700, True), Permit.DELETE_STORAGE_POOL: (701, True),
    Permit.EDIT_STORAGE_POOL_CONFIGURATION: (702, True),
    Permit.CONFIGURE_STORAGE_POOL_NETWORK: (703, True),
    Permit.CREATE_STORAGE_POOL_NETWORK: (704, True),
    Permit.DELETE_STORAGE_POOL_NETWORK: (705, True), Permit.CONFIGURE_ENGINE: (800, True),
    Permit.CONFIGURE_QUOTA: (900, True), Permit.CONSUME_QUOTA: (901, False),
    Permit.CREATE_GLUSTER_VOLUME: (1000, True), Permit.MANIPULATE_GLUSTER_VOLUME: (1001, True),
    Permit.DELETE_GLUSTER_VOLUME: (1002, True), Permit.MANIPULATE_GLUSTER_HOOK: (1003, True),
    Permit.MANIPULATE_GLUSTER_SERVICE: (1004, True), Permit.CREATE_DISK: (1100, False),
    Permit.ATTACH_DISK: (1101, False), Permit.EDIT_DISK_PROPERTIES: (1102, False),
    Permit.CONFIGURE_DISK_STORAGE: (1103, False), Permit.DELETE_DISK: (1104, False),
    Permit.CONFIGURE_SCSI_GENERIC_IO: (1105, True), Permit.ACCESS_IMAGE_STORAGE: (1106, False),
    Permit.DISK_LIVE_STORAGE_MIGRATION: (1107, False), Permit.SPARSIFY_DISK: (1108, False),
    Permit.REDUCE_DISK: (1109, True), Permit.BACKUP_DISK: (1110, True),
    Permit.CONFIGURE_NETWORK_VNIC_PROFILE: (1203, True),
    Permit.CREATE_NETWORK_VNIC_PROFILE: (1204, True),
    Permit.DELETE_NETWORK_VNIC_PROFILE: (1205, True), Permit.LOGIN: (1300, False),
    Permit.TAG_MANAGEMENT: (1301, True), Permit.BOOKMARK_MANAGEMENT: (1302, True),
    Permit.EVENT_NOTIFICATION_MANAGEMENT: (1303, True),
    Permit.AUDIT_LOG_MANAGEMENT: (1304, True), Permit.INJECT_EXTERNAL_EVENTS: (1400, True),
    Permit.INJECT_EXTERNAL_TASKS: (1500, True),
    Permit.MANIPULATE_AFFINITY_GROUPS: (1550, True),
    Permit.CONFIGURE_STORAGE_DISK_PROFILE: (1560, True),
    Permit.CREATE_STORAGE_DISK_PROFILE: (1561, True),
    Permit.DELETE_STORAGE_DISK_PROFILE: (1562, True), Permit.ATTACH_DISK_PROFILE: (1563, False),
    Permit.CREATE_MAC_POOL: (1660, True), Permit.EDIT_MAC_POOL: (1661, True),
    Permit.DELETE_MAC_POOL: (1662, True), Permit.CONFIGURE_MAC_POOL: (1663, True),
    Permit.CONNECT_TO_SERIAL_CONSOLE: (1664, False), Permit.DELETE_CPU_PROFILE: (1665, True),
    Permit.UPDATE_CPU_PROFILE: (1666, True), Permit.CREATE_CPU_PROFILE: (1667, True),
    Permit.ASSIGN_CPU_PROFILE: (1668, True),
}
_BY_ID = {str(number): permit for permit, (number, _) in _TABLE.items()}

# What "using a VM" takes: any of these on a VM makes it the user's to see and run.
USE_VM = frozenset({Permit.RUN_VM, Permit.SHUT_DOWN_VM, Permit.STOP_VM, Permit.REBOOT_VM,
                    Permit.CONNECT_TO_VM, Permit.CHANGE_VM_CD, Permit.MANIPULATE_VM_SNAPSHOTS,
                    Permit.EDIT_VM_PROPERTIES, Permit.DELETE_VM})

# The permits VirtStick's model gives a meaning to; a role's other permits allow nothing more.
ENFORCED = frozenset({*USE_VM, Permit.CREATE_VM, Permit.VM_POOL_BASIC_OPERATIONS,
                      Permit.MANIPULATE_PERMISSIONS, Permit.TAG_MANAGEMENT,
                      Permit.INJECT_EXTERNAL_TASKS, Permit.LOGIN})
