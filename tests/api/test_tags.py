"""Tags through the SDK: a tree under oVirt's read-only root, on VMs and hosts, found by
``tag=`` (a tag below counts), and oVirt's refusals."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import ovirtsdk4 as sdk
import ovirtsdk4.types as types
import pytest

from tests.api.conftest import Appliance, unique

MiB = 1024 * 1024
ROOT = "00000000-0000-0000-0000-000000000000"
PASSWORD = "tag user password 1"


@pytest.fixture
def vm(admin: sdk.Connection) -> Iterator[types.Vm]:
    vms = admin.system_service().vms_service()
    made = vms.add(types.Vm(name=unique("tagged"), template=types.Template(name="Blank"),
                            cluster=types.Cluster(name="Default"), memory=64 * MiB))
    yield made
    vms.vm_service(made.id).remove()


def test_a_tree_of_tags_on_vms_and_hosts(admin: sdk.Connection, vm: types.Vm) -> None:
    system = admin.system_service()
    tags = system.tags_service()
    parent = tags.add(types.Tag(name=unique("prod")))
    assert parent.parent.id == ROOT
    child = tags.add(types.Tag(name=unique("web"), parent=types.Tag(name=parent.name)))
    host = system.hosts_service().list()[0]
    try:
        assert tags.tag_service(child.id).get().parent.id == parent.id
        system.vms_service().vm_service(vm.id).tags_service().add(types.Tag(name=child.name))
        system.hosts_service().host_service(host.id).tags_service().add(
            types.Tag(id=child.id))
        for search in (f"tag={child.name}", f"tag={parent.name}"):
            assert [v.id for v in system.vms_service().list(search=search)] == [vm.id]
            assert [h.id for h in system.hosts_service().list(search=search)] == [host.id]
        assert system.vms_service().list(search=f"tag!={child.name} and name={vm.name}") == []
        on_vm = system.vms_service().vm_service(vm.id).tags_service()
        assert [t.name for t in on_vm.list()] == [child.name]
        assert on_vm.tag_service(child.id).get().vm.id == vm.id
        # Moving the parent below its own child would make a loop: refused, as oVirt does.
        with pytest.raises(sdk.Error) as loop:
            tags.tag_service(parent.id).update(types.Tag(parent=types.Tag(id=child.id)))
        assert loop.value.code == 409
        with pytest.raises(sdk.Error) as taken:
            tags.add(types.Tag(name=child.name))
        assert taken.value.code == 409
        tags.tag_service(parent.id).remove()  # and the child, and its assignments
        assert on_vm.list() == []
        assert system.hosts_service().host_service(host.id).tags_service().list() == []
        with pytest.raises(sdk.NotFoundError):
            tags.tag_service(child.id).get()
    finally:
        for tag in (child, parent):
            with contextlib.suppress(sdk.NotFoundError):
                tags.tag_service(tag.id).remove()


def test_the_root_tag_is_read_only(admin: sdk.Connection) -> None:
    tags = admin.system_service().tags_service()
    assert any(t.id == ROOT and t.name == "root" for t in tags.list())
    acts: tuple[Callable[[], object], ...] = (
        lambda: tags.tag_service(ROOT).remove(),
        lambda: tags.tag_service(ROOT).update(types.Tag(name="mine")))
    for act in acts:
        with pytest.raises(sdk.Error) as refused:
            act()
        assert refused.value.code == 409 and "readonly" in str(refused.value)


def test_users_read_the_tags_of_their_vms_and_tag_nothing(admin: sdk.Connection,
                                                          appliance: Appliance,
                                                          vm: types.Vm) -> None:
    system = admin.system_service()
    tag = system.tags_service().add(types.Tag(name=unique("team")))
    user = system.users_service().add(types.User(user_name=f"{unique('tagger')}@internal",
                                                 password=PASSWORD))
    connection = appliance.connect(user.user_name, PASSWORD)
    try:
        system.vms_service().vm_service(vm.id).tags_service().add(types.Tag(id=tag.id))
        theirs = connection.system_service().vms_service().vm_service(vm.id).tags_service()
        with pytest.raises(sdk.NotFoundError):
            theirs.list()  # not their VM
        system.vms_service().vm_service(vm.id).permissions_service().add(types.Permission(
            role=types.Role(name="UserRole"), user=types.User(id=user.id)))
        assert [t.id for t in theirs.list()] == [tag.id]
        with pytest.raises(sdk.Error) as refused:
            theirs.tag_service(tag.id).remove()
        assert refused.value.code == 403
    finally:
        connection.close()
        system.users_service().user_service(user.id).remove()
        system.tags_service().tag_service(tag.id).remove()
