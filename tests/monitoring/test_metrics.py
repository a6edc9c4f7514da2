"""``/metrics`` parsed by the official Prometheus parser; access by configuration."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from appliance.engine.audit import AuditResult
from appliance.engine.engine import Engine
from appliance.web import create_app
from tests.monitoring.conftest import ADMIN_PASSWORD, make_config

LOCAL = {"REMOTE_ADDR": "127.0.0.1"}
REMOTE = {"REMOTE_ADDR": "198.51.100.9"}


def _samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def test_metrics_cover_the_host_and_storage_and_parse(engine: Engine) -> None:
    engine.monitor.wait_rounds(2)  # rates need two samples
    response = create_app(engine).test_client().get("/metrics", environ_base=LOCAL)
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=0.0.4")
    samples = _samples(response.get_data(as_text=True))
    memory = {labels["kind"]: value for labels, value in samples["virtstick_host_memory_bytes"]}
    assert memory["total"] > memory["used"] > 0
    assert sum(v for _, v in samples["virtstick_host_cpu_seconds_total"]) > 0
    assert "virtstick_host_ksm_saved_bytes" in samples
    sizes = {labels["kind"]: value for labels, value in samples["virtstick_storage_domain_bytes"]
             if labels["storage_domain"] == "ram"}
    assert sizes["capacity"] >= sizes["free"] > 0
    assert samples["virtstick_monitoring_rounds_total"][0][1] >= 2


def test_localhost_only_refuses_others_and_audits_it(engine: Engine) -> None:
    response = create_app(engine).test_client().get("/metrics", environ_base=REMOTE)
    assert response.status_code == 403
    [entry] = engine.audit.search(action="metrics.read")
    assert (entry.result, entry.address) == (AuditResult.DENIED, "198.51.100.9")


@pytest.fixture
def authenticated(state_dir: Path, domain_prefix: str) -> Iterator[Engine]:
    engine = Engine(make_config(state_dir, domain_prefix,
                                monitoring={"metrics_access": "authenticated"}))
    engine.start()
    yield engine
    engine.stop()


def _basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_authenticated_wants_credentials_even_from_localhost(authenticated: Engine) -> None:
    client = create_app(authenticated).test_client()
    authenticated.monitor.wait_rounds(1)
    assert client.get("/metrics", environ_base=LOCAL).status_code == 401
    wrong = client.get("/metrics", environ_base=REMOTE,
                       headers=_basic("admin@internal", "guess"))
    assert wrong.status_code == 401
    right = client.get("/metrics", environ_base=REMOTE,
                       headers=_basic("admin@internal", ADMIN_PASSWORD))
    assert right.status_code == 200
    assert "virtstick_host_memory_bytes" in _samples(right.get_data(as_text=True))
    denied = authenticated.audit.search(action="metrics.read")
    assert [e.user for e in denied] == ["admin@internal", "anonymous"]
    admin = authenticated.users.authenticate("admin@internal", ADMIN_PASSWORD)
    token = authenticated.users.issue_token(admin)
    bearer = client.get("/metrics", environ_base=REMOTE,
                        headers={"Authorization": f"Bearer {token}"})
    assert bearer.status_code == 200
