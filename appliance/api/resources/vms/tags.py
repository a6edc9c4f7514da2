"""``/vms/{id}/tags`` and ``affinitylabels``: the tags and affinity labels given to a VM.
Neither can be given yet, so both lists are empty."""

from __future__ import annotations

from appliance.api.listing import add_empty_vm_list
from appliance.api.routing import Routes
from appliance.api.schema import Field, Kind, Type

TAG = Type(tag="tag", plural="tags", description="A tag",
           fields=(Field("name"), Field("description"), Field("vm", Kind.REF, ref="vms")))
AFFINITY_LABEL = Type(tag="affinity_label", plural="affinitylabels",
                      description="An affinity label",
                      fields=(Field("name"), Field("vm", Kind.REF, ref="vms")))


def install(routes: Routes) -> None:
    add_empty_vm_list(routes, "tags", TAG, summary="A VM's tags", why="no tag is given to it")
    add_empty_vm_list(routes, "affinitylabels", AFFINITY_LABEL,
                      summary="A VM's affinity labels", why="no label is given to it")
