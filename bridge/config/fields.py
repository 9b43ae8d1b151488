"""The field types configuration sections are written with (marshmallow), and ``Section``,
the schema every TOML table derives from.

Every message says what is expected in words an operator understands ("must be a whole
number, got 2.5"); ``bridge.config.load`` prefixes it with the key's path. A ``Section``
rejects keys it does not declare ("unknown setting": a typo must not silently fall back to a
default), and any field declared with ``Secret()`` may instead be given as
``<name>_env = "VARIABLE"``, read from the environment at start.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, pre_load

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}
_DURATION_HINT = 'must be a duration such as 30, "30s", "5m", "2h"'


# --- what loading needs besides the document -----------------------------------------


@dataclass(frozen=True)
class LoadContext:
    #: where ``*_env`` secrets are read from
    env: Mapping[str, str]
    #: relative paths in the file are relative to the file's folder
    base_dir: Path


_CONTEXT: ContextVar[LoadContext | None] = ContextVar("invoice_bridge_config", default=None)


@contextmanager
def loading(env: Mapping[str, str], base_dir: Path) -> Iterator[LoadContext]:
    """Sections loaded inside this block read secrets from ``env`` and resolve paths
    against ``base_dir``."""
    context = LoadContext(env=env, base_dir=base_dir)
    token = _CONTEXT.set(context)
    try:
        yield context
    finally:
        _CONTEXT.reset(token)


def current_context() -> LoadContext:
    context = _CONTEXT.get()
    if context is None:
        raise RuntimeError("load configuration sections inside bridge.config.fields.loading()")
    return context


# --- sections -------------------------------------------------------------------------


class Section(Schema):
    """A TOML table. Subclasses name the dataclass they build in ``model``."""

    model: ClassVar[type[Any] | None] = None
    error_messages: ClassVar[dict[str, str]] = {  # type: ignore[misc]
        "unknown": "unknown setting", "type": "must be a table"}

    class Meta:
        unknown = RAISE

    @pre_load
    def _secrets_from_environment(self, data: Any, **_: Any) -> Any:
        """``<name>_env = "VARIABLE"`` for every ``Secret`` field: exactly one of the two."""
        if not isinstance(data, Mapping):
            return data  # marshmallow answers "must be a table"
        data = dict(data)
        errors: dict[str, list[str]] = {}
        for name, field in self.fields.items():
            if not isinstance(field, Secret):
                continue
            env_name = f"{name}_env"
            if env_name not in data:
                continue
            variable = data.pop(env_name)
            if name in data:
                errors[name] = [f"give either {name} or {env_name}, not both"]
            elif not isinstance(variable, str) or not variable:
                errors[env_name] = ["must name an environment variable"]
            elif not current_context().env.get(variable):
                errors[env_name] = [f"environment variable {variable} is not set or empty"]
            else:
                data[name] = current_context().env[variable]
        if errors:
            raise ValidationError(errors)
        return data

    def finish(self, data: dict[str, Any]) -> dict[str, Any]:
        """Checks and derived values across fields, before ``model`` is built; raise
        ``ValidationError({"key": [...]})`` to name the key."""
        return data

    @post_load
    def _build(self, data: dict[str, Any], **_: Any) -> Any:
        data = self.finish(data)
        return self.model(**data) if self.model is not None else data


# --- scalar fields ----------------------------------------------------------------------


class Text(fields.Field[str]):
    """A string, optionally one of ``choices``."""

    def __init__(self, *, choices: tuple[str, ...] = (), **kwargs: Any) -> None:
        kwargs.setdefault("error_messages", {"required": "required"})
        super().__init__(**kwargs)
        self.choices = choices

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str):
            raise ValidationError(f"must be a string, got {type(value).__name__}")
        if self.choices and value not in self.choices:
            raise ValidationError(f"must be one of {', '.join(self.choices)}; got {value!r}")
        return value


class Secret(Text):
    """A non-empty string that may come from the environment (``<name>_env``)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str) or not value:
            raise ValidationError("must be a non-empty string")
        return value

    def make_error(self, key: str, **kwargs: Any) -> ValidationError:
        if key == "required":
            return ValidationError(f"required (or set {self.name}_env)")
        return super().make_error(key, **kwargs)


class Flag(fields.Field[bool]):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError("must be true or false")
        return value


class Number(fields.Field[float]):
    """A number (TOML integer or float; booleans are not numbers) of at least ``minimum``."""

    def __init__(self, *, minimum: float = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.minimum = minimum

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError(f"must be a number, got {value!r}")
        return _at_least(value, self.minimum)


class WholeNumber(fields.Field[int]):
    """A TOML integer (``2.0`` and ``"2"`` are not) of at least ``minimum``."""

    def __init__(self, *, minimum: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.minimum = minimum

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(f"must be a whole number, got {value!r}")
        return int(_at_least(value, self.minimum))


def _at_least(value: float, minimum: float) -> float:
    if value < minimum:
        raise ValidationError(f"must be at least {minimum:g}, got {value}")
    return value


class Duration(fields.Field[float]):
    """Seconds: ``30``, ``30.5``, or ``"250ms"``, ``"30s"``, ``"5m"``, ``"2h"``, ``"3d"``."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        try:
            return parse_duration(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


def parse_duration(value: Any) -> float:
    """A duration in seconds; ``ValueError`` says what is expected."""
    if isinstance(value, bool):
        raise ValueError(_DURATION_HINT)
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    else:
        raise ValueError(f"{_DURATION_HINT}; got {value!r}")
    if seconds < 0:
        raise ValueError("must not be negative")
    return seconds


class TextList(fields.Field[tuple[str, ...]]):
    """A list of strings, read as a tuple."""

    def _deserialize(self, value: Any, attr: str | None, data: Any,
                     **kwargs: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ValidationError("must be a list of strings")
        return tuple(value)


class DurationList(fields.Field[tuple[float, ...]]):
    """A list of durations; a bad item is named by its index."""

    def _deserialize(self, value: Any, attr: str | None, data: Any,
                     **kwargs: Any) -> tuple[float, ...]:
        if not isinstance(value, list):
            raise ValidationError("must be a list of durations")
        seconds, errors = [], {}
        for index, item in enumerate(value):
            try:
                seconds.append(parse_duration(item))
            except ValueError as exc:
                errors[index] = [str(exc)]
        if errors:
            raise ValidationError(errors)
        return tuple(seconds)


# --- URLs ------------------------------------------------------------------------------


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_http_url(url: str, *, allow_insecure: bool) -> str:
    """An http(s) URL with a host and no credentials; plain http only for loopback hosts
    unless ``allow_insecure``. Returns it without a trailing slash."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(f"must be an http(s) URL with a host; got {url!r}")
    if parts.username or parts.password:
        raise ValidationError("must not carry credentials; use the *_env secrets instead")
    if parts.scheme == "http" and not (allow_insecure or is_loopback_url(url)):
        raise ValidationError(
            "plain http is only allowed for loopback hosts (127.0.0.1, ::1, localhost); "
            "use https, or set allow_insecure_http = true if you really mean it")
    return url.rstrip("/")
