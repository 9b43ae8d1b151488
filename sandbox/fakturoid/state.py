"""The simulated Fakturoid's state: accounts, credentials, tokens (expiring by the simulator's
clock), subjects, invoices, payments, the rate-limit window, the switches, counters and the
fault queue (``sandbox.kit.faults.FaultInjector``). Every method is thread-safe."""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from bridge.upstreams.fakturoid import assumptions as fak
from sandbox.fakturoid.records import (
    Account,
    Client,
    Invoice,
    Line,
    Payment,
    Subject,
    Token,
)
from sandbox.kit.faults import DEFAULT_STATUS_FAULTS, FaultInjector

DEMO_SLUG = "bridge-demo"
DEMO_CLIENT_ID = "5a1d0e6c3b2f4a8e9d7c6b5a4f3e2d1c0b9a8f7e"
DEMO_CLIENT_SECRET = "sandbox-secret-0f1e2d3c4b5a69788796a5b4c3d2e1f0"  # noqa: S105
DEMO_USER_AGENT = "invoice-bridge sandbox (sandbox@invoice-bridge.example)"
#: the write endpoints faults may apply to (``fault_targets``)
FAULT_TARGETS = ("subjects", "invoices", "payments", "events")
#: the error statuses a fault may answer with: the kit's, a blocked account, an unknown
#: resource and a refused media type
STATUS_FAULTS = (*DEFAULT_STATUS_FAULTS, "402", "404", "415")
_REQUEST_LOG_SIZE = 1000


@dataclass
class Switches:
    token_lifetime: int = fak.TOKEN_LIFETIME
    #: a new token invalidates the previous ones of the same client (the PHP client's README
    #: says so; not in the API docs)
    invalidate_previous_tokens: bool = False
    #: which accounts may fire "cancel" (the docs contradict themselves)
    cancel_allowed: str = "all"
    #: 429 answers carry Retry-After as well (not documented, so off by default)
    retry_after_header: bool = False
    rate_quota: int = fak.DOCUMENTED_QUOTA
    rate_window: int = fak.DOCUMENTED_WINDOW
    latency: float = 0.0
    #: maintenance: every write answers 503 ([DOC] read-only mode)
    read_only: bool = False
    fault_targets: tuple[str, ...] = FAULT_TARGETS

    def to_json(self) -> dict[str, Any]:
        return {"token_lifetime": self.token_lifetime,
                "invalidate_previous_tokens": self.invalidate_previous_tokens,
                "cancel_allowed": self.cancel_allowed,
                "retry_after_header": self.retry_after_header, "rate_quota": self.rate_quota,
                "rate_window": self.rate_window, "latency": self.latency,
                "read_only": self.read_only, "fault_targets": list(self.fault_targets)}


