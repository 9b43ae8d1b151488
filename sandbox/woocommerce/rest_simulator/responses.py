"""The simulator's answers: JSON encoded like ``wp_json_encode`` with WordPress's REST headers,
``WP_Error`` responses, and the answers of queued faults."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response

from bridge.woocommerce.php_json import php_json_encode

_JSON_TYPE = "application/json; charset=UTF-8"
_FATAL_MESSAGE = (
    "<p>There has been a critical error on this website.</p><p><a href=\"https://wordpress.org/"
    "documentation/article/faq-troubleshooting/\">Learn more about troubleshooting "
    "WordPress.</a></p>")


class WpError(Exception):
    """A ``WP_Error`` on its way to becoming a JSON response."""

    def __init__(self, code: str, message: str, status: int, **data: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.data = data

    def response(self) -> Response:
        body = {"code": self.code, "message": self.message,
                "data": {"status": self.status, **self.data}}
        return json_response(body, self.status)


def json_response(body: Any, status: int = 200,
                  headers: Mapping[str, str] | None = None) -> Response:
    response = Response(php_json_encode(body), status=status, content_type=_JSON_TYPE)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Access-Control-Expose-Headers"] = "X-WP-Total, X-WP-TotalPages, Link"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def cannot_view(message: str) -> WpError:
    # rest_authorization_required_code(): 401 when no user is logged in
    return WpError("woocommerce_rest_cannot_view", message, 401)


def auth_error(message: str) -> WpError:
    return WpError("woocommerce_rest_authentication_error", message, 401)


def fault_response(status: int) -> Response:
    """What a queued fault answers (without its ``X-Simulator-Fault`` header)."""
    if status == 500:
        # _json_wp_die_handler's answer to a fatal error during a REST request
        body = {"code": "internal_server_error", "message": _FATAL_MESSAGE,
                "data": {"status": 500}, "additional_errors": []}
        return json_response(body, 500)
    if status >= 500:
        reason = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Time-out"}
        title = f"{status} {reason.get(status, 'Error')}"
        html = (f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>"
                f"{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
        return Response(html, status=status, content_type="text/html")
    return WpError("simulated_fault", f"Simulated {status} answer.", status).response()
