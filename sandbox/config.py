"""The configuration file of a local bridge, for tests, benchmarks and the demo.

One place builds it, so every caller writes what ``bridge.config`` reads (see
config.example.toml) and a new setting or upstream is added once:

- ``bridge_config(upstream, webhook_secret=...)``: the file as a dict -- a database, the spool,
  logging and one shop whose ``[shops.upstream]`` section the caller gives; each simulator
  offers the section that points a shop at it (``sandbox.econt.econt_upstream``);
- ``merge(base, changes)``: anything else, deep-merged in (``{"dispatch": {"lease": "4s"}}``);
- ``write_config(path, config)``: the TOML file, written by tomli-w.

Relative paths (the default ``sqlite:///bridge.db`` and ``spool``) are resolved by the bridge
against the folder of the file, so a file written into a scratch folder keeps everything there.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomli_w

DEFAULT_SHOP = "shop"


def bridge_config(upstream: Mapping[str, Any], *, webhook_secret: str,
                  shop_id: str = DEFAULT_SHOP, db_url: str = "sqlite:///bridge.db",
                  spool_dir: str | None = "spool", log_format: str | None = "text",
                  log_level: str | None = "WARNING") -> dict[str, Any]:
    """A bridge with one shop. ``None`` leaves a setting out (the bridge's default applies):
    ``spool_dir=None`` omits ``[server]``; ``log_format`` / ``log_level`` likewise."""
    config: dict[str, Any] = {"database": {"url": db_url}}
    if spool_dir is not None:
        config["server"] = {"spool_dir": spool_dir}
    logging = {key: value for key, value in (("format", log_format), ("level", log_level))
               if value is not None}
    if logging:
        config["logging"] = logging
    config["shops"] = [{"id": shop_id, "webhook_secret": webhook_secret,
                        "upstream": dict(upstream)}]
    return config


def merge(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge ``changes`` into a copy of ``base`` (shops merge by position)."""
    out = copy.deepcopy(dict(base))
    for key, value in changes.items():
        if key == "shops" and isinstance(value, list):
            for index, shop in enumerate(value):
                if index < len(out["shops"]):
                    out["shops"][index] = merge(out["shops"][index], shop)
                else:
                    out["shops"].append(shop)
        elif isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def write_config(path: Path, config: Mapping[str, Any], *, comment: str | None = None) -> Path:
    """Write ``config`` as TOML to ``path`` (a file), after ``comment`` lines if given."""
    header = "".join(f"# {line}\n" for line in comment.splitlines()) if comment else ""
    path.write_text(header + tomli_w.dumps(config), encoding="utf-8")
    return path
