"""build_runtime: what every process holds, and what it does to the schema."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.errors import RefusalKind, Refused
from bridge.storage.migrate import is_at_head
from bridge.upstreams.registry import UpstreamRegistry
from bridge.wiring import Migrate, build_runtime


def test_the_schema_is_migrated_only_when_asked_and_allowed(make_settings: Any) -> None:
    manual = make_settings({"database": {"auto_migrate": False}})
    untouched = build_runtime(manual)  # Migrate.NO: a web replica
    assert not is_at_head(untouched.db)
    untouched.close()
    with pytest.raises(Refused, match="invoice-bridge migrate") as behind:
        build_runtime(manual, migrate=Migrate.IF_AUTO_ELSE_REQUIRE)
    assert (behind.value.code, behind.value.kind) == ("schema_behind", RefusalKind.UNAVAILABLE)
    build_runtime(manual, migrate=Migrate.IF_AUTO).close()  # the worker starts, unmigrated

    automatic = build_runtime(make_settings({"database": {"auto_migrate": True}}),
                              migrate=Migrate.IF_AUTO_ELSE_REQUIRE)
    assert is_at_head(automatic.db)
    automatic.close()


def test_an_unreachable_database_is_refused_as_unavailable(make_settings: Any) -> None:
    settings = make_settings({"database": {
        "url": "postgresql://bridge:bridge@127.0.0.1:9/bridge", "auto_migrate": True}})
    with pytest.raises(Refused) as refused:
        build_runtime(settings, migrate=Migrate.IF_AUTO)
    assert (refused.value.code, refused.value.kind) == ("database_unavailable",
                                                        RefusalKind.UNAVAILABLE)


def test_upstreams_are_built_once_on_first_use_or_taken_as_given(
        make_settings: Any, memory_registry: UpstreamRegistry) -> None:
    runtime = build_runtime(make_settings())
    assert runtime._built_upstreams is None  # a command that never renders builds none
    assert runtime.upstreams is runtime.upstreams
    runtime.close()
    given = build_runtime(make_settings(), upstreams=memory_registry)
    assert given.upstreams is memory_registry
    given.close()
