"""Alembic migrations for invoice-bridge (SQLite and PostgreSQL share one history).

Run them with ``invoice-bridge migrate``; ``alembic`` with the top-level alembic.ini works too.
"""
