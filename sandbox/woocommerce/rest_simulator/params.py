"""Request parameter validation as ``rest_validate_request_arg`` does it: the collection
parameters of ``WC_REST_CRUD_Controller`` and the orders controllers'
``get_collection_params``, with the messages of WordPress's ``rest_validate_value_from_schema``,
answered as 400 ``rest_invalid_param`` with ``params`` and ``details``."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sandbox.woocommerce.rest_simulator.php import as_number, wp_list, wp_parse_list
from sandbox.woocommerce.rest_simulator.responses import WpError
from sandbox.woocommerce.rest_simulator.state import RestSimulatorState

_ORDERBY = ("date", "id", "include", "title", "slug", "modified")
#: rest_parse_date's pattern: what a ``format: date-time`` parameter must look like.
_REST_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}(?::\d{2})?)?$")

Check = Callable[[str, Any], "tuple[str, str] | None"]


def _integer(minimum: int | None = None, maximum: int | None = None) -> Check:
    def check(name: str, value: Any) -> tuple[str, str] | None:
        number = as_number(value)
        if number is None or number != int(number):
            return "rest_invalid_type", f"{name} is not of type integer."
        if minimum is not None and maximum is not None and not minimum <= number <= maximum:
            return ("rest_out_of_bounds",
                    f"{name} must be between {minimum} (inclusive) and {maximum} (inclusive)")
        if minimum is not None and number < minimum:
            return "rest_out_of_bounds", f"{name} must be greater than or equal to {minimum}"
        return None
    return check


def _date_time(name: str, value: Any) -> tuple[str, str] | None:
    if not isinstance(value, str) or not _REST_DATE.match(value):
        return "rest_invalid_date", "Invalid date."
    return None


def _boolean(name: str, value: Any) -> tuple[str, str] | None:
    if not isinstance(value, str) or value.lower() not in ("true", "false", "1", "0"):
        return "rest_invalid_type", f"{name} is not of type boolean."
    return None


def _enum(options: Sequence[str]) -> Check:
    def check(name: str, value: Any) -> tuple[str, str] | None:
        if isinstance(value, str) and value in options:
            return None
        if len(options) == 1:
            return "rest_not_in_enum", f"{name} is not {options[0]}."
        return "rest_not_in_enum", f"{name} is not one of {wp_list(list(options))}."
    return check


def _status_list(options: Sequence[str]) -> Check:
    item_check = _enum(options)

    def check(name: str, value: Any) -> tuple[str, str] | None:
        for index, item in enumerate(wp_parse_list(value)):
            problem = item_check(f"{name}[{index}]", item)
            if problem:
                return problem
        return None
    return check


_CONTEXT = _enum(("view", "edit"))


def collection_checks(state: RestSimulatorState) -> dict[str, Check]:
    """The validated collection parameters, in WooCommerce's order."""
    return {
        "context": _CONTEXT,
        "page": _integer(1),
        "per_page": _integer(1, 100),
        "after": _date_time,
        "before": _date_time,
        "modified_after": _date_time,
        "modified_before": _date_time,
        "dates_are_gmt": _boolean,
        "offset": _integer(),
        "order": _enum(("asc", "desc")),
        "orderby": _enum(_ORDERBY),
        "status": _status_list(("any", "trash", "auto-draft", *state.statuses)),
        "customer": _integer(),
        "product": _integer(),
        "dp": _integer(),
    }


#: The validated parameters of a single order.
ITEM_CHECKS: Mapping[str, Check] = {"context": _CONTEXT}


def validate(query: Mapping[str, Any], checks: Mapping[str, Check]) -> None:
    """Raise 400 ``rest_invalid_param`` naming every parameter that fails its check."""
    problems = {}
    for name, check in checks.items():
        if name in query:
            problem = check(name, query[name])
            if problem:
                problems[name] = problem
    if problems:
        raise WpError(
            "rest_invalid_param", f"Invalid parameter(s): {', '.join(problems)}", 400,
            params={name: message for name, (_, message) in problems.items()},
            details={name: {"code": code, "message": message, "data": None}
                     for name, (code, message) in problems.items()})
