"""Every table of the store, typed: ``store.vms.get(id)`` returns a ``Vm``."""

from __future__ import annotations

from appliance.engine import model
from appliance.engine.backups.model import VmBackup, VmCheckpoint
from appliance.engine.store.database import Database
from appliance.engine.store.tables import Table
from appliance.engine.transfers.model import ImageTransfer


class Store:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.datacenters = Table(db, name="datacenters", cls=model.DataCenter,
                                 noun="data center", columns=("name",))
        self.clusters = Table(db, name="clusters", cls=model.Cluster, noun="cluster",
                              columns=("name", "data_center_id"))
        self.hosts = Table(db, name="hosts", cls=model.Host, noun="host",
                           columns=("name", "cluster_id", "status"))
        self.storage_domains = Table(db, name="storage_domains", cls=model.StorageDomain,
                                     noun="storage domain", columns=("name", "data_center_id"))
        self.disks = Table(db, name="disks", cls=model.Disk, noun="disk",
                           columns=("name", "storage_domain_id", "template_id"))
        self.volumes = Table(db, name="volumes", cls=model.Volume, noun="volume",
                             columns=("disk_id", "parent_id"))
        self.attachments = Table(db, name="disk_attachments", cls=model.DiskAttachment,
                                 noun="disk attachment", columns=("vm_id", "disk_id"))
        self.vms = Table(db, name="vms", cls=model.Vm, noun="VM",
                         columns=("name", "cluster_id", "host_id", "status", "template_id",
                                  "owner_id"))
        self.nics = Table(db, name="nics", cls=model.Nic, noun="NIC",
                          columns=("vm_id", "name", "mac"))
        self.networks = Table(db, name="networks", cls=model.Network, noun="network",
                              columns=("name", "data_center_id"))
        self.vnic_profiles = Table(db, name="vnic_profiles", cls=model.VnicProfile,
                                   noun="vNIC profile", columns=("name", "network_id"))
        self.templates = Table(db, name="templates", cls=model.Template, noun="template",
                               columns=("name", "cluster_id"))
        self.snapshots = Table(db, name="snapshots", cls=model.Snapshot, noun="snapshot",
                               columns=("vm_id",))
        self.affinity_groups = Table(db, name="affinity_groups", cls=model.AffinityGroup,
                                     noun="affinity group", columns=("cluster_id", "name"))
        self.affinity_labels = Table(db, name="affinity_labels", cls=model.AffinityLabel,
                                     noun="affinity label", columns=("name",))
        self.jobs = Table(db, name="jobs", cls=model.Job, noun="job",
                          columns=("status", "correlation_id"))
        self.image_transfers = Table(db, name="image_transfers", cls=ImageTransfer,
                                     noun="image transfer", columns=("disk_id", "phase"))
        self.mac_pools = Table(db, name="mac_pools", cls=model.MacPool, noun="MAC pool",
                               columns=("name",))
        self.quotas = Table(db, name="quotas", cls=model.Quota, noun="quota",
                            columns=("name", "data_center_id"))
        self.instance_types = Table(db, name="instance_types", cls=model.InstanceType,
                                    noun="instance type", columns=("name",))
        self.backups = Table(db, name="vm_backups", cls=VmBackup, noun="backup",
                             columns=("vm_id", "phase"))
        self.checkpoints = Table(db, name="vm_checkpoints", cls=VmCheckpoint,
                                 noun="checkpoint", columns=("vm_id",))

    def meta(self, key: str) -> str | None:
        rows = self.db.query("SELECT value FROM meta WHERE key = ?", (key,))
        return str(rows[0]["value"]) if rows else None

    def set_meta(self, key: str, value: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
