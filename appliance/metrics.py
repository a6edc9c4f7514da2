"""``/metrics``: the lab's monitoring in Prometheus' text format, for Grafana and friends.

Values are the sampler's latest round (no extra libvirt calls per scrape). Access follows
``[monitoring] metrics_access``: ``localhost`` answers loopback clients only; ``authenticated``
wants an administrator: HTTP basic credentials (Prometheus' ``basic_auth``) or an API token
(``authorization: {credentials: ...}``, type Bearer).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from flask import Blueprint, Flask, Request, Response, current_app, request
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from appliance.config import MetricsAccess
from appliance.engine.audit import AuditResult
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import SYSTEM, Actor
from appliance.engine.engine import Engine
from appliance.engine.monitoring import Measurement, ObjectKind
from appliance.errors import VirtStickError

# Every name here is a classic one, so the text is the 0.0.4 format every Prometheus reads.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

blueprint = Blueprint("metrics", __name__)


def attach(app: Flask, engine: Engine) -> None:
    """The engine's collector behind the ``/metrics`` route (appliance.web.routes adds it)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(EngineCollector(engine))
    app.extensions["virtstick.metrics"] = registry


@blueprint.get("/metrics")
def metrics() -> Response:
    engine: Engine = current_app.extensions["engine"]
    denied = _denied(engine, request)
    if denied is not None:
        return denied
    body = generate_latest(current_app.extensions["virtstick.metrics"])
    return Response(body, content_type=CONTENT_TYPE)


def _denied(engine: Engine, req: Request) -> Response | None:
    address = req.remote_addr or ""
    if engine.config.monitoring.metrics_access is MetricsAccess.LOCALHOST:
        if _loopback(address):
            return None
        _audit(engine, Actor(user_id="", name="anonymous", address=address),
               "only local clients may read metrics")
        return Response("metrics are served to local clients only\n", status=403,
                        content_type="text/plain")
    actor = _authenticated(engine, req)
    if actor is not None:
        return None
    auth = req.authorization
    _audit(engine, Actor(user_id="", name=auth.username if auth and auth.username else
                         "anonymous", address=address), "no valid credentials")
    return Response("credentials required\n", status=401, content_type="text/plain",
                    headers={"WWW-Authenticate": 'Basic realm="VirtStick metrics"'})


def _authenticated(engine: Engine, req: Request) -> Actor | None:
    """An administrator, by API token (Bearer) or by name and password (Basic)."""
    auth = req.authorization
    address = req.remote_addr or ""
    try:
        if auth is not None and auth.type == "bearer" and auth.token:
            actor = engine.users.actor_for_token(auth.token, address=address)
        elif auth is not None and auth.type == "basic" and auth.username:
            actor = engine.users.authenticate(auth.username, auth.password or "",
                                              address=address)
        else:
            return None
    except VirtStickError:
        return None
    return actor if actor.superuser else None


def _audit(engine: Engine, actor: Actor, detail: str) -> None:
    engine.audit.record(actor=actor, action=AuditAction.METRICS_READ, target="/metrics",
                        result=AuditResult.DENIED, detail=detail)


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


