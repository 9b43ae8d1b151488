"""Buyer identity checks: fiscal codes (Moldovan IDNO/IDNP, EU VAT numbers, Czech IČO),
currency, country, e-mail.

Each ``normalise_*`` function returns the cleaned value or raises ``ValueError`` whose text
is the reason shown to the operator (the caller adds the field path).

Fiscal codes: WooCommerce has no fiscal-code field; shops add one with a checkout-field plugin
and it arrives in the order's ``meta_data`` under a shop-specific key (``_billing_fiscal_code``
in our B2B example). Which keys to look at is configuration (``MappingSettings.idno_meta_keys``
and ``idnp_meta_keys``).

- IDNO (legal entity): 13 ASCII digits -- the e-Cont.md CSV-import page gives IDNO as 13
  characters -- whose last digit is the check digit of the first twelve (weights 7, 3, 1,
  sum mod 10), as python-stdnum's ``stdnum.md.idno`` implements it. A code that fails it
  raises ``CheckDigitError``, which says what the code would be; the shop decides whether
  that stops the order or only warns (``MappingSettings.fiscal_code_check``). (The e-Cont.md
  Customer Object example even shows a 12-digit IDNO; we follow the 13-character rule and
  reject that.)
- IDNP (person): 13 ASCII digits only. It carries a check digit too, but python-stdnum has
  no IDNP module and none of our sources documents the algorithm, so we do not invent one --
  a wrong guess would reject real buyers' valid codes.
- EU VAT numbers and Czech company numbers (IČO): ``normalise_eu_vat`` and
  ``normalise_cz_company_id``, on python-stdnum as well; not read from orders yet.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pycountry
from stdnum.cz import dic as cz_dic
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import InvalidChecksum, InvalidComponent
from stdnum.exceptions import ValidationError as NumberError
from stdnum.md import idno as md_idno

CODE_LENGTH = 13
_CODE = re.compile(rf"^\d{{{CODE_LENGTH}}}$", re.ASCII)  # "١٢٣..." are digits to Unicode

#: A plausible address, not RFC 5322: something without spaces before one "@", and a domain
#: of dot-separated labels ending in a label of two or more characters. Internationalised
#: (non-ASCII) addresses pass. The invoice is e-mailed there, so "plausible" is the bar: the
#: real test is the upstream's delivery.
_EMAIL = re.compile(r"^[^\s@]{1,64}@(?:[^\s@.]+\.)+[^\s@.]{2,}$")
_EMAIL_MAX = 254

#: Longest text the EU VAT and IČO helpers read: the longest EU VAT number has 14 characters
#: after its prefix; the rest of the allowance is for the spaces and dots people type.
_NUMBER_INPUT_MAX = 40
#: EU VAT prefixes python-stdnum accepts that identify a seller registered in the One-Stop
#: Shop scheme (EU372022452), never a buyer's VAT registration.
_OSS_PREFIXES = ("EU", "IM")
#: VIES's country prefixes (Greece is EL, Northern Ireland XI)
_EU_PREFIXES = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "EL", "ES", "FI", "FR", "HR", "HU", "IE",
    "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "XI"})


class CheckDigitError(ValueError):
    """A code of the right shape whose check digit does not match. ``code`` is the cleaned
    code, for a shop that chooses to send it anyway (``fiscal_code_check = "warn"``)."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code


class CodeError(ValueError):
    """A fiscal code found under ``key`` is not valid. ``well_formed`` is the cleaned code
    when only its check digit failed, else ""."""

    def __init__(self, key: str, reason: str, well_formed: str = "") -> None:
        super().__init__(reason)
        self.key = key
        self.reason = reason
        self.well_formed = well_formed


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


def normalise_idno(value: Any) -> str:
    """A 13-digit IDNO (as ``normalise_code``) whose check digit matches; ``CheckDigitError``
    when it does not."""
    code = normalise_code(value)
    if not md_idno.is_valid(code):
        raise CheckDigitError(code, (
            f"IDNO {code} fails its check digit (the 13th digit, computed from the first 12 "
            "with weights 7, 3, 1): a digit is probably mistyped"))
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


