"""What every upstream's ``[shops.upstream]`` section has, whatever the service.

Each plug-in (``bridge.upstreams.<name>.settings``) subclasses both: ``UpstreamSettings`` with
its own fields (credentials, language, account slug, ...) and ``UpstreamSection`` with their
schema. The common keys:

- ``kind``: which plug-in (``bridge.upstreams.registry``);
- ``base_url``: https only, except loopback hosts or with ``allow_insecure_http = true``;
- ``connect_timeout`` / ``read_timeout``: default to ``[dispatch]``'s;
- ``rate_limit`` / ``rate_burst``: requests per second to this account (0 = unlimited);
- ``repeated_order``: what the service does when the same order is sent twice -- it decides
  what the dispatcher may do after a failure whose outcome is unknown (docs/guarantees.md).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from marshmallow import ValidationError

from bridge.config.fields import (
    Duration,
    Flag,
    Number,
    Section,
    Text,
    WholeNumber,
    check_http_url,
)

#: What a repeated order does upstream. ``unknown`` (the safe default) and ``create_new`` both
#: mean a re-send could create a second invoice.
REPEATED_ORDER_BEHAVIOURS = ("unknown", "reject", "return_existing", "create_new")
#: [dispatch]'s defaults, which an upstream section without its own timeouts gets
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 30.0


@dataclass(frozen=True, kw_only=True)
class UpstreamSettings:
    kind: str
    base_url: str
    #: None: [dispatch]'s (the loader fills them in)
    connect_timeout: float | None = None
    read_timeout: float | None = None
    rate_limit: float = 5.0
    rate_burst: int = 10
    repeated_order: str = "unknown"
    allow_insecure_http: bool = field(default=False, repr=False)

    #: the fields that identify the account upstream (credentials among them); two shops on
    #: one account would send colliding order keys, so the loader refuses that
    account_fields: ClassVar[tuple[str, ...]] = ()

    @property
    def dedupes_repeats(self) -> bool:
        """True when sending the same order again is known not to create a second invoice."""
        return self.repeated_order in ("reject", "return_existing")

    @property
    def timeouts(self) -> tuple[float, float]:
        """(connect, read) seconds for a request to this upstream."""
        return (DEFAULT_CONNECT_TIMEOUT if self.connect_timeout is None else self.connect_timeout,
                DEFAULT_READ_TIMEOUT if self.read_timeout is None else self.read_timeout)

    @property
    def account_key(self) -> str:
        """Identifies the upstream account (for rate limits) without exposing credentials."""
        parts = [self.kind, self.base_url, *(str(getattr(self, name)) for name in
                                             self.account_fields)]
        digest = hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]
        return f"{self.kind}:{digest}"

    def with_timeouts(self, connect: float, read: float) -> UpstreamSettings:
        """These settings with [dispatch]'s timeouts wherever the section gave none."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.init}
        values["connect_timeout"] = self.connect_timeout if self.connect_timeout is not None \
            else connect
        values["read_timeout"] = self.read_timeout if self.read_timeout is not None else read
        return type(self)(**values)


class UpstreamSection(Section):
    """The keys every upstream section has. A plug-in's section adds its own and sets
    ``model``, ``default_base_url`` and, if it narrows them, ``repeated_order_choices``."""

    default_base_url: ClassVar[str] = ""
    repeated_order_choices: ClassVar[tuple[str, ...]] = REPEATED_ORDER_BEHAVIOURS

    kind = Text(required=True)
    base_url = Text()
    allow_insecure_http = Flag(load_default=False)
    connect_timeout = Duration(load_default=None)
    read_timeout = Duration(load_default=None)
    rate_limit = Number(load_default=5.0)
    rate_burst = WholeNumber(minimum=1, load_default=10)
    repeated_order = Text(load_default="unknown")

    def finish(self, data: dict[str, Any]) -> dict[str, Any]:
        errors: dict[str, list[str]] = {}
        url = data.get("base_url", self.default_base_url)
        try:
            data["base_url"] = check_http_url(url, allow_insecure=data["allow_insecure_http"])
        except ValidationError as exc:
            errors["base_url"] = exc.messages  # type: ignore[assignment]
        if data["repeated_order"] not in self.repeated_order_choices:
            errors["repeated_order"] = [
                f"must be one of {', '.join(self.repeated_order_choices)}; "
                f"got {data['repeated_order']!r}"]
        if errors:
            raise ValidationError(errors)
        return data
