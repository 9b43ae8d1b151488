"""Order ids typed on the command line: ASCII digits, 1 to 2^63 - 1, or a usage error (exit
2) naming the argument -- click's INT, like int(), reads "١١٨٧" as 1187."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bridge.cli import cli
from tests.conftest import CLIENT_ID, SHOP, TOKEN


@pytest.mark.parametrize("order_id", ["\u0661\u0661\u0668\u0667", "0", str(2**63), "+5", "1_000"])
def test_order_id_arguments_are_ascii_digits_within_bigint(runner: CliRunner, tmp_path: Path,
                                                           order_id: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"""
[database]
url = "sqlite:///bridge.db"
[[shops]]
id = "{SHOP}"
webhook_secret = "s"
[shops.upstream]
base_url = "http://127.0.0.1:9"
client_id = "{CLIENT_ID}"
token = "{TOKEN}"
""")
    for args in (("resync", SHOP, order_id), ("skip", SHOP, order_id, "--reason", "r")):
        result = runner.invoke(cli, ["--config", str(config), *args], catch_exceptions=False)
        assert result.exit_code == 2, result.output
        assert "ORDER_ID" in result.output and "must be a whole number from 1 to" in result.output
