"""Buyer identity checks: Moldovan fiscal codes (IDNO/IDNP), currency, country, e-mail.

Each ``normalise_*`` function returns the cleaned value or raises ``ValueError`` whose text
is the reason shown to the operator (the caller adds the field path).

Fiscal codes: WooCommerce has no fiscal-code field; shops add one with a checkout-field plugin
and it arrives in the order's ``meta_data`` under a shop-specific key (``_billing_fiscal_code``
in our B2B example). Which keys to look at is configuration (``MappingSettings.idno_meta_keys``
and ``idnp_meta_keys``).

Validation is deliberately only "13 digits": the e-Cont.md CSV-import page gives IDNO as 13
characters. Moldovan IDNO/IDNP do carry a check digit, but none of our sources documents the
algorithm, so we do not invent one -- a wrong guess would reject real buyers' valid codes.
(The e-Cont.md Customer Object example even shows a 12-digit IDNO; we follow the 13-character
rule and reject that.)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pycountry

CODE_LENGTH = 13
_CODE = re.compile(rf"^\d{{{CODE_LENGTH}}}$", re.ASCII)  # "١٢٣..." are digits to Unicode

#: A plausible address, not RFC 5322: something without spaces before one "@", and a domain
#: of dot-separated labels ending in a label of two or more characters. Internationalised
#: (non-ASCII) addresses pass. The invoice is e-mailed there, so "plausible" is the bar: the
#: real test is the upstream's delivery.
_EMAIL = re.compile(r"^[^\s@]{1,64}@(?:[^\s@.]+\.)+[^\s@.]{2,}$")
_EMAIL_MAX = 254


class CodeError(ValueError):
    """A fiscal code found under ``key`` is not valid."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(reason)
        self.key = key
        self.reason = reason


@dataclass(frozen=True)
class CodeLookup:
    """Where a fiscal code was found (``key`` is None when no key had a value)."""

    code: str
    key: str | None


def normalise_code(value: Any) -> str:
    """A 13-digit IDNO/IDNP from a meta value; spaces (any whitespace) are removed first
    because buyers type codes in groups. Numbers are accepted: JSON has no leading-zero
    problem for 13-digit codes starting 1 or 2, and plugins sometimes store them as numbers."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"must be a string of {CODE_LENGTH} digits, got {type(value).__name__}")
    code = "".join(str(value).split())
    if not _CODE.match(code):
        raise ValueError(
            f"must be exactly {CODE_LENGTH} digits, got {code!r} ({len(code)} characters)"
        )
    return code


def is_empty_meta(value: Any) -> bool:
    """WooCommerce stores an unset custom field as ``""`` or ``[]`` (or omits it)."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | dict):
        return not value
    return False


def find_code(meta: Iterable[tuple[str, Any]], keys: Iterable[str]) -> CodeLookup:
    """The first non-empty meta value among ``keys`` (in the configured order), validated.

    ``meta`` is the order's ``meta_data`` as ``(key, value)`` pairs. Raises ``CodeError``
    when the chosen value is not a valid code; we do not fall back to a later key, because
    the buyer did type something there and silently using another field could put the wrong
    code on an invoice.
    """
    entries = list(meta)
    for key in keys:
        for entry_key, value in entries:
            if entry_key == key and not is_empty_meta(value):
                try:
                    return CodeLookup(normalise_code(value), key)
                except ValueError as exc:
                    raise CodeError(key, str(exc)) from None
    return CodeLookup("", None)


def normalise_currency(value: str) -> str:
    """An ISO 4217 alphabetic code known to pycountry (upper-cased)."""
    code = value.strip().upper()
    if not code:
        raise ValueError("required")
    if len(code) != 3 or not code.isalpha() or pycountry.currencies.get(alpha_3=code) is None:
        raise ValueError(f"not an ISO 4217 currency code: {value!r}")
    return code


def normalise_country(value: str) -> str:
    """An ISO 3166-1 alpha-2 code (upper-cased), or "" -- the e-Cont.md docs do not make the
    country required and WooCommerce allows checkouts without one."""
    code = value.strip().upper()
    if not code:
        return ""
    if len(code) != 2 or not code.isalpha() or pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"not an ISO 3166-1 alpha-2 country code: {value!r}")
    return code


def normalise_email(value: str) -> str:
    """The payer's e-mail, plausible, or "" when the shop sent none (an upstream that needs
    one -- e-Cont.md e-mails the invoice there -- says so in its ``DraftRules``)."""
    email = value.strip()
    if not email:
        return ""
    if len(email) > _EMAIL_MAX or not _EMAIL.match(email):
        raise ValueError(f"not a valid e-mail address: {value!r}")
    return email
