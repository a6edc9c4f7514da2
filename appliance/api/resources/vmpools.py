"""``/vmpools``: pools of thin VMs from a template (add, grow, remove, ``allocatevm``), and
what the VM's representation says of its pool (``<vm_pool>``, the ``pool=`` search term)."""

from __future__ import annotations

from typing import Any

from flask import Response, g, has_app_context

from appliance.api import http, listing
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type, ref
from appliance.engine.enums import PoolType
from appliance.engine.pools import PoolChange, VmPool

VM_POOL = Type(
    tag="vm_pool", plural="vmpools", links=("permissions",), description="A pool of VMs",
    accepted=frozenset({"auto_storage_select", "bios", "display", "instance_type",
                        "rng_device", "soundcard_enabled", "sso", "stateful", "tpm_enabled",
                        "use_latest_template_version", "vm"}),
    fields=(
        Field("name", get=lambda p: p.name, writable=True),
        Field("description", get=lambda p: p.description or None, writable=True),
        Field("comment", get=lambda p: p.comment or None, writable=True),
        Field("size", Kind.INTEGER, get=lambda p: p.size, writable=True),
        Field("prestarted_vms", Kind.INTEGER, get=lambda p: p.prestarted_vms, writable=True),
        Field("max_user_vms", Kind.INTEGER, get=lambda p: p.max_user_vms, writable=True),
        Field("type", get=lambda p: p.type.value, values=tuple(PoolType), writable=True),
        Field("cluster", Kind.REF, get=lambda p: p.cluster_id, ref="clusters", writable=True),
        Field("template", Kind.REF, get=lambda p: p.template_id, ref="templates",
              writable=True),
        Field("stateful", Kind.BOOLEAN, get=lambda p: False),
        Field("auto_storage_select", Kind.BOOLEAN, get=lambda p: False),
        Field("use_latest_template_version", Kind.BOOLEAN, get=lambda p: False),
        Field("soundcard_enabled", Kind.BOOLEAN, get=lambda p: False),
    ),
)


def install(routes: Routes) -> None:
    routes.add("/vmpools", Operation.LIST, tag="vm_pool", summary="List VM pools")(list_pools)
    routes.add("/vmpools", Operation.ADD, tag="vm_pool",
               summary="Add a pool of thin VMs from a template")(add_pool)
    routes.add("/vmpools/<pool_id>", Operation.GET, tag="vm_pool",
               summary="Get a VM pool")(get_pool)
    routes.add("/vmpools/<pool_id>", Operation.UPDATE, tag="vm_pool",
               summary="Grow a VM pool or change its settings")(update_pool)
    routes.add("/vmpools/<pool_id>", Operation.REMOVE, tag="vm_pool",
               summary="Remove a VM pool and its VMs")(remove_pool)
    routes.add("/vmpools/<pool_id>/allocatevm", Operation.ACTION, tag="action",
               summary="Take a VM from the pool (it starts)")(allocate_vm)


def list_pools() -> Response:
    pools = http.engine().vm_pools.list(actor=http.actor())
    return listing.list_response(VM_POOL, pools, searchable={
        "name": lambda p: p.name, "id": lambda p: p.id, "description": lambda p: p.description,
        "type": lambda p: p.type.value, "cluster": lambda p: _cluster_name(p.cluster_id)})


def get_pool(pool_id: str) -> Response:
    return http.respond_object(VM_POOL, http.engine().vm_pools.get(pool_id, actor=http.actor()))


def add_pool() -> Response:
    """``<vm_pool><name>…</name><size>3</size><prestarted_vms>1</prestarted_vms>
    <max_user_vms>1</max_user_vms><type>automatic</type><cluster><name>Default</name>
    </cluster><template><name>Demo</name></template></vm_pool>``."""
    engine = http.engine()
    values = http.read(VM_POOL)
    cluster = listing.resolve(engine.clusters, values.get("cluster"), noun="cluster",
                              default=engine.clusters.default)
    template = listing.resolve(engine.templates, values.get("template"), noun="template")
    pool = engine.vm_pools.add(values.get("name", ""), cluster_id=cluster.id,
                               template_id=template.id, change=_change(values),
                               actor=http.actor())
    return http.respond_object(VM_POOL, pool, created=True)


def update_pool(pool_id: str) -> Response:
    values = http.read(VM_POOL)
    pool = http.engine().vm_pools.update(pool_id, _change(values), actor=http.actor())
    return http.respond_object(VM_POOL, pool)


def remove_pool(pool_id: str) -> Response:
    http.engine().vm_pools.remove(pool_id, actor=http.actor())
    return Response(status=200)


def allocate_vm(pool_id: str) -> Response:
    http.read_action()
    vm = http.engine().vm_pools.allocate(pool_id, actor=http.actor())
    return http.respond_action(vm=ref("vms", vm.id) or {})


def pool_of(vm_id: str) -> str | None:
    """The id of the pool a VM is in (looked up once per request)."""
    pool = _membership().get(vm_id)
    return pool.id if pool is not None else None


def pool_name_of(vm_id: str) -> str:
    pool = _membership().get(vm_id)
    return pool.name if pool is not None else ""


def _membership() -> dict[str, VmPool]:
    if not has_app_context():  # a VM rendered outside a request belongs to no pool
        return {}
    if "vm_pools" not in g:
        g.vm_pools = http.engine().vm_pools.membership()
    found: dict[str, VmPool] = g.vm_pools
    return found


def _change(values: dict[str, Any]) -> PoolChange:
    kind = values.get("type")
    return PoolChange(size=values.get("size"), prestarted_vms=values.get("prestarted_vms"),
                      max_user_vms=values.get("max_user_vms"), name=values.get("name"),
                      description=values.get("description"), comment=values.get("comment"),
                      type=PoolType(kind) if kind else None)


def _cluster_name(cluster_id: str) -> str:
    found = http.engine().clusters.find(cluster_id)
    return found.name if found else ""
