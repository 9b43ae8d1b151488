"""The database goes away mid-stream: every authentic delivery is still acknowledged, spooled
to disk, imported in order once the database is back, and invoiced exactly once.

The outage is PostgreSQL's own: the database stops accepting connections and every session
to it is terminated (what a restart or a failover looks like to the bridge), then it opens
again."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from bridge.embedded import EmbeddedService
from bridge.storage.database import Database
from bridge.storage.migrate import upgrade
from bridge.storage.models import Delivery
from sandbox.econt import RunningSimulator, SimulatorState, run_simulator
from sandbox.woocommerce.samples import build_order
from sandbox.woocommerce.sender import WooCommerceWebhook
from tests.conftest import CLIENT_ID, SHOP, TOKEN, WEBHOOK_SECRET

pytestmark = pytest.mark.postgres


@pytest.fixture
def simulator() -> Iterator[RunningSimulator]:
    with run_simulator(state=SimulatorState(accounts=[(CLIENT_ID, TOKEN)])) as running:
        yield running


class Outage:
    """Close and reopen one database from a connection to another one."""

    def __init__(self, db_url: str) -> None:
        url = make_url(db_url)
        self.name = url.database
        self.admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")

    def begin(self) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false'))
            # the clients only: an autovacuum worker on the database is the server's own
            # (a superuser process that the test's role may not end; CI met one once)
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    "WHERE datname = :name AND backend_type = 'client backend' "
                                    "AND usename = current_user"), {"name": self.name})

    def end(self) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true'))

    def close(self) -> None:
        self.end()
        self.admin.dispose()


def test_postgres_outage_mid_stream_loses_nothing(pg_url: str, make_settings: Any,
                                                  simulator: RunningSimulator,
                                                  tmp_path: Path) -> None:
    upgrade(Database(pg_url))
    outage = Outage(pg_url)
    settings = make_settings({"database": {"url": pg_url}}, upstream_url=simulator.url)
    try:
        with EmbeddedService(settings, host="127.0.0.1", port=0) as service:
            hook = WooCommerceWebhook(delivery_url=f"{service.url}/webhooks/woocommerce/{SHOP}",
                                      secret=WEBHOOK_SECRET)
            acknowledged = []
            for order_id in range(1, 31):
                if order_id == 11:
                    outage.begin()  # the database goes away mid-stream ...
                if order_id == 21:
                    outage.end()  # ... and comes back
                result = hook.deliver("order.created", build_order(order_id=order_id))
                assert result.status_code == 200, result
                acknowledged.append(order_id)
                if 11 <= order_id <= 20:
                    assert b'"spooled":true' in result.body
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and not all(
                    simulator.state.invoice_count(o, account=CLIENT_ID) for o in acknowledged):
                time.sleep(0.2)
    finally:
        outage.close()

    counts = {o: simulator.state.invoice_count(o, account=CLIENT_ID) for o in acknowledged}
    assert counts == dict.fromkeys(acknowledged, 1)  # none lost, none twice
    assert list(Path(settings.server.spool_dir).glob("*.json")) == []
    db = Database(pg_url)
    with db.read() as session:
        spooled = session.execute(select(Delivery).where(Delivery.source == "spool")
                                  .order_by(Delivery.id)).scalars().all()
    db.dispose()
    assert len(spooled) == 10
    # imported in arrival order
    assert [d.received_at for d in spooled] == sorted(d.received_at for d in spooled)