class SimulatorState(FaultInjector):
    def __init__(self, *, accounts: Iterable[Account] = (), clients: Iterable[Client] = (),
                 **switches: Any) -> None:
        super().__init__(STATUS_FAULTS)
        self._lock = threading.RLock()
        self.switches = Switches()
        self._offset = 0.0
        self._accounts: dict[str, Account] = {}
        self._clients: dict[str, Client] = {}
        self.add_account(Account(DEMO_SLUG))
        self.add_client(Client(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, (DEMO_SLUG,)))
        for account in accounts:
            self.add_account(account)
        for client in clients:
            self.add_client(client)
        self.configure(**switches)
        self._clear()

    def _clear(self) -> None:
        self._tokens: dict[str, Token] = {}
        self._subjects: dict[int, Subject] = {}
        self._invoices: dict[int, Invoice] = {}
        self._ids: Counter[str] = Counter()
        self._numbers: Counter[tuple[str, int]] = Counter()
        self._counters: Counter[str] = Counter()
        self._responses: Counter[str] = Counter()
        self._log: deque[dict[str, Any]] = deque(maxlen=_REQUEST_LOG_SIZE)
        self._window_start: float | None = None
        self._window_used = 0

    # --- switches and clock -------------------------------------------------------------

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Change switches; ``ValueError`` (and nothing changed) on a bad value."""
        allowed = set(Switches().to_json())
        unknown = sorted(set(changes) - allowed)
        if unknown:
            raise ValueError(f"unknown switch(es): {', '.join(unknown)}; known: "
                             f"{', '.join(sorted(allowed))}")
        values = {**self.switches.to_json(), **changes}
        for name in ("token_lifetime", "rate_quota", "rate_window"):
            if isinstance(values[name], bool) or not isinstance(values[name], int) \
                    or values[name] < 1:
                raise ValueError(f"{name} must be a positive whole number")
        for name in ("invalidate_previous_tokens", "retry_after_header", "read_only"):
            if not isinstance(values[name], bool):
                raise ValueError(f"{name} must be true or false")
        if values["cancel_allowed"] not in fak.CANCEL_ALLOWED_FOR:
            raise ValueError(f"cancel_allowed must be one of {', '.join(fak.CANCEL_ALLOWED_FOR)}")
        latency = values["latency"]
        if isinstance(latency, bool) or not isinstance(latency, int | float) or latency < 0:
            raise ValueError("latency must be a number of seconds >= 0")
        targets = tuple(values["fault_targets"])
        if not set(targets) <= set(FAULT_TARGETS):
            raise ValueError(f"fault_targets must be among {', '.join(FAULT_TARGETS)}")
        with self._lock:
            self.switches = Switches(**{**values, "latency": float(latency),
                                        "fault_targets": targets})
            return self.switches.to_json()

    @property
    def latency(self) -> float:
        return self.switches.latency

    def now(self) -> float:
        """The simulator's clock (monotonic seconds, moved by ``advance``)."""
        with self._lock:
            return time.monotonic() + self._offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds

    # --- accounts, credentials, tokens --------------------------------------------------

    def add_account(self, account: Account) -> None:
        with self._lock:
            self._accounts[account.slug] = account

    def account(self, slug: str) -> Account | None:
        with self._lock:
            return self._accounts.get(slug)

    def update_account(self, slug: str, **changes: Any) -> Account:
        with self._lock:
            account = self._accounts[slug]
            for name, value in changes.items():
                if not hasattr(account, name) or name == "slug":
                    raise ValueError(f"unknown account setting {name!r}")
                setattr(account, name, value)
            return account

    def add_client(self, client: Client) -> None:
        with self._lock:
            self._clients[client.client_id] = client

    def revoke_client(self, client_id: str) -> bool:
        """Forget a credential pair and its tokens (the user deleted it)."""
        with self._lock:
            gone = self._clients.pop(client_id, None) is not None
            self._tokens = {value: token for value, token in self._tokens.items()
                            if token.client_id != client_id}
            return gone

    def client(self, client_id: str, secret: str) -> Client | None:
        with self._lock:
            client = self._clients.get(client_id)
            return client if client is not None and secrets.compare_digest(
                client.secret.encode(), secret.encode()) else None

    def issue_token(self, client: Client) -> Token:
        with self._lock:
            if self.switches.invalidate_previous_tokens:
                self._tokens = {value: token for value, token in self._tokens.items()
                                if token.client_id != client.client_id}
            token = Token(secrets.token_hex(40), client.client_id,
                          self.now() + self.switches.token_lifetime)
            self._tokens[token.value] = token
            self._counters["tokens_issued"] += 1
            return token

    def token_client(self, value: str) -> tuple[Client | None, str]:
        """The client a bearer token belongs to, or None and why not."""
        with self._lock:
            token = self._tokens.get(value)
            if token is None:
                return None, "The access token is invalid"
            if self.now() >= token.expires_at:
                return None, "The access token expired"
            client = self._clients.get(token.client_id)
            return client, "" if client else "The access token was revoked"

    def expire_tokens(self) -> None:
        with self._lock:
            self._tokens.clear()

    # --- rate limit ---------------------------------------------------------------------

    def take_request(self) -> tuple[bool, int, int]:
        """Count a request against the window: (allowed, remaining, seconds until reset)."""
        with self._lock:
            now = self.now()
            window = self.switches.rate_window
            if self._window_start is None or now >= self._window_start + window:
                self._window_start, self._window_used = now, 0
            allowed = self._window_used < self.switches.rate_quota
            if allowed:
                self._window_used += 1
            else:
                self._counters["rate_limited"] += 1
            remaining = max(0, self.switches.rate_quota - self._window_used)
            reset = max(1, int(self._window_start + window - now + 0.999))
            return allowed, remaining, reset

    # --- subjects -----------------------------------------------------------------------

    def _next_id(self, kind: str) -> int:
        self._ids[kind] += 1
        return self._ids[kind]

    def create_subject(self, slug: str, fields: dict[str, Any]) -> tuple[Subject | None, str]:
        """A new subject, or None and the refusal: "taken" (custom_id) or "limit"."""
        with self._lock:
            mine = [s for s in self._subjects.values() if s.account == slug]
            key = fields.get("custom_id")
            if key is not None and any(s.custom_id == key for s in mine):
                return None, "taken"
            limit = self._accounts[slug].subject_limit
            if limit is not None and len(mine) >= limit:
                return None, "limit"
            subject = Subject(self._next_id("subject"), slug, dict(fields), datetime.now(UTC))
            self._subjects[subject.id] = subject
            self._counters["subjects_created"] += 1
            return subject, ""

    def subjects(self, slug: str | None = None) -> list[Subject]:
        with self._lock:
            return [s for s in self._subjects.values() if slug is None or s.account == slug]

    def subject(self, slug: str, subject_id: object) -> Subject | None:
        with self._lock:
            subject = self._subjects.get(subject_id) if isinstance(subject_id, int) else None
            return subject if subject is not None and subject.account == slug else None

    # --- invoices -----------------------------------------------------------------------

    def create_invoice(self, slug: str, fields: dict[str, Any],
                       lines: list[dict[str, Any]]) -> Invoice:
        """Always a new invoice: [ASSUMPTION] custom_id is not unique."""
        with self._lock:
            account = self._accounts[slug]
            mode = fields.get("vat_price_mode") or fak.PRICE_WITHOUT_VAT
            if not account.vat_payer:
                mode = fak.PRICE_WITHOUT_VAT  # [DOC] ignored for non-VAT payers
            today = date.today()
            self._numbers[(slug, today.year)] += 1
            invoice = Invoice(
                id=self._next_id("invoice"), account=slug,
                number=f"{today.year}-{self._numbers[(slug, today.year)]:04d}",
                subject_id=fields["subject_id"],
                document_type=fields.get("document_type", fak.DOCUMENT_INVOICE),
                fields={key: value for key, value in fields.items() if key != "lines"},
                lines=[Line(self._next_id("line"), str(line["name"]),
                            Decimal(str(line.get("quantity", 1))), str(line.get("unit_name") or ""),
                            Decimal(str(line["unit_price"])),
                            Decimal(str(line.get("vat_rate", 0))), mode) for line in lines],
                currency=fields.get("currency", account.currency), issued_on=today,
                created_at=datetime.now(UTC))
            self._invoices[invoice.id] = invoice
            self._counters["invoices_created"] += 1
            return invoice

    def invoices(self, slug: str | None = None) -> list[Invoice]:
        with self._lock:
            return [i for i in self._invoices.values() if slug is None or i.account == slug]

    def invoice(self, slug: str, invoice_id: int) -> Invoice | None:
        with self._lock:
            invoice = self._invoices.get(invoice_id)
            return invoice if invoice is not None and invoice.account == slug else None

    def add_payment(self, invoice: Invoice, paid_on: date, amount: Decimal | None,
                    mark_paid: bool | None) -> tuple[Payment | None, str]:
        """A payment, or None and the refusal ("paid", "cancelled"), atomically."""
        with self._lock:
            if invoice.status == fak.STATUS_PAID:
                return None, "paid"
            if invoice.status == fak.STATUS_CANCELLED:
                return None, "cancelled"
            value = invoice.remaining if amount is None else amount
            payment = Payment(self._next_id("payment"), paid_on, value, invoice.currency,
                              invoice.variable_symbol, datetime.now(UTC))
            invoice.payments.append(payment)
            if mark_paid if mark_paid is not None else invoice.remaining <= 0:
                invoice.status, invoice.paid_on = fak.STATUS_PAID, paid_on
            self._counters["payments_created"] += 1
            return payment, ""

    def fire(self, invoice: Invoice, event: str) -> bool:
        """Apply an event if the invoice's state and the account allow it."""
        with self._lock:
            account = self._accounts[invoice.account]
            now = datetime.now(UTC)
            if event == "cancel":
                allowed = self.switches.cancel_allowed
                if invoice.status in (fak.STATUS_CANCELLED, "uncollectible") or (
                        allowed == "vat_payers" and not account.vat_payer) or (
                        allowed == "non_vat_payers" and account.vat_payer):
                    return False
                invoice.status, invoice.cancelled_at = fak.STATUS_CANCELLED, now
            elif event == "undo_cancel" and invoice.status == fak.STATUS_CANCELLED:
                invoice.status = fak.STATUS_PAID if invoice.paid_on else "open"
                invoice.cancelled_at = None
            elif event == "mark_as_sent" and invoice.status == "open":
                invoice.status, invoice.sent = "sent", True
            elif event == "lock" and invoice.locked_at is None:
                invoice.locked_at = now
            elif event == "unlock" and invoice.locked_at is not None:
                invoice.locked_at = None
            elif event == "mark_as_uncollectible" and invoice.status in ("open", "sent",
                                                                          "overdue"):
                invoice.status, invoice.uncollectible_at = "uncollectible", now
            elif event == "undo_uncollectible" and invoice.status == "uncollectible":
                invoice.status, invoice.uncollectible_at = "open", None
            else:
                return False
            self._counters[f"event_{event}"] += 1
            return True

    # --- accounting ---------------------------------------------------------------------

    def note(self, counter: str) -> None:
        with self._lock:
            self._counters[counter] += 1

    def note_response(self, entry: dict[str, Any]) -> None:
        with self._lock:
            status = entry.get("status")
            self._responses["none" if status is None else str(status)] += 1
            self._log.append(entry)

    def request_log(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._log)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            by_key = Counter(i.custom_id for i in self._invoices.values()
                             if i.document_type == fak.DOCUMENT_INVOICE and i.custom_id)
            return {**dict(sorted(self._counters.items())),
                    "invoices": sum(1 for i in self._invoices.values()
                                    if i.document_type == fak.DOCUMENT_INVOICE),
                    "subjects": len(self._subjects),
                    "duplicate_custom_ids": sorted(k for k, n in by_key.items() if n > 1),
                    "responses": dict(self._responses), "faults": self.fault_counts(),
                    "pending_faults": len(self.faults()),
                    "switches": self.switches.to_json()}

    def reset(self) -> None:
        """Forget tokens, records, counters and faults; accounts, credentials and switches
        stay (they describe the "server")."""
        self.reset_faults()
        with self._lock:
            self._clear()
