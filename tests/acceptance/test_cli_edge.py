"""The command line as a new user meets it: a freshly copied config.example.toml."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bridge.cli import cli
from tests.conftest import CLIENT_ID, TOKEN

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_ENV = {"BIROTICA_WEBHOOK_SECRET": "s3cret", "BIROTICA_ECONT_CLIENT_ID": CLIENT_ID,
               "BIROTICA_ECONT_TOKEN": TOKEN, "INVOICE_BRIDGE_ADMIN_TOKENS": "a" * 32}


@pytest.fixture
def example_config(tmp_path: Path) -> Path:
    """config.example.toml copied as the README says, with the upstream on a closed loopback
    port (the test has no network) -- and nothing else created: no var/ folder."""
    text = (ROOT / "config.example.toml").read_text()
    assert 'base_url = "https://api.diginet.md"' in text
    path = tmp_path / "config.toml"
    path.write_text(text.replace('base_url = "https://api.diginet.md"',
                                 'base_url = "http://127.0.0.1:9"'))
    return path


def invoke(runner: CliRunner, config: Path, *args: str) -> Any:
    return runner.invoke(cli, ["--config", str(config), *args], env=EXAMPLE_ENV,
                         catch_exceptions=False)


def test_check_config_on_a_fresh_copy_says_what_to_do(runner: CliRunner,
                                                      example_config: Path) -> None:
    database = example_config.parent / "var" / "invoice-bridge.db"
    result = invoke(runner, example_config, "check-config")
    assert "unable to open database file" not in result.output
    assert (f"database: ok - {database} does not exist yet; `invoice-bridge run` creates it"
            in result.output)
    assert not database.parent.exists()  # check-config only looks
    # the upstream of this copy is unreachable on purpose: that is the only problem
    assert "birotica upstream: FAILED - unreachable" in result.output
    assert result.exit_code == 3

    assert invoke(runner, example_config, "migrate").exit_code == 0
    again = invoke(runner, example_config, "check-config")
    assert "database: ok - schema" in again.output
    # created owner-only: the database holds buyers' personal data
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    assert stat.S_IMODE(database.parent.stat().st_mode) == 0o700


def test_check_config_says_when_the_database_cannot_be_created(
        runner: CliRunner, example_config: Path) -> None:
    (example_config.parent / "var").write_text("a file where the folder should be")
    result = invoke(runner, example_config, "check-config")
    assert "database: FAILED" in result.output and "var is not a folder" in result.output
    assert result.exit_code == 3  # (the unreachable upstream); the database alone would be 1


def test_check_config_says_when_the_folder_is_not_writable(
        runner: CliRunner, example_config: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root can write anywhere")
    example_config.parent.chmod(0o500)
    try:
        result = invoke(runner, example_config, "check-config")
    finally:
        example_config.parent.chmod(0o700)
    assert "database: FAILED" in result.output and "is not writable" in result.output
