"""facturare.md's ``[shops.upstream]``: the production URL by default, the sandbox as an
alternative, the API key from the file or the environment, every mistake named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bridge.config.load import parse_settings
from bridge.errors import ConfigError
from bridge.upstreams.facturare import assumptions
from bridge.upstreams.facturare.settings import FacturareSettings
from sandbox.config import bridge_config
from sandbox.facturare import facturare_upstream


def parse(tmp_path: Path, env: dict[str, str] | None = None, **upstream: Any) -> Any:
    section = {"kind": "facturare", **upstream}
    config = bridge_config(section, webhook_secret="s", shop_id="shop",
                           db_url=f"sqlite:///{tmp_path / 'b.db'}")
    return parse_settings(config, env=env or {}, base_dir=tmp_path).shops["shop"].upstream


def test_production_by_default_and_the_sandbox_as_an_alternative(tmp_path: Path) -> None:
    settings = parse(tmp_path, api_key="key-1")
    assert isinstance(settings, FacturareSettings)
    assert settings.base_url == assumptions.PRODUCTION_BASE_URL == "https://api.facturare.md"
    assert settings.repeated_order == "unknown" and not settings.dedupes_repeats
    sandbox = parse(tmp_path, api_key="key-1", base_url="https://api.sandbox.facturare.md/")
    assert sandbox.base_url == assumptions.SANDBOX_BASE_URL


def test_the_key_from_the_environment_and_never_in_repr(tmp_path: Path) -> None:
    settings = parse(tmp_path, env={"FMD_KEY": "sk-live-123"}, api_key_env="FMD_KEY")
    assert settings.api_key == "sk-live-123"
    assert "sk-live-123" not in repr(settings)


def test_the_simulator_section_loads(tmp_path: Path) -> None:
    config = bridge_config(facturare_upstream("http://127.0.0.1:8766"), webhook_secret="s")
    assert parse_settings(config, env={}, base_dir=tmp_path).shops["shop"].upstream.api_key


@pytest.mark.parametrize(("upstream", "message"), [
    ({}, "shops[shop].upstream.api_key: required (or set api_key_env)"),
    ({"api_key": ""}, "shops[shop].upstream.api_key: must be a non-empty string"),
    ({"api_key": "user:pass"}, "shops[shop].upstream.api_key: must not contain ':'"),
    ({"api_key": "key with space"}, "shops[shop].upstream.api_key: must not contain spaces"),
    ({"api_key": "k" * 600}, "shops[shop].upstream.api_key: must be at most 512 characters"),
    ({"api_key": "k", "repeated_order": "reject"},
     "shops[shop].upstream.repeated_order: must be one of unknown, create_new"),
    ({"api_key": "k", "base_url": "http://api.facturare.md"},
     "shops[shop].upstream.base_url: plain http is only allowed for loopback"),
    ({"api_key": "k", "client_id": "x"}, "shops[shop].upstream.client_id: unknown setting"),
    ({"api_key_env": "NOPE"}, "shops[shop].upstream.api_key_env: environment variable NOPE"),
])
def test_errors_name_the_key(tmp_path: Path, upstream: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse(tmp_path, **upstream)
    assert message in str(error.value)


def test_a_bad_key_and_a_bad_url_are_reported_together(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        parse(tmp_path, api_key="a:b", base_url="ftp://x")
    assert "upstream.api_key" in str(error.value) and "upstream.base_url" in str(error.value)
