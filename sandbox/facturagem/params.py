"""The simulator's parameter checks: which parameters each operation allows ([DOC]: any other
is refused with 422 and the list of the allowed ones, unless ``strict`` is "false" or "0"),
and the values it takes (our assumption: FACTURAgem documents no field).

Parameters are named by their path -- "invoice.notes", "invoice.lines.price" -- whether they
came in the query string or the JSON body; ``api_key`` and ``strict`` are allowed everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import pycountry

from bridge.upstreams.facturagem import assumptions

Errors = dict[str, list[str]]

_CLIENT = {f"client.{name}" for name in assumptions.CLIENT_FIELDS}
_INVOICE = ({f"invoice.{name}" for name in assumptions.INVOICE_FIELDS if name != "lines"}
            | {f"invoice.lines.{name}" for name in assumptions.LINE_FIELDS})

#: the parameters each operation allows, besides api_key and strict
ALLOWED: dict[str, frozenset[str]] = {name: frozenset(params) for name, params in {
    "session_create": set(assumptions.LOGIN_PARAMS),
    "session_destroy": set(),
    "accounts": set(),
    "account_get": set(),
    "account_update": {"account.name"},
    "clients": {assumptions.PAGE_PARAM},
    "client_create": _CLIENT,
    "client_get": set(),
    "client_update": _CLIENT,
    "client_delete": set(),
    "invoices": {assumptions.PAGE_PARAM},
    "client_invoices": {assumptions.PAGE_PARAM},
    "invoice_new": {"client_id", "invoice_id"},
    "invoice_create": _INVOICE,
    "invoice_get": set(),
    "invoice_update": _INVOICE,
    "invoice_delete": set(),
    "payment_create": {f"payment.{name}" for name in assumptions.PAYMENT_FIELDS},
    "countries": set(),
}.items()}
ALWAYS = frozenset({assumptions.API_KEY, assumptions.STRICT_PARAM})

COUNTRIES = sorted((country.alpha_2, country.name) for country in pycountry.countries)
_COUNTRY_CODES = frozenset(code for code, _ in COUNTRIES)
_DECIMAL = re.compile(r"^-?\d{1,15}(?:\.\d{1,8})?$")
_NIF = re.compile(r"^[A-Za-z0-9./ -]{1,32}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MAX_LINES = 1000


def unexpected(operation: str, params: Mapping[str, Any]) -> list[str]:
    """The parameters ``operation`` does not allow, by path."""
    allowed = ALLOWED[operation] | ALWAYS
    return sorted({path for path in _leaves(params, "")
                   if path not in allowed and not any(name.startswith(path + ".")
                                                      for name in allowed)})


def allowed_list(operation: str) -> list[str]:
    return sorted(ALLOWED[operation] | ALWAYS)


def _leaves(value: Any, prefix: str) -> Iterator[str]:
    if isinstance(value, Mapping):
        if not value and prefix:
            yield prefix
        for key, item in value.items():
            yield from _leaves(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list) and any(isinstance(item, Mapping) for item in value):
        for item in value:
            yield from _leaves(item, prefix)
    elif prefix:
        yield prefix


# --- values ---------------------------------------------------------------------------------


def check_client(fields: Any) -> Errors:
    errors: Errors = {}
    if not isinstance(fields, Mapping):
        return {"client": ["must be an object"]}
    _text(fields, "name", errors, required=True, limit=255)
    for name in ("phone", "address", "city", "postal_code"):
        _text(fields, name, errors, limit=255)
    nif = _text(fields, "nif", errors, limit=32)
    if nif and not _NIF.match(nif):
        errors["nif"] = ["must be letters and digits"]
    email = _text(fields, "email", errors, limit=254)
    if email and (email.count("@") != 1 or email.startswith("@") or email.endswith("@")):
        errors["email"] = ["is not an e-mail address"]
    country = _text(fields, "country", errors, limit=2)
    if country and country not in _COUNTRY_CODES:
        errors["country"] = ["is not a country code of countries.json"]
    return errors


def check_invoice(fields: Any, client_exists: Callable[[Any], bool], *, creating: bool
                  ) -> Errors:
    errors: Errors = {}
    if not isinstance(fields, Mapping):
        return {"invoice": ["must be an object"]}
    if "client_id" in fields or creating:
        client_id = fields.get("client_id")
        if client_id in (None, ""):
            errors["client_id"] = ["can't be blank"]
        elif isinstance(client_id, bool) or not isinstance(client_id, int | str) \
                or not client_exists(client_id):
            errors["client_id"] = ["is not a client of this account"]
    _text(fields, "notes", errors, limit=10_000)
    currency = _text(fields, "currency", errors, limit=3)
    if currency and pycountry.currencies.get(alpha_3=currency) is None:
        errors["currency"] = ["is not an ISO 4217 currency code"]
    flag = fields.get("prices_include_tax")
    if flag is not None and not isinstance(flag, bool):
        errors["prices_include_tax"] = ["must be true or false"]
    if "lines" in fields or creating:
        _check_lines(fields.get("lines"), errors)
    return errors


def _check_lines(lines: Any, errors: Errors) -> None:
    if not isinstance(lines, list) or not lines:
        errors["lines"] = ["must hold at least one line"]
        return
    if len(lines) > _MAX_LINES:
        errors["lines"] = [f"must hold at most {_MAX_LINES} lines"]
        return
    for index, line in enumerate(lines):
        where = f"lines[{index}]"
        if not isinstance(line, Mapping):
            errors[where] = ["must be an object"]
            continue
        found: Errors = {}
        _text(line, "description", found, required=True, limit=1024)
        quantity = _decimal(line, "quantity", found)
        if quantity is not None and quantity <= 0:
            found["quantity"] = ["must be greater than 0"]
        _decimal(line, "price", found)
        rate = _decimal(line, "iva_percent", found)
        if rate is not None and not 0 <= rate <= 100:
            found["iva_percent"] = ["must be between 0 and 100"]
        errors.update({f"{where}.{name}": messages for name, messages in found.items()})


def decimal_lines(lines: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Checked lines with their numbers as ``Decimal``."""
    return [{"description": line["description"],
             **{name: _number(line[name]) for name in ("quantity", "price", "iva_percent")}}
            for line in lines]


