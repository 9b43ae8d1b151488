"""The database goes away mid-stream: every authentic delivery is still acknowledged, spooled
to disk, imported in order once the database is back, and invoiced exactly once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bridge.embedded import EmbeddedService
from bridge.storage.database import Database
from bridge.storage.migrate import upgrade
from bridge.storage.models import Delivery
from bridge.upstreams.econt.simulator import RunningSimulator, SimulatorState, run_simulator
from bridge.woocommerce.samples import build_order
from bridge.woocommerce.sender import WooCommerceWebhook
from tests.conftest import CLIENT_ID, SHOP, TOKEN, WEBHOOK_SECRET
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.postgres


@pytest.fixture
def simulator() -> Iterator[RunningSimulator]:
    with run_simulator(state=SimulatorState(accounts=[(CLIENT_ID, TOKEN)])) as running:
        yield running


def test_postgres_outage_mid_stream_loses_nothing(pg_url: str, make_settings: Any,
                                                  simulator: RunningSimulator,
                                                  tmp_path: Path) -> None:
    direct = make_url(Database(pg_url).url)
    upgrade(Database(pg_url))
    proxy = TcpProxy(direct.host or "127.0.0.1", direct.port or 5432).up()
    via_proxy = direct.set(host="127.0.0.1", port=proxy.port).render_as_string(
        hide_password=False)
    settings = make_settings({"database": {"url": via_proxy}}, upstream_url=simulator.url)

    with EmbeddedService(settings, host="127.0.0.1", port=0) as service:
        hook = WooCommerceWebhook(delivery_url=f"{service.url}/webhooks/woocommerce/{SHOP}",
                                  secret=WEBHOOK_SECRET)
        acknowledged = []
        for order_id in range(1, 31):
            if order_id == 11:
                proxy.down()  # the database disappears
            if order_id == 21:
                proxy.up()  # ... and comes back
            result = hook.deliver("order.created", build_order(order_id=order_id))
            assert result.status_code == 200, result
            acknowledged.append(order_id)
            if 11 <= order_id <= 20:
                assert b'"spooled":true' in result.body
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not all(
                simulator.state.invoice_count(o, account=CLIENT_ID) for o in acknowledged):
            time.sleep(0.2)

    counts = {o: simulator.state.invoice_count(o, account=CLIENT_ID) for o in acknowledged}
    assert counts == dict.fromkeys(acknowledged, 1)  # none lost, none twice
    assert list(Path(settings.server.spool_dir).glob("*.json")) == []
    with Database(pg_url).read() as session:
        spooled = session.execute(select(Delivery).where(Delivery.source == "spool")
                                  .order_by(Delivery.id)).scalars().all()
    assert len(spooled) == 10
    # imported in arrival order
    assert [d.received_at for d in spooled] == sorted(d.received_at for d in spooled)
    proxy.down()
