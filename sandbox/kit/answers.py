"""How a fault becomes what the client sees, around the simulated service's own answers.

A simulator's view calls ``answer_before(fault, error)`` for a BEFORE fault (``error``
renders the service's own error envelope for a status and a message) and
``answer_after(injector, fault, answer, order_id, success_status)`` to spoil the answer of a
request it processed normally.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from http import HTTPStatus

from flask import Response, request

from sandbox.kit.connection import KILL_KEY
from sandbox.kit.faults import DEFAULT_GATEWAY_STATUS, FaultInjector, FaultRule

#: what a 429 says when its rule gives no Retry-After
DEFAULT_RETRY_AFTER = 1
#: long enough to outlast the short client timeouts tests use, short enough not to hang
DEFAULT_SLOW_DELAY = 3.0
#: ours, for people reading traffic; no vendor sends it
FAULT_HEADER = "X-Sandbox-Fault"

#: the service's own error answer: (status, message, headers) -> response
ErrorAnswer = Callable[[int, str, Mapping[str, str]], Response]


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def gateway_page(status: int) -> str:
    """The HTML error page a gateway (nginx's stock page) answers with, not the service."""
    title = f"{status} {_phrase(status)}"  # "520 Error": a status Python does not name
    return (f"<html><head><title>{title}</title></head><body>"
            f"<center><h1>{title}</h1></center><hr><center>nginx</center></body></html>\n")


_MANGLED_PAGE = gateway_page(502)


def answer_before(fault: FaultRule, error: ErrorAnswer) -> Response:
    """The answer of a fault that replaces processing: nothing is created."""
    headers = {FAULT_HEADER: fault.kind}
    if fault.kind == "reset":
        # Read (not process) the body first: the client is then waiting for the answer
        # when the RST arrives and sees ECONNRESET. Reset mid-upload, its send() may absorb
        # the RST and the client sees a plain EOF instead -- still an error, but vaguer.
        request.get_data()
        request.environ[KILL_KEY] = "reset"
        return Response(status=500)  # never sent: the connection is reset instead
    if fault.kind == "gateway":
        return gateway_answer(fault, headers)
    retry_after = fault.retry_after
    if fault.kind == "429" and retry_after is None:
        retry_after = DEFAULT_RETRY_AFTER
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    status = int(fault.kind)
    return error(status, _phrase(status), headers)


def answer_after(injector: FaultInjector, fault: FaultRule, answer: Response,
                 order_id: object, *, success_status: int = 200,
                 json_content_type: str = "application/json; charset=utf-8") -> Response:
    """Spoil the answer of a request that was processed normally (an invoice may exist)."""
    if fault.kind == "slow":
        injector.hold(order_id, DEFAULT_SLOW_DELAY if fault.delay is None else fault.delay)
        answer.headers[FAULT_HEADER] = fault.kind
        return answer
    if fault.kind == "drop_after_create":
        request.environ[KILL_KEY] = "drop"
        return answer  # never sent: the connection is closed instead
    headers = {FAULT_HEADER: fault.kind}
    if fault.kind == "gateway_after_create":
        return gateway_answer(fault, headers)
    if fault.kind == "malformed":
        return Response(_MANGLED_PAGE, status=success_status, headers=headers,
                        content_type="text/html; charset=UTF-8")
    # "empty": a JSON content type over no bytes at all
    return Response(b"", status=success_status, headers=headers,
                    content_type=json_content_type)


def gateway_answer(fault: FaultRule, headers: dict[str, str]) -> Response:
    """A gateway's own HTML page in place of the service's answer (no envelope)."""
    status = fault.status or DEFAULT_GATEWAY_STATUS
    if fault.retry_after is not None:
        headers["Retry-After"] = str(fault.retry_after)
    return Response(gateway_page(status), status=status, headers=headers,
                    content_type="text/html")
