"""``FacturagemState``: the simulated FACTURAgem -- users and their sessions, accounts,
clients, invoices and payments, switches, counters and the queued faults -- behind one lock.

How invoices add up is our assumption (FACTURAgem documents no field): amounts in cents
(half up); with ``prices_include_tax`` a line's total is quantity x price and its IVA is
taken out of it, without it the IVA is added to quantity x price. The invoice's total is the
sum of its lines' totals; it is ``paid`` once its payments cover it.
"""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from bridge.upstreams.facturagem import assumptions
from sandbox.kit.faults import FaultInjector

#: The sandbox user every simulator knows unless told otherwise. Not a secret: it only opens
#: this simulator.
DEMO_LOGIN = "demo@facturagem.example"
DEMO_PASSWORD = "demo-password"  # noqa: S105 -- public sandbox password
DEMO_ACCOUNT_ID = "1-demo-shop"  # shaped like the docs' "1-kovacek-nienow"

SUMMARY_MODES = ("full", "brief")
CENT = Decimal("0.01")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class User:
    login: str
    password: str
    account_id: str
    api_key: str | None = None


@dataclass
class Account:
    id: str
    name: str
    currency: str = "EUR"

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "currency": self.currency}


@dataclass
class Client:
    id: int
    account_id: str
    fields: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, **{name: self.fields.get(name)
                                  for name in assumptions.CLIENT_FIELDS}}


@dataclass
class Payment:
    id: int
    amount: Decimal
    date: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "amount": self.amount, "date": self.date}


@dataclass
class Invoice:
    id: int
    account_id: str
    client_id: int
    number: str
    date: str
    fields: dict[str, Any]
    lines: list[dict[str, Any]]
    total: Decimal
    payments: list[Payment] = field(default_factory=list)
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def notes(self) -> str:
        return str(self.fields.get("notes") or "")

    @property
    def reference(self) -> str | None:
        return assumptions.reference_in_notes(self.notes)

    @property
    def order_id(self) -> int | None:
        """The WooCommerce order the bridge made it for (its reference "shop:order")."""
        reference = self.reference
        number = reference.rpartition(":")[2] if reference else ""
        return int(number) if number.isdigit() else None

    @property
    def paid_amount(self) -> Decimal:
        return sum((payment.amount for payment in self.payments), Decimal(0))

    @property
    def paid(self) -> bool:
        return self.paid_amount >= self.total

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "number": self.number, "date": self.date,
                "client_id": self.client_id, **self.fields, "lines": self.lines,
                "total": self.total, "paid": self.paid,
                "payments": [payment.to_json() for payment in self.payments]}


def line_totals(line: Mapping[str, Any], prices_include_tax: bool) -> dict[str, Any]:
    """A line as the simulated FACTURAgem computes it (see the module's docstring)."""
    quantity, price = Decimal(line["quantity"]), Decimal(line["price"])
    rate = Decimal(line["iva_percent"]) / 100
    amount = cents(quantity * price)
    if prices_include_tax:
        base = cents(amount / (1 + rate))
        total = amount
    else:
        base = amount
        total = base + cents(base * rate)
    return {**line, "base": base, "iva": total - base, "total": total}


