"""The operator's commands: status, check-config, backfill, resync --state, skip -- with the
exit codes scripts rely on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bridge.cli import cli
from bridge.config.load import load_settings
from bridge.dispatch.worker import Worker
from bridge.storage.database import Database
from sandbox.config import bridge_config, merge, write_config
from sandbox.econt import (
    DEMO_TOKEN,
    RunningSimulator,
    econt_upstream,
    run_simulator,
)
from sandbox.woocommerce.rest_simulator import (
    DEMO_CONSUMER_KEY,
    DEMO_CONSUMER_SECRET,
    RestSimulatorState,
    RunningRestSimulator,
    run_rest_simulator,
)

START = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def econt() -> Iterator[RunningSimulator]:
    with run_simulator() as running:
        yield running


@pytest.fixture
def shop_api() -> Iterator[RunningRestSimulator]:
    with run_rest_simulator(state=RestSimulatorState(ssl=False)) as running:
        running.state.seed_orders(12, first_id=501, start=START)
        yield running


@pytest.fixture
def config(tmp_path: Path, econt: RunningSimulator, shop_api: RunningRestSimulator) -> Any:
    def _write(token: str = DEMO_TOKEN, upstream: str | None = None) -> Path:
        config = bridge_config(econt_upstream(upstream or econt.url, token=token),
                               webhook_secret="s", spool_dir=None)
        return write_config(tmp_path / "config.toml", merge(config, {"shops": [{
            "woocommerce": {"url": shop_api.url, "consumer_key": DEMO_CONSUMER_KEY,
                            "consumer_secret": DEMO_CONSUMER_SECRET},
        }]}))
    return _write


def invoke(runner: CliRunner, config: Path, *args: str) -> Any:
    return runner.invoke(cli, ["--config", str(config), *args], catch_exceptions=False)


def test_check_config_passes_with_working_credentials(runner: CliRunner, config: Any) -> None:
    path = config()
    assert invoke(runner, path, "migrate").exit_code == 0
    result = invoke(runner, path, "check-config")
    assert result.exit_code == 0, result.output
    assert "shop upstream: ok - credentials accepted" in result.output
    assert "shop woocommerce: ok - REST API answers" in result.output
    assert "database: ok" in result.output


def test_check_config_exit_codes(runner: CliRunner, config: Any,
                                 econt: RunningSimulator) -> None:
    refused = invoke(runner, config(token="f" * 32), "check-config")
    assert refused.exit_code == 1
    assert "shop upstream: FAILED" in refused.output and "401" in refused.output
    unreachable = invoke(runner, config(upstream="http://127.0.0.1:9"), "check-config")
    assert unreachable.exit_code == 3 and "unreachable" in unreachable.output


def test_backfill_then_status_then_resync_by_state(runner: CliRunner, config: Any,
                                                   econt: RunningSimulator) -> None:
    path = config()
    backfilled = invoke(runner, path, "backfill", "--shop", "shop", "--since", "2025-02-01")
    assert backfilled.exit_code == 0, backfilled.output
    assert "12 orders modified since 2025-02-01 00:00 UTC; 12 new or changed queued" \
        in backfilled.output

    econt.state.add_fault("422", times=12)
    settings = load_settings(path)
    db = Database.from_settings(settings.database)
    Worker(settings, db).drain()
    status = invoke(runner, path, "status", "--json")
    report = json.loads(status.output)
    assert report["shops"][0]["rows_by_state"] == {"failed": 12}
    assert invoke(runner, path, "status", "--check").exit_code == 1

    resynced = invoke(runner, path, "resync", "shop", "--state", "failed")
    assert resynced.exit_code == 0 and "12 queued, 0 refused" in resynced.output
    Worker(settings, db).drain()
    assert json.loads(invoke(runner, path, "status", "--json").output
                      )["shops"][0]["rows_by_state"] == {"synced": 12}
    assert invoke(runner, path, "status", "--check").exit_code == 0
    assert len(econt.state.invoices()) == 12

    skipped = invoke(runner, path, "skip", "shop", "501", "--reason", "test")
    assert skipped.exit_code == 1 and "already holds an invoice" in skipped.output
    again = invoke(runner, path, "backfill", "--shop", "shop", "--since", "2025-02-01")
    assert "0 new or changed queued, 12 already up to date" in again.output
    db.dispose()


def test_usage_errors_exit_2(runner: CliRunner, config: Any) -> None:
    path = config()
    invoke(runner, path, "migrate")
    assert invoke(runner, path, "resync", "shop").exit_code == 2
    for state in ("lost", "sending"):  # as the admin API: a 400 naming `state`
        refused = invoke(runner, path, "resync", "shop", "--state", state)
        assert refused.exit_code == 2 and "state: cannot resync" in refused.output
    assert invoke(runner, path, "backfill", "--shop", "shop", "--since", "soon").exit_code == 2
