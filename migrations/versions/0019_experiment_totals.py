"""experiment_totals: each experiment's running totals per (partner, arm, kind), backfilled from the rollups

Revision ID: 0019_experiment_totals
Revises: 0018_dashboard_summary
Create Date: 2026-11-28 05:30:00

"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0019_experiment_totals'
down_revision = '0018_dashboard_summary'
branch_labels = None
depends_on = None

# The same sums as tcma.services.tracking.experiment_totals.fill_experiment_totals (kept here as
# SQL: a migration never imports the application): the experiment's campaign's rollups under one
# of its arms, on or after its first day (UTC).
BACKFILL = """
INSERT INTO experiment_partner_total (experiment_id, partner_id, variant, kind, total, uniques, bots)
SELECT :experiment, r.partner_id, r.variant, r.kind, sum(r.total), sum(r.uniques), sum(r.bots)
FROM event_rollup r
WHERE r.campaign_id = :campaign AND r.day >= :first_day
  AND r.variant IN (SELECT name FROM variant WHERE experiment_id = :experiment)
GROUP BY r.partner_id, r.variant, r.kind
"""


def upgrade():
    op.create_table(
        'experiment_partner_total',
        sa.Column('experiment_id', sa.Integer(), nullable=False),
        sa.Column('partner_id', sa.Integer(), nullable=False),
        sa.Column('variant', sa.String(length=40), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('total', sa.BigInteger(), nullable=False),
        sa.Column('uniques', sa.BigInteger(), nullable=False),
        sa.Column('bots', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['experiment_id'], ['experiment.id'], ondelete='CASCADE',
                                name=op.f('fk_experiment_partner_total_experiment_id_experiment')),
        sa.PrimaryKeyConstraint('experiment_id', 'partner_id', 'variant', 'kind',
                                name=op.f('pk_experiment_partner_total')),
    )
    conn = op.get_bind()
    backfill = sa.text(BACKFILL).bindparams(sa.bindparam("first_day", type_=sa.Date()))
    for experiment, campaign, started_at in conn.execute(
            sa.text("SELECT id, campaign_id, started_at FROM experiment ORDER BY id")).all():
        conn.execute(backfill, {"experiment": experiment, "campaign": campaign,
                                         "first_day": _first_day(started_at)})


def _first_day(started_at):
    """The UTC day an experiment started (SQLite hands back text, PostgreSQL an aware datetime)."""
    if isinstance(started_at, str):
        started_at = datetime.fromisoformat(started_at)
    if started_at.tzinfo is not None:
        started_at = started_at.astimezone(UTC)
    return started_at.date()


def downgrade():
    op.drop_table('experiment_partner_total')
