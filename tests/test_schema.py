"""The store's schema comes from migrations, and stores made before them are upgraded in place."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from qa_pipeline.store.database import Store, metadata
from qa_pipeline.store.schema import current_revision, head_revision


def test_migrations_build_exactly_the_tables_the_store_uses(tmp_path: Path) -> None:
    store = Store(tmp_path / "qa.sqlite")
    with store.engine.connect() as conn:
        assert current_revision(conn) == head_revision()
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_a_store_made_before_migrations_is_upgraded_keeping_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    engine = sa.create_engine(f"sqlite:///{path}")
    old_tables = [t for t in metadata.sorted_tables if t.name != "claims"]  # as the first releases made it
    metadata.create_all(engine, tables=old_tables)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO overrides "
                "(call_id, checklist_id, item_id, supervisor, answer, comment, created_at) VALUES "
                "('c1', 'cl', 'greeting', 'sv', '\"yes\"', 'heard it', '2026-10-01 10:00:00')"
            )
        )
    engine.dispose()
    store = Store(path)
    with store.engine.connect() as conn:
        assert current_revision(conn) == head_revision()
        assert sa.inspect(conn).has_table("claims")
    assert [(o.call_id, o.comment) for o in store.overrides()] == [("c1", "heard it")]
    assert store.claim("score", "k")  # the new table works
    Store(path)  # opening again changes nothing


def test_a_store_with_every_table_but_no_version_is_stamped_not_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "made-directly.sqlite"
    engine = sa.create_engine(f"sqlite:///{path}")
    metadata.create_all(engine)  # all tables, claims included, and no migration version
    engine.dispose()
    store = Store(path)
    with store.engine.connect() as conn:
        assert current_revision(conn) == head_revision()
