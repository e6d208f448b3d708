"""Schema migrations of the project store (Alembic), applied when a store is opened."""
