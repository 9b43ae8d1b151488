"""What the simulated Fakturoid holds: accounts, API credentials, subjects, invoices (and
correction documents), their lines and payments -- each with its JSON as the API shows it.

Totals are computed the way ``bridge.upstreams.fakturoid.assumptions.line_totals`` says
(our assumption of Fakturoid's rounding: per line, 2 places, half up)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from bridge.upstreams.fakturoid import assumptions as fak
from sandbox.fakturoid.responses import amount


@dataclass
class Account:
    slug: str
    name: str = "Sandbox Shop s.r.o."
    currency: str = "CZK"
    vat_payer: bool = True
    #: [DOC] creating an invoice without a bank account in the account: 403
    has_bank_account: bool = True
    #: [DOC] an account blocked for an unpaid Fakturoid bill answers 402
    blocked: bool = False
    #: the plan's subject limit ([DOC] 403 when reached); None = no limit
    subject_limit: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"subdomain": self.slug, "plan": "Sandbox", "name": self.name,
                "currency": self.currency, "country": "CZ",
                "vat_mode": "vat_payer" if self.vat_payer else "non_vat_payer",
                "vat_price_mode": fak.PRICE_WITHOUT_VAT, "due": 14, "invoice_language": "cz",
                "invoice_payment_method": None}


@dataclass
class Client:
    """A Client ID / Client Secret pair of a user (Settings > User account)."""

    client_id: str
    secret: str
    slugs: tuple[str, ...]
    email: str = "owner@sandbox.example"


@dataclass
class Token:
    value: str
    client_id: str
    expires_at: float


@dataclass
class Subject:
    id: int
    account: str
    fields: dict[str, Any]
    created_at: datetime

    @property
    def custom_id(self) -> Any:
        return self.fields.get("custom_id")

    def to_json(self, base: str) -> dict[str, Any]:
        data = {"id": self.id, "custom_id": None, "type": "customer", "name": None,
                "country": "CZ", **self.fields}
        data.update(url=f"{base}/subjects/{self.id}.json",
                    created_at=self.created_at.isoformat(), updated_at=self.created_at.isoformat())
        return data


@dataclass
class Line:
    id: int
    name: str
    quantity: Decimal
    unit_name: str
    unit_price: Decimal
    vat_rate: Decimal
    mode: str

    @property
    def totals(self) -> tuple[Decimal, Decimal, Decimal]:
        return fak.line_totals(self.unit_price, self.quantity, self.vat_rate, self.mode)

    def to_json(self) -> dict[str, Any]:
        net, vat, _ = self.totals
        unit_net, _, unit_gross = fak.line_totals(self.unit_price, Decimal(1), self.vat_rate,
                                                  self.mode)
        rate: Any = int(self.vat_rate) if self.vat_rate == int(self.vat_rate) else amount(
            self.vat_rate)
        return {"id": self.id, "name": self.name, "quantity": amount(self.quantity),
                "unit_name": self.unit_name, "unit_price": amount(self.unit_price),
                "vat_rate": rate, "unit_price_without_vat": amount(unit_net),
                "unit_price_with_vat": amount(unit_gross),
                "total_price_without_vat": amount(net), "total_vat": amount(vat),
                "native_total_price_without_vat": amount(net), "native_total_vat": amount(vat),
                "inventory": None}


@dataclass
class Payment:
    id: int
    paid_on: date
    amount: Decimal
    currency: str
    variable_symbol: str
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "paid_on": self.paid_on.isoformat(), "currency": self.currency,
                "amount": amount(self.amount), "native_amount": amount(self.amount),
                "variable_symbol": self.variable_symbol, "bank_account_id": None,
                "tax_document_id": None, "created_at": self.created_at.isoformat(),
                "updated_at": self.created_at.isoformat()}


@dataclass
class Invoice:
    id: int
    account: str
    number: str
    subject_id: int
    document_type: str
    #: the writable attributes as sent (lines excepted)
    fields: dict[str, Any]
    lines: list[Line]
    currency: str
    issued_on: date
    created_at: datetime
    status: str = "open"
    payments: list[Payment] = field(default_factory=list)
    paid_on: date | None = None
    cancelled_at: datetime | None = None
    locked_at: datetime | None = None
    uncollectible_at: datetime | None = None
    sent: bool = False

    @property
    def custom_id(self) -> Any:
        return self.fields.get("custom_id")

    @property
    def variable_symbol(self) -> str:
        return "".join(ch for ch in self.number if ch.isdigit())

    @property
    def subtotal(self) -> Decimal:
        return sum((line.totals[0] for line in self.lines), Decimal(0))

    @property
    def total(self) -> Decimal:
        return sum((line.totals[2] for line in self.lines), Decimal(0))

    @property
    def remaining(self) -> Decimal:
        return self.total - sum((payment.amount for payment in self.payments), Decimal(0))

    def to_json(self, base: str) -> dict[str, Any]:
        summary: dict[Decimal, list[Decimal]] = {}
        for line in self.lines:
            net, vat, _ = line.totals
            sums = summary.setdefault(line.vat_rate, [Decimal(0), Decimal(0)])
            sums[0] += net
            sums[1] += vat
        rate_of = self.fields.get("exchange_rate")
        data = {
            "id": self.id, "custom_id": None, "document_type": self.document_type,
            "correction_id": None, "number": self.number,
            "variable_symbol": self.variable_symbol, "subject_id": self.subject_id,
            "order_number": None, "due": 14, "language": "cz", "payment_method": "bank",
            "vat_price_mode": fak.PRICE_WITHOUT_VAT,
            **{key: value for key, value in self.fields.items() if key != "exchange_rate"},
            "status": self.status, "issued_on": self.issued_on.isoformat(),
            "taxable_fulfillment_due": self.issued_on.isoformat(),
            "paid_on": self.paid_on.isoformat() if self.paid_on else None,
            "cancelled_at": self.cancelled_at.isoformat() if self.cancelled_at else None,
            "locked_at": self.locked_at.isoformat() if self.locked_at else None,
            "currency": self.currency,
            "exchange_rate": amount(Decimal(str(rate_of))) if rate_of else "1.0",
            "subtotal": amount(self.subtotal), "total": amount(self.total),
            "native_subtotal": amount(self.subtotal), "native_total": amount(self.total),
            "rounding_adjustment": "0.0", "remaining_amount": amount(max(self.remaining,
                                                                         Decimal(0))),
            "lines": [line.to_json() for line in self.lines],
            "vat_rates_summary": [
                {"vat_rate": int(rate) if rate == int(rate) else amount(rate),
                 "base": amount(net), "vat": amount(vat), "currency": self.currency}
                for rate, (net, vat) in sorted(summary.items())],
            "payments": [payment.to_json() for payment in self.payments],
            "url": f"{base}/invoices/{self.id}.json",
            "pdf_url": f"{base}/invoices/{self.id}/download.pdf",
            "subject_url": f"{base}/subjects/{self.subject_id}.json",
            "created_at": self.created_at.isoformat(),
            "updated_at": self.created_at.isoformat(),
        }
        return data
