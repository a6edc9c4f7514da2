"""Users, groups, roles and permissions as oVirt's clients see them: users named
``jdoe@internal-authz`` and added without a password (the console sets one), custom roles
from oVirt's permit ids, and what each role lets a user do, refused as oVirt refuses."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator

import ovirtsdk4 as sdk
import ovirtsdk4.types as types
import pytest

from tests.api.conftest import Appliance, unique

MiB = 1024 * 1024
PASSWORD = "a long passphrase 7"
KEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILhgAgb1wPDFi9JBqIJ95GqrH46rq75ilirsEO42PL1t "
       "jdoe@lab")


def _console(appliance: Appliance, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """``virtstick …`` at this machine's console, on the running service's state."""
    return subprocess.run([sys.executable, "-m", "appliance.cli", *args, "--config",
                           str(appliance.state_dir / "virtstick.toml")],
                          input=stdin, capture_output=True, text=True, timeout=60)


@pytest.fixture
def jdoe(admin: sdk.Connection, appliance: Appliance) -> Iterator[types.User]:
    """A user added as ovirt_user adds one, then given a password at the console."""
    users = admin.system_service().users_service()
    principal = unique("jdoe")
    added = users.add(types.User(user_name=f"{principal}@internal-authz", principal=principal,
                                 domain=types.Domain(name="internal-authz")))
    assert _console(appliance, "user", "password", principal,
                    stdin=PASSWORD + "\n").returncode == 0
    yield added
    users.user_service(added.id).remove()


def _vm(connection: sdk.Connection, name: str) -> types.Vm:
    return connection.system_service().vms_service().add(types.Vm(
        name=name, template=types.Template(name="Blank"), cluster=types.Cluster(name="Default"),
        memory=64 * MiB))


def _give(admin: sdk.Connection, role: str, user: types.User, vm: types.Vm | None = None,
          ) -> types.Permission:
    system = admin.system_service()
    service = (system.vms_service().vm_service(vm.id).permissions_service() if vm
               else system.permissions_service())
    return service.add(types.Permission(role=types.Role(name=role), user=types.User(id=user.id)))


def test_users_are_named_as_ovirt_names_them(admin: sdk.Connection,
                                             appliance: Appliance) -> None:
    users = admin.system_service().users_service()
    principal = unique("ann")
    added = users.add(types.User(user_name=f"{principal}@internal-authz",
                                 domain=types.Domain(name="internal-authz")))
    try:
        assert added.user_name == f"{principal}@internal-authz"
        assert (added.principal, added.domain.name) == (principal, "internal-authz")
        found = users.list(search=f"usrname={principal}@internal-authz")
        assert [u.id for u in found] == [added.id]
        # No password yet: nobody can log in as them, whatever they try.
        assert "access_token" not in str(appliance.login(f"{principal}@internal", "").text)
        refused = _console(appliance, "user", "password", principal, stdin="short\n")
        assert refused.returncode == 2 and "at least 8" in refused.stderr
        assert "Traceback" not in refused.stderr
        done = _console(appliance, "user", "password", f"{principal}@internal-authz",
                        stdin=PASSWORD + "\n")
        assert done.returncode == 0, done.stderr
        assert PASSWORD not in done.stdout + done.stderr
        appliance.token(f"{principal}@internal", PASSWORD)  # the login keeps @internal
        missing = _console(appliance, "user", "password", "nobody-here", stdin=PASSWORD + "\n")
        assert missing.returncode == 2 and "no user named 'nobody-here'" in missing.stderr
        with pytest.raises(sdk.Error) as foreign:
            users.add(types.User(user_name="x@example.com-authz",
                                 domain=types.Domain(name="example.com-authz")))
        assert foreign.value.code == 400
    finally:
        users.user_service(added.id).remove()


def test_a_user_without_a_role_makes_no_vm(admin: sdk.Connection, appliance: Appliance,
                                           jdoe: types.User) -> None:
    connection = appliance.connect(f"{jdoe.principal}@internal", PASSWORD)
    try:
        with pytest.raises(sdk.Error) as refused:
            _vm(connection, unique("mine"))
        assert refused.value.code == 403 and "create_vm" in str(refused.value)
        # A custom role made of oVirt's permit ids: 1 (create_vm) and 1300 (login).
        role = admin.system_service().roles_service().add(types.Role(
            name=unique("vmmaker"), administrative=False,
            permits=[types.Permit(id="1"), types.Permit(id="1300")]))
        granted = admin.system_service().permissions_service().add(types.Permission(
            role=types.Role(id=role.id), user=types.User(id=jdoe.id)))
        mine = _vm(connection, unique("mine"))
        admin.system_service().vms_service().vm_service(mine.id).remove()
        with pytest.raises(sdk.Error) as in_use:
            admin.system_service().roles_service().role_service(role.id).remove()
        assert in_use.value.code == 409
        admin.system_service().permissions_service().permission_service(granted.id).remove()
        admin.system_service().roles_service().role_service(role.id).remove()
    finally:
        connection.close()


def test_user_role_runs_a_vm_and_user_vm_manager_also_removes_it(
        admin: sdk.Connection, appliance: Appliance, jdoe: types.User) -> None:
    vms = admin.system_service().vms_service()
    vm = _vm(admin, unique("shared"))
    connection = appliance.connect(f"{jdoe.principal}@internal", PASSWORD)
    try:
        theirs = connection.system_service().vms_service().vm_service(vm.id)
        with pytest.raises(sdk.NotFoundError):
            theirs.get()
        user_role = _give(admin, "UserRole", jdoe, vm)
        assert theirs.get().id == vm.id
        acts: tuple[Callable[[], object], ...] = (
            lambda: theirs.remove(), lambda: theirs.update(types.Vm(description="x")))
        for act in acts:
            with pytest.raises(sdk.Error) as refused:
                act()
            assert refused.value.code == 403 and "UserVmManager" in str(refused.value)
        # A UserRole holder cannot share the VM; a UserVmManager can, with user roles only.
        with pytest.raises(sdk.Error) as sharing:
            theirs.permissions_service().add(types.Permission(
                role=types.Role(name="UserRole"), user=types.User(id=jdoe.id)))
        assert sharing.value.code == 403
        manager = _give(admin, "UserVmManager", jdoe, vm)
        listed = {p.id for p in theirs.permissions_service().list()}
        assert listed == {user_role.id, manager.id}
        assert theirs.permissions_service().permission_service(manager.id).get().id \
            == manager.id
        with pytest.raises(sdk.Error) as admin_role:
            theirs.permissions_service().add(types.Permission(
                role=types.Role(name="ClusterAdmin"), user=types.User(id=jdoe.id)))
        assert admin_role.value.code == 403
        theirs.update(types.Vm(description="mine now"))
        theirs.remove()
        with pytest.raises(sdk.NotFoundError):
            vms.vm_service(vm.id).get()
        # The permissions on the removed VM give nothing and are listed no more.
        listed_after = admin.system_service().users_service().user_service(jdoe.id) \
            .permissions_service().list()
        assert {p.id for p in listed_after} & {user_role.id, manager.id} == set()
    finally:
        connection.close()
        for found in vms.list(search=f"name={vm.name}"):
            vms.vm_service(found.id).remove()


def test_roles_of_ovirt_are_read_only_and_custom_ones_hold_permits(
        admin: sdk.Connection) -> None:
    roles = admin.system_service().roles_service()
    names = {r.name for r in roles.list()}
    assert {"SuperUser", "UserRole", "UserVmManager", "GlusterAdmin", "PowerUserRole"} <= names
    user_role = next(r for r in roles.list() if r.name == "UserRole")
    acts: tuple[Callable[[], object], ...] = (
        lambda: roles.role_service(user_role.id).remove(),
        lambda: roles.role_service(user_role.id).update(types.Role(name="Mine")))
    for act in acts:
        with pytest.raises(sdk.Error) as refused:
            act()
        assert refused.value.code == 409 and "read-only" in str(refused.value)
    for permits, status in (([], 400), ([types.Permit(id="100")], 409),
                            ([types.Permit(id="99999")], 400)):
        with pytest.raises(sdk.Error) as bad:
            roles.add(types.Role(name=unique("bad"), administrative=False, permits=permits))
        assert bad.value.code == status
    role = roles.add(types.Role(name=unique("ops"), administrative=True,
                                permits=[types.Permit(id="100")]))
    try:
        permits = roles.role_service(role.id).permits_service()
        permits.add(types.Permit(id="1300"))
        assert {p.name for p in permits.list()} == {"create_host", "login"}
        assert {p.id for p in permits.list()} == {"100", "1300"}
        permits.permit_service("100").remove()
        with pytest.raises(sdk.Error) as last:
            permits.permit_service("1300").remove()
        assert last.value.code == 409
        with pytest.raises(sdk.Error) as taken:
            roles.add(types.Role(name=role.name, permits=[types.Permit(id="1300")]))
        assert taken.value.code == 409
    finally:
        roles.role_service(role.id).remove()


def test_a_groups_role_is_held_by_its_members(admin: sdk.Connection, appliance: Appliance,
                                             jdoe: types.User) -> None:
    groups = admin.system_service().groups_service()
    group = groups.add(types.Group(name=unique("devs"),
                                   domain=types.Domain(name="internal-authz")))
    vm = _vm(admin, unique("teamvm"))
    connection = appliance.connect(f"{jdoe.principal}@internal", PASSWORD)
    try:
        admin.system_service().vms_service().vm_service(vm.id).permissions_service().add(
            types.Permission(role=types.Role(name="UserRole"), group=types.Group(id=group.id)))
        assert [p.group.id for p in groups.group_service(group.id).permissions_service()
                .list()] == [group.id]
        theirs = connection.system_service().vms_service().vm_service(vm.id)
        with pytest.raises(sdk.NotFoundError):
            theirs.get()  # not a member yet
        member = _console(appliance, "group", "add-user", group.name, jdoe.principal)
        assert member.returncode == 0, member.stderr
        assert theirs.get().id == vm.id
        groups.group_service(group.id).remove()  # and the group's permission with it
        with pytest.raises(sdk.NotFoundError):
            theirs.get()
    finally:
        connection.close()
        admin.system_service().vms_service().vm_service(vm.id).remove()


def test_permissions_on_a_network_and_on_the_users_list(admin: sdk.Connection,
                                                        jdoe: types.User) -> None:
    system = admin.system_service()
    network = system.networks_service().list(search="name=ovirtmgmt")[0]
    on_network = system.networks_service().network_service(network.id).permissions_service()
    given = on_network.add(types.Permission(user=types.User(id=jdoe.id),
                                            role=types.Role(name="GlusterAdmin")))
    assert on_network.permission_service(given.id).get().role.id == given.role.id
    of_user = system.users_service().user_service(jdoe.id).permissions_service()
    assert [p.id for p in of_user.list()] == [given.id]
    assert {r.name for r in system.users_service().user_service(jdoe.id).roles_service()
            .list()} == {"GlusterAdmin"}
    with pytest.raises(sdk.NotFoundError):
        system.vms_service().vm_service(network.id).permissions_service().list()
    on_network.permission_service(given.id).remove()
    assert of_user.list() == []
    with pytest.raises(sdk.Error) as superuser:
        on_network.add(types.Permission(user=types.User(id=jdoe.id),
                                        role=types.Role(name="SuperUser")))
    assert superuser.value.code == 400


def test_ssh_public_keys_are_checked_and_private_to_their_user(
        admin: sdk.Connection, appliance: Appliance, jdoe: types.User) -> None:
    keys = admin.system_service().users_service().user_service(jdoe.id) \
        .ssh_public_keys_service()
    with pytest.raises(sdk.Error) as invalid:
        keys.add(types.SshPublicKey(content="ssh-rsa AAA...mu9 myuser@example.com"))
    assert invalid.value.code == 400 and "SSH public key is invalid" in str(invalid.value)
    key = keys.add(types.SshPublicKey(content=KEY))
    assert [k.content for k in keys.list()] == [KEY]
    connection = appliance.connect(f"{jdoe.principal}@internal", PASSWORD)
    try:
        own = connection.system_service().users_service().user_service(jdoe.id) \
            .ssh_public_keys_service()
        assert [k.id for k in own.list()] == [key.id]  # a user manages their own
        admins = connection.system_service().users_service().user_service(
            admin.system_service().users_service().list(search="name=admin")[0].id)
        with pytest.raises(sdk.NotFoundError):
            admins.ssh_public_keys_service().list()
        own.key_service(key.id).remove()
        assert keys.list() == []
    finally:
        connection.close()
