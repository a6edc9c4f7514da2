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
    "add_vm_nic": "GET /datacenters/{id}/networks: 404 (its data center is found by "
                  "Clusters.name=)",
    "add_mac_pool": "POST /macpools: 404",
    "update_quota_limits": "GET /datacenters/{id}/quotas: 404",
    "data_center_maintenance": "GET /datacenters/{id}/clusters: 404",
    # instance types
    "add_instance_type": "POST /instancetypes: 404",
    # VMs
    "get_display_ticket": "the Demo VM's display is VNC (the web console's): the example "
                          "looks for a SPICE console, which only a VM with a SPICE display "
                          "has",
    # disks
    "sparsify_disk": "POST /disks/{id}/sparsify: 404",
    # snapshots, backups
    "backup_vm": "POST /vms/{id}/backups: 405 (incremental backup is not offered; the "
                 "backups list is empty)",
}

PLAY_FAULTS: dict[str, str] = {
    # behind the search terms
    "nic": "GET /datacenters/{id}/networks: 404 (the network's data center is found by "
           "Clusters.name=)",
    "template": "the second ovirt_template run: templates have no <memory_policy> "
                "('NoneType' object has no attribute 'ballooning')",
    # hosts
    "host": "hosts lack <power_management><kdump_detection>, <spm><priority> and "
            "<os><custom_kernel_cmdline>, which ovirt_host's update check reads",
}
