"""``[shops.upstream]`` for ``kind = "facturare"``: the API key facturare.md issues under
Settings > Developers > API Keys (one set per business), and the base URL -- production by
default, ``https://api.sandbox.facturare.md`` for the vendor's sandbox (docs/facturare.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from marshmallow import ValidationError

from bridge.config.fields import Secret
from bridge.upstreams.facturare import assumptions
from bridge.upstreams.settings import UpstreamSection, UpstreamSettings

DEFAULT_BASE_URL = assumptions.PRODUCTION_BASE_URL
#: facturare.md is not documented to fold a repeated invoice (assumptions.REPEATS_CREATE_NEW);
#: the adapter looks invoices up instead, so only the two "a repeat creates another" values
#: make sense here.
REPEATED_ORDER_CHOICES = ("unknown", "create_new")
#: no key format is documented; this only keeps a pasted paragraph out of a header
MAX_API_KEY_LENGTH = 512


@dataclass(frozen=True, kw_only=True)
class FacturareSettings(UpstreamSettings):
    kind: str = "facturare"
    base_url: str = DEFAULT_BASE_URL
    # a secret never appears in repr(), so a logged or printed settings object leaks nothing
    api_key: str = field(repr=False)

    account_fields: ClassVar[tuple[str, ...]] = ("api_key",)


class FacturareSection(UpstreamSection):
    model = FacturareSettings
    default_base_url = DEFAULT_BASE_URL
    repeated_order_choices = REPEATED_ORDER_CHOICES

    api_key = Secret(required=True)

    def finish(self, data: dict[str, Any]) -> dict[str, Any]:
        errors: dict[str, list[str]] = {}
        try:
            data = super().finish(data)
        except ValidationError as exc:
            errors.update(exc.messages)  # type: ignore[arg-type]
        problem = api_key_problem(data["api_key"])
        if problem:
            errors["api_key"] = [problem]
        if errors:
            raise ValidationError(errors)
        return data


def api_key_problem(key: str) -> str | None:
    """Why ``key`` cannot be an HTTP Basic user name, or None. RFC 7617: the user name may not
    hold a colon; a space or control character is a copy-and-paste accident."""
    if len(key) > MAX_API_KEY_LENGTH:
        return f"must be at most {MAX_API_KEY_LENGTH} characters, got {len(key)}"
    if ":" in key:
        return "must not contain ':' (the key is the HTTP Basic user name)"
    if any(char.isspace() or not char.isprintable() for char in key):
        return "must not contain spaces or control characters (a copy-and-paste accident?)"
    return None
