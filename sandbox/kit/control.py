"""The fault part of every simulator's control API (ours, under ``/_sandbox/``; no vendor has
anything like it): ``GET`` lists the queued faults, ``POST`` queues one rule, a list of rules
or ``{"faults": [...]}`` (all or nothing), ``DELETE`` clears them."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response, request

from sandbox.kit.faults import FaultInjector, FaultRule

#: Prefix of the control API; nothing under it exists at any vendor.
SANDBOX_PREFIX = "/_sandbox"


def is_control_path(path: str) -> bool:
    return path.startswith(SANDBOX_PREFIX + "/")


def register_fault_routes(app: Flask, injector: FaultInjector,
                          answer: Callable[[int, object], Response]) -> None:
    """``/_sandbox/faults``; ``answer(status, payload)`` renders the JSON."""

    @app.route(f"{SANDBOX_PREFIX}/faults", methods=["GET", "POST", "DELETE"])
    def faults() -> Response:
        if request.method == "DELETE":
            injector.clear_faults()
        elif request.method == "POST":
            error = queue_faults(injector, request.get_json(silent=True))
            if error:
                return answer(400, {"error": error})
        return answer(200, {"faults": injector.faults()})


def queue_faults(injector: FaultInjector, body: object) -> str | None:
    """Queue one rule, a list of rules or {"faults": [...]}; all or nothing. Returns why
    not, or None."""
    if isinstance(body, dict) and "faults" in body:
        body = body["faults"]
    rules_json = body if isinstance(body, list) else [body]
    try:
        injector.add_fault_rules([FaultRule.from_json(item) for item in rules_json])
    except ValueError as exc:
        return str(exc)
    return None
