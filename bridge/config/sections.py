"""The schema of each section of the configuration file (see config.example.toml)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import ValidationError, fields, pre_load

from bridge.config.fields import (
    Duration,
    DurationList,
    Flag,
    Number,
    Secret,
    Section,
    Text,
    TextList,
    WholeNumber,
    check_http_url,
    current_context,
)
from bridge.config.model import (
    AFTER_CANCEL_POLICIES,
    DEFAULT_INVOICE_STATUSES,
    FISCAL_CODE_CHECKS,
    JITTER_MODES,
    ON_CHANGE_POLICIES,
    DatabaseSettings,
    DispatchSettings,
    HealthSettings,
    ListenAddress,
    MappingSettings,
    RetrySettings,
    ServerSettings,
    ShopSettings,
    WooRestSettings,
)
from bridge.upstreams.registry import PLUGINS

SHOP_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")  # fullmatch: "$" would let "shop\n" in
SHOP_ID_RULE = ("must be 1-64 characters of a-z, 0-9, '_' or '-', starting with a letter or "
                "digit")


def normalise_database_url(url: str, base_dir: Path | None = None) -> str:
    """Use psycopg 3 for ``postgresql://`` and resolve relative SQLite paths against the
    config file's folder (not the current directory, which differs between services)."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////") and base_dir is not None:
        relative = url[len("sqlite:///"):]
        if relative and relative != ":memory:":
            return f"sqlite:///{(base_dir / relative).resolve()}"
    return url


class DatabaseSection(Section):
    model = DatabaseSettings

    url = Secret(load_default=None)
    sqlite_synchronous = Text(load_default="FULL")
    auto_migrate = Flag(load_default=None)

    def finish(self, data: dict[str, Any]) -> dict[str, Any]:
        base_dir = current_context().base_dir
        raw = data["url"] or f"sqlite:///{base_dir / 'var' / 'invoice-bridge.db'}"
        url = normalise_database_url(raw, base_dir)
        if not url.startswith(("sqlite", "postgresql")):
            raise ValidationError({"url": ["only sqlite:/// and postgresql:// URLs are supported"]})
        synchronous = data["sqlite_synchronous"].upper()
        if synchronous not in ("FULL", "NORMAL", "EXTRA"):
            raise ValidationError({"sqlite_synchronous": ["must be full, normal or extra"]})
        auto = data["auto_migrate"]
        return {"url": url, "sqlite_synchronous": synchronous,
                "auto_migrate": url.startswith("sqlite") if auto is None else auto}


class ServerSection(Section):
    model = ServerSettings

    host = Text(load_default=ServerSettings.host)
    port = WholeNumber(minimum=1, load_default=ServerSettings.port)
    max_body_bytes = WholeNumber(minimum=1024, load_default=ServerSettings.max_body_bytes)
    spool_dir = Text(load_default=ServerSettings.spool_dir)

    def finish(self, data: dict[str, Any]) -> dict[str, Any]:
        data["spool_dir"] = str((current_context().base_dir / data["spool_dir"]).resolve())
        return data


_LISTEN = re.compile(r"^(?:(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[A-Za-z0-9.-]+)):)?"
                     r"(?P<port>[0-9]{1,5})$")


def listen_address(value: str) -> ListenAddress:
    """``"127.0.0.1:8081"``, ``"[::1]:8081"``, ``"0.0.0.0:8081"``, or a port alone
    (``"8081"``: loopback, the safe default for an admin listener)."""
    match = _LISTEN.match(value.strip())
    if match is None or not 1 <= int(match["port"]) <= 65535:
        raise ValidationError(f"must be HOST:PORT (e.g. 127.0.0.1:8081) or a port; got {value!r}")
    return ListenAddress(host=match["v6"] or match["host"] or "127.0.0.1",
                         port=int(match["port"]))


