"""``/instancetypes``: VM sizes by name (oVirt's Tiny ... XLarge and the administrator's);
``POST /vms`` with ``<instance_type>`` takes its memory and CPUs."""

from __future__ import annotations

from flask import Response

from appliance.api import http, listing
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type
from appliance.engine.instance_types import InstanceTypeSpec
from appliance.errors import InvalidInput

INSTANCE_TYPE = Type(
    tag="instance_type", plural="instancetypes", description="An instance type",
    links=("graphicsconsoles", "nics", "watchdogs"),
    accepted=frozenset({"os", "display", "usb", "soundcard_enabled", "console", "io",
                        "migration", "migration_downtime", "custom_cpu_model",
                        "custom_emulated_machine", "virtio_scsi", "sso", "bios",
                        "cpu_shares", "time_zone", "serial_number", "start_paused",
                        "delete_protected", "stateless", "smartcard_enabled",
                        "status", "version", "type", "origin"}),
    fields=(Field("name", get=lambda t: t.name, writable=True),
            Field("description", get=lambda t: t.description, writable=True),
            Field("memory", Kind.INTEGER, get=lambda t: t.memory, writable=True),
            Field("memory_policy/guaranteed", Kind.INTEGER,
                  get=lambda t: t.memory_guaranteed or t.memory, writable=True),
            Field("memory_policy/max", Kind.INTEGER,
                  get=lambda t: t.memory_max or 4 * t.memory, writable=True),
            Field("memory_policy/ballooning", Kind.BOOLEAN, get=lambda t: True),
            Field("cpu/topology/sockets", Kind.INTEGER, get=lambda t: t.cpu_sockets,
                  writable=True),
            Field("cpu/topology/cores", Kind.INTEGER, get=lambda t: t.cpu_cores,
                  writable=True),
            Field("cpu/topology/threads", Kind.INTEGER, get=lambda t: t.cpu_threads,
                  writable=True),
            Field("cpu/architecture", get=lambda t: "x86_64"),
            Field("high_availability/enabled", Kind.BOOLEAN,
                  get=lambda t: t.high_availability, writable=True),
            Field("high_availability/priority", Kind.INTEGER, get=lambda t: 1,
                  writable=True)))


def install(routes: Routes) -> None:
    listing.add_list_and_get(routes, INSTANCE_TYPE, lambda: http.engine().instance_types)
    routes.add("/instancetypes", Operation.ADD, tag="instance_type",
               summary="Add an instance type")(add_instance_type)
    routes.add("/instancetypes/<type_id>", Operation.UPDATE, tag="instance_type",
               summary="Change an instance type")(update_instance_type)
    routes.add("/instancetypes/<type_id>", Operation.REMOVE, tag="instance_type",
               summary="Remove an instance type")(remove_instance_type)


def _spec() -> InstanceTypeSpec:
    values = http.read(INSTANCE_TYPE)
    return InstanceTypeSpec(
        name=values.get("name"), description=values.get("description"),
        memory=values.get("memory"), cpu_sockets=values.get("cpu/topology/sockets"),
        cpu_cores=values.get("cpu/topology/cores"),
        cpu_threads=values.get("cpu/topology/threads"),
        high_availability=values.get("high_availability/enabled"),
        memory_guaranteed=values.get("memory_policy/guaranteed"),
        memory_max=values.get("memory_policy/max"))


def add_instance_type() -> Response:
    spec = _spec()
    if not spec.name:
        raise InvalidInput("A new instance type needs a <name>.")
    made = http.engine().instance_types.add(spec, actor=http.actor())
    return http.respond_object(INSTANCE_TYPE, made, created=True)


def update_instance_type(type_id: str) -> Response:
    return http.respond_object(INSTANCE_TYPE, http.engine().instance_types.update(
        type_id, _spec(), actor=http.actor()))


def remove_instance_type(type_id: str) -> Response:
    http.engine().instance_types.remove(type_id, actor=http.actor())
    return Response(status=200)
