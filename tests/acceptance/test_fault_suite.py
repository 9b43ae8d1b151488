"""The fault-injection suite (tests/acceptance/fault_suite.py) on both databases.

The counts are printed into the test log: orders sent, invoices created upstream,
duplicates, lost, failed with a reason. Duplicates and lost must be 0."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.acceptance.fault_suite import run_fault_suite

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(("database", "workers", "repeated_order", "orders"), [
    pytest.param("sqlite", 1, "reject", 150, id="sqlite-embedded-reject"),
    pytest.param("sqlite", 1, "unknown", 100, id="sqlite-embedded-unknown"),
    pytest.param("postgres", 4, "reject", 200, id="postgres-4-workers-reject",
                 marks=pytest.mark.postgres),
    pytest.param("postgres", 4, "unknown", 150, id="postgres-4-workers-unknown",
                 marks=pytest.mark.postgres),
])
def test_no_order_lost_and_none_invoiced_twice(request: pytest.FixtureRequest, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str],
                                               database: str, workers: int,
                                               repeated_order: str, orders: int) -> None:
    db_url = (f"sqlite:///{tmp_path / 'bridge.db'}" if database == "sqlite"
              else request.getfixturevalue("pg_url"))
    counts = run_fault_suite(db_url, database=database, workers=workers, directory=tmp_path,
                             orders=orders, repeated_order=repeated_order)
    with capsys.disabled():
        print(f"\nfault suite, {request.node.callspec.id}:\n{counts.table()}")
    assert counts.orders_sent == orders
    assert counts.kills == 1 and counts.interrupted >= 1  # the kill -9 hit a dispatch
    assert sum(counts.faults.values()) > orders / 4  # the upstream really misbehaved
    # a gateway's page after the invoice was created (first fires on put #39 with this seed):
    # re-sent as "nothing created", it made second invoices in the "unknown" runs
    assert counts.faults.get("gateway_after_create", 0) >= 1
    assert counts.duplicates == 0
    assert counts.lost == 0, counts.lost_orders
    assert counts.inconsistent == 0
    assert counts.invoiced_upstream + counts.failed_with_reason >= orders
