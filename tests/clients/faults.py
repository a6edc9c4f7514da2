"""What stops each client today, by noun: the first request the service refuses (or the
value it drops) and what oVirt does instead. Each entry is a strict xfail; the fix that makes
a client pass removes its line (a passing xfail fails the suite until then)."""

from __future__ import annotations

EXAMPLE_FAULTS: dict[str, str] = {
    # data centers, clusters, networks
    "add_data_center": "POST /datacenters: 405 (data centers cannot be added)",
    "update_data_center": "PUT /datacenters/{id}: 405 (data centers cannot be updated)",
    "add_cluster": "POST /clusters: 405 (clusters cannot be added)",
    "change_host_cluster": "preparing cluster mycluster: POST /clusters: 405",
    "list_cluster_networks": "GET /clusters/{id}/networks: 404",
    "add_logical_network": "POST /networks: 405 (logical networks cannot be added)",
    "assign_network_to_cluster": "preparing network mynetwork: POST /networks: 405",
    "add_vm_nic": "GET /datacenters?search=Clusters.name=Default: 400 (no Clusters.name term)",
    "add_mac_pool": "POST /macpools: 404",
    "update_quota_limits": "GET /datacenters/{id}/quotas: 404",
    "data_center_maintenance": "GET /datacenters/{id}/clusters: 404",
    # roles, users, groups, permissions
    "add_role": "POST /roles: 405 (roles cannot be added; permits 1 and 1300)",
    "add_group": "POST /groups: 404",
    "add_user_ssh_public_key": "POST /users/{id}/sshpublickeys: 404",
    "assign_permission": "users?search=usrname=myuser@internal-authz finds nothing: users are "
                         "named myuser@internal, not user@internal-authz",
    "assign_permission_to_vms": "users?search=usrname=user2@internal-authz finds nothing "
                                "(users are named user@internal)",
    # instance types
    "add_instance_type": "POST /instancetypes: 404",
    # VMs
    "asynchronous_inventory": "GET /vms/{id}/reporteddevices: 404",
    "get_vm_ip": "GET /vms/{id}/reporteddevices: 404",
    "download_vm_ovf": "vms?all_content=true has no <initialization><configuration> (the OVF)",
    "enable_serial_console": "vms?all_content=true has no <console>",
    "set_vm_serial_number": "PUT /vms/{id} <serial_number> custom/myserial is dropped "
                            "(200, but GET shows none)",
    "pin_vm": "PUT /vms/{id} <placement_policy><hosts> is dropped (200, but GET shows none)",
    "page_vms": "search=page 2 with max=1 is empty: 'page N' ignores max",
    "set_vm_lease_storage_domain": "PUT /vms/{id} <high_availability>/<lease>: 501 (not editable)",
    "remove_numa_nodes_from_vm": "GET /vms/{id}/numanodes: 404",
    "get_display_ticket": "graphicsconsoles lists VNC only: no SPICE console (and no ticket)",
    # disks
    "extend_disk": "PUT /vms/{id}/diskattachments/{id} (provisioned_size): 405",
    "deactivate_disk_attachment": "PUT /vms/{id}/diskattachments/{id} (active=false): 405",
    "delete_disks": "GET /storagedomains/{id}/disks: 404",
    "sparsify_disk": "POST /disks/{id}/sparsify: 404",
    "list_disk_snapshots": "GET /disks/{id}/disksnapshots: 404",
    # snapshots, backups
    "list_vm_snapshots": "GET /vms/{id}/snapshots/{id}/disks: 404",
    "clone_vm_from_snapshot": "POST /vms with <snapshots><snapshot id> ignores the snapshot: "
                              "the clone has no disk",
    "backup_vm": "POST /vms/{id}/backups: 404",
    "checkpoints": "GET /vms/{id}/checkpoints: 404",
    # pools
    "add_vm_pool": "POST /vmpools: 404",
    # tags
    "add_tag": "POST /tags: 404",
    "list_tags": "preparing tag mytag: POST /tags: 404",
    "remove_tag": "preparing tag mytag: POST /tags: 404",
    "assign_tag_to_vm": "preparing tag mytag: POST /tags: 404",
    "list_tags_of_vm": "preparing tag mytag: POST /tags: 404",
    "unassign_tag_to_vm": "preparing tag mytag: POST /tags: 404",
    # affinity labels
    "add_affinity_label": "POST /affinitylabels: 404",
    "assign_affinity_label_to_vm": "preparing label: POST /affinitylabels: 404",
    "list_affinity_labels": "preparing label: POST /affinitylabels: 404",
}

PLAY_FAULTS: dict[str, str] = {
    # search terms
    "vm": "templates?search=name=Blank and datacenter=Default: 400 (no datacenter term)",
    "vm_idempotent": "templates?search=name=Demo and datacenter=Default: 400 (no datacenter "
                     "term)",
    "vm_migrate": "templates?search=vm.name=ans-mig: 400 (no vm.name term on templates)",
    "disk": "disks?search=name=ans-disk and Storage.name=ram: 400 (no Storage.name term)",
    "nic": "datacenters?search=Clusters.name=Default: 400 (no Clusters.name term)",
    "template": "templates?search=name=ans-template and cluster=Default: 400 (no cluster term)",
    "info": "hosts?search=cluster=: 400, disks?search=vm_names=: 400, events?search=vm.name=: "
            "400, users?search=usrname=admin@internal-authz: empty, GET /tags: 404, "
            "ovirt_permission_info: no user admin@internal-authz",
    # users
    "user": "POST /users without <password>: 400 (oVirt adds directory users without one)",
    "permission": "users?search=usrname=ansperm@internal-authz finds nothing (users are named "
                  "user@internal)",
    # objects still missing
    "affinity_group": "POST /clusters/{id}/affinitygroups/{name}/vms: 404 (no vms "
                      "sub-collection; groups are addressed by name, not id)",
    "tag": "GET /tags: 404",
    "vmpool": "GET /vmpools: 404",
    "job": "POST /jobs: 405 (no external jobs)",
    # hosts
    "host": "hosts lack <power_management><kdump_detection>, <spm><priority> and "
            "<os><custom_kernel_cmdline>, which ovirt_host's update check reads",
}
