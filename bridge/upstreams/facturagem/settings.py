"""``[shops.upstream]`` for ``kind = "facturagem"``: the login and password of a FACTURAgem
user who has a password (one who signs in with Twitter or Facebook must set one first), and
how invoices are written. docs/facturagem.md describes every key."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from marshmallow import ValidationError

from bridge.config.fields import Secret, Text
from bridge.mapping.fiscal import normalise_currency
from bridge.upstreams.facturagem import assumptions
from bridge.upstreams.settings import UpstreamSection, UpstreamSettings

LINE_PRICES = ("gross", "net")


@dataclass(frozen=True, kw_only=True)
class FacturagemSettings(UpstreamSettings):
    kind: str = "facturagem"
    base_url: str = assumptions.DEFAULT_BASE_URL
    # secrets never appear in repr(), so a logged or printed settings object leaks nothing
    login: str = field(repr=False)
    password: str = field(repr=False)
    #: the account's id ("1-my-shop"); "" = the user's account, as GET accounts.json says
    account_id: str = ""
    #: where the api_key goes (assumptions.API_KEY_PLACES)
    api_key_in: str = "query"
    #: "gross": line prices include IVA (the invoice total is exactly the order's);
    #: "net": prices without it, FACTURAgem adds the tax (its rounding may differ by cents)
    line_prices: str = "gross"
    #: the account's currency: an order in it is sent without a currency field
    account_currency: str = "EUR"
    #: FACTURAgem folds no repeated invoice: a repeat creates another one
    repeated_order: str = "unknown"

    account_fields: ClassVar[tuple[str, ...]] = ("login", "account_id")


class FacturagemSection(UpstreamSection):
    model = FacturagemSettings
    default_base_url = assumptions.DEFAULT_BASE_URL
    #: nothing makes FACTURAgem refuse or fold a repeated invoice; the adapter looks invoices
    #: up instead (find_invoice), so "reject" or "return_existing" would only be untrue
    repeated_order_choices = ("unknown", "create_new")

    login = Secret(required=True)
    password = Secret(required=True)
    account_id = Text(load_default="")
    api_key_in = Text(choices=assumptions.API_KEY_PLACES, load_default="query")
    line_prices = Text(choices=LINE_PRICES, load_default="gross")
    account_currency = Text(load_default="EUR")

    def finish(self, data: dict[str, Any]) -> dict[str, Any]:
        errors: dict[str, list[str]] = {}
        try:
            data = super().finish(data)
        except ValidationError as exc:
            errors.update(exc.messages)  # type: ignore[arg-type]
        account = data["account_id"].strip()
        if account and not assumptions.ID_PATTERN.match(account):
            errors["account_id"] = [
                "must be the account's id as FACTURAgem shows it in its URLs (letters, "
                f"digits, '-', '_', '.'), e.g. \"1-my-shop\"; got {account!r}"]
        data["account_id"] = account
        try:
            data["account_currency"] = normalise_currency(data["account_currency"])
        except ValueError as exc:
            errors["account_currency"] = [str(exc)]
        if errors:
            raise ValidationError(errors)
        return data
