"""Integration tests run on both databases: SQLite, and PostgreSQL when one is configured
(see tests/conftest.py for how PostgreSQL tests skip or, in CI, must run)."""

from __future__ import annotations

import pytest


@pytest.fixture
def db_url(any_db_url: str) -> str:
    return any_db_url
