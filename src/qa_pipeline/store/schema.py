"""The store's schema, brought up to date by Alembic migrations when a store is opened.

A store made before migrations existed has the first revision's tables and no version: it is stamped at
that revision and upgraded from there, so no store has to be rebuilt. Workers opening a new PostgreSQL
store at the same moment take turns (an advisory lock) instead of racing to create tables.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

MIGRATIONS = Path(__file__).parent / "migrations"
BASELINE = "0001"
_MIGRATION_LOCK = 742_311  # pg_advisory_xact_lock key shared by every qa-pipeline process


def _config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade_schema(engine: Engine) -> None:
    head = head_revision()
    with engine.connect() as connection:
        if current_revision(connection) == head:  # the usual case: one quick query
            return
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        current = current_revision(connection)
        if current == head:  # another process upgraded it while we waited
            return
        config = _config(connection)
        if current is None and inspect(connection).has_table("calls"):
            command.stamp(config, BASELINE)
        command.upgrade(config, "head")
