"""``/metrics``: the Prometheus text of ``bridge.metrics``."""

from __future__ import annotations

from flask import Blueprint, Response

from bridge.metrics import exposition
from bridge.web.runtime import current_runtime

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics() -> Response:
    return Response(exposition(current_runtime()),
                    mimetype="text/plain; version=0.0.4; charset=utf-8")
