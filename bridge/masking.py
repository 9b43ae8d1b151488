"""Masking personal data and secrets in text that leaves the process: log lines, and the
reasons the admin API shows.

What is masked: anything shaped like an e-mail address (``local@domain``, valid or not, and
``"quoted local"@domain``); runs of digits that look like a phone number or a fiscal code
(nine digits or more, with or without a country code, grouped by spaces, dots, dashes or
parentheses: ``+373 69 123 456``, ``069123456``, ``069.123.456``, ``1012600034567``); and,
after a personal field's name (``billing.first_name: ... 'Elena Rusu'``), every quoted value,
because a reason that quotes what a buyer typed into a wrong field quotes a name.

Everything here takes time linear in the length of its input, and callers bound the input
first (``bound``): text from outside -- a request header, a path -- reaches the log, and a
pattern that backtracks over it would hold the interpreter (and every other request) for
seconds. Hence no pattern here can fail after scanning far ahead and then be tried again
from the next character: each starts only at a token's beginning, or consumes the whole run
it scanned and decides in Python.
"""

from __future__ import annotations

import re

#: characters that end a word for masking purposes
_DELIMITERS = " \t\r\n'\"<>()[],;:"
_D = r"\s'\"<>()\[\],;:"

# A token holding "@": tried only where a token starts (after a delimiter), and possessive, so
# a token without "@" costs one scan, not one per character.
_EMAIL = re.compile(rf"(?<![^{_D}])[^{_D}@]*+@[^{_D}]*+")
# "quoted local part"@domain (RFC 5321 allows at most 64 characters in the local part).
_QUOTED_EMAIL = re.compile(rf"\"((?:[^\"\\\r\n]|\\.){{1,64}})\"@[^{_D}]*+")
# A run of digits and the separators people write phone numbers with; the whole run is
# consumed (possessive), and whether it is a phone number is decided on the run.
_NUMBER_RUN = re.compile(r"\+?\(?\d++(?:[ .()/\-]{1,3}+\d++)*+")
_NUMBER_CHARS = "0123456789 .()/-+"
_DATE = re.compile(r"\d{4}-\d\d-\d\d(?: \d\d)?")
_IPV4 = re.compile(r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}")

#: a field whose value is personal (WooCommerce billing/shipping, the fiscal-code meta, the
#: upstream's order.billing); a reason naming one must not quote the value
_PERSONAL_FIELD = re.compile(r"(?:billing|shipping)\.[a-z_0-9]|meta_data\[|customer_note")
_QUOTED = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"")


def bound(text: str, limit: int) -> str:
    """``text`` cut to about ``limit`` characters, saying how long it was. The cut never
    leaves half of a number or a word behind (half a phone number is too few digits to be
    masked, half an e-mail address has no "@" left): the partial tail is dropped."""
    if len(text) <= limit:
        return text
    head = text[:limit].rstrip(_NUMBER_CHARS)
    cut = len(head)
    while cut and head[cut - 1] not in _DELIMITERS:
        cut -= 1
    return f"{head[:cut]}…[{len(text)} chars]"


def mask_text(text: str) -> str:
    """Mask e-mail addresses, phone numbers and fiscal codes, and values quoted after a
    personal field's name, inside free text."""
    text = _QUOTED_EMAIL.sub(_mask_quoted_email, text)
    text = _EMAIL.sub(_mask_email, text)
    text = _NUMBER_RUN.sub(_mask_number, text)
    return _mask_personal_values(text)


def mask_secret(value: str) -> str:
    """Enough to tell two secrets apart in a log, not enough to use one."""
    if len(value) <= 8:
        return "***"
    return f"{value[:3]}***({len(value)} chars)"


def _mask_quoted_email(match: re.Match[str]) -> str:
    return f'"{match[1][0]}***"@***'


def _mask_email(match: re.Match[str]) -> str:
    token = match[0]
    body = token.lstrip("@")  # "@handle" alone is not an address; "@a@b" still is
    if "@" not in body:
        return token
    return f"{token[:len(token) - len(body)]}{body[0]}***@***"


def _mask_number(match: re.Match[str]) -> str:
    run = match[0]
    start, end, text = match.start(), match.end(), match.string
    glued_before = start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_")
    glued_after = end < len(text) and (text[end].isalnum() or text[end] == "_")
    if glued_before or glued_after:  # part of an identifier or a longer number
        return run
    separators = [c for c in run if not c.isdigit()]
    if separators == ["."] or _IPV4.fullmatch(run) or _DATE.fullmatch(run):
        return run  # an amount (8377.20), an IPv4 address, a date
    digits = len(run) - len(separators)
    # Nine digits or more: a Moldovan number without the country code (069123456) has
    # nine. Eight digits only when grouped like a phone number (22 123 456).
    if digits >= 9 or (digits == 8 and (" " in separators or "(" in separators)):
        first = run.lstrip("+(")[0]
        return f"{'+' if run[0] == '+' else ''}{first}***{run[-2:]}"
    return run


def _mask_personal_values(text: str) -> str:
    field = _PERSONAL_FIELD.search(text)
    if field is None:
        return text
    # Every quoted value after the first personal field: reasons list fields one after the
    # other, and masking a later, harmless value too is the cheap side of the error.
    tail = _QUOTED.sub(lambda m: f"{m[0][0]}{m[0][1:2]}***{m[0][0]}" if len(m[0]) > 2
                       else m[0], text[field.start():])
    return text[:field.start()] + tail
