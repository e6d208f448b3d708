"""Claims name the call (and checklist) instead of a cache key, and say what the worker is doing it with.

Workers whose models differ (a GPU worker with large-v3, a CPU worker with base) share one run: a claim
on the call stops the second from doing it again, and `detail` (the holder's cache key) lets it warn that
the two are not doing the same work. Old claims, keyed by cache key, are dropped: a claim only lives while
its worker runs.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.execute(sa.text("DELETE FROM claims"))
    columns = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("claims")}
    if "detail" in columns:  # made by a build that created tables directly
        return
    with op.batch_alter_table("claims") as batch:
        batch.add_column(sa.Column("detail", sa.String(300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("claims") as batch:
        batch.drop_column("detail")
