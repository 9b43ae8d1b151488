"""``[shops.upstream]`` for Fakturoid: every bad key is named, all at once; secrets may come
from the environment and never show in a repr."""

from __future__ import annotations

import re
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bridge.config.load import parse_settings
from bridge.errors import ConfigError
from bridge.upstreams.fakturoid.settings import FakturoidSettings
from sandbox.config import bridge_config

GOOD = {"kind": "fakturoid", "account_slug": "applecorp", "client_id": "cid-123",
        "client_secret": "secret-xyz", "user_agent": "ShopSync (ops@example.com)"}


def load(tmp_path: Path, env: dict[str, str] | None = None, **changes: Any) -> FakturoidSettings:
    section = {key: value for key, value in {**GOOD, **changes}.items() if value is not None}
    settings = parse_settings(bridge_config(section, webhook_secret="s"), env=env or {},
                              base_dir=tmp_path)
    upstream = settings.shops["shop"].upstream
    assert isinstance(upstream, FakturoidSettings)
    return upstream


def refusal(tmp_path: Path, **changes: Any) -> str:
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, **changes)
    return str(raised.value)


def test_defaults(tmp_path: Path) -> None:
    upstream = load(tmp_path)
    assert upstream.base_url == "https://app.fakturoid.cz/api/v3"
    assert upstream.vat_price_mode == "auto" and upstream.account_currency == "CZK"
    assert upstream.payment_method("bacs") == "bank" and upstream.payment_method("cod") == "cod"
    assert upstream.payment_method("some_gateway") == ""  # the account's default
    assert not upstream.dedupes_repeats and upstream.repeated_order == "unknown"
    # 400 requests a minute, 2-4 per invoice
    assert upstream.rate_limit * 60 * 4 <= 400
    assert "secret-xyz" not in repr(upstream) and "cid-123" not in repr(upstream)


def test_every_bad_key_is_named_at_once(tmp_path: Path) -> None:
    text = refusal(tmp_path, account_slug="apple corp/..", client_secret=None,
                   user_agent="ShopSync", account_currency="CZ", language="cs",
                   exchange_rates={"EUR": 24.35, "XY": "2"}, payment_methods={"bacs": "wire"},
                   payment_method_default="transfer", due=-1, vat_price_mode="gross")
    for key in ("account_slug", "client_secret: required (or set client_secret_env)",
                'user_agent: must be "Name (contact@example.com)"', "account_currency",
                "language", 'exchange_rates.EUR: write the rate as a string, e.g. "24.35"',
                "exchange_rates.XY", "payment_methods.bacs", "payment_method_default", "due",
                "vat_price_mode"):
        assert f"shops[shop].upstream.{key}" in text


def test_a_repeat_cannot_be_declared_harmless(tmp_path: Path) -> None:
    """custom_id is not unique at Fakturoid: "reject" or "return_existing" would be a lie."""
    for mode in ("reject", "return_existing"):
        assert ("shops[shop].upstream.repeated_order: must be one of unknown, create_new"
                in refusal(tmp_path, repeated_order=mode))


@pytest.mark.parametrize("agent", [
    "ShopSync (ops@example.com)", "My E-shop 2.0 (it.team+fakturoid@firma.cz)",
    "invoice-bridge sandbox (sandbox@invoice-bridge.example)"])
def test_user_agents_in_the_documented_form_pass(tmp_path: Path, agent: str) -> None:
    assert load(tmp_path, user_agent=agent).user_agent == agent


@pytest.mark.parametrize("agent", [
    "", "ShopSync", "(ops@example.com)", "ShopSync ops@example.com", "ShopSync (ops)",
    "Shop\r\nX-Injected: 1 (ops@example.com)", "Šop (ops@example.com)",
    "Shop (ops@example.com) extra", "x" * 200 + " (ops@example.com)"])
def test_other_user_agents_are_refused(tmp_path: Path, agent: str) -> None:
    assert "shops[shop].upstream.user_agent" in refusal(tmp_path, user_agent=agent)


def test_secrets_come_from_the_environment(tmp_path: Path) -> None:
    upstream = load(tmp_path, env={"FAK_ID": "cid-env", "FAK_SECRET": "secret-env"},
                    client_id=None, client_secret=None, client_id_env="FAK_ID",
                    client_secret_env="FAK_SECRET")
    assert (upstream.client_id, upstream.client_secret) == ("cid-env", "secret-env")


def test_exchange_rates_and_payment_methods(tmp_path: Path) -> None:
    upstream = load(tmp_path, account_currency="eur", exchange_rates={"czk": "0.0411", "USD": 1},
                    payment_methods={"comgate": "card", "bacs": "custom"},
                    payment_method_default="bank", language="en", due=7)
    assert upstream.account_currency == "EUR"
    assert upstream.exchange_rate("CZK") == Decimal("0.0411")
    assert upstream.exchange_rate("USD") == Decimal(1) and upstream.exchange_rate("EUR") is None
    assert upstream.payment_method("comgate") == "card"
    assert upstream.payment_method("bacs") == "custom"  # overrides the default mapping
    assert upstream.payment_method("cod") == "cod" and upstream.payment_method("x") == "bank"
    assert (upstream.language, upstream.due) == ("en", 7)


@pytest.mark.parametrize("rate", ["0", "-1", "abc", "1e3", "1.1234567", True, [1]])
def test_bad_exchange_rates_are_named(tmp_path: Path, rate: Any) -> None:
    assert "shops[shop].upstream.exchange_rates.EUR" in refusal(
        tmp_path, exchange_rates={"EUR": rate})


def test_two_shops_on_one_client_of_one_account_are_refused(tmp_path: Path) -> None:
    config = bridge_config(GOOD, webhook_secret="s")
    config["shops"].append({**config["shops"][0], "id": "second"})
    with pytest.raises(ConfigError, match="same upstream account"):
        parse_settings(config, env={}, base_dir=tmp_path)


def test_the_example_section_in_the_docs_loads(tmp_path: Path) -> None:
    text = (Path(__file__).parents[2] / "docs" / "fakturoid.md").read_text(encoding="utf-8")
    example = tomllib.loads(re.search(r"```toml\n(.*?)```", text, re.S).group(1))  # type: ignore[union-attr]
    example["database"] = {"url": f"sqlite:///{tmp_path / 'bridge.db'}"}
    env = {"MY_SHOP_WEBHOOK_SECRET": "s", "FAKTUROID_CLIENT_ID": "id",
           "FAKTUROID_CLIENT_SECRET": "secret"}
    upstream = parse_settings(example, env=env, base_dir=tmp_path).shops["my-shop"].upstream
    assert isinstance(upstream, FakturoidSettings) and upstream.account_slug == "my-company"