class AdminSection(Section):
    """Bearer tokens, as a list in the file or comma-separated in ``tokens_env``; and where
    the admin API and /metrics listen, if not beside the webhooks."""

    tokens = fields.Raw(load_default=())
    listen = Text(load_default=None)

    def finish(self, data: dict[str, Any]) -> dict[str, Any]:
        raw = data["tokens"]
        if isinstance(raw, str):  # from tokens_env
            tokens = tuple(token.strip() for token in raw.split(",") if token.strip())
        elif isinstance(raw, list | tuple) and all(isinstance(t, str) for t in raw):
            tokens = tuple(raw)
        else:
            raise ValidationError({"tokens": ["must be a list of strings"]})
        short = {index: ["must be at least 16 characters"]
                 for index, token in enumerate(tokens) if len(token) < 16}
        if short:
            raise ValidationError({"tokens": short})
        listen = None
        if data["listen"] is not None:
            try:
                listen = listen_address(data["listen"])
            except ValidationError as exc:
                raise ValidationError({"listen": exc.messages}) from None
        return {"tokens": tokens, "listen": listen}

    @pre_load
    def _tokens_from_environment(self, data: Any, **_: Any) -> Any:
        """``tokens_env`` names a variable holding a comma-separated list."""
        if isinstance(data, dict) and "tokens_env" in data:
            variable = data.get("tokens_env")
            if "tokens" in data:
                raise ValidationError({"tokens": ["give either tokens or tokens_env, not both"]})
            value = current_context().env.get(variable) if isinstance(variable, str) else None
            if not value:
                raise ValidationError({"tokens_env": [
                    f"environment variable {variable} is not set or empty"]})
            data = {**data, "tokens": value}
            del data["tokens_env"]
        return data


class LoggingSection(Section):
    format = Text(choices=("json", "text"), load_default="json")
    level = Text(choices=("DEBUG", "INFO", "WARNING", "ERROR"), load_default="INFO")


class HealthSection(Section):
    model = HealthSettings

    max_heartbeat_age = Duration(load_default=HealthSettings.max_heartbeat_age)
    max_due_age = Duration(load_default=HealthSettings.max_due_age)
    max_intake_age = Duration(load_default=HealthSettings.max_intake_age)
    strict = Flag(load_default=False)


class RetrySection(Section):
    model = RetrySettings

    max_attempts = WholeNumber(minimum=1, load_default=RetrySettings.max_attempts)
    base = Duration(load_default=RetrySettings.base)
    factor = Number(minimum=1, load_default=RetrySettings.factor)
    cap = Duration(load_default=RetrySettings.cap)
    max_age = Duration(load_default=RetrySettings.max_age)
    jitter = Text(choices=JITTER_MODES, load_default="full")
    schedule = DurationList(load_default=())


class DispatchSection(Section):
    model = DispatchSettings
    defaults = DispatchSettings()

    poll_interval = Duration(load_default=defaults.poll_interval)
    listen = Flag(load_default=defaults.listen)
    concurrency = WholeNumber(minimum=1, load_default=defaults.concurrency)
    claim_ahead = WholeNumber(minimum=0, load_default=defaults.claim_ahead)
    lease = Duration(load_default=defaults.lease)
    connect_timeout = Duration(load_default=defaults.connect_timeout)
    read_timeout = Duration(load_default=defaults.read_timeout)
    shutdown_grace = Duration(load_default=defaults.shutdown_grace)
    retry = fields.Nested(RetrySection, load_default=RetrySettings)


class WooCommerceSection(Section):
    model = WooRestSettings

    url = Text(required=True)
    allow_insecure_http = Flag(load_default=False)
    consumer_key = Secret(required=True)
    consumer_secret = Secret(required=True)
    timeout = Duration(load_default=60.0)
    reconcile_interval = Duration(load_default=0.0)
    reconcile_window = Duration(load_default=86400.0)
    write_back = Flag(load_default=False)
    customer_note = Flag(load_default=False)
    write_rate = Number(minimum=0, load_default=WooRestSettings.write_rate)

    def finish(self, data: dict[str, Any]) -> dict[str, Any]:
        try:
            data["url"] = check_http_url(data["url"], allow_insecure=data.pop(
                "allow_insecure_http"))
        except ValidationError as exc:
            raise ValidationError({"url": exc.messages}) from None
        return data


