"""What the simulated Fakturoid accepts in a subject, an invoice and a payment: the documented
attributes and rules ([DOC] https://www.fakturoid.cz/api/v3/subjects, /invoices,
/invoice-payments) and, where the docs are silent, simulator strictness of ours so adapter
bugs show (each such rule says so). Every problem is collected, as Fakturoid's
``{"errors": {field: [...]}}`` answer lists them all."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from bridge.upstreams.fakturoid import assumptions as fak

Problems = dict[str, list[str]]

#: [DOC] the writable subject attributes (read-only ones are refused: ours)
SUBJECT_FIELDS = frozenset((
    "custom_id", "type", "name", "full_name", "email", "email_copy", "phone", "web", "street",
    "city", "zip", "country", "has_delivery_address", "delivery_name", "delivery_street",
    "delivery_city", "delivery_zip", "delivery_country", "due", "currency", "language",
    "private_note", "registration_no", "vat_no", "local_vat_no", "legal_form", "vat_mode",
    "bank_account", "iban", "swift_bic", "variable_symbol", "setting_invoice_pdf_attachments",
    "setting_estimate_pdf_attachments", "setting_invoice_send_reminders",
    "suggestion_enabled", "tags"))
#: [DOC] the writable invoice attributes (``lines`` checked on their own)
INVOICE_FIELDS = frozenset((
    "custom_id", "document_type", "proforma_followup_document", "tax_document_ids",
    "correction_id", "number", "number_format_id", "variable_symbol", "client_name",
    "client_street", "client_city", "client_zip", "client_country",
    "client_has_delivery_address", "client_delivery_name", "client_delivery_street",
    "client_delivery_city", "client_delivery_zip", "client_delivery_country",
    "client_registration_no", "client_vat_no", "client_local_vat_no", "subject_id",
    "subject_custom_id", "related_id", "paypal", "gopay", "order_number", "issued_on",
    "taxable_fulfillment_due", "due", "note", "footer_note", "private_note", "tags",
    "bank_account_id", "bank_account", "iban", "swift_bic", "iban_visibility",
    "show_already_paid_note_in_pdf", "payment_method", "custom_payment_method",
    "hide_bank_account", "currency", "exchange_rate", "language", "transferred_tax_liability",
    "supply_code", "oss", "vat_price_mode", "round_total", "attachments", "lines"))
#: [DOC] the writable line attributes
LINE_FIELDS = frozenset(("id", "name", "quantity", "unit_name", "unit_price", "vat_rate",
                         "inventory_item_id", "sku", "_destroy"))
#: [DOC] the writable payment attributes
PAYMENT_FIELDS = frozenset(("paid_on", "amount", "native_amount", "mark_document_as_paid",
                            "proforma_followup_document", "send_thank_you_email",
                            "variable_symbol", "bank_account_id"))

_CURRENCY = re.compile(r"^[A-Z]{3}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
#: ours: long enough for any real value, short enough to bound what the simulator keeps
MAX_TEXT = 2000
MAX_LINES = 1000
BLANK = "can't be blank"


def unknown_fields(body: Mapping[str, Any], allowed: frozenset[str], prefix: str,
                   problems: Problems) -> None:
    """[ours] Fakturoid's docs list the writable attributes; anything else (a typo, a
    read-only total) is refused so that an adapter sending it is caught."""
    for key in body:
        if key not in allowed:
            _add(problems, f"{prefix}{key}", "is not a writable attribute")


def check_subject(body: Mapping[str, Any]) -> Problems:
    problems: Problems = {}
    unknown_fields(body, SUBJECT_FIELDS, "", problems)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        problems["name"] = [BLANK]  # [DOC] the only required attribute
    for key, value in body.items():
        if key in SUBJECT_FIELDS and key not in ("due", "has_delivery_address", "tags",
                                                 "suggestion_enabled") \
                and value is not None and not _text(value):
            problems.setdefault(key, []).append("must be a string")
    country = body.get("country")
    if isinstance(country, str) and country and not _COUNTRY.match(country):
        problems.setdefault("country", []).append("is not an ISO 3166 country code")
    return problems


def check_invoice(body: Mapping[str, Any], *, account_currency: str, vat_payer: bool,
                  subject_exists: bool, corrected_exists: bool | None) -> Problems:
    """``corrected_exists``: whether ``correction_id`` names an invoice of the account
    (None when there is none)."""
    problems: Problems = {}
    unknown_fields(body, INVOICE_FIELDS, "", problems)
    subject_id = body.get("subject_id")
    if subject_id is None:
        problems["subject_id"] = [BLANK, "Contact does not exist."]  # [DOC] example answer
    elif not _integer(subject_id) or not subject_exists:
        problems["subject_id"] = ["Contact does not exist."]
    document_type = body.get("document_type", fak.DOCUMENT_INVOICE)
    if document_type not in fak.CREATABLE_DOCUMENT_TYPES:
        problems["document_type"] = ["is not included in the list"]
    if document_type == fak.DOCUMENT_CORRECTION and not corrected_exists:
        # [DOC] "ID of the invoice being corrected; specify this together with the
        # correction flag"
        problems["correction_id"] = [BLANK if body.get("correction_id") is None
                                     else "Document does not exist."]
    currency = body.get("currency", account_currency)
    if not isinstance(currency, str) or not _CURRENCY.match(currency):
        problems["currency"] = ["is not a valid currency"]
    elif currency != account_currency:
        rate = decimal_of(body.get("exchange_rate"))
        if rate is None or rate <= 0:  # [DOC] required if it is not the account's currency
            problems["exchange_rate"] = [BLANK if body.get("exchange_rate") is None
                                         else "must be greater than 0"]
    _choice(body, "vat_price_mode", (*fak.VAT_PRICE_MODES, None), problems)
    _choice(body, "payment_method", fak.PAYMENT_METHODS, problems)
    _choice(body, "language", fak.LANGUAGES, problems)
    custom = body.get("custom_payment_method")
    if custom is not None and (not _text(custom) or len(custom) > fak.CUSTOM_PAYMENT_METHOD_MAX):
        problems["custom_payment_method"] = [
            f"is too long (maximum is {fak.CUSTOM_PAYMENT_METHOD_MAX} characters)"]
    if "due" in body and not (_integer(body["due"]) and body["due"] >= 0):
        problems["due"] = ["must be a whole number"]
    for key in ("issued_on", "taxable_fulfillment_due"):
        if key in body and date_of(body[key]) is None:
            problems[key] = ["is not a date"]
    for key in ("custom_id", "order_number", "note", "footer_note", "private_note",
                "client_name", "client_street", "client_city", "client_zip",
                "client_registration_no", "client_vat_no", "client_local_vat_no"):
        if body.get(key) is not None and not _text(body[key]):
            problems.setdefault(key, []).append("must be a string")
    country = body.get("client_country")
    if country is not None and not (isinstance(country, str) and _COUNTRY.match(country)):
        problems["client_country"] = ["is not an ISO 3166 country code"]
    _check_lines(body.get("lines"), vat_payer, problems)
    return problems


def _add(problems: Problems, key: str, message: str) -> None:
    """One message per field, however many lines share it (as Rails lists them)."""
    messages = problems.setdefault(key, [])
    if message not in messages:
        messages.append(message)


def _check_lines(lines: object, vat_payer: bool, problems: Problems) -> None:
    # [ASSUMPTION, ours] an invoice needs at least one line (the docs do not say)
    if not isinstance(lines, list) or not lines:
        problems["lines"] = [BLANK]
        return
    if len(lines) > MAX_LINES:
        problems["lines"] = [f"at most {MAX_LINES} lines"]
        return
    for index, line in enumerate(lines):
        if not isinstance(line, Mapping):
            problems.setdefault("lines", []).append(f"line {index + 1} is not an object")
            continue
        unknown_fields(line, LINE_FIELDS, "lines.", problems)
        name = line.get("name")
        if not isinstance(name, str) or not name.strip():
            _add(problems, "lines.name", BLANK)  # [DOC] required
        if "unit_price" not in line:
            _add(problems, "lines.unit_price", BLANK)  # [DOC] required
        elif price_of(line["unit_price"]) is None:
            _add(problems, "lines.unit_price", "is not a number")
        if "quantity" in line and price_of(line["quantity"]) is None:
            _add(problems, "lines.quantity", "is not a number")
        rate = decimal_of(line.get("vat_rate", 0))
        if rate is None or rate < 0 or rate >= 100:
            _add(problems, "lines.vat_rate", "is not a number")
        elif rate and not vat_payer:
            key, message = fak.NON_ZERO_VAT_FOR_NON_PAYER
            _add(problems, key, message)
        if line.get("unit_name") is not None and not _text(line["unit_name"]):
            _add(problems, "lines.unit_name", "must be a string")


def check_payment(body: Mapping[str, Any]) -> Problems:
    problems: Problems = {}
    unknown_fields(body, PAYMENT_FIELDS, "", problems)
    if "amount" in body:
        value = price_of(body["amount"])
        if value is None or value <= 0:
            problems["amount"] = [BLANK, "is not a number"] if body["amount"] in ("", None) \
                else ["must be greater than 0"]
    if "paid_on" in body and date_of(body["paid_on"]) is None:
        problems["paid_on"] = ["is not a date"]
    if "mark_document_as_paid" in body and not isinstance(body["mark_document_as_paid"], bool):
        problems["mark_document_as_paid"] = ["must be true or false"]
    return problems


# --- values -----------------------------------------------------------------------------


def _text(value: object) -> bool:
    return isinstance(value, str) and len(value) <= MAX_TEXT


def _integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _choice(body: Mapping[str, Any], key: str, choices: tuple[Any, ...],
            problems: Problems) -> None:
    if key in body and body[key] not in choices:
        problems[key] = ["is not included in the list"]


def decimal_of(value: object) -> Decimal | None:
    """A JSON number or numeric string as Decimal (floats arrive parsed as Decimal)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d{1,15}(?:\.\d{1,12})?", value.strip()):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            return None
    return None


def price_of(value: object) -> Decimal | None:
    """[ASSUMPTION] a unit price or quantity with at most ``MAX_PRICE_PLACES`` decimals."""
    number = decimal_of(value)
    if number is None or -number.as_tuple().exponent > fak.MAX_PRICE_PLACES:  # type: ignore[operator]
        return None
    return number


def date_of(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None

