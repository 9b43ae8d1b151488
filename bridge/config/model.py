"""The settings tree: frozen dataclasses, read by the rest of the code.

``bridge.config.load`` builds it from the TOML file; tests may build it directly. Secrets are
fields with ``repr=False``, so a logged or printed settings object leaks none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from bridge.upstreams.settings import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_READ_TIMEOUT,
    UpstreamSettings,
)

#: WooCommerce statuses that create an invoice unless a shop says otherwise: the order is
#: either paid (processing, completed) or awaiting an offline payment the invoice asks for
#: (on-hold: bank transfer, cheque). ``pending`` is left out on purpose: abandoned checkouts
#: sit in it forever and would each get an invoice e-mailed to the buyer.
DEFAULT_INVOICE_STATUSES = ("processing", "on-hold", "completed")
ON_CHANGE_POLICIES = ("review", "ignore")
AFTER_CANCEL_POLICIES = ("review", "cancel", "correct")
JITTER_MODES = ("full", "equal", "none")
#: what an IDNO whose check digit does not match does: stop the order (``invalid``), or be
#: sent as given with a note on the row (bridge.mapping.fiscal)
FISCAL_CODE_CHECKS = ("stop", "warn")



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
    #: ... or when a stored delivery has waited longer than this to be processed
    max_intake_age: float = 300.0
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
    #: on PostgreSQL, wake at once on NOTIFY (``bridge.dispatch.listen``); the poll stays
    listen: bool = True
    concurrency: int = 4
    #: claimed rows kept queued beyond those in flight (see config.example.toml)
    claim_ahead: int = 4
    lease: float = 60.0
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    shutdown_grace: float = 20.0
    retry: RetrySettings = field(default_factory=RetrySettings)


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
    #: write each order's invoice (or why it has none) back to the order: a note and
    #: ``_invoice_bridge_*`` meta (bridge/writeback; needs a Read/Write key)
    write_back: bool = False
    #: the invoice note is shown to the customer (and e-mailed by WooCommerce); notes about
    #: failures are always private
    customer_note: bool = False
    #: write-back requests per second to this shop (a note and a meta update per order),
    #: so a backlog never floods a small WordPress host; 0 = no limit
    write_rate: float = 2.0


@dataclass(frozen=True)
class MappingSettings:
    timezone: str = "Europe/Chisinau"
    idno_meta_keys: tuple[str, ...] = ("_billing_fiscal_code", "_billing_idno", "billing_idno")
    idnp_meta_keys: tuple[str, ...] = ("_billing_idnp", "billing_idnp")
    fiscal_code_check: str = "stop"
    #: meta keys of a company buyer's registration number and VAT number; the defaults are
    #: keys checkout-field plugins commonly use -- set your shop's own
    company_id_meta_keys: tuple[str, ...] = ("_billing_company_id", "_billing_ic", "billing_ic")
    vat_id_meta_keys: tuple[str, ...] = ("_billing_vat_number", "_vat_number", "vat_number",
                                         "_billing_dic", "billing_dic")
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
    upstream: UpstreamSettings
    invoice_statuses: tuple[str, ...] = DEFAULT_INVOICE_STATUSES
    #: send orders whose total is 0 (100% coupons): an invoice *for payment* of nothing is
    #: e-mailed to the buyer, so by default they are skipped with a reason
    invoice_zero_total: bool = False
    on_change: str = "review"
    #: record an invoiced order's payment upstream when it is paid (if the upstream can)
    record_payments: bool = True
    #: an invoiced order cancelled or refunded in the shop: "review" (a person decides),
    #: "cancel" (cancel the invoice upstream, if it can) or "correct" (a correction
    #: document for each refund, if it can)
    after_cancel: str = "review"
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
