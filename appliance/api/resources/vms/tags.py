"""``/vms/{id}/tags``: the tags one VM carries (the tags themselves are in tags.py)."""

from __future__ import annotations

from appliance.api.resources import tags
from appliance.api.routing import Routes
from appliance.engine.tags import TagTarget


def install(routes: Routes) -> None:
    tags.install_tags_of(routes, TagTarget.VM)
