"""Connection-level faults ("reset", "drop_after_create"): the app marks the request, a
WSGI middleware and our werkzeug request handler then reset or close the connection."""

from __future__ import annotations

import contextlib
import socket
import struct
from collections.abc import Callable
from typing import Any

from werkzeug.serving import WSGIRequestHandler

#: Keys our request handler puts into the WSGI environ to let the app kill the connection:
#: the app sets ``KILL_KEY`` to "reset" or "drop"; the handler provides the hook.
KILL_KEY = "sandbox_simulator.kill"
_KILL_HOOK_KEY = "sandbox_simulator.kill_hook"


class _ConnectionKilled(ConnectionAbortedError):
    """Raised past Flask so werkzeug treats the exchange as a dropped connection and
    writes nothing."""


class ConnectionKiller:
    """WSGI middleware: after the app ran, kill the connection if a fault asked for it."""

    def __init__(self, wsgi_app: Callable[..., Any]) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        body = self.wsgi_app(environ, start_response)
        how = environ.get(KILL_KEY)
        if how is None:
            return body
        if hasattr(body, "close"):
            body.close()
        hook = environ.get(_KILL_HOOK_KEY)
        if hook is not None:
            hook(how)
        else:
            _kill_foreign_socket(environ.get("werkzeug.socket"))
        raise _ConnectionKilled(how)


def _kill_foreign_socket(sock: socket.socket | None) -> None:
    """Best effort under a server that is not ours: an orderly close without an answer
    (a FIN, not an RST -- the descriptor is not ours to close)."""
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class SimulatorRequestHandler(WSGIRequestHandler):
    """werkzeug's handler, plus a hook that really resets or closes the connection."""

    def setup(self) -> None:
        super().setup()
        # werkzeug writes the status line and headers, then the body: without TCP_NODELAY
        # the body waits for the client's delayed ACK (measured: ~6 ms per answer).
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        environ[_KILL_HOOK_KEY] = self._kill_connection
        return environ

    def _kill_connection(self, how: str) -> None:
        sock = self.connection
        with contextlib.suppress(OSError):  # the client may already be gone
            if how == "reset":
                # Linger on with a zero timeout: close() discards everything and sends RST.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                # Orderly FIN after the request was fully read: "closed without response".
                sock.shutdown(socket.SHUT_RDWR)
        self.close_connection = True
        # rfile holds a reference to the descriptor; close it so close() is the last one.
        self.rfile.close()
        sock.close()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if not getattr(self.server, "simulator_quiet", False):
            super().log_request(code, size)
