"""Every kind of event the engine records, with its fixed number.

The textual code is what the event log stores and the API shows as ``comment``; the number is
the API's ``code``, which oVirt clients filter on (``search=type=1152``). Where one of oVirt's
own events means the same, its number (``AuditLogType`` in ovirt-engine) is ours too; VirtStick's
own events take numbers from a private range above oVirt's. A number once given is never
reused: ``tests/monitoring/test_event_codes.py`` checks that numbers and codes are unique.
"""

from __future__ import annotations

from enum import StrEnum

PRIVATE = 100_000  # VirtStick's own numbers start here (oVirt's end below 20 000)


class EventCode(StrEnum):
    number: int

    def __new__(cls, code: str, number: int) -> EventCode:
        member = str.__new__(cls, code)
        member._value_ = code
        member.number = number
        return member

    # VMs (oVirt's number and name on the right)
    VM_CREATED = "vm_created", 34  # USER_ADD_VM
    VM_UPDATED = "vm_updated", 35  # USER_UPDATE_VM
    VM_REMOVED = "vm_removed", 113  # USER_REMOVE_VM_FINISHED
    VM_CLONED = "vm_cloned", 53  # USER_ADD_VM_FINISHED_SUCCESS
    VM_STARTED = "vm_started", 153  # USER_STARTED_VM
    VM_START_FAILED = "vm_start_failed", 54  # USER_FAILED_RUN_VM
    VM_SHUT_DOWN = "vm_shut_down", 73  # USER_INITIATED_SHUTDOWN_VM
    VM_POWER_OFF = "vm_power_off", 33  # USER_STOP_VM
    VM_REBOOT = "vm_reboot", 157  # USER_REBOOT_VM
    VM_RESET = "vm_reset", 221  # USER_RESET_VM
    VM_PAUSE = "vm_pause", 39  # USER_PAUSE_VM
    VM_RESUMED = "vm_resumed", 40  # USER_RESUME_VM
    VM_DOWN = "vm_down", 61  # VM_DOWN
    VM_PAUSED_IO_ERROR = "vm_paused_io_error", 145  # VM_PAUSED_EIO
    VM_RESUMED_SPACE = "vm_resumed_space", 196  # VM_RECOVERED_FROM_PAUSE_ERROR
    VM_HA_RESTARTED = "vm_ha_restarted", 506  # VDS_INITIATED_RUN_VM
    VM_MIGRATED = "vm_migrated", 63  # VM_MIGRATION_DONE
    VM_MIGRATION_FAILED = "vm_migration_failed", 65  # VM_MIGRATION_FAILED
    VM_MIGRATION_CANCEL = "vm_migration_cancel", 161  # VM_CANCEL_MIGRATION
    VM_EXPORTED = "vm_exported", 1224  # IMPORTEXPORT_EXPORT_VM_TO_OVA
    IMPORTED = "imported", 1152  # IMPORTEXPORT_IMPORT_VM (a VM or a template)
    CONSOLE_TICKET = "console_ticket", 164  # VM_SET_TICKET
    VM_DISK_ADDED = "vm_disk_added", 97  # USER_ADD_DISK_TO_VM_FINISHED_SUCCESS
    VM_DISK_RESIZED = "vm_disk_resized", 371  # USER_EXTEND_DISK_SIZE_SUCCESS
    VM_CDROM_CHANGED = "vm_cdrom_changed", 38  # USER_CHANGE_DISK_VM
    VM_CDROM_EJECTED = "vm_cdrom_ejected", 521  # USER_EJECT_VM_DISK

    # Snapshots
    SNAPSHOT_CREATED = "snapshot_created", 68  # USER_CREATE_SNAPSHOT_FINISHED_SUCCESS
    SNAPSHOT_REMOVED = "snapshot_removed", 356  # USER_REMOVE_SNAPSHOT_FINISHED_SUCCESS
    SNAPSHOT_PREVIEW = "snapshot_preview", 71  # USER_TRY_BACK_TO_SNAPSHOT_FINISH_SUCCESS
    # USER_COMMIT_RESTORE_FROM_SNAPSHOT_FINISH_SUCCESS
    SNAPSHOT_COMMITTED = "snapshot_committed", 95
    SNAPSHOT_UNDONE = "snapshot_undone", 651  # USER_UNDO_RESTORE_FROM_SNAPSHOT_FINISH_SUCCESS

    # Backups
    VM_BACKUP_STARTED = "vm_backup_started", 10790  # VM_BACKUP_STARTED
    VM_BACKUP_FAILED = "vm_backup_failed", 10792  # VM_BACKUP_FAILED
    VM_BACKUP_FINALIZED = "vm_backup_finalized", 10794  # VM_BACKUP_FINALIZED
    CHECKPOINT_REMOVED = "checkpoint_removed", 10797  # VM_CHECKPOINT_DELETED
    CHECKPOINT_REMOVE_FAILED = "checkpoint_remove_failed", 10798  # VM_CHECKPOINT_FAILED_TO_DELETE

    # Templates and ISOs
    TEMPLATE_CREATED = "template_created", 51  # USER_ADD_VM_TEMPLATE_FINISHED_SUCCESS
    TEMPLATE_IMPORTED = "template_imported", 3017  # USER_IMPORT_IMAGE_AS_TEMPLATE
    TEMPLATE_EXPORTED = "template_exported", 1227  # IMPORTEXPORT_EXPORT_TEMPLATE_TO_OVA
    TEMPLATE_REMOVED = "template_removed", 251  # USER_REMOVE_VM_TEMPLATE_FINISHED
    ISO_UPLOADED = "iso_uploaded", 1032  # TRANSFER_IMAGE_SUCCEEDED
    IMAGE_TRANSFER_STARTED = "image_transfer_started", 1031  # TRANSFER_IMAGE_INITIATED
    IMAGE_TRANSFER_FAILED = "image_transfer_failed", 1034  # TRANSFER_IMAGE_FAILED
    DISK_SPARSIFY_STARTED = "disk_sparsify_started", 1325  # USER_SPARSIFY_IMAGE_START
    DISK_SPARSIFIED = "disk_sparsified", 1326  # USER_SPARSIFY_IMAGE_FINISH_SUCCESS
    DISK_SPARSIFY_FAILED = "disk_sparsify_failed", 1327  # USER_SPARSIFY_IMAGE_FINISH_FAILURE

    # Hosts
    HOST_ADDED = "host_added", 42  # USER_ADD_VDS
    HOST_REMOVED = "host_removed", 44  # USER_REMOVE_VDS
    HOST_UP = "host_up", 13  # VDS_DETECTED
    HOST_NON_RESPONSIVE = "host_non_responsive", 12  # VDS_FAILURE
    HOST_SOFT_FENCED = "host_soft_fenced", 75  # VDS_SOFT_RECOVER
    HOST_FENCED = "host_fenced", 9018  # FENCE_OPERATION_SUCCEEDED
    HOST_FENCE_FAILED = "host_fence_failed", 9019  # FENCE_OPERATION_FAILED
    HOST_NOT_FENCED = "host_not_fenced", 9028  # VDS_ALERT_NO_PM_CONFIG_FENCE_OPERATION_SKIPPED
    HOST_MAINTENANCE = "host_maintenance", 15  # VDS_MAINTENANCE
    HOST_MAINTENANCE_FAILED = "host_maintenance_failed", 17  # VDS_MAINTENANCE_FAILED
    HOST_ACTIVATED = "host_activated", 16  # VDS_ACTIVATE
    LAB_HOST_STARTED = "lab_host_started", 20  # USER_VDS_START
    LAB_HOST_STOPPED = "lab_host_stopped", 21  # USER_VDS_STOP
    HOST_STANDBY_FAILED = "host_standby_failed", 137  # USER_FAILED_VDS_STOP
    CLUSTER_SCHEDULING_POLICY = "cluster_scheduling_policy", 811  # USER_UPDATE_CLUSTER
    HOST_UPDATED = "host_updated", 43  # USER_UPDATE_VDS

    # Data centers, clusters, networks, quotas
    DATACENTER_ADDED = "datacenter_added", 950  # USER_ADD_STORAGE_POOL
    DATACENTER_UPDATED = "datacenter_updated", 952  # USER_UPDATE_STORAGE_POOL
    DATACENTER_REMOVED = "datacenter_removed", 954  # USER_REMOVE_STORAGE_POOL
    CLUSTER_ADDED = "cluster_added", 809  # USER_ADD_CLUSTER
    CLUSTER_REMOVED = "cluster_removed", 813  # USER_REMOVE_CLUSTER
    NETWORK_ADDED = "network_added", 942  # NETWORK_ADD_NETWORK
    NETWORK_REMOVED = "network_removed", 944  # NETWORK_REMOVE_NETWORK
    NETWORK_UPDATED = "network_updated", 1114  # NETWORK_UPDATE_NETWORK
    NETWORK_ATTACHED = "network_attached", 946  # NETWORK_ATTACH_NETWORK_TO_CLUSTER
    NETWORK_DETACHED = "network_detached", 948  # NETWORK_DETACH_NETWORK_TO_CLUSTER
    NIC_UPDATED = "nic_updated", 934  # NETWORK_UPDATE_VM_INTERFACE
    QUOTA_ADDED = "quota_added", 3000  # USER_ADD_QUOTA
    QUOTA_UPDATED = "quota_updated", 3002  # USER_UPDATE_QUOTA
    QUOTA_REMOVED = "quota_removed", 3004  # USER_DELETE_QUOTA
    QUOTA_CLUSTER_EXCEEDED = "quota_cluster_exceeded", 3007  # USER_EXCEEDED_QUOTA_CLUSTER_LIMIT
    QUOTA_STORAGE_EXCEEDED = "quota_storage_exceeded", 3010  # USER_EXCEEDED_QUOTA_STORAGE_LIMIT
    TAG_ADDED = "tag_added", 432  # USER_ADD_TAG
    TAG_UPDATED = "tag_updated", 430  # USER_UPDATE_TAG
    TAG_REMOVED = "tag_removed", 434  # USER_REMOVE_TAG
    TAG_ON_VM = "tag_on_vm", 440  # USER_ATTACH_TAG_TO_VM
    TAG_OFF_VM = "tag_off_vm", 446  # USER_DETACH_VM_FROM_TAG
    TAG_ON_HOST = "tag_on_host", 442  # USER_ATTACH_TAG_TO_VDS
    TAG_OFF_HOST = "tag_off_host", 444  # USER_DETACH_VDS_FROM_TAG
    VM_POOL_ADDED = "vm_pool_added", 302  # USER_ADD_VM_POOL_WITH_VMS
    VM_POOL_UPDATED = "vm_pool_updated", 344  # USER_UPDATE_VM_POOL_WITH_VMS
    VM_POOL_REMOVED = "vm_pool_removed", 304  # USER_REMOVE_VM_POOL
    VM_POOL_ALLOCATED = "vm_pool_allocated", 316  # USER_ATTACH_USER_TO_VM_FROM_POOL
    VM_POOL_DETACHED = "vm_pool_detached", 308  # USER_REMOVE_VM_FROM_POOL
    AFFINITY_GROUP_ADDED = "affinity_group_added", 10350  # USER_ADDED_AFFINITY_GROUP
    AFFINITY_GROUP_UPDATED = "affinity_group_updated", 10352  # USER_UPDATED_AFFINITY_GROUP
    AFFINITY_GROUP_REMOVED = "affinity_group_removed", 10354  # USER_REMOVED_AFFINITY_GROUP
    AFFINITY_LABEL_ADDED = "affinity_label_added", 10380  # USER_ADDED_AFFINITY_LABEL
    AFFINITY_LABEL_UPDATED = "affinity_label_updated", 10382  # USER_UPDATED_AFFINITY_LABEL
    AFFINITY_LABEL_REMOVED = "affinity_label_removed", 10384  # USER_REMOVED_AFFINITY_LABEL

    # Storage
    # USER_DEACTIVATED_STORAGE_DOMAIN
    STORAGE_DOMAIN_MAINTENANCE = "storage_domain_maintenance", 968
    STORAGE_DOMAIN_ACTIVATED = "storage_domain_activated", 966  # USER_ACTIVATED_STORAGE_DOMAIN
    STORAGE_LOW = "storage_low", 26  # IRS_DISK_SPACE_LOW

    # Users
    USER_ADDED = "user_added", 149  # USER_ADD
    USER_REMOVED = "user_removed", 325  # USER_REMOVE_ADUSER
    USER_LOGIN_FAILED = "user_login_failed", 114  # USER_VDC_LOGIN_FAILED
    PERMISSION_GRANTED = "permission_granted", 850  # USER_ADD_PERMISSION
    PERMISSION_REMOVED = "permission_removed", 852  # USER_REMOVE_PERMISSION
    ROLE_ADDED = "role_added", 864  # USER_ADD_ROLE_WITH_ACTION_GROUP
    ROLE_UPDATED = "role_updated", 856  # USER_UPDATE_ROLE
    ROLE_REMOVED = "role_removed", 858  # USER_REMOVE_ROLE
    GROUP_REMOVED = "group_removed", 408  # USER_REMOVE_AD_GROUP

    # VirtStick's own
    JOB_FAILED = "job_failed", PRIVATE + 1
    HOST_UNREACHABLE = "host_unreachable", PRIVATE + 2
    HOST_STANDBY = "host_standby", PRIVATE + 3
    HOST_WOKEN = "host_woken", PRIVATE + 4
    JOIN_TOKEN_CREATED = "join_token_created", PRIVATE + 5
    HOST_JOIN_FAILED = "host_join_failed", PRIVATE + 6
    STORAGE_LOW_CLEARED = "storage_low_cleared", PRIVATE + 7
    STORAGE_OVERCOMMIT = "storage_overcommit", PRIVATE + 8
    STORAGE_OVERCOMMIT_CLEARED = "storage_overcommit_cleared", PRIVATE + 9
    VOLUME_MISSING = "volume_missing", PRIVATE + 10
    UNKNOWN_VOLUME = "unknown_volume", PRIVATE + 11
    UNKNOWN_DOMAIN = "unknown_domain", PRIVATE + 12
    KVM_FALLBACK = "kvm_fallback", PRIVATE + 13
    DISK_UPDATED = "disk_updated", PRIVATE + 20
    VM_SUSPENDED = "vm_suspended", PRIVATE + 21
    VM_SUSPEND_FAILED = "vm_suspend_failed", PRIVATE + 22
    CLUSTER_UPDATED = "cluster_updated", PRIVATE + 23
    MAC_POOL_ADDED = "mac_pool_added", PRIVATE + 24
    MAC_POOL_UPDATED = "mac_pool_updated", PRIVATE + 25
    MAC_POOL_REMOVED = "mac_pool_removed", PRIVATE + 26
    INSTANCE_TYPE_ADDED = "instance_type_added", PRIVATE + 27
    INSTANCE_TYPE_UPDATED = "instance_type_updated", PRIVATE + 28
    INSTANCE_TYPE_REMOVED = "instance_type_removed", PRIVATE + 29
    # (users, groups, tags, pools, affinity: from PRIVATE + 201)
    USER_PASSWORD_SET = "user_password_set", PRIVATE + 201
    GROUP_ADDED = "group_added", PRIVATE + 202
    GROUP_MEMBERS_CHANGED = "group_members_changed", PRIVATE + 203
    CLUSTER_MEMORY_OVERCOMMIT = "cluster_memory_overcommit", PRIVATE + 40
    KSM_STARTED = "ksm_started", PRIVATE + 41
    KSM_STOPPED = "ksm_stopped", PRIVATE + 42
