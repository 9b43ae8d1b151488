"""Config: valid files load; every mistake fails at start with the key named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bridge.config.load import load_settings, parse_settings
from bridge.errors import ConfigError
from sandbox.config import merge
from tests.conftest import CLIENT_ID, TOKEN, base_config

ROOT = Path(__file__).resolve().parents[2]


def parse(tmp_path: Path, changes: dict[str, Any] | None = None,
          env: dict[str, str] | None = None) -> Any:
    return parse_settings(merge(base_config(tmp_path), changes or {}), env=env or {},
                          base_dir=tmp_path)


def test_example_config_loads_with_its_documented_environment(tmp_path: Path) -> None:
    env = {"BIROTICA_WEBHOOK_SECRET": "s3cret", "BIROTICA_ECONT_CLIENT_ID": CLIENT_ID,
           "BIROTICA_ECONT_TOKEN": TOKEN, "INVOICE_BRIDGE_ADMIN_TOKENS": "a" * 32 + "," + "b" * 32}
    settings = load_settings(ROOT / "config.example.toml", env=env)
    shop = settings.shops["birotica"]
    assert shop.webhook_secret == "s3cret"
    assert shop.upstream.client_id == CLIENT_ID and shop.upstream.token == TOKEN
    assert settings.admin_tokens == ("a" * 32, "b" * 32)
    assert str(settings.admin_listen) == "127.0.0.1:8081"
    assert settings.database.url.startswith("sqlite:///") and settings.database.is_sqlite
    assert Path(settings.database.url.removeprefix("sqlite:///")).is_absolute()


def _commented_upstream_examples() -> dict[str, str]:
    """The commented ``[shops.upstream]`` tables at the end of config.example.toml, by kind,
    uncommented."""
    text = (ROOT / "config.example.toml").read_text()
    tail = text[text.index("# --- The other invoicing services"):]
    examples: dict[str, str] = {}
    for block in tail.split("# [shops.upstream]\n")[1:]:
        lines = block.splitlines()
        table = [line.removeprefix("# ") for line in lines[:lines.index("#")]
                 ] if "#" in lines else [line.removeprefix("# ") for line in lines]
        examples[table[0].split('"')[1]] = "\n".join(["[shops.upstream]", *table, ""])
    return examples


def test_the_examples_of_the_other_upstreams_load_with_their_documented_environment(
        tmp_path: Path) -> None:
    text = (ROOT / "config.example.toml").read_text()
    head = text[:text.index("[shops.upstream]")]
    examples = _commented_upstream_examples()
    assert sorted(examples) == ["facturagem", "facturare", "fakturoid"]
    env = {"BIROTICA_WEBHOOK_SECRET": "s3cret", "INVOICE_BRIDGE_ADMIN_TOKENS": "a" * 32,
           "BIROTICA_FAKTUROID_CLIENT_ID": "id", "BIROTICA_FAKTUROID_CLIENT_SECRET": "secret",
           "BIROTICA_FACTURAGEM_LOGIN": "login", "BIROTICA_FACTURAGEM_PASSWORD": "pass",
           "BIROTICA_FACTURARE_API_KEY": "key"}
    for kind, table in examples.items():
        path = tmp_path / f"{kind}.toml"
        path.write_text(head + table)
        upstream = load_settings(path, env=env).shops["birotica"].upstream
        assert upstream.kind == kind


def test_defaults(tmp_path: Path) -> None:
    settings = parse(tmp_path)
    shop = settings.shops["shop"]
    assert shop.invoice_statuses == ("processing", "on-hold", "completed")
    assert shop.on_change == "review"
    assert shop.upstream.repeated_order == "unknown"
    assert settings.dispatch.retry.max_attempts == 8
    assert shop.mapping.timezone == "Europe/Chisinau"
    assert shop.mapping.fiscal_code_check == "stop"


def test_fiscal_code_check_can_warn(tmp_path: Path) -> None:
    settings = parse(tmp_path, {"shops": [{"fiscal_code_check": "warn"}]})
    assert settings.shops["shop"].mapping.fiscal_code_check == "warn"


@pytest.mark.parametrize(("changes", "message"), [
    ({"shops": [{"upstream": {"base_url": "http://api.diginet.md"}}]},
     "shops[shop].upstream.base_url: plain http is only allowed for loopback"),
    ({"shops": [{"upstream": {"language": "de"}}]},
     "shops[shop].upstream.language: must be one of"),
    ({"shops": [{"upstream": {"tokn": "x"}}]}, "shops[shop].upstream.tokn: unknown setting"),
    ({"shops": [{"id": "Bad Shop"}]}, "shops[0].id: must be 1-64 characters"),
    ({"shops": [{"id": "shop\n"}]}, "shops[0].id: must be 1-64 characters"),
    ({"shops": [{"invoice_statuses": []}]}, "shops[shop].invoice_statuses: must list at least"),
    ({"shops": [{"invoice_statuses": ["checkout-draft"]}]}, "checkout-draft orders are never"),
    ({"shops": [{"timezone": "Mars/Olympus"}]}, "shops[shop].timezone: unknown time zone"),
    ({"shops": [{"on_change": "resend"}]}, "shops[shop].on_change: must be one of review, ignore"),
    ({"shops": [{"fiscal_code_check": "maybe"}]},
     "shops[shop].fiscal_code_check: must be one of stop, warn"),
    ({"dispatch": {"lease": "5s"}}, "dispatch.lease: must exceed connect_timeout + read_timeout"),
    ({"dispatch": {"poll_interval": "soon"}}, "dispatch.poll_interval: must be a duration"),
    ({"dispatch": {"retry": {"jitter": "some"}}}, "dispatch.retry.jitter: must be one of"),
    ({"dispatch": {"retry": {"max_attempts": 0}}},
     "dispatch.retry.max_attempts: must be at least 1"),
    ({"dispatch": {"concurrency": 2.5}}, "dispatch.concurrency: must be a whole number"),
    ({"dispatch": {"claim_ahead": -1}}, "dispatch.claim_ahead: must be at least 0"),
    ({"admin": {"tokens": ["short"]}}, "admin.tokens[0]: must be at least 16 characters"),
    ({"database": {"url": "mysql://x"}}, "database.url: only sqlite:/// and postgresql://"),
    ({"server": {"port": "80"}}, "server.port: must be a whole number"),
    ({"surprise": 1}, "surprise: unknown setting"),
    ({"shops": [{"upstream": {"kind": "nope"}}]},
     "shops[shop].upstream.kind: must be one of econt"),
    ({"shops": [{"upstream": {"read_timeout": "40s"}}]},
     "dispatch.lease: must exceed shops[shop].upstream's timeouts (42s)"),
    ({"dispatch": {"retry": {"schedule": ["5s", "soon"]}}},
     "dispatch.retry.schedule[1]: must be a duration"),
])
def test_errors_name_the_key(tmp_path: Path, changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse(tmp_path, changes)
    assert message in str(error.value)


def test_secrets_from_environment(tmp_path: Path) -> None:
    data = base_config(tmp_path)
    shop = data["shops"][0]
    del shop["webhook_secret"], shop["upstream"]["token"]
    shop["webhook_secret_env"] = "SHOP_SECRET"
    shop["upstream"]["token_env"] = "SHOP_TOKEN"
    settings = parse_settings(data, env={"SHOP_SECRET": "from-env", "SHOP_TOKEN": TOKEN},
                              base_dir=tmp_path)
    assert settings.shops["shop"].webhook_secret == "from-env"
    assert settings.shops["shop"].upstream.token == TOKEN

    with pytest.raises(ConfigError, match=r"shops\[shop\]\.webhook_secret_env: environment "
                                          r"variable SHOP_SECRET is not set"):
        parse_settings(data, env={"SHOP_TOKEN": TOKEN}, base_dir=tmp_path)


def test_secret_in_file_and_env_is_ambiguous(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="give either webhook_secret or webhook_secret_env"):
        parse(tmp_path, {"shops": [{"webhook_secret_env": "X"}]}, env={"X": "y"})


def test_missing_secret_names_both_ways(tmp_path: Path) -> None:
    data = base_config(tmp_path)
    del data["shops"][0]["webhook_secret"]
    with pytest.raises(ConfigError,
                       match=r"webhook_secret: required \(or set webhook_secret_env\)"):
        parse_settings(data, env={}, base_dir=tmp_path)


def test_insecure_http_needs_opt_in(tmp_path: Path) -> None:
    settings = parse(tmp_path, {"shops": [{"upstream": {"base_url": "http://econt.lan:8080",
                                                         "allow_insecure_http": True}}]})
    assert settings.shops["shop"].upstream.base_url == "http://econt.lan:8080"
    assert parse(tmp_path, {"shops": [{"upstream": {"base_url": "http://localhost:1/"}}]}
                 ).shops["shop"].upstream.base_url == "http://localhost:1"


def test_two_shops_on_one_upstream_account_are_refused(tmp_path: Path) -> None:
    second = {"id": "other", "webhook_secret": "x",
              "upstream": {"base_url": "http://127.0.0.1:9", "client_id": CLIENT_ID,
                           "token": TOKEN}}
    with pytest.raises(ConfigError, match=r"shops\[other\]\.upstream: uses the same upstream"):
        parse(tmp_path, {"shops": [{}, second]})


def test_durations_and_relative_paths(tmp_path: Path) -> None:
    settings = parse(tmp_path, {"database": {"url": "sqlite:///data/x.db"},
                                "dispatch": {"retry": {"schedule": ["5s", "5m", 7200, "1d"]}}})
    assert settings.dispatch.retry.schedule == (5.0, 300.0, 7200.0, 86400.0)
    assert settings.database.url == f"sqlite:///{(tmp_path / 'data' / 'x.db').resolve()}"
    pg = parse(tmp_path, {"database": {"url": "postgresql://u:p@127.0.0.1/db"}})
    assert pg.database.url == "postgresql+psycopg://u:p@127.0.0.1/db"
    assert pg.database.auto_migrate is False


def test_missing_file_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_settings(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[shops\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(bad)
    with pytest.raises(ConfigError, match="pass --config PATH or set INVOICE_BRIDGE_CONFIG"):
        load_settings(None, env={})


def test_secrets_never_show_in_repr(tmp_path: Path) -> None:
    data = merge(base_config(tmp_path), {
        "database": {"url": "postgresql://u:db-password-123@127.0.0.1/db"},
        "shops": [{"woocommerce": {"url": "https://shop.example", "consumer_key": "ck_abc123",
                                   "consumer_secret": "cs_def456"}}]})
    text = repr(parse_settings(data, env={}, base_dir=tmp_path))
    for secret in ("wc_test_secret", TOKEN, CLIENT_ID, "admin-token-for-tests",
                   "db-password-123", "ck_abc123", "cs_def456"):
        assert secret not in text


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        parse(tmp_path, {"server": {"port": 0}, "shops": [{"on_change": "x",
                                                            "upstream": {"language": "de"}}]})
    message = str(error.value)
    for key in ("server.port", "shops[shop].on_change", "shops[shop].upstream.language"):
        assert key in message


def test_an_upstream_may_set_its_own_timeouts(tmp_path: Path) -> None:
    settings = parse(tmp_path, {"dispatch": {"lease": "2m"},
                                "shops": [{"upstream": {"read_timeout": "90s"}}]})
    assert settings.shops["shop"].upstream.timeouts == (2.0, 90.0)
    inherited = parse(tmp_path).shops["shop"].upstream
    assert inherited.timeouts == (2.0, 5.0)  # [dispatch]'s, from base_config


@pytest.mark.parametrize(("listen", "host", "port"), [
    ("127.0.0.1:8081", "127.0.0.1", 8081),
    ("[::1]:9000", "::1", 9000),
    ("192.0.2.10:8081", "192.0.2.10", 8081),
    ("8081", "127.0.0.1", 8081),  # a port alone listens on loopback
])
def test_admin_listen(tmp_path: Path, listen: str, host: str, port: int) -> None:
    address = parse(tmp_path, {"admin": {"listen": listen}}).admin_listen
    assert (address.host, address.port) == (host, port)


@pytest.mark.parametrize(("listen", "message"), [
    ("127.0.0.1", "admin.listen: must be HOST:PORT"),
    ("127.0.0.1:99999", "admin.listen: must be HOST:PORT"),
    ("host name:80", "admin.listen: must be HOST:PORT"),
    ("127.0.0.1:8080", "admin.listen: must use another port than server.port (8080)"),
])
def test_admin_listen_errors_name_the_key(tmp_path: Path, listen: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse(tmp_path, {"admin": {"listen": listen}})


def test_without_admin_listen_admin_shares_the_public_listener(tmp_path: Path) -> None:
    # existing configuration files have no `listen`: they keep today's single listener
    assert parse(tmp_path).admin_listen is None