class FacturagemState(FaultInjector):
    """Everything the simulator knows; every method is safe to call from any thread."""

    def __init__(self, *, latency: float = 0.0, page_size: int = 25, summaries: str = "full",
                 faults_on_clients: bool = False, include_demo_user: bool = True) -> None:
        super().__init__()
        self._lock = threading.RLock()
        self._users: dict[str, User] = {}
        self._accounts: dict[str, Account] = {}
        self._latency, self._page_size, self._summaries = 0.0, 25, "full"
        self._faults_on_clients = False
        self._clear_records()
        self.configure(latency=latency, page_size=page_size, summaries=summaries,
                       faults_on_clients=faults_on_clients)
        if include_demo_user:
            self.add_user(DEMO_LOGIN, DEMO_PASSWORD, DEMO_ACCOUNT_ID, "Demo Shop S.L.")

    def _clear_records(self) -> None:
        self._clients: dict[int, Client] = {}
        self._invoices: dict[int, Invoice] = {}
        self._ids = Counter[str]()
        self._numbers = Counter[str]()
        self._counters: Counter[str] = Counter()
        self._rejects: Counter[str] = Counter()

    # --- configuration ------------------------------------------------------------------

    def configure(self, *, latency: float | None = None, page_size: int | None = None,
                  summaries: str | None = None, faults_on_clients: bool | None = None
                  ) -> dict[str, Any]:
        """Change any of the switches; ``ValueError`` (and nothing changed) on a bad value."""
        if latency is not None and (isinstance(latency, bool) or not latency >= 0):
            raise ValueError("latency must be a number of seconds >= 0")
        if page_size is not None and (isinstance(page_size, bool) or not isinstance(
                page_size, int) or page_size < 1):
            raise ValueError("page_size must be a whole number >= 1")
        if summaries is not None and summaries not in SUMMARY_MODES:
            raise ValueError(f"summaries must be one of {', '.join(SUMMARY_MODES)}")
        if faults_on_clients is not None and not isinstance(faults_on_clients, bool):
            raise ValueError("faults_on_clients must be true or false")
        with self._lock:
            if latency is not None:
                self._latency = float(latency)
            if page_size is not None:
                self._page_size = page_size
            if summaries is not None:
                self._summaries = summaries
            if faults_on_clients is not None:
                self._faults_on_clients = faults_on_clients
            return self.config()

    def config(self) -> dict[str, Any]:
        with self._lock:
            return {"latency": self._latency, "page_size": self._page_size,
                    "summaries": self._summaries, "faults_on_clients": self._faults_on_clients}

    @property
    def latency(self) -> float:
        return self._latency

    @property
    def page_size(self) -> int:
        return self._page_size

    @property
    def summaries(self) -> str:
        return self._summaries

    @property
    def faults_on_clients(self) -> bool:
        return self._faults_on_clients

    # --- users and sessions -------------------------------------------------------------

    def add_user(self, login: object, password: object, account_id: object,
                 account_name: str, currency: str = "EUR") -> None:
        if not (isinstance(login, str) and login and isinstance(password, str) and password):
            raise ValueError("login and password must be non-empty strings")
        if not (isinstance(account_id, str) and assumptions.ID_PATTERN.match(account_id)):
            raise ValueError("account_id must look like '1-my-shop'")
        with self._lock:
            self._users[login] = User(login, password, account_id)
            self._accounts.setdefault(account_id, Account(account_id, account_name, currency))

    def log_in(self, login: object, password: object) -> tuple[User, str] | None:
        """[DOC] The user's api_key: the same one on every login while it is valid."""
        with self._lock:
            user = self._users.get(login) if isinstance(login, str) else None
            if user is None or not secrets.compare_digest(user.password, str(password)):
                self._counters["logins_refused"] += 1
                return None
            if user.api_key is None:
                user.api_key = secrets.token_hex(20)
            self._counters["logins"] += 1
            return user, user.api_key

    def user_for(self, api_key: object) -> User | None:
        if not isinstance(api_key, str) or not api_key:
            return None
        with self._lock:
            for user in self._users.values():
                if user.api_key is not None and secrets.compare_digest(user.api_key, api_key):
                    return user
            return None

    def destroy_session(self, user: User) -> None:
        """[DOC] DESTROY: the key stops working on every device; the next login gets a new
        one."""
        with self._lock:
            user.api_key = None
            self._counters["sessions_destroyed"] += 1

    def revoke_keys(self) -> None:
        """Ours: every key stops working, as if each user's session had been ended."""
        with self._lock:
            for user in self._users.values():
                user.api_key = None

    def account(self, account_id: str) -> Account | None:
        with self._lock:
            return self._accounts.get(account_id)

    def rename_account(self, account_id: str, name: str) -> None:
        with self._lock:
            self._accounts[account_id].name = name

    # --- clients ------------------------------------------------------------------------

    def _next_id(self, kind: str) -> int:
        self._ids[kind] += 1
        return self._ids[kind]

    def create_client(self, account_id: str, fields: Mapping[str, Any]) -> Client:
        with self._lock:
            client = Client(self._next_id("client"), account_id, dict(fields))
            self._clients[client.id] = client
            self._counters["clients_created"] += 1
            return client

    def clients(self, account_id: str | None = None) -> list[Client]:
        """In the order they were created (the simulated list order)."""
        with self._lock:
            return [c for c in self._clients.values()
                    if account_id is None or c.account_id == account_id]

    def client(self, account_id: str, client_id: object) -> Client | None:
        with self._lock:
            client = self._clients.get(_as_int(client_id))
            return client if client is not None and client.account_id == account_id else None

    def update_client(self, client: Client, fields: Mapping[str, Any]) -> None:
        with self._lock:
            client.fields.update(fields)

    def delete_client(self, client: Client) -> bool:
        """False when the client still has invoices (it is kept)."""
        with self._lock:
            if any(i.client_id == client.id for i in self._invoices.values()):
                return False
            del self._clients[client.id]
            return True

    # --- invoices -----------------------------------------------------------------------

    def create_invoice(self, account_id: str, client: Client,
                       fields: Mapping[str, Any]) -> Invoice:
        """Numbered in sequence per account and year and dated today: FACTURAgem's to set."""
        today = datetime.now(UTC).date()
        with self._lock:
            self._numbers[f"{account_id}/{today.year}"] += 1
            number = f"{today.year}/{self._numbers[f'{account_id}/{today.year}']:04d}"
            account = self._accounts[account_id]
            # every field is in the invoice, with its default when not given
            kept = {"notes": None, "currency": account.currency, "prices_include_tax": False,
                    **{k: v for k, v in fields.items() if k not in ("client_id", "lines")}}
            invoice = Invoice(self._next_id("invoice"), account_id, client.id, number,
                              today.isoformat(), kept, [], Decimal(0))
            self._set_lines(invoice, fields["lines"])
            self._invoices[invoice.id] = invoice
            self._counters["invoices_created"] += 1
            return invoice

    def _set_lines(self, invoice: Invoice, lines: list[Mapping[str, Any]]) -> None:
        gross = bool(invoice.fields.get("prices_include_tax"))
        invoice.lines = [line_totals(line, gross) for line in lines]
        invoice.total = sum((line["total"] for line in invoice.lines), Decimal(0))

    def update_invoice(self, invoice: Invoice, fields: Mapping[str, Any]) -> None:
        with self._lock:
            invoice.fields.update({k: v for k, v in fields.items()
                                   if k not in ("client_id", "lines")})
            if "client_id" in fields:
                invoice.client_id = _as_int(fields["client_id"])
            self._set_lines(invoice, fields.get("lines", invoice.lines))

    def delete_invoice(self, invoice: Invoice) -> None:
        with self._lock:
            self._invoices.pop(invoice.id, None)
            self._counters["invoices_deleted"] += 1

    def invoices(self, account_id: str | None = None, client_id: int | None = None
                 ) -> list[Invoice]:
        """In the order they were created (the simulated list order)."""
        with self._lock:
            return [i for i in self._invoices.values()
                    if (account_id is None or i.account_id == account_id)
                    and (client_id is None or i.client_id == client_id)]

    def invoice(self, account_id: str, invoice_id: object) -> Invoice | None:
        with self._lock:
            invoice = self._invoices.get(_as_int(invoice_id))
            return invoice if invoice is not None and invoice.account_id == account_id else None

    def add_payment(self, invoice: Invoice, amount: Decimal, date: str) -> Payment | str:
        """The payment, or why not: more than is due is refused (our assumption)."""
        with self._lock:
            due = invoice.total - invoice.paid_amount
            if amount > due:
                self._rejects["overpayment"] += 1
                return f"is greater than the amount due ({due})"
            payment = Payment(self._next_id("payment"), amount, date)
            invoice.payments.append(payment)
            self._counters["payments_recorded"] += 1
            return payment

    # --- accounting ---------------------------------------------------------------------

    def count(self, name: str) -> None:
        with self._lock:
            self._counters[name] += 1

    def note_reject(self, reason: str) -> None:
        with self._lock:
            self._rejects[reason] += 1

    def stats(self) -> dict[str, Any]:
        with self._lock:
            per_order = Counter(i.order_id for i in self._invoices.values()
                                if i.order_id is not None)
            return {
                **{name: self._counters[name] for name in (
                    "requests", "writes", "logins", "logins_refused", "sessions_destroyed",
                    "clients_created", "invoices_created", "invoices_deleted",
                    "payments_recorded")},
                "clients": len(self._clients),
                "invoices": len(self._invoices),
                "duplicate_orders": sorted(o for o, n in per_order.items() if n > 1),
                "rejects": dict(self._rejects),
                "faults": self.fault_counts(),
                "pending_faults": len(self.faults()),
                "config": self.config(),
            }

    def reset(self) -> None:
        """Forget clients, invoices, counters and queued faults; users keep their keys."""
        self.reset_faults()
        with self._lock:
            self._clear_records()


def _as_int(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return -1
