"""insight_snapshots: stored answers of the partners' scores (a row per partner) and of the KPIs per
(as_of day, parameters), with the time each was computed

Revision ID: 0022_insight_snapshots
Revises: 0021_insight_summaries
Create Date: 2026-11-28 08:00:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0022_insight_snapshots'
down_revision = '0021_insight_summaries'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    op.create_table(
        'insight_snapshot',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('as_of', sa.Date(), nullable=False),
        sa.Column('params', sa.String(length=120), nullable=False),
        sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('partners', sa.Integer(), nullable=False),
        sa.Column('result', JSON, nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_insight_snapshot')),
        sa.UniqueConstraint('kind', 'as_of', 'params', name='uq_insight_snapshot_key'),
    )
    op.create_table(
        'insight_snapshot_row',
        sa.Column('snapshot_id', sa.Integer(), nullable=False),
        sa.Column('partner_id', sa.Integer(), nullable=False),
        sa.Column('score', sa.Float(), nullable=False),
        sa.Column('last_active', sa.Date(), nullable=True),
        sa.Column('flag_names', sa.String(length=40), nullable=False),
        sa.Column('flags', JSON, nullable=False),
        sa.Column('components', JSON, nullable=False),
        sa.Column('hints', JSON, nullable=False),
        sa.ForeignKeyConstraint(['snapshot_id'], ['insight_snapshot.id'], ondelete='CASCADE',
                                name=op.f('fk_insight_snapshot_row_snapshot_id_insight_snapshot')),
        sa.PrimaryKeyConstraint('snapshot_id', 'partner_id', name=op.f('pk_insight_snapshot_row')),
    )


def downgrade():
    op.drop_table('insight_snapshot_row')
    op.drop_table('insight_snapshot')
