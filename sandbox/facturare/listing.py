"""``GET /customers``, ``/invoices``, ``/payments``: the documented ``filter[...]`` and
``metadata[...]`` exact-match parameters and ``expand``, and the pagination we assume
(``page``, ``per_page``, ``X-Total-Count``, ``Link``; assumptions.py)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict

from bridge.upstreams.facturare import assumptions as facturare

#: properties each list may be filtered by (its scalar properties)
FILTERABLE = {
    "customers": ("id", "name", "email", "type", "city", "postal_code", "country", "phone",
                  "tax_id"),
    "invoices": ("id", "customer", "number", "currency", "date", "purchase_order", "paid",
                 "closed", "status"),
    "payments": ("id", "customer", "invoice", "currency", "date", "method", "reference"),
}
#: relations ``expand`` may replace by their objects ([DOC]: "expand=customer,invoice")
EXPANDABLE = {"customers": (), "invoices": ("customer",), "payments": ("customer", "invoice")}
_BRACKETED = re.compile(r"^(filter|metadata)\[([^\[\]]{1,100})\]$")

#: (resource, id) -> the business's object, for ``expand``
Fetch = Callable[[str, object], Mapping[str, Any] | None]


class BadParameter(ValueError):
    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param
        self.message = message


def list_page(objects: list[dict[str, Any]], resource: str, args: MultiDict[str, str],
              base_url: str, fetch: Fetch) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The page of ``objects`` the query ``args`` asks for, and the paging headers. Raises
    ``BadParameter`` for a parameter the service would refuse."""
    filters, metadata, page, per_page, expand = _parameters(resource, args)
    matching = [obj for obj in objects
                if all(_matches(obj.get(name), value) for name, value in filters.items())
                and all(_metadata_matches(obj, key, value) for key, value in metadata.items())]
    last = max(1, -(-len(matching) // per_page))
    shown = matching[(page - 1) * per_page:page * per_page]
    headers = {facturare.TOTAL_COUNT_HEADER: str(len(matching)),
               "Link": _links(base_url, args, page, last)}
    return [expanded(obj, resource, expand, fetch) for obj in shown], headers


def expanded(obj: dict[str, Any], resource: str, expand: tuple[str, ...],
             fetch: Fetch) -> dict[str, Any]:
    """``obj`` with each relation in ``expand`` replaced by its object (when it exists)."""
    out = dict(obj)
    for relation in expand:
        if relation in EXPANDABLE[resource]:
            found = fetch(f"{relation}s", obj.get(relation))
            if found is not None:
                out[relation] = dict(found)
    return out


def expand_param(args: MultiDict[str, str]) -> tuple[str, ...]:
    return tuple(part.strip() for part in args.get("expand", "").split(",") if part.strip())


def _parameters(resource: str, args: MultiDict[str, str]) -> tuple[
        dict[str, str], dict[str, str], int, int, tuple[str, ...]]:
    filters: dict[str, str] = {}
    metadata: dict[str, str] = {}
    for name in args:
        if len(args.getlist(name)) > 1:
            raise BadParameter(name, "was given more than once")
        bracketed = _BRACKETED.match(name)
        if bracketed and bracketed.group(1) == "filter":
            if bracketed.group(2) not in FILTERABLE[resource]:
                raise BadParameter(name, f"{resource} cannot be filtered by "
                                         f"{bracketed.group(2)!r}")
            filters[bracketed.group(2)] = args[name]
        elif bracketed:
            metadata[bracketed.group(2)] = args[name]
        elif name not in (facturare.PAGE_PARAM, facturare.PER_PAGE_PARAM, "expand"):
            raise BadParameter(name, "is not a known parameter")
    page = _whole(args, facturare.PAGE_PARAM, 1, 1, 10**9)
    per_page = _whole(args, facturare.PER_PAGE_PARAM, facturare.MAX_PER_PAGE, 1,
                      facturare.MAX_PER_PAGE)
    return filters, metadata, page, per_page, expand_param(args)


def _whole(args: MultiDict[str, str], name: str, default: int, low: int, high: int) -> int:
    text = args.get(name)
    if text is None:
        return default
    if not text.isascii() or not text.isdigit() or not low <= int(text) <= high:
        raise BadParameter(name, f"must be a whole number from {low} to {high}")
    return int(text)


def _matches(value: Any, wanted: str) -> bool:
    """Exact match of a property against the query's text ([DOC]: ``filter[paid]=0``)."""
    if isinstance(value, bool):
        return wanted in (("1", "true") if value else ("0", "false"))
    if isinstance(value, int | Decimal):
        return str(value) == wanted
    return isinstance(value, str) and value == wanted


def _metadata_matches(obj: Mapping[str, Any], key: str, wanted: str) -> bool:
    """[DOC] An object without the key is left out, with no error."""
    metadata = obj.get("metadata")
    return isinstance(metadata, Mapping) and metadata.get(key) == wanted


def _links(base_url: str, args: MultiDict[str, str], page: int, last: int) -> str:
    def url(number: int) -> str:
        query = [(key, value) for key, value in args.items(multi=True)
                 if key != facturare.PAGE_PARAM]
        return f"{base_url}?{urlencode([*query, (facturare.PAGE_PARAM, str(number))])}"

    links = [(page, "self"), (1, "first")]
    if page > 1:
        links.append((page - 1, "previous"))
    if page < last:
        links.append((page + 1, "next"))
    links.append((last, "last"))
    return ", ".join(f'<{url(number)}>; rel="{rel}"' for number, rel in links)