def find_code(meta: Iterable[tuple[str, Any]], keys: Iterable[str],
              normalise: Callable[[Any], str] = normalise_code) -> CodeLookup:
    """The first non-empty meta value among ``keys`` (in the configured order), validated by
    ``normalise`` (``normalise_idno`` for IDNOs, ``normalise_code`` for IDNPs).

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
                    return CodeLookup(normalise(value), key)
                except CheckDigitError as exc:
                    raise CodeError(key, str(exc), well_formed=exc.code) from None
                except ValueError as exc:
                    raise CodeError(key, str(exc)) from None
    return CodeLookup("", None)


def normalise_eu_vat(value: Any) -> str:
    """An EU VAT number as VIES writes it -- the country prefix (``EL`` for Greece, ``XI``
    for Northern Ireland) and the national number without separators: ``"cz 251 23 891"``
    -> ``"CZ25123891"``. The format and check digit of each member state are python-stdnum's
    (``stdnum.eu.vat``); whether the number is *registered* only VIES can say, and we do not
    ask it (no network in the mapping)."""
    text = _number_text(value)
    if text[:2].upper() in _OSS_PREFIXES:
        raise ValueError(f"{text[:2].upper()}-numbers identify sellers in the One-Stop Shop "
                         "scheme, not a buyer's VAT registration")
    try:
        return eu_vat.validate(text)
    except InvalidComponent:
        raise ValueError(f"must start with the prefix of an EU member state (CZ, DE, EL, ...), "
                         f"got {text!r}") from None
    except InvalidChecksum:
        raise ValueError(f"{text!r} fails its check digit: a digit is probably mistyped"
                         ) from None
    except NumberError:
        raise ValueError(f"{text!r} does not have the format of a {text[:2].upper()} VAT "
                         "number") from None


def normalise_cz_company_id(value: Any) -> str:
    """A Czech IČO (identifikační číslo osoby): 8 ASCII digits, the last one a check digit
    (weights 8..2, mod 11). Leading zeros are part of it (``00006947``), so numbers are refused.

    python-stdnum 2.2 has no IČO module; its ``stdnum.cz.dic`` checks the 8-digit DIČ of a
    legal entity, which is "CZ" + the IČO with the same check digit, so we use that module's
    ``calc_check_digit_legal``. Not ``dic.validate``: it also refuses 8-digit numbers starting
    with 9, a DIČ rule, not an IČO one. (python-stdnum's development branch adds
    ``stdnum.cz.ico`` with this same algorithm; switch to it once released.)"""
    if not isinstance(value, str):
        raise ValueError("must be text: an IČO may start with 0")
    code = "".join(_number_text(value).split())
    if code[:2].upper() == "CZ":
        raise ValueError(f"{code!r} is a VAT number (DIČ); the IČO is 8 digits without CZ")
    if not (len(code) == 8 and code.isascii() and code.isdigit()):
        raise ValueError(f"must be exactly 8 digits, got {code!r} ({len(code)} characters)")
    if cz_dic.calc_check_digit_legal(code[:7]) != code[7]:
        raise ValueError(f"IČO {code} fails its check digit: a digit is probably mistyped")
    return code


_TAX_ID = re.compile(r"^[A-Z0-9][A-Z0-9./-]{0,31}$", re.ASCII)


def normalise_tax_id(value: Any) -> str:
    """A company registration number or a VAT number as a shop's checkout collects it, in
    any country: spaces removed, upper case, ASCII letters, digits, ``.``, ``/``, ``-``, at
    most 32 characters. Which numbers are valid is a country's rule, checked by the adapter
    that needs it (``normalise_cz_company_id``, ``normalise_eu_vat``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    code = "".join(_number_text(value).split()).upper()
    if not _TAX_ID.match(code):
        raise ValueError(f"must be letters, digits, '.', '/' or '-' (at most 32), got {code!r}")
    return code


def normalise_vat_id(value: Any) -> str:
    """A buyer's VAT number: ``normalise_tax_id``, and when it starts with an EU country's
    prefix, also its format and check digit by ``stdnum.eu.vat`` (``CheckDigitError`` when
    only the check fails). A number without a prefix is kept as typed: some countries'
    buyers give their domestic number."""
    code = normalise_tax_id(value)
    if code[:2] not in _EU_PREFIXES:
        return code
    try:
        return str(eu_vat.validate(code))
    except InvalidChecksum:
        raise CheckDigitError(code, f"VAT number {code} fails its check digit: a digit is "
                                    "probably mistyped") from None
    except NumberError:
        raise ValueError(f"{code!r} does not have the format of a {code[:2]} VAT number"
                         ) from None


def _number_text(value: Any) -> str:
    """The trimmed text of an identifier, bounded before anything quotes it back."""
    if not isinstance(value, str):
        raise ValueError(f"must be text, got {type(value).__name__}")
    text = value.strip()
    if not text:
        raise ValueError("required")
    if len(text) > _NUMBER_INPUT_MAX:
        raise ValueError(f"longer than {_NUMBER_INPUT_MAX} characters ({len(text)})")
    return text


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
