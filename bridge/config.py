"""Configuration: one TOML file, every secret optionally from the environment.

``load_settings(path)`` reads the file named by ``--config`` or ``INVOICE_BRIDGE_CONFIG`` and
returns frozen dataclasses. Anything wrong fails at start with a ``ConfigError`` that names the
key (``shops[birotica].upstream.token: ...``). Unknown keys are errors too: a typo must not
silently fall back to a default.

Any secret ``<key>`` may instead be given as ``<key>_env = "VARIABLE"``; the value is then read
from that environment variable at start (and the variable must be set).
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bridge.errors import ConfigError

CONFIG_ENV = "INVOICE_BRIDGE_CONFIG"

#: WooCommerce statuses that create an invoice unless a shop says otherwise: the order is
#: either paid (processing, completed) or awaiting an offline payment the invoice asks for
#: (on-hold: bank transfer, cheque). ``pending`` is left out on purpose: abandoned checkouts
#: sit in it forever and would each get an invoice e-mailed to the buyer.
DEFAULT_INVOICE_STATUSES = ("processing", "on-hold", "completed")

ECONT_LANGUAGES = ("ro", "ru", "en", "ro-RO", "ru-RU", "en-US")
REPEATED_ORDER_BEHAVIOURS = ("unknown", "reject", "return_existing", "create_new")
ON_CHANGE_POLICIES = ("review", "ignore")
JITTER_MODES = ("full", "equal", "none")

_SHOP_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}
_REQUIRED: Any = object()


# --- the settings tree ----------------------------------------------------------------------


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = field(repr=False)  # may carry a password
    #: SQLite only: FULL syncs the WAL on every commit, so an acknowledged delivery survives
    #: a power cut; NORMAL is faster but may lose the last commits on power loss.
    sqlite_synchronous: str = "FULL"
    #: apply migrations when ``run``/``worker``/``serve`` start (default: on for SQLite).
    auto_migrate: bool = True

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    max_body_bytes: int = 2 * 1024 * 1024
    #: where authentic deliveries are written when the database is unreachable.
    spool_dir: str = "var/spool"


@dataclass(frozen=True)
class ListenAddress:
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass(frozen=True)
class HealthSettings:
    #: /readyz warns when the newest worker heartbeat is older than this ...
    max_heartbeat_age: float = 60.0
    #: ... or when a due row has waited longer than this
    max_due_age: float = 900.0
    #: also answer 503 for those warnings. Off by default: a receiver that can still store
    #: deliveries must stay in the load balancer, or WooCommerce's deliveries fail for good.
    strict: bool = False


@dataclass(frozen=True)
class RetrySettings:
    max_attempts: int = 8
    base: float = 30.0
    factor: float = 4.0
    cap: float = 12 * 3600.0
    #: stop retrying once the first attempt is this old, whatever the attempt count.
    max_age: float = 3 * 86400.0
    jitter: str = "full"
    #: explicit upper bounds (seconds) for the delay before retry 1, 2, ...; overrides
    #: base/factor when given. The last value repeats.
    schedule: tuple[float, ...] = ()


@dataclass(frozen=True)
class DispatchSettings:
    poll_interval: float = 1.0
    concurrency: int = 4
    #: claimed rows kept queued beyond those in flight (see config.example.toml)
    claim_ahead: int = 4
    lease: float = 60.0
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    shutdown_grace: float = 20.0
    retry: RetrySettings = field(default_factory=RetrySettings)


@dataclass(frozen=True)
class EcontSettings:
    base_url: str
    # secrets never appear in repr(), so a logged or printed settings object leaks nothing
    client_id: str = field(repr=False)
    token: str = field(repr=False)
    language: str = "ro"
    #: what the upstream does when the same ``order.id`` is put twice. The e-Cont.md docs do
    #: not say, so the safe default ``unknown`` never re-sends after an ambiguous failure.
    repeated_order: str = "unknown"
    #: requests per second to this account (0 = unlimited) and the burst allowed.
    rate_limit: float = 5.0
    rate_burst: int = 10
    kind: str = "econt"

    @property
    def account_key(self) -> str:
        """Identifies the upstream account (for rate limits) without exposing credentials."""
        raw = f"{self.kind}|{self.base_url}|{self.client_id}|{self.token}".encode()
        return f"{self.kind}:{hashlib.sha256(raw).hexdigest()[:16]}"


@dataclass(frozen=True)
class WooRestSettings:
    url: str
    consumer_key: str = field(repr=False)
    consumer_secret: str = field(repr=False)
    timeout: float = 60.0
    #: reconcile every N seconds from the worker (0 = off).
    reconcile_interval: float = 0.0
    #: how far back each reconciliation looks.
    reconcile_window: float = 86400.0


@dataclass(frozen=True)
class MappingSettings:
    timezone: str = "Europe/Chisinau"
    idno_meta_keys: tuple[str, ...] = ("_billing_fiscal_code", "_billing_idno", "billing_idno")
    idnp_meta_keys: tuple[str, ...] = ("_billing_idnp", "billing_idnp")
    product_unit: str = "pcs"
    shipping_name: str = "Shipping"
    rounding_name: str = "Rounding difference"
    adjustment_name: str = "Discount capped at the order total"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class ShopSettings:
    id: str
    webhook_secret: str = field(repr=False)
    upstream: EcontSettings
    invoice_statuses: tuple[str, ...] = DEFAULT_INVOICE_STATUSES
    #: send orders whose total is 0 (100% coupons): an invoice *for payment* of nothing is
    #: e-mailed to the buyer, so by default they are skipped with a reason
    invoice_zero_total: bool = False
    on_change: str = "review"
    mapping: MappingSettings = field(default_factory=MappingSettings)
    woocommerce: WooRestSettings | None = None


@dataclass(frozen=True)
class Settings:
    database: DatabaseSettings
    shops: Mapping[str, ShopSettings]
    server: ServerSettings = field(default_factory=ServerSettings)
    dispatch: DispatchSettings = field(default_factory=DispatchSettings)
    health: HealthSettings = field(default_factory=HealthSettings)
    admin_tokens: tuple[str, ...] = field(default=(), repr=False)
    #: where the admin API and /metrics listen, away from the webhooks (None: beside them)
    admin_listen: ListenAddress | None = None
    log_format: str = "json"
    log_level: str = "INFO"
    source: str | None = None

    def shop(self, shop_id: str) -> ShopSettings | None:
        return self.shops.get(shop_id)


# --- reading -----------------------------------------------------------------------------


class _Section:
    """A TOML table being read: typed getters that name the key on error, and a final
    ``done()`` that rejects keys nobody asked for."""

    def __init__(self, data: Any, path: str, env: Mapping[str, str]) -> None:
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: must be a table")
        self.data = data
        self.path = path
        self.env = env
        self.seen: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def _get(self, name: str, default: Any) -> Any:
        self.seen.add(name)
        if name in self.data:
            return self.data[name]
        if default is _REQUIRED:
            raise ConfigError(f"{self.key(name)}: required")
        return default

    def has(self, name: str) -> bool:
        return name in self.data

    def section(self, name: str, *, required: bool = False) -> _Section | None:
        if name not in self.data:
            if required:
                raise ConfigError(f"{self.key(name)}: required table is missing")
            self.seen.add(name)
            return None
        return _Section(self._get(name, None), self.key(name), self.env)

    def str(self, name: str, default: Any = _REQUIRED, *, choices: tuple[str, ...] = ()) -> Any:
        value = self._get(name, default)
        if value is default and default is not _REQUIRED:
            return value
        if not isinstance(value, str):
            raise ConfigError(f"{self.key(name)}: must be a string, got {type(value).__name__}")
        if choices and value not in choices:
            raise ConfigError(
                f"{self.key(name)}: must be one of {', '.join(choices)}; got {value!r}")
        return value

    def bool(self, name: str, default: Any = _REQUIRED) -> Any:
        value = self._get(name, default)
        if not isinstance(value, bool):
            raise ConfigError(f"{self.key(name)}: must be true or false")
        return value

    def number(self, name: str, default: Any = _REQUIRED, *, minimum: float = 0,
               integer: bool = False) -> Any:
        value = self._get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or (
            integer and not isinstance(value, int)
        ):
            kind = "a whole number" if integer else "a number"
            raise ConfigError(f"{self.key(name)}: must be {kind}, got {value!r}")
        if value < minimum:
            raise ConfigError(f"{self.key(name)}: must be at least {minimum}, got {value}")
        return value

    def duration(self, name: str, default: Any = _REQUIRED) -> Any:
        return _duration(self._get(name, default), self.key(name))

    def str_list(self, name: str, default: Any = _REQUIRED) -> tuple[str, ...]:
        value = self._get(name, default)
        if isinstance(value, tuple):
            return value
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{self.key(name)}: must be a list of strings")
        return tuple(value)

    def secret(self, name: str, *, required: bool = True) -> str | None:
        """``name = "..."`` or ``name_env = "VARIABLE"`` (exactly one of them)."""
        env_name = f"{name}_env"
        in_file, via_env = name in self.data, env_name in self.data
        self.seen.update({name, env_name})
        if in_file and via_env:
            raise ConfigError(f"{self.key(name)}: give either {name} or {env_name}, not both")
        if via_env:
            variable = self.data[env_name]
            if not isinstance(variable, str) or not variable:
                raise ConfigError(f"{self.key(env_name)}: must name an environment variable")
            value = self.env.get(variable)
            if not value:
                raise ConfigError(
                    f"{self.key(env_name)}: environment variable {variable} is not set or empty"
                )
            return value
        if in_file:
            value = self.data[name]
            if not isinstance(value, str) or not value:
                raise ConfigError(f"{self.key(name)}: must be a non-empty string")
            return value
        if required:
            raise ConfigError(f"{self.key(name)}: required (or set {env_name})")
        return None

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.seen)
        if unknown:
            raise ConfigError(f"{self.key(unknown[0])}: unknown setting")


def _duration(value: Any, key: str) -> float:
    """``30`` / ``30.5`` (seconds) or ``"250ms"``, ``"30s"``, ``"5m"``, ``"2h"``, ``"3d"``."""
    if isinstance(value, bool):
        raise ConfigError(f"{key}: must be a duration such as 30, \"30s\", \"5m\", \"2h\"")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    else:
        raise ConfigError(
            f"{key}: must be a duration such as 30, \"30s\", \"5m\", \"2h\"; got {value!r}")
    if seconds < 0:
        raise ConfigError(f"{key}: must not be negative")
    return seconds


_LISTEN = re.compile(r"^(?:(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[A-Za-z0-9.-]+)):)?"
                     r"(?P<port>[0-9]{1,5})$")


def _listen_address(value: str, key: str) -> ListenAddress:
    """``"127.0.0.1:8081"``, ``"[::1]:8081"``, ``"0.0.0.0:8081"``, or a port alone
    (``"8081"``: loopback, the safe default for an admin listener)."""
    match = _LISTEN.match(value.strip())
    if match is None or not 1 <= int(match["port"]) <= 65535:
        raise ConfigError(f"{key}: must be HOST:PORT (e.g. 127.0.0.1:8081) or a port; "
                          f"got {value!r}")
    return ListenAddress(host=match["v6"] or match["host"] or "127.0.0.1",
                         port=int(match["port"]))


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_url(url: str, key: str, *, allow_insecure: bool) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{key}: must be an http(s) URL with a host; got {url!r}")
    if parts.username or parts.password:
        raise ConfigError(f"{key}: must not carry credentials; use the *_env secrets instead")
    if parts.scheme == "http" and not (allow_insecure or is_loopback_url(url)):
        raise ConfigError(
            f"{key}: plain http is only allowed for loopback hosts (127.0.0.1, ::1, localhost); "
            "use https, or set allow_insecure_http = true if you really mean it"
        )
    return url.rstrip("/")


def _database(section: _Section | None, base_dir: Path) -> DatabaseSettings:
    default_url = f"sqlite:///{base_dir / 'var' / 'invoice-bridge.db'}"
    if section is None:
        return DatabaseSettings(url=default_url)
    url = normalise_database_url(section.secret("url", required=False) or default_url, base_dir)
    if not url.startswith(("sqlite", "postgresql")):
        raise ConfigError(
            f"{section.key('url')}: only sqlite:/// and postgresql:// URLs are supported")
    sync = section.str("sqlite_synchronous", "FULL").upper()
    if sync not in ("FULL", "NORMAL", "EXTRA"):
        raise ConfigError(f"{section.key('sqlite_synchronous')}: must be full, normal or extra")
    auto = section.bool("auto_migrate", url.startswith("sqlite"))
    section.done()
    return DatabaseSettings(url=url, sqlite_synchronous=sync, auto_migrate=auto)


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


def _retry(section: _Section | None) -> RetrySettings:
    if section is None:
        return RetrySettings()
    d = RetrySettings()
    schedule_raw = section._get("schedule", [])
    if not isinstance(schedule_raw, list):
        raise ConfigError(f"{section.key('schedule')}: must be a list of durations")
    schedule = tuple(_duration(value, f"{section.key('schedule')}[{index}]")
                     for index, value in enumerate(schedule_raw))
    settings = RetrySettings(
        max_attempts=section.number("max_attempts", d.max_attempts, minimum=1, integer=True),
        base=section.duration("base", d.base),
        factor=section.number("factor", d.factor, minimum=1),
        cap=section.duration("cap", d.cap),
        max_age=section.duration("max_age", d.max_age),
        jitter=section.str("jitter", d.jitter, choices=JITTER_MODES),
        schedule=schedule,
    )
    section.done()
    return settings


def _dispatch(section: _Section | None) -> DispatchSettings:
    if section is None:
        return DispatchSettings()
    d = DispatchSettings()
    settings = DispatchSettings(
        poll_interval=section.duration("poll_interval", d.poll_interval),
        concurrency=section.number("concurrency", d.concurrency, minimum=1, integer=True),
        claim_ahead=section.number("claim_ahead", d.claim_ahead, minimum=0, integer=True),
        lease=section.duration("lease", d.lease),
        connect_timeout=section.duration("connect_timeout", d.connect_timeout),
        read_timeout=section.duration("read_timeout", d.read_timeout),
        shutdown_grace=section.duration("shutdown_grace", d.shutdown_grace),
        retry=_retry(section.section("retry")),
    )
    if settings.lease <= settings.connect_timeout + settings.read_timeout:
        raise ConfigError(
            f"{section.key('lease')}: must exceed connect_timeout + read_timeout "
            f"({settings.connect_timeout + settings.read_timeout:g}s), or a slow request could "
            "lose its lease while still in flight"
        )
    section.done()
    return settings


def _health(section: _Section | None) -> HealthSettings:
    if section is None:
        return HealthSettings()
    d = HealthSettings()
    settings = HealthSettings(
        max_heartbeat_age=section.duration("max_heartbeat_age", d.max_heartbeat_age),
        max_due_age=section.duration("max_due_age", d.max_due_age),
        strict=section.bool("strict", d.strict),
    )
    section.done()
    return settings


def _econt(section: _Section) -> EcontSettings:
    allow_insecure = section.bool("allow_insecure_http", False)
    base_url = _check_url(section.str("base_url", "https://api.diginet.md"),
                          section.key("base_url"), allow_insecure=allow_insecure)
    settings = EcontSettings(
        base_url=base_url,
        client_id=section.secret("client_id") or "",
        token=section.secret("token") or "",
        language=section.str("language", "ro", choices=ECONT_LANGUAGES),
        repeated_order=section.str("repeated_order", "unknown", choices=REPEATED_ORDER_BEHAVIOURS),
        rate_limit=section.number("rate_limit", 5.0),
        rate_burst=section.number("rate_burst", 10, minimum=1, integer=True),
    )
    section.done()
    return settings


_UPSTREAM_READERS: dict[str, Callable[[_Section], EcontSettings]] = {"econt": _econt}


def _upstream(section: _Section) -> EcontSettings:
    kind = section.str("kind", "econt", choices=tuple(_UPSTREAM_READERS))
    return _UPSTREAM_READERS[kind](section)


def _woocommerce(section: _Section | None) -> WooRestSettings | None:
    if section is None:
        return None
    allow_insecure = section.bool("allow_insecure_http", False)
    settings = WooRestSettings(
        url=_check_url(section.str("url"), section.key("url"), allow_insecure=allow_insecure),
        consumer_key=section.secret("consumer_key") or "",
        consumer_secret=section.secret("consumer_secret") or "",
        timeout=section.duration("timeout", 60.0),
        reconcile_interval=section.duration("reconcile_interval", 0.0),
        reconcile_window=section.duration("reconcile_window", 86400.0),
    )
    section.done()
    return settings


def _mapping(section: _Section) -> MappingSettings:
    d = MappingSettings()
    timezone = section.str("timezone", d.timezone)
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{section.key('timezone')}: unknown time zone {timezone!r}") from None
    return MappingSettings(
        timezone=timezone,
        idno_meta_keys=section.str_list("idno_meta_keys", d.idno_meta_keys),
        idnp_meta_keys=section.str_list("idnp_meta_keys", d.idnp_meta_keys),
        product_unit=section.str("product_unit", d.product_unit),
        shipping_name=section.str("shipping_name", d.shipping_name),
        rounding_name=section.str("rounding_name", d.rounding_name),
        adjustment_name=section.str("adjustment_name", d.adjustment_name),
    )


def _shop(data: Any, index: int, env: Mapping[str, str]) -> ShopSettings:
    probe = _Section(data, f"shops[{index}]", env)
    shop_id = probe.str("id")
    if not _SHOP_ID.match(shop_id):
        raise ConfigError(
            f"shops[{index}].id: must be 1-64 characters of a-z, 0-9, '_' or '-', "
            f"starting with a letter or digit; got {shop_id!r}"
        )
    section = _Section(data, f"shops[{shop_id}]", env)
    section.seen.add("id")
    statuses = section.str_list("invoice_statuses", DEFAULT_INVOICE_STATUSES)
    if not statuses:
        raise ConfigError(f"{section.key('invoice_statuses')}: must list at least one status")
    if "checkout-draft" in statuses:
        raise ConfigError(
            f"{section.key('invoice_statuses')}: checkout-draft orders are never invoiced")
    upstream = section.section("upstream", required=True)
    assert upstream is not None
    settings = ShopSettings(
        id=shop_id,
        webhook_secret=section.secret("webhook_secret") or "",
        invoice_statuses=statuses,
        invoice_zero_total=section.bool("invoice_zero_total", False),
        on_change=section.str("on_change", "review", choices=ON_CHANGE_POLICIES),
        mapping=_mapping(section),
        upstream=_upstream(upstream),
        woocommerce=_woocommerce(section.section("woocommerce")),
    )
    section.done()
    return settings


def parse_settings(data: Mapping[str, Any], *, env: Mapping[str, str] | None = None,
                   base_dir: Path | None = None, source: str | None = None) -> Settings:
    """Validate a parsed TOML document into ``Settings``."""
    env = os.environ if env is None else env
    base_dir = (base_dir or Path.cwd()).resolve()
    root = _Section(dict(data), "", env)

    server_section = root.section("server")
    server = ServerSettings()
    if server_section is not None:
        spool = server_section.str("spool_dir", server.spool_dir)
        server = ServerSettings(
            host=server_section.str("host", server.host),
            port=server_section.number("port", server.port, minimum=1, integer=True),
            max_body_bytes=server_section.number("max_body_bytes", server.max_body_bytes,
                                                 minimum=1024, integer=True),
            spool_dir=str((base_dir / spool).resolve()),
        )
        server_section.done()
    else:
        server = ServerSettings(spool_dir=str((base_dir / server.spool_dir).resolve()))

    admin_section = root.section("admin")
    tokens: tuple[str, ...] = ()
    admin_listen = None
    if admin_section is not None:
        if admin_section.has("listen"):
            admin_listen = _listen_address(admin_section.str("listen"), admin_section.key("listen"))
            if admin_listen.port == server.port:
                raise ConfigError(f"{admin_section.key('listen')}: must use another port than "
                                  f"server.port ({server.port})")
        if admin_section.has("tokens_env"):
            raw = admin_section.secret("tokens") or ""
            tokens = tuple(t.strip() for t in raw.split(",") if t.strip())
        else:
            tokens = admin_section.str_list("tokens", ())
        for i, token in enumerate(tokens):
            if len(token) < 16:
                raise ConfigError(f"admin.tokens[{i}]: must be at least 16 characters")
        admin_section.done()

    log_section = root.section("logging")
    log_format, log_level = "json", "INFO"
    if log_section is not None:
        log_format = log_section.str("format", "json", choices=("json", "text"))
        log_level = log_section.str("level", "INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
        log_section.done()

    shops_raw = root._get("shops", [])
    if not isinstance(shops_raw, list):
        raise ConfigError("shops: must be an array of tables ([[shops]])")
    shops: dict[str, ShopSettings] = {}
    for index, shop_data in enumerate(shops_raw):
        shop = _shop(shop_data, index, env)
        if shop.id in shops:
            raise ConfigError(f"shops[{index}].id: duplicate shop id {shop.id!r}")
        shops[shop.id] = shop
    _check_shared_accounts(shops)

    settings = Settings(
        database=_database(root.section("database"), base_dir),
        server=server,
        dispatch=_dispatch(root.section("dispatch")),
        health=_health(root.section("health")),
        shops=shops,
        admin_tokens=tokens,
        admin_listen=admin_listen,
        log_format=log_format,
        log_level=log_level,
        source=source,
    )
    root.done()
    return settings


def _check_shared_accounts(shops: Mapping[str, ShopSettings]) -> None:
    """Two shops on one e-Cont.md account would both send ``order.id`` 1001 for different
    orders; the upstream could merge or reject them. Refuse that configuration."""
    owners: dict[str, str] = {}
    for shop in shops.values():
        key = shop.upstream.account_key
        if key in owners:
            raise ConfigError(
                f"shops[{shop.id}].upstream: uses the same upstream account as shop "
                f"{owners[key]!r}; their order ids would collide in the upstream"
            )
        owners[key] = shop.id


def config_path(explicit: str | None = None) -> Path:
    raw = explicit or os.environ.get(CONFIG_ENV)
    if not raw:
        raise ConfigError(f"no configuration: pass --config PATH or set {CONFIG_ENV}")
    return Path(raw)


def load_settings(path: str | os.PathLike[str] | None = None, *,
                  env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the TOML file at ``path`` (default: ``$INVOICE_BRIDGE_CONFIG``)."""
    file = config_path(str(path) if path else None)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{file}: configuration file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    return parse_settings(data, env=env, base_dir=file.parent, source=str(file))
