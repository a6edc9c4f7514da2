"""What the RAM domain costs and what KSM saves, as the lab shows them: ``/metrics`` and the
Admin Portal's dashboard and storage page, on a real tmpfs and a real zram device.

The zram device is made and removed by the wizard's own code; data written to it is
synced first, so the device's compressed figures are there when the sampler reads them.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.engine.engine import Engine
from appliance.web import create_app
from firstboot import storage
from firstboot.answers import StorageAnswers
from firstboot.storage_sizing import Backing
from tests.monitoring.conftest import ADMIN_PASSWORD, make_config
from tests.monitoring.test_metrics import LOCAL, _samples
from tests.monitoring.test_portal import _admin, _page

MiB = 1024 * 1024
ZRAM_CONTROL = Path("/sys/class/zram-control")
SYS_BLOCK = Path("/sys/block")


def _mount(backing: Backing, mount: Path) -> storage.PreparedStorage:
    prepared = storage.prepare(StorageAnswers(backing, 256), path=mount,
                               zram_control=ZRAM_CONTROL, sys_block=SYS_BLOCK)
    mount.chmod(0o755)
    return prepared


@pytest.fixture(params=[
    Backing.TMPFS,
    pytest.param(Backing.ZRAM, marks=pytest.mark.skipif(
        not ZRAM_CONTROL.exists(), reason="the kernel has no zram")),
], ids=["tmpfs", "zram"])
def ram_engine(request: pytest.FixtureRequest, state_dir: Path,
               domain_prefix: str) -> Iterator[Engine]:
    mount = state_dir / "ram"
    mount.mkdir()
    prepared = _mount(request.param, mount)
    engine = None
    try:
        engine = Engine(make_config(state_dir, domain_prefix,
                                    storage={"path": mount, "backing": request.param.value}))
        engine.start()
        yield engine
    finally:
        if engine is not None:
            engine.stop()
        storage.release(prepared, zram_control=ZRAM_CONTROL, sys_block=SYS_BLOCK)


def test_the_ram_a_domain_holds_is_measured_and_shown(ram_engine: Engine) -> None:
    """32 MiB of very compressible data: on tmpfs it costs 32 MiB, on zram a fraction of it;
    both show in /metrics, on the dashboard and on the storage page."""
    engine = ram_engine
    domain = engine.storage_domains.default()
    data = Path(domain.path) / "filler"
    data.write_bytes(b"VirtStick RAM lab " * (32 * MiB // 18))
    subprocess.run(["sync", "-f", str(data)], check=True)
    engine.monitor.wait_rounds(2)

    usage = engine.storage_domains.usage(domain)
    assert usage.ram is not None and usage.ram.backing == domain.backing
    samples = _samples(create_app(engine).test_client().get(
        "/metrics", environ_base=LOCAL).get_data(as_text=True))
    [(_, ram)] = [(labels, value) for labels, value in
                  samples["virtstick_storage_domain_ram_bytes"]
                  if labels["storage_domain"] == domain.name]
    [ratio] = [value for labels, value in samples["virtstick_storage_domain_compression_ratio"]
               if labels["storage_domain"] == domain.name]
    if domain.backing == "zram":
        assert ram < 16 * MiB and ratio > 2  # text compresses well
    else:
        assert ram >= 32 * MiB and ratio == 1.0

    client = _admin(engine)
    board = _page(client, "/admin/")
    shown = board.xpath(f"//td[@data-stat='ram-{domain.name}']")[0].text_content()
    assert domain.backing in shown
    if domain.backing == "zram":
        assert "compressed" in shown and ":1" in shown
    page = _page(client, "/admin/storage")
    assert domain.backing in page.xpath("//tbody/tr")[0].text_content()


def test_dashboard_shows_memory_overcommit_and_ksm_savings(engine: Engine) -> None:
    engine.monitor.wait_rounds(1)
    cluster = engine.clusters.default()
    admin = engine.users.authenticate("admin@internal", ADMIN_PASSWORD)
    engine.clusters.set_memory_overcommit(cluster.id, 200, actor=admin)
    board = _page(_admin(engine), "/admin/")
    overcommit = board.xpath("//dd[@data-stat='memory-overcommit']")[0].text_content()
    assert "limit 2.00×" in overcommit
    thin = board.xpath("//span[@data-stat='overcommit']")[0].getparent()
    assert thin.getparent() is board.xpath("//dd[@data-stat='memory-overcommit']")[0].getparent()
    sharing = board.xpath("//div[@aria-label='Memory sharing']")[0]
    [host_name] = engine.inventory.list_host_names(actor=admin).values()
    assert host_name in sharing.text_content()
    assert sharing.xpath(".//td[@data-stat='ksm-saved']")  # the machine's KSM figure
