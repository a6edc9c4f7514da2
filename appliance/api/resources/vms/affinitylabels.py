"""``/vms/{id}/affinitylabels``: the affinity labels one VM carries (the labels themselves are
in affinitylabels.py)."""

from __future__ import annotations

from appliance.api.resources import affinitylabels
from appliance.api.routing import Routes
from appliance.engine.affinity_labels import Carrier


def install(routes: Routes) -> None:
    affinitylabels.install_labels_of(routes, "vms", Carrier.VM)
