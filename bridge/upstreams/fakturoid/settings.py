"""``[shops.upstream]`` for ``kind = "fakturoid"``: the account slug, the Client ID and Client
Secret of the Client Credentials flow (Fakturoid: Settings > User account), the mandatory
User-Agent, and how invoices are written (prices with or without VAT, exchange rates,
payment methods, language, due days). docs/fakturoid.md describes every key."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

from marshmallow import ValidationError, fields

from bridge.config.fields import Number, Secret, Text, WholeNumber
from bridge.mapping.fiscal import normalise_currency
from bridge.upstreams.fakturoid import assumptions
from bridge.upstreams.settings import UpstreamSection, UpstreamSettings

#: "auto": as the shop enters prices (WooCommerce ``prices_include_tax``)
PRICE_MODES = ("auto", "with_vat", "without_vat")
#: the slug is the account name in Fakturoid's web addresses; it goes into every URL path
_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")
_GATEWAY_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")
MAX_TABLE_ENTRIES = 100
_RATE = re.compile(rf"^[0-9]{{1,9}}(?:\.[0-9]{{1,{assumptions.MAX_PRICE_PLACES}}})?$")

#: WooCommerce gateway id -> Fakturoid payment method, for the gateways WooCommerce ships and
#: the most common card and PayPal plug-ins; ``payment_methods`` adds or overrides entries.
DEFAULT_PAYMENT_METHODS: tuple[tuple[str, str], ...] = (
    ("bacs", "bank"),
    ("cheque", "custom"),
    ("cod", "cod"),
    ("paypal", "paypal"),
    ("ppcp-gateway", "paypal"),
    ("ppec_paypal", "paypal"),
    ("stripe", "card"),
    ("woocommerce_payments", "card"),
    ("square_credit_card", "card"),
    ("braintree_credit_card", "card"),
)


@dataclass(frozen=True, kw_only=True)
class FakturoidSettings(UpstreamSettings):
    kind: str = "fakturoid"
    base_url: str = assumptions.DEFAULT_BASE_URL
    account_slug: str
    # secrets never appear in repr(), so a logged or printed settings object leaks nothing
    client_id: str = field(repr=False)
    client_secret: str = field(repr=False)
    #: "Name (contact e-mail)", sent with every request ([DOC]: mandatory)
    user_agent: str
    vat_price_mode: str = "auto"
    #: the Fakturoid account's currency; an order in another one needs an exchange rate
    account_currency: str = "CZK"
    #: (currency, rate to the account currency) pairs
    exchange_rates: tuple[tuple[str, Decimal], ...] = ()
    #: (WooCommerce gateway id, Fakturoid payment method) pairs, defaults included
    payment_methods: tuple[tuple[str, str], ...] = DEFAULT_PAYMENT_METHODS
    #: for gateways not in ``payment_methods``; "" = the account's default
    payment_method_default: str = ""
    #: "" = the account's default
    language: str = ""
    #: days until the invoice is due; None = the account's default
    due: int | None = None
    # Each invoice costs 2-4 requests (contact lookup and creation, the invoice, a lookup
    # after a lost answer) and Fakturoid allows 400 per 60 s: 1.5 invoices/s stays under.
    rate_limit: float = 1.5
    rate_burst: int = 5

    account_fields: ClassVar[tuple[str, ...]] = ("account_slug", "client_id")

    @property
    def dedupes_repeats(self) -> bool:
        return False  # [ASSUMPTION] custom_id is not unique: a repeat is a second invoice

    def exchange_rate(self, currency: str) -> Decimal | None:
        return dict(self.exchange_rates).get(currency)

    def payment_method(self, gateway: str) -> str:
        return dict(self.payment_methods).get(gateway, self.payment_method_default)


class RateTable(fields.Field[tuple[tuple[str, Decimal], ...]]):
    """``{EUR = "24.35"}``: ISO 4217 code -> a positive rate, written as a string (or a whole
    number) so that no digit is lost to a binary float."""

    def _deserialize(self, value: Any, attr: str | None, data: Any,
                     **kwargs: Any) -> tuple[tuple[str, Decimal], ...]:
        if not isinstance(value, dict):
            raise ValidationError('must be a table such as { EUR = "24.35" }')
        if len(value) > MAX_TABLE_ENTRIES:
            raise ValidationError(f"at most {MAX_TABLE_ENTRIES} entries")
        rates, errors = [], {}
        for key, text in value.items():
            try:
                currency = normalise_currency(str(key))
                rate = _rate(text)
            except ValueError as exc:
                errors[str(key)] = [str(exc)]
                continue
            rates.append((currency, rate))
        if errors:
            raise ValidationError(errors)
        return tuple(sorted(rates))


def _rate(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f'write the rate as a string, e.g. "24.35"; got {value!r}')
    text = str(value).strip()
    if not _RATE.match(text) or Decimal(text) <= 0:
        raise ValueError(f"must be a positive number with at most "
                         f"{assumptions.MAX_PRICE_PLACES} decimal places; got {value!r}")
    return Decimal(text)


class MethodTable(fields.Field[tuple[tuple[str, str], ...]]):
    """``{ bacs = "bank", "comgate" = "card" }``: WooCommerce gateway id -> Fakturoid
    payment method."""

    def _deserialize(self, value: Any, attr: str | None, data: Any,
                     **kwargs: Any) -> tuple[tuple[str, str], ...]:
        if not isinstance(value, dict):
            raise ValidationError('must be a table such as { bacs = "bank" }')
        if len(value) > MAX_TABLE_ENTRIES:
            raise ValidationError(f"at most {MAX_TABLE_ENTRIES} entries")
        errors = {}
        for gateway, method in value.items():
            if not _GATEWAY_ID.match(str(gateway)):
                errors[str(gateway)] = ["not a WooCommerce gateway id (letters, digits, _.:-)"]
            elif method not in assumptions.PAYMENT_METHODS:
                errors[str(gateway)] = [f"must be one of {', '.join(assumptions.PAYMENT_METHODS)};"
                                        f" got {method!r}"]
        if errors:
            raise ValidationError(errors)
        return tuple(sorted(value.items()))


def _check_slug(value: str) -> None:
    if not _SLUG.match(value):
        raise ValidationError(
            "must be the account name from Fakturoid's web address (1-100 letters, digits, '-' "
            f"or '_'); got {value[:100]!r}")


def _check_user_agent(value: str) -> None:
    if not assumptions.USER_AGENT_PATTERN.match(value):
        raise ValidationError(
            f'must be "{assumptions.USER_AGENT_FORMAT}": your application\'s name and a '
            f"technical contact e-mail in parentheses (Fakturoid requires it); got "
            f"{value[:200]!r}")


def _check_currency(value: str) -> None:
    try:
        normalise_currency(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


def _one_of(choices: tuple[str, ...]) -> Any:
    def check(value: str) -> None:
        if value and value not in choices:
            raise ValidationError(f"must be one of {', '.join(choices)} (or left out for the "
                                  f"account's default); got {value[:100]!r}")
    return check


class FakturoidSection(UpstreamSection):
    model = FakturoidSettings
    default_base_url = assumptions.DEFAULT_BASE_URL
    #: [ASSUMPTION] invoice custom_id is not unique: a repeated order is a second invoice
    repeated_order_choices = ("unknown", "create_new")

    account_slug = Text(required=True, validate=_check_slug)
    client_id = Secret(required=True)
    client_secret = Secret(required=True)
    user_agent = Text(required=True, validate=_check_user_agent)
    vat_price_mode = Text(choices=PRICE_MODES, load_default="auto")
    account_currency = Text(load_default="CZK", validate=_check_currency)
    exchange_rates = RateTable(load_default=())
    payment_methods = MethodTable(load_default=())
    payment_method_default = Text(load_default="",
                                  validate=_one_of(assumptions.PAYMENT_METHODS))
    language = Text(load_default="", validate=_one_of(assumptions.LANGUAGES))
    due = WholeNumber(minimum=0, load_default=None)
    rate_limit = Number(load_default=1.5)
    rate_burst = WholeNumber(minimum=1, load_default=5)

    def finish(self, data: dict[str, Any]) -> dict[str, Any]:
        data = super().finish(data)
        data["account_currency"] = normalise_currency(data["account_currency"])
        data["payment_methods"] = tuple(sorted(
            {**dict(DEFAULT_PAYMENT_METHODS), **dict(data["payment_methods"])}.items()))
        return data
