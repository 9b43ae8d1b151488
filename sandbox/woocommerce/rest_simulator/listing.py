"""``GET /wc/v3/orders``: the sanitized collection parameters (``ListQuery``), filtering,
ordering and paging of the state's orders (``Lister``) and the ``Link`` header
(``link_header``), as ``WC_REST_Orders_Controller`` and ``WC_REST_CRUD_Controller`` do them."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.woocommerce.rest_simulator.php import absint, rawurlencode, wp_parse_list
from sandbox.woocommerce.rest_simulator.state import RestSimulatorState, parse_gmt

_NOT_IN_ANY = ("trash", "auto-draft")


@dataclass
class ListQuery:
    """The sanitized collection parameters."""

    page: int = 1
    per_page: int = 10
    offset: int | None = None
    order: str = "desc"
    orderby: str = "date"
    statuses: list[str] = field(default_factory=lambda: ["any"])
    include: list[int] = field(default_factory=list)
    exclude: list[int] = field(default_factory=list)
    parent: list[int] = field(default_factory=list)
    parent_exclude: list[int] = field(default_factory=list)
    customer: int | None = None
    product: int | None = None
    dates_are_gmt: bool = False
    dates: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_query(cls, query: Mapping[str, Any]) -> ListQuery:
        ids = {name: _id_list(query.get(name))
               for name in ("include", "exclude", "parent", "parent_exclude")}
        return cls(
            page=absint(query.get("page", "1")),
            per_page=absint(query.get("per_page", "10")),
            offset=absint(query["offset"]) if "offset" in query else None,
            order=str(query.get("order", "desc")),
            orderby=str(query.get("orderby", "date")),
            statuses=wp_parse_list(query.get("status", "any")) or ["any"],
            customer=absint(query["customer"]) if "customer" in query else None,
            product=absint(query["product"]) if "product" in query else None,
            # rest_sanitize_boolean: only "false", "0" and "" are false
            dates_are_gmt=str(query.get("dates_are_gmt", "false")).lower()
            not in ("false", "0", ""),
            dates={name: str(query[name]) for name in
                   ("after", "before", "modified_after", "modified_before") if name in query},
            **ids,
        )


def _id_list(value: Any) -> list[int]:
    if value is None:
        return []
    return list(dict.fromkeys(absint(part) for part in wp_parse_list(value)))


def _date_bound(text: str, zone: ZoneInfo) -> datetime:
    """WP_Date_Query::build_mysql_datetime for a full date-time string: a value with an
    offset is converted to the shop's time zone; a bare one is taken as it is."""
    value = datetime.fromisoformat(text.replace("t", "T"))
    if value.tzinfo is not None:
        value = value.astimezone(zone).replace(tzinfo=None)
    return value.replace(microsecond=0)


class Lister:
    """``GET /wc/v3/orders`` over the state's orders."""

    def __init__(self, state: RestSimulatorState, query: ListQuery) -> None:
        self.state = state
        self.query = query

    def select(self) -> list[dict[str, Any]]:
        orders = [order for order in self.state.orders() if self._wanted(order)]
        orders.sort(key=self._sort_key, reverse=self.query.order == "desc")
        return orders

    def _wanted(self, order: dict[str, Any]) -> bool:
        q = self.query
        status = order.get("status")
        if "any" in q.statuses:
            if status in _NOT_IN_ANY:
                return False
        elif status not in q.statuses:
            return False
        order_id = int(order["id"])
        if (q.include and order_id not in q.include) or order_id in q.exclude:
            return False
        parent = int(order.get("parent_id") or 0)
        if (q.parent and parent not in q.parent) or parent in q.parent_exclude:
            return False
        if q.customer is not None and int(order.get("customer_id") or 0) != q.customer:
            return False
        if q.product is not None and not any(
                q.product in (item.get("product_id"), item.get("variation_id"))
                for item in order.get("line_items", [])):
            return False
        return self._in_dates(order)

    def _in_dates(self, order: dict[str, Any]) -> bool:
        for name, text in self.query.dates.items():
            column = "date_created" if name in ("after", "before") else "date_modified"
            value = self._column(order, column)
            bound = _date_bound(text, self.state.zone)
            if value is None:
                return False
            if name.endswith("after") and not value > bound:
                return False
            if name.endswith("before") and not value < bound:
                return False
        return True

    def _column(self, order: dict[str, Any], column: str) -> datetime | None:
        """post_date(_gmt) / post_modified(_gmt) as naive wall times."""
        gmt = parse_gmt(order.get(f"{column}_gmt"))
        if gmt is None:
            return None
        chosen = gmt if self.query.dates_are_gmt else gmt.astimezone(self.state.zone)
        return chosen.replace(tzinfo=None)

    def _sort_key(self, order: dict[str, Any]) -> tuple[Any, ...]:
        order_id = int(order["id"])
        orderby = self.query.orderby
        if orderby == "modified":
            return (order.get("date_modified_gmt") or "", order_id)
        if orderby == "include" and self.query.include:
            return (self.query.include.index(order_id), order_id)
        if orderby in ("title", "slug"):
            return (self._title(order), order_id)
        if orderby == "date":
            return (order.get("date_created_gmt") or "", order_id)
        return (order_id,)

    def _title(self, order: dict[str, Any]) -> str:
        created = parse_gmt(order.get("date_created_gmt")) or datetime.fromtimestamp(0, UTC)
        return "Order &ndash; " + created.astimezone(self.state.zone).strftime(
            "%b %d, %Y @ %I:%M %p")

    def page(self) -> tuple[list[dict[str, Any]], int, int]:
        """(orders of the requested page, X-WP-Total, X-WP-TotalPages)."""
        selected = self.select()
        per_page = self.query.per_page
        start = (self.query.offset if self.query.offset is not None
                 else (self.query.page - 1) * per_page)
        total = len(selected)
        return selected[start:start + per_page], total, math.ceil(total / per_page)


def link_header(base: str, query: Mapping[str, Any], page: int, pages: int) -> str | None:
    """WC_REST_CRUD_Controller::get_items: prev (clamped to the last page) and next only."""
    links = []
    if page > 1:
        links.append(f'<{_page_url(base, query, min(page - 1, pages))}>; rel="prev"')
    if pages > page:
        links.append(f'<{_page_url(base, query, page + 1)}>; rel="next"')
    return ", ".join(links) or None


def _page_url(base: str, query: Mapping[str, Any], page: int) -> str:
    params: dict[str, Any] = {**query, "page": str(page)}
    params.pop("rest_route", None)  # already in the base URL without pretty permalinks
    # the controller puts the parsed status array back into the request: status[0]=any
    params["status"] = dict(enumerate(wp_parse_list(query.get("status", "any")) or ["any"]))
    parts: list[str] = []
    for name, value in params.items():
        if isinstance(value, dict):
            parts.extend(f"{rawurlencode(name)}%5B{rawurlencode(str(k))}%5D="
                         f"{rawurlencode(str(v))}" for k, v in value.items())
        else:
            parts.append(f"{rawurlencode(name)}={rawurlencode(str(value))}")
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}{'&'.join(parts)}"
