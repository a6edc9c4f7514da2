"""Which of the SDK's example scripts fit one machine, what each needs made beforehand, the
arguments it takes (the helpers-based ones read ``-c engine``), the environment names it
uses, and the fault that still stops it (a strict xfail: the fix removes it).

Environment names map to the lab's own objects unless the example makes that object itself
(``keep``): ``mycluster`` and ``mydc`` are ``Default``, ``mydata`` the RAM storage domain,
``myhost`` the appliance's host.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from tests.clients.faults import EXAMPLE_FAULTS
from tests.clients.world import STORAGE, World

Prepare = Callable[[World], dict[str, str]]
# The body of an RSA public key (a public key: no secret), for the example that sends one.
SSH_KEY_BODY = ("AAAAB3NzaC1yc2EAAAADAQABAAAAgQDvCC64rFQ8ZqZ3MzKbl5iye30HjOxbNrSEiMegITbC76E5y0q"
                "EcQKohzMd9xUE4pu7BREX3hGW6ldFMT6GQjWSmZt5l9e+04VybKf8TlE7dW3rhOueLcTr5lx4tVnSmRf"
                "ySGSZXv9svUjlS+e7H1xmx5/I0g8VN7O9lWLr+GMgDw==")


@dataclass(frozen=True)
class Example:
    name: str
    prepare: Prepare | None = None  # makes what the script looks up; values for ``args``
    args: tuple[str, ...] = ()  # "{vm}"-style fields come from ``prepare``
    keep: tuple[str, ...] = ()  # environment names this example makes itself
    names: dict[str, str] = field(default_factory=dict)  # more environment names
    timeout: float = 90
    forever: bool = False  # polls without end: still running at ``timeout`` passes
    fault: str | None = None  # what fails today (faults.py): a strict xfail until fixed
    destructive: bool = False  # runs last (puts the lab into maintenance)


def environment_names(example: Example, host_name: str) -> dict[str, str]:
    names = {"mycluster": "Default", "mydc": "Default", "mydata": STORAGE,
             "myhost": host_name, "bs-scsi-012": STORAGE, **example.names}
    return {old: new for old, new in names.items() if old not in example.keep}


# -- what the examples expect to find ---------------------------------------------------
def _nothing(world: World) -> dict[str, str]:
    return {}


def _vm(world: World) -> dict[str, str]:
    return {"vm": world.vm("myvm").id}


def _demo_vm(world: World) -> dict[str, str]:
    return {"vm": world.vm("myvm", template="Demo").id}


def _running_vm(world: World) -> dict[str, str]:
    return {"vm": world.vm("myvm", template="Demo", running=True).id}


def _vm_with_snapshot(world: World) -> dict[str, str]:
    vm = world.vm("myvm", template="Demo")
    world.snapshot(vm, "mysnap")
    return {"vm": vm.id, "disk": world.demo_disk_of(vm).id}


def _vm_with_mydisk(world: World) -> dict[str, str]:
    vm = world.vm("myvm")
    world.attach(vm, world.floating_disk("mydisk"))
    return {"vm": vm.id}


def _mydisk(world: World) -> dict[str, str]:
    return {"disk": world.floating_disk("mydisk").id}


def _vm0(world: World) -> dict[str, str]:
    return {"vm": world.vm("myvm0").id}


def _vm0_tag(world: World) -> dict[str, str]:
    vm = world.vm("myvm0")
    world.tag("mytag")
    return {"vm": vm.id}


def _vm0_tagged(world: World) -> dict[str, str]:
    world.tag("mytag", vm=world.vm("myvm0"))
    return {}


def _vm0_label(world: World) -> dict[str, str]:
    world.vm("myvm0")
    world.affinity_label("my_affinity_label")
    return {}


def _labelled_vm(world: World) -> dict[str, str]:
    world.affinity_label("my_affinity_label", vm=world.vm("myvm0"))
    return {}


def _tag(world: World) -> dict[str, str]:
    world.tag("mytag")
    return {}


def _three_vms(world: World) -> dict[str, str]:
    for name in ("myvm1", "myvm2", "myvm3"):
        world.vm(name)
    return {}


def _vms_for_user2(world: World) -> dict[str, str]:
    _three_vms(world)
    world.user("user2")
    return {}


def _vms_with_nics(world: World) -> dict[str, str]:
    world.vm("myvm1", nic=True)
    world.vm("myvm2", nic=True)
    return {}


def _myuser(world: World) -> dict[str, str]:
    world.user("myuser")
    return {}


def _mynetwork(world: World) -> dict[str, str]:
    world.network("mynetwork")
    return {}


def _add_disks_leftovers(world: World) -> dict[str, str]:
    for i in range(2):
        world.floating_disk(f"disk-{i}", description="Created by add_disks.py")
    return {}


def _template_versions(world: World) -> dict[str, str]:
    vm = world.vm("mybase", template="Demo")
    base = world.template("mytemplate", vm)
    for _ in range(2):
        world.template("mytemplate", vm, base=base)
    return {}


def _vm_named_vm(world: World) -> dict[str, str]:
    world.vm("vm", template="Demo")
    return {}


def _lab_host(world: World) -> dict[str, str]:
    world.lab_host("myhost")
    return {}


def _lab_host_and_cluster(world: World) -> dict[str, str]:
    world.cluster("mycluster")
    world.lab_host("myhost")
    return {}


def _running_demo(world: World) -> dict[str, str]:
    """A VM whose guest has booted, as one a user shuts down later would have."""
    world.wait_booted(world.vm("myvm", template="Demo", running=True).id)
    return {}


E = Example
APPLICABLE: tuple[Example, ...] = (
    # connections and the API root
    E("test_connection"),
    E("connection_builder"),
    E("disable_compression"),
    E("show_summary"),
    E("asynchronous_inventory", _demo_vm),
    # data centers, clusters, networks, storage, roles
    E("add_data_center", keep=("mydc",)),
    E("update_data_center"),
    E("add_cluster", keep=("mycluster",)),
    E("list_cluster_networks"),
    E("add_logical_network"),
    E("assign_network_to_cluster", _mynetwork),
    E("add_mac_pool"),
    E("update_quota_limits"),
    E("list_storage_domains", args=("-c", "engine")),
    E("list_roles"),
    E("add_role"),
    E("add_instance_type"),
    # hosts
    E("list_host_statistics"),
    E("change_host_cluster", _lab_host_and_cluster, keep=("myhost", "mycluster"),
      timeout=240),
    E("remove_host", _lab_host, keep=("myhost",), timeout=180),
    # VMs
    E("add_vm"),
    E("add_independet_vm", names={"mytemplate": "Demo"}),
    E("add_vm_with_sysprep", names={"mytemplate": "Demo"}),
    E("list_vms", _vm),
    E("search_vms", _vm),
    E("page_vms", _three_vms, timeout=30),
    E("follow_vm_links", _vm),
    E("download_vm_ovf", _vm),
    E("enable_serial_console", _vm),
    E("set_vm_serial_number", _vm),
    E("pin_vm", _vm),
    E("set_vm_lease_storage_domain", _vm),
    E("remove_numa_nodes_from_vm", _vm),
    E("remove_vm", _vm),
    E("start_vm", _demo_vm),
    E("start_vm_with_boot_devices", _demo_vm),
    E("start_vm_with_cloud_init", _demo_vm),
    E("stop_vm", _running_vm),
    E("get_vm_ip", _running_vm),
    E("add_vnc_console", _vm),
    E("get_display_ticket", _running_vm),
    E("change_vm_cd", _running_vm, args=("-c", "engine", "myvm")),
    E("print_vm_mac_duplicates", _vms_with_nics),
    E("add_vm_nic", _vm, names={"mynetwork": "ovirtmgmt"}),
    # disks
    E("add_floating_disk"),
    E("add_disks", args=("-c", "engine", "--sd-name", STORAGE, "--count", "2", "--sparse")),
    E("delete_disks", _add_disks_leftovers, args=("-c", "engine", "--sd-name", STORAGE)),
    E("add_vm_disk", _vm),
    E("list_vm_disks", _demo_vm),
    E("extend_disk", _vm),
    E("deactivate_disk_attachment", _vm_with_mydisk),
    E("sparsify_disk", _mydisk),
    E("list_disk_snapshots", _vm_with_snapshot, args=("-c", "engine", "{disk}")),
    # snapshots, backups
    E("add_vm_snapshot", _demo_vm),
    E("list_vm_snapshots", _vm_with_snapshot),
    E("clone_vm_from_snapshot", _vm_with_snapshot, timeout=180),
    E("backup_vm", _running_vm, args=("-c", "engine", "full", "{vm}")),
    E("checkpoints", _vm, args=("-c", "engine", "list", "{vm}")),
    # templates and pools
    E("add_template", _demo_vm, keep=("mytemplate",), timeout=240),
    E("add_vm_from_template_version", _template_versions, timeout=300),
    E("add_vm_pool", names={"mytemplate": "Demo"}),
    E("reprovision_stateless_vm_in_pool", _vm_named_vm, timeout=300),
    # tags, affinity labels
    E("add_tag"),
    E("list_tags", _tag),
    E("remove_tag", _tag),
    E("assign_tag_to_vm", _vm0_tag),
    E("list_tags_of_vm", _vm0_tagged),
    E("unassign_tag_to_vm", _vm0_tagged),
    E("add_affinity_label"),
    E("assign_affinity_label_to_vm", _vm0_label),
    E("list_affinity_labels", _labelled_vm),
    # users, groups, permissions
    E("add_group"),
    # Its key is a placeholder ("AAA...mu9"), which oVirt refuses as invalid: a real one.
    E("add_user_ssh_public_key", _myuser, names={"AAA...mu9": SSH_KEY_BODY}),
    E("assign_permission", _myuser, names={"mynetwork": "ovirtmgmt",
                                           "mydomain-authz": "internal-authz"}),
    E("assign_permission_to_vms", _vms_for_user2),
    # events
    E("poll_events", forever=True, timeout=15),
    # last: it shuts every VM down and puts the storage and the host into maintenance
    E("data_center_maintenance", _running_demo, timeout=240, destructive=True),
)

# Counted in issue 14 (disk transfers through ovirt-imageio, OVA interchange).
TRANSFERS = {
    name: "image transfer or OVA: counted in the disk-transfer issue"
    for name in ("cancel_transfer", "checksum_disk", "download_disk", "download_disk_snapshot",
                 "image_transfer", "upload_disk", "upload_from_ova",
                 "upload_ova_as_vm_or_template", "export_vm_as_ova", "export_template_as_ova",
                 "import_vm_from_ova", "import_template_from_ova")
}

NOT_APPLICABLE: dict[str, str] = {
    "add_bond": "bonds a real host's physical NICs (eth1, eth2) with static addresses: "
                "never the machine's own network",
    "add_fence_agent": "an IPMI fence agent (fencing hardware) and a host reinstall over SSH",
    "update_fencing_options": "an IPMI fence agent (fencing hardware)",
    "add_host": "a second machine reached over SSH with a root password (lab hosts are "
                "added with <type>lab</type>, which the example does not send)",
    "upgrade_host": "host package upgrades from the host's package repositories",
    "add_iscsi_data_storage_domain": "an iSCSI target",
    "add_lun_disk_to_vm": "an iSCSI LUN",
    "add_nfs_data_storage_domain": "an NFS server",
    "add_nfs_iso_storage_domain": "an NFS server",
    "attach_nfs_data_storage_domain": "an unattached NFS data domain",
    "attach_nfs_iso_storage_domain": "an unattached NFS ISO domain",
    "change_master": "a second data storage domain to become master (the lab has one, RAM)",
    "register_vm": "a data domain imported from another setup, with unregistered VMs",
    "reduce_disk": "block storage (FC, iSCSI): oVirt reduces only block volumes",
    "export_vm": "an export storage domain (NFS)",
    "export_template": "an export storage domain (NFS)",
    "import_vm": "an export storage domain (NFS)",
    "import_vm_from_vmware": "a VMware vCenter",
    "add_openstack_image_provider": "OpenStack Glance (an external provider)",
    "import_glance_image": "OpenStack Glance (an external provider)",
    "list_glance_images": "OpenStack Glance (an external provider)",
    "checksum_image": "no API call: a local file's checksum with ovirt-imageio",
    "fix_dup_nic_macs": "Python 2 only (dict.iteritems), whatever the server",
    "vm_backup": "Python 2 only (writes bytes to a text-mode file), whatever the server",
    **TRANSFERS,
}


def ordered() -> list[Example]:
    """Destructive examples last: each other example starts from the reset lab."""
    with_faults = [replace(e, fault=EXAMPLE_FAULTS.get(e.name)) for e in APPLICABLE]
    return sorted(with_faults, key=lambda e: e.destructive)
