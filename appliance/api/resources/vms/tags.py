"""``/vms/{id}/tags``: the tags given to a VM. None can be given yet, so the list is empty
(a VM's affinity labels are in vms/affinitylabels.py)."""

from __future__ import annotations

from appliance.api.listing import add_empty_vm_list
from appliance.api.routing import Routes
from appliance.api.schema import Field, Kind, Type

TAG = Type(tag="tag", plural="tags", description="A tag",
           fields=(Field("name"), Field("description"), Field("vm", Kind.REF, ref="vms")))


def install(routes: Routes) -> None:
    add_empty_vm_list(routes, "tags", TAG, summary="A VM's tags", why="no tag is given to it")
