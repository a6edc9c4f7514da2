"""Element names of oVirt's API model, per type: accepted in request bodies (and ignored
where VirtStick has no such setting), so clients that send them work; any other element
is an error."""

from __future__ import annotations


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


VM = _names("""
    affinity_labels applications auto_pinning_policy bios cdroms cluster comment console
    cpu cpu_pinning_policy cpu_profile cpu_shares creation_time
    custom_compatibility_version custom_cpu_model custom_emulated_machine
    custom_properties delete_protected description disk_attachments display domain
    dynamic_cpu external_host_provider floppies fqdn graphics_consoles
    guest_operating_system guest_time_zone has_illegal_images high_availability host
    host_devices id initialization instance_type io katello_errata large_icon lease
    mediated_devices memory memory_policy migration migration_downtime
    multi_queues_enabled name next_run_configuration_exists nics numa_nodes numa_tune_mode
    origin original_template os payloads permissions placement_policy quota
    reported_devices rng_device run_once serial_number sessions small_icon snapshots
    soundcard_enabled sso start_paused start_time stateless statistics status
    status_detail stop_reason stop_time storage_domain storage_error_resume_behaviour tags
    template time_zone tpm_enabled tunnel_migration type usb use_latest_template_version
    virtio_scsi virtio_scsi_multi_queues virtio_scsi_multi_queues_enabled vm_pool
    watchdogs
""")

DISK = _names("""
    active actual_size alias backup backup_mode bootable comment content_type description
    disk_profile disk_snapshots external_disk format id image_id initial_size
    instance_type interface logical_name lun_storage name openstack_volume_type
    permissions propagate_errors provisioned_size qcow_version quota read_only sgio
    shareable snapshot sparse statistics status storage_domain storage_domains
    storage_type template total_size uses_scsi_reservation vm vms wipe_after_delete
""")

DISK_ATTACHMENT = _names("""
    active bootable comment description disk id interface logical_name name pass_discard
    read_only template uses_scsi_reservation vm
""")

NIC = _names("""
    boot_protocol comment description id instance_type interface linked mac name network
    network_attachments network_filter_parameters network_labels on_boot plugged
    reported_devices statistics synced template virtual_function_allowed_labels
    virtual_function_allowed_networks vm vms vnic_profile
""")

SNAPSHOT = _names("""
    affinity_labels applications auto_pinning_policy bios cdroms cluster comment console
    cpu cpu_pinning_policy cpu_profile cpu_shares creation_time
    custom_compatibility_version custom_cpu_model custom_emulated_machine
    custom_properties date delete_protected description disk_attachments disks display
    domain dynamic_cpu external_host_provider floppies fqdn graphics_consoles
    guest_operating_system guest_time_zone has_illegal_images high_availability host
    host_devices id initialization instance_type io katello_errata large_icon lease
    mediated_devices memory memory_policy migration migration_downtime
    multi_queues_enabled name next_run_configuration_exists nics numa_nodes numa_tune_mode
    origin original_template os payloads permissions persist_memorystate placement_policy
    quota reported_devices rng_device run_once serial_number sessions small_icon
    snapshot_status snapshot_type snapshots soundcard_enabled sso start_paused start_time
    stateless statistics status status_detail stop_reason stop_time storage_domain
    storage_error_resume_behaviour tags template time_zone tpm_enabled tunnel_migration
    type usb use_latest_template_version virtio_scsi virtio_scsi_multi_queues
    virtio_scsi_multi_queues_enabled vm vm_pool watchdogs
""")

USER = _names("""
    comment department description domain domain_entry_id email groups id last_name
    logged_in name namespace options password permissions principal roles ssh_public_keys
    tags user_name user_options
""")

PERMISSION = _names("""
    cluster comment data_center description disk group host id name role storage_domain
    template user vm vm_pool
""")

TEMPLATE = _names("""
    auto_pinning_policy bios cdroms cluster comment console cpu cpu_pinning_policy
    cpu_profile cpu_shares creation_time custom_compatibility_version custom_cpu_model
    custom_emulated_machine custom_properties delete_protected description
    disk_attachments display domain graphics_consoles high_availability id initialization
    io large_icon lease mediated_devices memory memory_policy migration migration_downtime
    multi_queues_enabled name nics origin os permissions placement_policy quota rng_device
    serial_number small_icon soundcard_enabled sso start_paused stateless status
    storage_domain storage_error_resume_behaviour tags time_zone tpm_enabled
    tunnel_migration type usb version virtio_scsi virtio_scsi_multi_queues
    virtio_scsi_multi_queues_enabled vm watchdogs
""")

ACTION = _names("""
    activate allow_partial_import async attach_wgt attachment authorized_key
    auto_pinning_policy bricks certificates check_connectivity clone clone_permissions
    cluster collapse_snapshots comment commit_on_success connection connectivity_timeout
    correlation_id data_center deploy_hosted_engine description details directory
    discard_snapshots discovered_targets disk disk_profile disks exclusive fault
    fence_type filename filter fix_layout follow force grace_period host id image
    image_transfer import_as_template is_attached iscsi iscsi_targets job lease
    logical_units maintenance_after_restart maintenance_enabled
    migrate_vms_in_affinity_closure modified_bonds modified_labels
    modified_network_attachments name optimize_cpu_settings option pause permission
    power_management proxy_ticket quota reason reassign_bad_macs reboot
    registration_configuration remote_viewer_connection_file removed_bonds removed_labels
    removed_network_attachments resolution_type restore_memory root_password seal snapshot
    source_host ssh status stop_gluster_service storage_domain storage_domains succeeded
    synchronized_network_attachments template ticket timeout undeploy_hosted_engine
    upgrade_action upgrade_percent_complete use_cloud_init use_ignition use_initialization
    use_sysprep virtual_functions_configuration vm vnic_profile_mappings volatile
""")

HOST = _names("""
    address affinity_labels agents auto_numa_status certificate cluster comment cpu
    cpu_units description device_passthrough devices display external_host_provider
    external_network_provider_configurations external_status hardware_information hooks
    hosted_engine id iscsi katello_errata kdump_status ksm libvirt_version
    max_scheduling_memory memory name network_attachments network_operation_in_progress
    nics numa_nodes numa_supported os override_iptables ovn_configured permissions port
    power_management protocol reinstallation_required root_password se_linux spm ssh
    statistics status status_detail storage_connection_extensions storages summary tags
    transparent_huge_pages type unmanaged_networks update_available version vgpu_placement
""")

STORAGE_DOMAIN = _names("""
    available backup block_size comment committed critical_space_action_blocker
    data_center data_centers description discard_after_delete disk_profiles disk_snapshots
    disks external_status files host id images import master name permissions status
    storage storage_connections storage_format supports_discard
    supports_discard_zeroes_data templates type used vms warning_low_space_indicator
    wipe_after_delete
""")

CDROM = _names("""
    comment description file id instance_type name template vm vms
""")