class Upstream(fields.Field[Any]):
    """``[shops.upstream]``: read by the section of the plug-in its ``kind`` names."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, dict):
            raise ValidationError("must be a table")
        kind = value.get("kind", "econt")
        plugin = PLUGINS.get(kind) if isinstance(kind, str) else None
        if plugin is None:
            raise ValidationError({"kind": [
                f"must be one of {', '.join(PLUGINS)}; got {kind!r}"]})
        return plugin.section().load({**value, "kind": kind})


class ShopSection(Section):
    """One ``[[shops]]`` table; the mapping keys sit in it directly."""

    model = ShopSettings
    mapping_defaults = MappingSettings()

    id = Text(required=True)
    webhook_secret = Secret(required=True)
    invoice_statuses = TextList(load_default=DEFAULT_INVOICE_STATUSES)
    invoice_zero_total = Flag(load_default=False)
    on_change = Text(choices=ON_CHANGE_POLICIES, load_default="review")
    record_payments = Flag(load_default=True)
    after_cancel = Text(choices=AFTER_CANCEL_POLICIES, load_default="review")
    upstream = Upstream(required=True, error_messages={"required": "required table is missing"})
    woocommerce = fields.Nested(WooCommerceSection, load_default=None)
    # mapping
    timezone = Text(load_default=mapping_defaults.timezone)
    idno_meta_keys = TextList(load_default=mapping_defaults.idno_meta_keys)
    idnp_meta_keys = TextList(load_default=mapping_defaults.idnp_meta_keys)
    fiscal_code_check = Text(choices=FISCAL_CODE_CHECKS,
                             load_default=mapping_defaults.fiscal_code_check)
    company_id_meta_keys = TextList(load_default=mapping_defaults.company_id_meta_keys)
    vat_id_meta_keys = TextList(load_default=mapping_defaults.vat_id_meta_keys)
    product_unit = Text(load_default=mapping_defaults.product_unit)
    shipping_name = Text(load_default=mapping_defaults.shipping_name)
    rounding_name = Text(load_default=mapping_defaults.rounding_name)
    adjustment_name = Text(load_default=mapping_defaults.adjustment_name)

    def finish(self, data: dict[str, Any]) -> dict[str, Any]:
        errors: dict[str, list[str]] = {}
        if not SHOP_ID.fullmatch(data["id"]):
            errors["id"] = [f"{SHOP_ID_RULE}; got {data['id']!r}"]
        statuses = data["invoice_statuses"]
        if not statuses:
            errors["invoice_statuses"] = ["must list at least one status"]
        elif "checkout-draft" in statuses:
            errors["invoice_statuses"] = ["checkout-draft orders are never invoiced"]
        try:
            ZoneInfo(data["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            errors["timezone"] = [f"unknown time zone {data['timezone']!r}"]
        if errors:
            raise ValidationError(errors)
        mapping = MappingSettings(**{name: data.pop(name) for name in (
            "timezone", "idno_meta_keys", "idnp_meta_keys", "fiscal_code_check",
            "company_id_meta_keys", "vat_id_meta_keys", "product_unit",
            "shipping_name", "rounding_name", "adjustment_name")})
        return {**data, "mapping": mapping}


class RootSection(Section):
    """The whole file; builds a dict the loader turns into ``Settings``."""

    database = fields.Nested(DatabaseSection, load_default=None)
    server = fields.Nested(ServerSection, load_default=None)
    admin = fields.Nested(AdminSection, load_default=None)
    logging = fields.Nested(LoggingSection, load_default=None)
    health = fields.Nested(HealthSection, load_default=HealthSettings)
    dispatch = fields.Nested(DispatchSection, load_default=DispatchSettings)
    shops = fields.List(fields.Nested(ShopSection), load_default=list,
                        error_messages={"invalid": "must be an array of tables ([[shops]])"})
