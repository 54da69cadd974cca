"""insight snapshot order: indexes for a page of a partners' snapshot in each list order

The partners' list reads one page of a snapshot's rows in SQL: `WHERE snapshot_id = ? ORDER BY
score, partner_id LIMIT n` (or last_active, no last action first). Each order (and its reverse, read
backwards) gets an index of the same columns, so a page stops after its rows. The name orders sort
the partners' current names (a join to partner; a few thousand rows sorted per page).

Revision ID: 0023_insight_snapshot_order
Revises: 0022_insight_snapshots
Create Date: 2026-11-28 09:05:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0023_insight_snapshot_order'
down_revision = '0022_insight_snapshots'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_insight_snapshot_row_score', 'insight_snapshot_row',
                    ['snapshot_id', 'score', 'partner_id'], unique=False)
    # No last action first (SQLite puts NULLs first anyway and takes no NULLS FIRST in an index).
    last_active = (sa.text('last_active NULLS FIRST') if op.get_bind().dialect.name == 'postgresql'
                   else 'last_active')
    op.create_index('ix_insight_snapshot_row_last_active', 'insight_snapshot_row',
                    ['snapshot_id', last_active, 'partner_id'], unique=False)


def downgrade():
    op.drop_index('ix_insight_snapshot_row_last_active', table_name='insight_snapshot_row')
    op.drop_index('ix_insight_snapshot_row_score', table_name='insight_snapshot_row')
