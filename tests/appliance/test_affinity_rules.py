"""The scheduler's affinity, on a real SQLite store: each rule of a group counts as stored,
the VM-to-VM rule among running members, the VM-to-host rule against the group's hosts (or
the hosts carrying its labels); enforcing rules refuse a host, soft ones only weigh."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.engine.enums import AffinityPolarity, HostStatus, VmStatus
from appliance.engine.model import AffinityGroup, AffinityLabel, AffinityRule, Cluster, Host, Vm
from appliance.engine.scheduling.affinity import Affinity
from appliance.engine.scheduling.load import HostLoad
from appliance.engine.store import Database
from appliance.engine.store.schema import Store

GiB = 1 << 30
POSITIVE, NEGATIVE = AffinityPolarity.POSITIVE, AffinityPolarity.NEGATIVE


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(Database(tmp_path / "engine.db"))
    store.clusters.insert(Cluster(id="c", name="Default", data_center_id="dc"))
    for name in ("a", "b", "c"):
        store.hosts.insert(Host(id=name, name=f"host-{name}", cluster_id="c", address=name,
                                status=HostStatus.UP, libvirt_uri="test:///", memory=8 * GiB))
    store.vms.insert(Vm(id="peer", name="peer", cluster_id="c", memory=GiB,
                        status=VmStatus.UP, host_id="a"))
    store.vms.insert(Vm(id="new", name="new", cluster_id="c", memory=GiB))
    return store


def _load(store: Store, host_id: str) -> HostLoad:
    return HostLoad(store.hosts.get(host_id), vms=(), reserved=0, cpu_percent=0.0,
                    networks=frozenset())


def _group(store: Store, name: str, **fields: object) -> None:
    store.affinity_groups.insert(AffinityGroup(id=name, cluster_id="c", name=name,
                                               **fields))  # type: ignore[arg-type]


def _verdicts(store: Store) -> dict[str, tuple[bool, int]]:
    """Per host: refused?, and how many soft rules it breaks."""
    affinity = Affinity.of(store, store.vms.get("new"))
    return {h: (affinity.rejection(_load(store, h)) is not None,
                affinity.violations(_load(store, h))) for h in ("a", "b", "c")}


def test_a_soft_positive_vm_rule_weighs_and_refuses_nothing(store: Store) -> None:
    _group(store, "soft", vm_ids=("peer", "new"), vms_rule=AffinityRule(POSITIVE, False))
    assert _verdicts(store) == {"a": (False, 0), "b": (False, 1), "c": (False, 1)}


def test_an_enforcing_negative_vm_rule_refuses_the_peers_host(store: Store) -> None:
    _group(store, "apart", vm_ids=("peer", "new"), vms_rule=AffinityRule(NEGATIVE, True))
    assert _verdicts(store) == {"a": (True, 0), "b": (False, 0), "c": (False, 0)}


def test_a_disabled_rule_counts_for_nothing(store: Store) -> None:
    _group(store, "off", vm_ids=("peer", "new"), host_ids=("c",),
           vms_rule=AffinityRule(AffinityPolarity.DISABLED, True),
           hosts_rule=AffinityRule(AffinityPolarity.DISABLED, True))
    assert _verdicts(store) == {h: (False, 0) for h in ("a", "b", "c")}


def test_hosts_rules_by_host_and_by_label(store: Store) -> None:
    store.affinity_labels.insert(AffinityLabel(id="gpu", name="gpu", vm_ids=("new",),
                                               host_ids=("b",)))
    # The VM is in the group through its label; the group's hosts are those labelled.
    _group(store, "on-gpu", vm_label_ids=("gpu",), host_label_ids=("gpu",),
           hosts_rule=AffinityRule(POSITIVE, True))
    _group(store, "not-c", vm_ids=("new",), host_ids=("c",),
           hosts_rule=AffinityRule(NEGATIVE, False))
    assert _verdicts(store) == {"a": (True, 0), "b": (False, 0), "c": (True, 1)}


def test_a_group_of_another_vm_does_not_count(store: Store) -> None:
    _group(store, "others", vm_ids=("peer",), host_ids=("b",),
           hosts_rule=AffinityRule(POSITIVE, True))
    assert _verdicts(store) == {h: (False, 0) for h in ("a", "b", "c")}
