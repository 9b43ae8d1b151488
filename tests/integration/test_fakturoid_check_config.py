"""``invoice-bridge check-config`` for a Fakturoid shop: one read (the account's settings,
after a token) proves the Client ID and Secret, the User-Agent and the slug, and creates
nothing; a refusal names what to fix, with exit code 1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bridge.cli import cli
from sandbox.config import bridge_config, write_config
from sandbox.fakturoid import RunningSimulator, SimulatorState, fakturoid_upstream
from sandbox.fakturoid import run_simulator as run_fakturoid


@pytest.fixture
def simulator() -> Iterator[RunningSimulator]:
    with run_fakturoid(state=SimulatorState()) as running:
        yield running


def check(runner: CliRunner, tmp_path: Path, simulator: RunningSimulator,
          **options: Any) -> Any:
    config = write_config(tmp_path / "config.toml", bridge_config(
        fakturoid_upstream(simulator.url, **options), webhook_secret="s",
        db_url=f"sqlite:///{tmp_path / 'bridge.db'}", spool_dir=None))
    assert runner.invoke(cli, ["--config", str(config), "migrate"]).exit_code == 0
    return runner.invoke(cli, ["--config", str(config), "check-config"],
                         catch_exceptions=False)


def test_working_credentials(runner: CliRunner, tmp_path: Path,
                             simulator: RunningSimulator) -> None:
    result = check(runner, tmp_path, simulator)
    assert result.exit_code == 0, result.output
    assert ("shop upstream: ok - credentials accepted by " in result.output
            and "account 'bridge-demo' (Sandbox Shop s.r.o.), currency CZK, vat_payer"
            in result.output)
    stats = simulator.state.stats()
    assert stats.get("invoices_created", 0) == stats.get("subjects_created", 0) == 0


@pytest.mark.parametrize(("options", "expected"), [
    ({"client_secret": "wrong"}, "HTTP 401 from Fakturoid's token endpoint (check client_id, "
                                 "client_secret and user_agent): invalid_client"),
    ({"account_slug": "someone-else"}, "HTTP 404: reading the account: resource_not_found "
                                       "(is base_url right?)"),
    ({"account_currency": "EUR"}, "but account_currency is EUR: set it to CZK"),
])
def test_refusals_name_what_to_fix(runner: CliRunner, tmp_path: Path,
                                   simulator: RunningSimulator, options: dict[str, Any],
                                   expected: str) -> None:
    result = check(runner, tmp_path, simulator, **options)
    assert result.exit_code == 1, result.output
    assert "shop upstream: FAILED" in result.output and expected in result.output
