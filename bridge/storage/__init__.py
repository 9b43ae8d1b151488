"""Storage: the tables (``models``), the engine and sessions (``database``), the sync
states (``states``) and Alembic helpers (``migrate``)."""
