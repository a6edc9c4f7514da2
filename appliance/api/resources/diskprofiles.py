"""``/diskprofiles`` and ``/storagedomains/{id}/diskprofiles``: each storage domain's one disk
profile, named after it (oVirt's default profile, with no QoS limits); disks name theirs."""

from __future__ import annotations

from flask import Response

from appliance.api import http, listing
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type
from appliance.errors import NotFound

DISK_PROFILE = Type(
    tag="disk_profile", plural="diskprofiles", links=("permissions",),
    description="The disk profile of a storage domain",
    fields=(Field("name", get=lambda p: p.name),
            Field("description", get=lambda p: "The storage domain's disk profile"),
            Field("storage_domain", Kind.REF, get=lambda p: p.storage_domain_id,
                  ref="storagedomains")))


def install(routes: Routes) -> None:
    listing.add_list_and_get(routes, DISK_PROFILE, lambda: _Profiles())
    base = "/storagedomains/<domain_id>/diskprofiles"
    routes.add(base, Operation.LIST, tag="disk_profile",
               summary="A storage domain's disk profiles")(list_of_domain)
    routes.add(f"{base}/<profile_id>", Operation.GET, tag="disk_profile",
               summary="A disk profile of a storage domain")(get_of_domain)


class _Profiles:
    def list(self) -> list[object]:
        return list(http.engine().storage_domains.list_disk_profiles())

    def get(self, profile_id: str, /) -> object:
        return http.engine().storage_domains.get_disk_profile(profile_id)


def list_of_domain(domain_id: str) -> Response:
    domains = http.engine().storage_domains
    profile = domains.disk_profile(domains.get(domain_id))
    return http.respond_list(DISK_PROFILE, [DISK_PROFILE.render(profile)])


def get_of_domain(domain_id: str, profile_id: str) -> Response:
    domains = http.engine().storage_domains
    domain = domains.get(domain_id)
    profile = domains.disk_profile(domain)
    if profile.id != profile_id:
        raise NotFound(f"Storage domain '{domain.name}' has no disk profile with id "
                       f"'{profile_id[:60]}'.")
    return http.respond(DISK_PROFILE.tag, DISK_PROFILE.render(profile))
