"""Reading the configuration: TOML -> the sections' schemas -> ``Settings``.

``load_settings(path)`` reads the file named by ``--config`` or ``INVOICE_BRIDGE_CONFIG``.
Anything wrong fails at start with one ``ConfigError`` listing every problem, each with the
key it is about (``shops[birotica].upstream.token: required (or set token_env)``).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from marshmallow import ValidationError

from bridge.config.fields import loading
from bridge.config.model import (
    DatabaseSettings,
    DispatchSettings,
    ServerSettings,
    Settings,
    ShopSettings,
)
from bridge.config.sections import SHOP_ID, DatabaseSection, RootSection, ServerSection
from bridge.errors import ConfigError

CONFIG_ENV = "INVOICE_BRIDGE_CONFIG"


def parse_settings(data: Mapping[str, Any], *, env: Mapping[str, str] | None = None,
                   base_dir: Path | None = None, source: str | None = None) -> Settings:
    """Validate a parsed TOML document into ``Settings``."""
    env = os.environ if env is None else env
    base_dir = (base_dir or Path.cwd()).resolve()
    with loading(env, base_dir):
        try:
            root = RootSection().load(dict(data))
            database: DatabaseSettings = root["database"] or DatabaseSection().load({})
            server: ServerSettings = root["server"] or ServerSection().load({})
        except ValidationError as exc:
            raise ConfigError("; ".join(_messages(exc.messages, data))) from None
    dispatch: DispatchSettings = root["dispatch"]
    shops = _shops(root["shops"], dispatch)
    _check_lease(dispatch, shops)
    logging = root["logging"] or {"format": "json", "level": "INFO"}
    admin = root["admin"] or {"tokens": (), "listen": None}
    if admin["listen"] is not None and admin["listen"].port == server.port:
        raise ConfigError(f"admin.listen: must use another port than server.port "
                          f"({server.port})")
    return Settings(
        database=database, server=server, dispatch=dispatch, health=root["health"],
        shops=shops, admin_tokens=admin["tokens"], admin_listen=admin["listen"],
        log_format=logging["format"], log_level=logging["level"], source=source,
    )


def _shops(loaded: list[ShopSettings], dispatch: DispatchSettings) -> dict[str, ShopSettings]:
    """Shops by id, with [dispatch]'s timeouts where their upstream gave none; two shops may
    not share an id, nor an upstream account (their order keys would collide upstream)."""
    shops: dict[str, ShopSettings] = {}
    accounts: dict[str, str] = {}
    for index, shop in enumerate(loaded):
        if shop.id in shops:
            raise ConfigError(f"shops[{index}].id: duplicate shop id {shop.id!r}")
        owner = accounts.setdefault(shop.upstream.account_key, shop.id)
        if owner != shop.id:
            raise ConfigError(
                f"shops[{shop.id}].upstream: uses the same upstream account as shop "
                f"{owner!r}; their order ids would collide in the upstream")
        upstream = shop.upstream.with_timeouts(dispatch.connect_timeout, dispatch.read_timeout)
        shops[shop.id] = replace(shop, upstream=upstream)
    return shops


def _check_lease(dispatch: DispatchSettings, shops: Mapping[str, ShopSettings]) -> None:
    """A request must end before its lease does, or a slow one could be reaped mid-flight."""
    longest, whose = dispatch.connect_timeout + dispatch.read_timeout, "connect_timeout + " \
        "read_timeout"
    for shop in shops.values():
        request = (shop.upstream.connect_timeout or 0) + (shop.upstream.read_timeout or 0)
        if request > longest:
            longest, whose = request, f"shops[{shop.id}].upstream's timeouts"
    if dispatch.lease <= longest:
        raise ConfigError(
            f"dispatch.lease: must exceed {whose} ({longest:g}s), or a slow request could lose "
            "its lease while still in flight")


def _messages(messages: Any, data: Mapping[str, Any], path: str = "") -> Iterator[str]:
    """marshmallow's nested messages as ``key.path: reason`` lines; a shop is named by its
    id when the id is valid, by its position otherwise."""
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            if key == "_schema":
                sub = path
            elif isinstance(key, int):
                sub = f"{path}[{_shop_name(data, key) if path == 'shops' else key}]"
            else:
                sub = f"{path}.{key}" if path else str(key)
            yield from _messages(value, data, sub)
    elif isinstance(messages, list | tuple):
        for message in messages:
            if isinstance(message, Mapping | list):
                yield from _messages(message, data, path)
            else:
                yield f"{path or 'configuration'}: {message}"
    else:
        yield f"{path or 'configuration'}: {messages}"


def _shop_name(data: Mapping[str, Any], index: int) -> str:
    shops = data.get("shops")
    shop = shops[index] if isinstance(shops, list) and index < len(shops) else None
    shop_id = shop.get("id") if isinstance(shop, Mapping) else None
    return shop_id if isinstance(shop_id, str) and SHOP_ID.fullmatch(shop_id) else str(index)


def config_path(explicit: str | None = None, env: Mapping[str, str] | None = None) -> Path:
    raw = explicit or (os.environ if env is None else env).get(CONFIG_ENV)
    if not raw:
        raise ConfigError(f"no configuration: pass --config PATH or set {CONFIG_ENV}")
    return Path(raw)


def load_settings(path: str | os.PathLike[str] | None = None, *,
                  env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the TOML file at ``path`` (default: ``$INVOICE_BRIDGE_CONFIG``)."""
    file = config_path(str(path) if path else None, env)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{file}: configuration file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    return parse_settings(data, env=env, base_dir=file.parent, source=str(file))
