"""``[shops.upstream]`` for FACTURAgem: defaults, secrets from the environment, and every
mistake named by its key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bridge.config.load import parse_settings
from bridge.errors import ConfigError
from bridge.upstreams.facturagem.settings import FacturagemSettings
from sandbox.config import bridge_config

SECTION = {"kind": "facturagem", "login": "ana@tienda.example", "password": "pw"}


def parse(tmp_path: Path, upstream: dict[str, Any], env: dict[str, str] | None = None,
          *, shops: int = 1) -> Any:
    config = bridge_config(upstream, webhook_secret="secret_value_0123",
                           db_url=f"sqlite:///{tmp_path / 'b.db'}")
    for number in range(1, shops):
        config["shops"].append({**config["shops"][0], "id": f"shop{number}"})
    return parse_settings(config, env=env or {}, base_dir=tmp_path)


def test_defaults(tmp_path: Path) -> None:
    upstream = parse(tmp_path, SECTION).shops["shop"].upstream
    assert isinstance(upstream, FacturagemSettings)
    assert upstream.base_url == "https://facturagem.com/api/v1"
    assert (upstream.account_id, upstream.api_key_in, upstream.line_prices,
            upstream.account_currency, upstream.repeated_order) == (
        "", "query", "gross", "EUR", "unknown")
    assert not upstream.dedupes_repeats
    assert "pw" not in repr(upstream) and "ana@" not in repr(upstream)


def test_credentials_from_the_environment(tmp_path: Path) -> None:
    section = {"kind": "facturagem", "login_env": "FG_LOGIN", "password_env": "FG_PASSWORD",
               "account_id": "12-mi-tienda", "account_currency": "usd",
               "line_prices": "net", "api_key_in": "body"}
    upstream = parse(tmp_path, section, {"FG_LOGIN": "ana@tienda.example",
                                         "FG_PASSWORD": "secreto"}).shops["shop"].upstream
    assert (upstream.login, upstream.password) == ("ana@tienda.example", "secreto")
    assert (upstream.account_id, upstream.account_currency) == ("12-mi-tienda", "USD")
    assert (upstream.line_prices, upstream.api_key_in) == ("net", "body")


@pytest.mark.parametrize(("changes", "message"), [
    ({"login": None}, "shops[shop].upstream.login: required"),
    ({"password": None}, "shops[shop].upstream.password: required"),
    ({"password": ""}, "shops[shop].upstream.password"),
    ({"account_id": "12/../../admin"}, "shops[shop].upstream.account_id: must be the account's"),
    ({"account_currency": "EURO"}, "shops[shop].upstream.account_currency: not an ISO 4217"),
    ({"line_prices": "both"}, "shops[shop].upstream.line_prices: must be one of gross, net"),
    ({"api_key_in": "header"}, "shops[shop].upstream.api_key_in: must be one of query, body"),
    ({"repeated_order": "reject"},
     "shops[shop].upstream.repeated_order: must be one of unknown, create_new"),
    ({"base_url": "http://facturagem.com/api/v1"},
     "shops[shop].upstream.base_url: plain http is only allowed for loopback"),
    ({"token": "x"}, "shops[shop].upstream.token: unknown setting"),
])
def test_mistakes_name_the_key(tmp_path: Path, changes: dict[str, Any], message: str) -> None:
    section = {key: value for key, value in {**SECTION, **changes}.items() if value is not None}
    with pytest.raises(ConfigError) as refused:
        parse(tmp_path, section)
    assert message in str(refused.value)


def test_two_shops_on_one_login_and_account_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        parse(tmp_path, SECTION, shops=2)
    assert "uses the same upstream account" in str(refused.value)