class EngineCollector:
    """Turns the sampler's latest measurements into metric families on each scrape."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        monitor = self.engine.monitor
        yield from _hosts(monitor.latest_all(ObjectKind.HOST))
        yield from _vms(monitor.latest_all(ObjectKind.VM))
        yield from _storage(monitor.latest_all(ObjectKind.STORAGE_DOMAIN))
        status = GaugeMetricFamily("virtstick_vms", "VMs defined, by status", labels=["status"])
        counts: dict[str, int] = {}
        for vm in self.engine.vms.list(actor=SYSTEM):
            counts[vm.status.value] = counts.get(vm.status.value, 0) + 1
        for value, count in sorted(counts.items()):
            status.add_metric([value], count)
        yield status
        last = monitor.last_round
        yield GaugeMetricFamily("virtstick_monitoring_round_seconds",
                                "Wall time of the last sampling round", value=last.seconds)
        yield CounterMetricFamily("virtstick_monitoring_rounds",
                                  "Sampling rounds since the service started", value=last.number)


def _hosts(found: list[Measurement]) -> Iterator[Metric]:
    labels = ["host", "host_id"]
    cpu = CounterMetricFamily("virtstick_host_cpu_seconds", "Host CPU time by mode, all CPUs",
                              labels=[*labels, "mode"])
    memory = GaugeMetricFamily("virtstick_host_memory_bytes", "Host memory", labels=[*labels,
                               "kind"])
    for m in found:
        key = [m.name, m.object_id]
        for mode in ("user", "system", "idle", "iowait"):
            cpu.add_metric([*key, mode], m.counters[f"cpu_{mode}_seconds"])
        for kind in ("total", "used", "free", "buffers", "cached"):
            memory.add_metric([*key, kind], m.values[f"mem_{kind}"])
    yield cpu
    yield memory
    yield from _families(found, labels, [
        ("virtstick_host_ksm_shared_bytes", "Memory KSM keeps as shared pages", "ksm_shared"),
        ("virtstick_host_ksm_saved_bytes", "Memory KSM page sharing saves", "ksm_saved"),
        ("virtstick_host_ksm_running", "1 while KSM merges pages (the engine decides)",
         "ksm_running"),
        ("virtstick_host_load1", "Load average over one minute", "load_1m"),
        ("virtstick_host_vms_running", "VMs running on the host", "vms_running"),
        ("virtstick_host_swap_used_bytes", "Swap in use", "swap_used"),
    ], [
        ("virtstick_host_network_receive_bytes", "Bytes received, all NICs but lo",
         "net_rx_bytes"),
        ("virtstick_host_network_transmit_bytes", "Bytes sent, all NICs but lo",
         "net_tx_bytes"),
        ("virtstick_host_disk_read_bytes", "Bytes read from block devices", "disk_read_bytes"),
        ("virtstick_host_disk_written_bytes", "Bytes written to block devices",
         "disk_write_bytes"),
    ])


def _vms(found: list[Measurement]) -> Iterator[Metric]:
    labels = ["vm", "vm_id"]
    memory = GaugeMetricFamily("virtstick_vm_memory_bytes", "VM memory: installed, current "
                               "(balloon), used, rss (held on the host)",
                               labels=[*labels, "kind"])
    for m in found:
        for kind in ("installed", "current", "used", "rss"):
            memory.add_metric([m.name, m.object_id, kind], m.values[f"mem_{kind}"])
    yield memory
    yield from _families(found, labels, [
        ("virtstick_vm_cpu_percent", "CPU use over the last interval, percent of its vCPUs",
         "cpu"),
        ("virtstick_vm_vcpus", "vCPUs", "vcpus"),
    ], [
        ("virtstick_vm_cpu_seconds", "CPU time the VM used", "cpu_seconds"),
        ("virtstick_vm_disk_read_bytes", "Bytes read from the VM's disks", "disk_read_bytes"),
        ("virtstick_vm_disk_written_bytes", "Bytes written to the VM's disks",
         "disk_write_bytes"),
        ("virtstick_vm_network_receive_bytes", "Bytes received by the VM's NICs",
         "net_rx_bytes"),
        ("virtstick_vm_network_transmit_bytes", "Bytes sent by the VM's NICs", "net_tx_bytes"),
    ])


def _storage(found: list[Measurement]) -> Iterator[Metric]:
    size = GaugeMetricFamily("virtstick_storage_domain_bytes", "Storage domain space: capacity,"
                             " used, free, committed (promised to thin disks)",
                             labels=["storage_domain", "storage_domain_id", "kind"])
    ratio = GaugeMetricFamily("virtstick_storage_domain_overcommit_percent",
                              "Committed space as a percentage of capacity",
                              labels=["storage_domain", "storage_domain_id"])
    ram = GaugeMetricFamily("virtstick_storage_domain_ram_bytes", "RAM a storage domain in "
                            "memory holds (tmpfs: its data; zram: after compression)",
                            labels=["storage_domain", "storage_domain_id"])
    compression = GaugeMetricFamily("virtstick_storage_domain_compression_ratio",
                                    "Data per byte of RAM of a domain in memory (zram > 1)",
                                    labels=["storage_domain", "storage_domain_id"])
    for m in found:
        for kind in ("capacity", "used", "free", "committed"):
            size.add_metric([m.name, m.object_id, kind], m.values[kind])
        ratio.add_metric([m.name, m.object_id], m.values["overcommit"])
        if "ram_used" in m.values:
            ram.add_metric([m.name, m.object_id], m.values["ram_used"])
            compression.add_metric([m.name, m.object_id], m.values["compression_ratio"])
    yield size
    yield ratio
    yield ram
    yield compression


Family = tuple[str, str, str]  # metric name, help, measurement key


def _families(found: list[Measurement], labels: list[str], gauges: list[Family],
              counters: list[Family]) -> Iterator[Metric]:
    for name, text, key in gauges:
        gauge = GaugeMetricFamily(name, text, labels=labels)
        for m in found:
            if key in m.values:  # rates need two samples
                gauge.add_metric([m.name, m.object_id], m.values[key])
        yield gauge
    for name, text, key in counters:
        counter = CounterMetricFamily(name, text, labels=labels)
        for m in found:
            counter.add_metric([m.name, m.object_id], m.counters[key])
        yield counter
