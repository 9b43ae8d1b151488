"""The operator's API under ``/admin/api`` (bearer-token protected)."""
