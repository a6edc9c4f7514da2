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
    # behind the search terms
    "nic": "GET /datacenters/{id}/networks: 404 (the network's data center is found by "
           "Clusters.name=)",
    "template": "the second ovirt_template run: templates have no <memory_policy> "
                "('NoneType' object has no attribute 'ballooning')",
    "info": "users?search=usrname=admin@internal-authz: empty, GET /tags: 404, "
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
