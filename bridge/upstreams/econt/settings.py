"""``[shops.upstream]`` for ``kind = "econt"``: the Client ID and Token e-Cont.md issues under
SETTINGS > {office} > Online invoicing > E-invoice issuing > Universal Data Exchange - API,
and the language of the invoice."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from bridge.config.fields import Secret, Text
from bridge.upstreams.econt import assumptions
from bridge.upstreams.settings import UpstreamSection, UpstreamSettings

DEFAULT_BASE_URL = "https://api.diginet.md"


@dataclass(frozen=True, kw_only=True)
class EcontSettings(UpstreamSettings):
    kind: str = "econt"
    base_url: str = DEFAULT_BASE_URL
    # secrets never appear in repr(), so a logged or printed settings object leaks nothing
    client_id: str = field(repr=False)
    token: str = field(repr=False)
    language: str = "ro"

    account_fields: ClassVar[tuple[str, ...]] = ("client_id", "token")


class EcontSection(UpstreamSection):
    model = EcontSettings
    default_base_url = DEFAULT_BASE_URL

    client_id = Secret(required=True)
    token = Secret(required=True)
    language = Text(choices=assumptions.LANGUAGES, load_default="ro")
