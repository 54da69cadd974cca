"""dashboard_summary: the programme dashboard's pre-summed tables, backfilled from the rollups

Revision ID: 0018_dashboard_summary
Revises: 0017_scheduled_launch
Create Date: 2026-11-28 03:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0018_dashboard_summary'
down_revision = '0017_scheduled_launch'
branch_labels = None
depends_on = None

# The same sums as tcma.services.tracking.summaries.rebuild_dashboard_summaries (kept here as
# SQL: a migration never imports the application).
BACKFILL_PROGRAMME = """
INSERT INTO programme_daily_rollup (day, kind, channel, variant, campaign_id, tier_id, region_id,
                                    total, uniques, bots)
SELECT r.day, r.kind, r.channel, r.variant, r.campaign_id, coalesce(p.tier_id, 0),
       coalesce(p.region_id, 0), sum(r.total), sum(r.uniques), sum(r.bots)
FROM event_rollup r LEFT OUTER JOIN partner p ON p.id = r.partner_id
GROUP BY r.day, r.kind, r.channel, r.variant, r.campaign_id, coalesce(p.tier_id, 0),
         coalesce(p.region_id, 0)
"""
BACKFILL_ENGAGEMENT = """
INSERT INTO partner_daily_engagement (day, partner_id, engagement)
SELECT day, partner_id,
       sum(CASE WHEN kind IN ('download', 'send', 'post', 'click') THEN total ELSE 0 END)
FROM event_rollup
WHERE partner_id != 0
  AND kind IN ('download', 'send', 'open', 'click', 'post', 'like', 'repost', 'reply')
GROUP BY day, partner_id
"""


def upgrade():
    op.create_table(
        'programme_daily_rollup',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('variant', sa.String(length=40), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('tier_id', sa.Integer(), nullable=False),
        sa.Column('region_id', sa.Integer(), nullable=False),
        sa.Column('total', sa.BigInteger(), nullable=False),
        sa.Column('uniques', sa.BigInteger(), nullable=False),
        sa.Column('bots', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_daily_rollup')),
        sa.UniqueConstraint('day', 'kind', 'channel', 'variant', 'campaign_id', 'tier_id', 'region_id',
                            name=op.f('uq_programme_daily_rollup_key')),
    )
    op.create_table(
        'partner_daily_engagement',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('partner_id', sa.Integer(), nullable=False),
        sa.Column('engagement', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'partner_id', name=op.f('pk_partner_daily_engagement')),
    )
    op.execute(BACKFILL_PROGRAMME)
    op.execute(BACKFILL_ENGAGEMENT)


def downgrade():
    op.drop_table('partner_daily_engagement')
    op.drop_table('programme_daily_rollup')
