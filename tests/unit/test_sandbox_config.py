"""The configuration writer of tests, benchmarks and the demo (sandbox.config): what it writes
is what the bridge reads."""

from __future__ import annotations

import tomllib
from pathlib import Path

from bridge.config.load import load_settings
from sandbox.config import bridge_config, merge, write_config
from sandbox.econt import DEMO_CLIENT_ID, DEMO_TOKEN, econt_upstream


def test_the_written_file_loads_with_paths_beside_it(tmp_path: Path) -> None:
    path = write_config(tmp_path / "bridge.toml", bridge_config(
        econt_upstream("http://127.0.0.1:9", rate_limit=0), webhook_secret="s"))
    settings = load_settings(path)
    assert settings.database.url == f"sqlite:///{tmp_path / 'bridge.db'}"
    assert settings.server.spool_dir == str(tmp_path / "spool")
    assert (settings.log_format, settings.log_level) == ("text", "WARNING")
    shop = settings.shops["shop"]
    assert (shop.upstream.kind, shop.upstream.base_url) == ("econt", "http://127.0.0.1:9")
    assert (shop.upstream.client_id, shop.upstream.token) == (DEMO_CLIENT_ID, DEMO_TOKEN)
    assert shop.upstream.rate_limit == 0


def test_values_toml_must_escape_survive(tmp_path: Path) -> None:
    # A hand-written f-string would have produced a broken file for this secret.
    secret = 'quote " back\\slash\ttab'
    path = write_config(tmp_path / "bridge.toml", bridge_config(
        econt_upstream("http://127.0.0.1:9"), webhook_secret=secret),
        comment="first line\nsecond line")
    assert path.read_text().startswith("# first line\n# second line\n")
    assert load_settings(path).shops["shop"].webhook_secret == secret


def test_none_leaves_a_setting_to_the_bridge(tmp_path: Path) -> None:
    config = bridge_config(econt_upstream("http://127.0.0.1:9", token=None, token_env="T"),
                           webhook_secret="s", spool_dir=None, log_format=None)
    assert "server" not in config and config["logging"] == {"level": "WARNING"}
    assert "token" not in config["shops"][0]["upstream"]
    assert config["shops"][0]["upstream"]["token_env"] == "T"
    written = tomllib.loads(write_config(tmp_path / "c.toml", config).read_text())
    assert written == config


def test_merge_is_deep_keeps_the_base_and_merges_shops_by_position() -> None:
    base = bridge_config(econt_upstream("http://127.0.0.1:9"), webhook_secret="s")
    merged = merge(base, {"dispatch": {"lease": "4s"}, "database": {"auto_migrate": True},
                          "shops": [{"upstream": {"language": "en"}},
                                    {"id": "second", "webhook_secret": "t"}]})
    assert merged["database"] == {"url": "sqlite:///bridge.db", "auto_migrate": True}
    assert merged["dispatch"] == {"lease": "4s"}
    assert merged["shops"][0]["upstream"]["language"] == "en"
    assert merged["shops"][0]["upstream"]["base_url"] == "http://127.0.0.1:9"
    assert [shop["id"] for shop in merged["shops"]] == ["shop", "second"]
    assert "dispatch" not in base and "language" not in base["shops"][0]["upstream"]
    assert len(base["shops"]) == 1
