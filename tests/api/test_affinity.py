"""Affinity groups and labels through the SDK: rules kept exactly as sent (vms_rule,
hosts_rule, the legacy positive/enforcing), their members, and oVirt's refusals."""

from __future__ import annotations

from collections.abc import Iterator

import ovirtsdk4 as sdk
import ovirtsdk4.types as types
import pytest

from tests.api.conftest import Appliance, unique

MiB = 1024 * 1024


@pytest.fixture
def vms(admin: sdk.Connection) -> Iterator[list[types.Vm]]:
    service = admin.system_service().vms_service()
    made = [service.add(types.Vm(name=unique("aff"), template=types.Template(name="Blank"),
                                 cluster=types.Cluster(name="Default"), memory=64 * MiB))
            for _ in range(2)]
    yield made
    for vm in made:
        service.vm_service(vm.id).remove()


def _groups(admin: sdk.Connection) -> sdk.services.AffinityGroupsService:
    clusters = admin.system_service().clusters_service()
    cluster = clusters.list(search="name=Default")[0]
    return clusters.cluster_service(cluster.id).affinity_groups_service()


def test_rules_are_kept_as_sent(admin: sdk.Connection, vms: list[types.Vm]) -> None:
    groups = _groups(admin)
    soft = groups.add(types.AffinityGroup(
        name=unique("soft"), vms_rule=types.AffinityRule(enabled=True, positive=True,
                                                         enforcing=False)))
    legacy = groups.add(types.AffinityGroup(name=unique("legacy"), positive=False,
                                            enforcing=True))
    host = admin.system_service().hosts_service().list()[0]
    pinned = groups.add(types.AffinityGroup(
        name=unique("pinned"), hosts=[types.Host(id=host.id)],
        hosts_rule=types.AffinityRule(enabled=True, positive=True, enforcing=True)))
    try:
        got = groups.group_service(soft.id).get()
        assert (got.vms_rule.enabled, got.vms_rule.positive, got.vms_rule.enforcing) == (
            True, True, False)
        assert (got.positive, got.enforcing) == (True, False)
        assert not got.hosts_rule.enabled
        got = groups.group_service(legacy.id).get()
        assert (got.vms_rule.enabled, got.vms_rule.positive, got.vms_rule.enforcing) == (
            True, False, True)
        got = groups.group_service(pinned.id).get()
        assert got.hosts_rule.positive and got.hosts_rule.enforcing
        assert [h.id for h in got.hosts] == [host.id] and not got.vms_rule.enabled
        groups.group_service(soft.id).update(types.AffinityGroup(
            vms_rule=types.AffinityRule(enabled=False)))
        assert not groups.group_service(soft.id).get().vms_rule.enabled
        assert groups.group_service(soft.id).get().positive is None
    finally:
        for group in (soft, legacy, pinned):
            groups.group_service(group.id).remove()


def test_members_and_refusals(admin: sdk.Connection, vms: list[types.Vm]) -> None:
    groups = _groups(admin)
    group = groups.add(types.AffinityGroup(name=unique("pair"), positive=True))
    members = groups.group_service(group.id).vms_service()
    try:
        for vm in vms:
            members.add(types.Vm(id=vm.id))
        assert sorted(v.id for v in members.list()) == sorted(v.id for v in vms)
        for bad in (types.Vm(id=vms[0].id), types.Vm(id="00000000-dead-beef-0000-000000000000")):
            with pytest.raises(sdk.Error) as refused:
                members.add(bad)
            assert refused.value.code == 400
        with pytest.raises(sdk.Error) as taken:
            groups.add(types.AffinityGroup(name=group.name))
        assert taken.value.code == 400 and "already exists" in str(taken.value)
        members.vm_service(vms[0].id).remove()
        assert [v.id for v in members.list()] == [vms[1].id]
        with pytest.raises(sdk.NotFoundError):
            groups.group_service("00000000-0000-0000-0000-00000000abcd").get()
    finally:
        groups.group_service(group.id).remove()
    with pytest.raises(sdk.NotFoundError):
        groups.group_service(group.id).get()


def test_labels_on_vms_and_in_groups(admin: sdk.Connection, vms: list[types.Vm]) -> None:
    labels = admin.system_service().affinity_labels_service()
    label = labels.add(types.AffinityLabel(name=unique("gpu")))
    vm_labels = admin.system_service().vms_service().vm_service(vms[0].id) \
        .affinity_labels_service()
    groups = _groups(admin)
    try:
        labels.label_service(label.id).vms_service().add(types.Vm(id=vms[0].id))
        assert [x.id for x in vm_labels.list()] == [label.id]
        assert [v.id for v in admin.follow_link(labels.label_service(label.id).get().vms)] \
            == [vms[0].id]
        group = groups.add(types.AffinityGroup(name=unique("bylabel"),
                                               vm_labels=[types.AffinityLabel(id=label.id)]))
        assert [x.id for x in groups.group_service(group.id).vm_labels_service().list()] \
            == [label.id]
        with pytest.raises(sdk.Error) as in_use:
            labels.label_service(label.id).remove()
        assert in_use.value.code == 409
        with pytest.raises(sdk.Error) as bad:
            labels.add(types.AffinityLabel(name="no spaces"))
        assert bad.value.code == 400
        vm_labels.label_service(label.id).remove()
        groups.group_service(group.id).remove()
    finally:
        labels.label_service(label.id).remove()


def test_only_a_cluster_admin_changes_affinity(admin: sdk.Connection,
                                               appliance: Appliance) -> None:
    users = admin.system_service().users_service()
    user = users.add(types.User(user_name=f"{unique('nogroups')}@internal",
                                password="affinity password 1"))
    admin.system_service().permissions_service().add(types.Permission(
        role=types.Role(name="UserRole"), user=types.User(id=user.id)))
    connection = appliance.connect(user.user_name, "affinity password 1")
    try:
        with pytest.raises(sdk.Error) as refused:
            _groups(connection).add(types.AffinityGroup(name=unique("mine")))
        assert refused.value.code == 403 and "manipulate_affinity_groups" in str(refused.value)
        with pytest.raises(sdk.Error) as label:
            connection.system_service().affinity_labels_service().add(
                types.AffinityLabel(name=unique("mine")))
        assert label.value.code == 403
    finally:
        connection.close()
        users.user_service(user.id).remove()