def _number(value: Any) -> Decimal:
    return Decimal(value if isinstance(value, str) else f"{value:f}")


def check_payment(fields: Any) -> tuple[Errors, Decimal | None, str | None]:
    errors: Errors = {}
    if not isinstance(fields, Mapping):
        return {"payment": ["must be an object"]}, None, None
    amount = _decimal(fields, "amount", errors)
    if amount is not None and amount <= 0:
        errors["amount"] = ["must be greater than 0"]
    when = _text(fields, "date", errors, required=True, limit=10)
    if when and not _valid_date(when):
        errors["date"] = ["must be a date YYYY-MM-DD"]
    return errors, amount, when


def _valid_date(text: str) -> bool:
    if not _DATE.match(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _text(fields: Mapping[str, Any], name: str, errors: Errors, *, required: bool = False,
          limit: int) -> str | None:
    value = fields.get(name)
    if value is None or value == "":
        if required:
            errors[name] = ["can't be blank"]
        return None
    if not isinstance(value, str):
        errors[name] = ["must be text"]
        return None
    if len(value) > limit:
        errors[name] = [f"is too long (maximum is {limit} characters)"]
        return None
    return value


def _decimal(fields: Mapping[str, Any], name: str, errors: Errors) -> Decimal | None:
    value = fields.get(name)
    if value is None or value == "":
        errors[name] = ["can't be blank"]
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        errors[name] = ["is not a number"]
        return None
    # a JSON number as the digits it was written with (1e400 is not an amount)
    text = value if isinstance(value, str) else f"{value:f}"
    if not _DECIMAL.match(text):
        errors[name] = ["is not a number"]
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        errors[name] = ["is not a number"]
        return None
