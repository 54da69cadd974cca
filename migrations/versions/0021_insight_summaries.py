"""insight_summaries: the insights' per-partner daily numbers beside the dashboard's engagement, each
partner's first download, send and published post per template, and indexes for every partner's published and
approved posts by day and one partner's first and last

Revision ID: 0021_insight_summaries
Revises: 0020_keyset_indexes
Create Date: 2026-11-28 05:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0021_insight_summaries'
down_revision = '0020_keyset_indexes'
branch_labels = None
depends_on = None

COLUMNS = ('downloads', 'sends', 'clicks', 'own_actions')
OWN_USE = 'own_actions > 0'
PUBLISHED = "status = 'published'"
APPROVED = 'approved_by_id IS NOT NULL'
POST_INDEXES = (('ix_scheduled_post_published_day', ['published_at', 'partner_id'], PUBLISHED),
                ('ix_scheduled_post_partner_published', ['partner_id', 'published_at'], PUBLISHED),
                ('ix_scheduled_post_approved_day', ['approved_at', 'partner_id'], APPROVED),
                ('ix_scheduled_post_partner_approved', ['partner_id', 'approved_at'], APPROVED))
# The same sums as tcma.services.tracking.summaries.rebuild_dashboard_summaries (kept here as
# SQL: a migration never imports the application). Every row is written again, new columns filled.
BACKFILL_ENGAGEMENT = """
INSERT INTO partner_daily_engagement (day, partner_id, engagement, downloads, sends, clicks, own_actions)
SELECT day, partner_id,
       sum(CASE WHEN kind IN ('download', 'send', 'post', 'click') THEN total ELSE 0 END),
       sum(CASE WHEN kind = 'download' THEN total ELSE 0 END),
       sum(CASE WHEN kind = 'send' THEN total ELSE 0 END),
       sum(CASE WHEN kind = 'click' THEN uniques ELSE 0 END),
       sum(CASE WHEN kind IN ('download', 'send', 'post') THEN total ELSE 0 END)
FROM event_rollup
WHERE partner_id != 0
  AND kind IN ('download', 'send', 'open', 'click', 'post', 'like', 'repost', 'reply')
GROUP BY day, partner_id
"""
BACKFILL_TEMPLATE_USE = """
INSERT INTO partner_template_use (template_id, kind, partner_id, first_day)
SELECT v.template_id, r.kind, a.partner_id, min(r.day)
FROM event_rollup r JOIN asset a ON a.id = r.asset_id JOIN template_version v ON v.id = a.template_version_id
WHERE r.kind IN ('download', 'send') AND r.total > 0
GROUP BY v.template_id, r.kind, a.partner_id
"""
# ... and the first UTC day each partner published a post of each template's asset.
BACKFILL_POSTED = """
INSERT INTO partner_template_use (template_id, kind, partner_id, first_day)
SELECT v.template_id, 'post', a.partner_id, {day}
FROM scheduled_post p JOIN asset a ON a.id = p.asset_id JOIN template_version v ON v.id = a.template_version_id
WHERE p.status = 'published' AND p.published_at IS NOT NULL
GROUP BY v.template_id, a.partner_id
"""
UTC_DAY = {'postgresql': "(min(p.published_at) AT TIME ZONE 'UTC')::date",
           'sqlite': 'date(min(p.published_at))'}  # SQLite keeps UTC moments as text


def upgrade():
    with op.batch_alter_table('partner_daily_engagement') as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, sa.BigInteger(), nullable=False, server_default='0'))
    with op.batch_alter_table('partner_daily_engagement') as batch:
        for name in COLUMNS:
            batch.alter_column(name, server_default=None)
    op.execute('DELETE FROM partner_daily_engagement')
    op.execute(BACKFILL_ENGAGEMENT)
    op.create_index('ix_partner_daily_engagement_own_use', 'partner_daily_engagement', ['partner_id', 'day'],
                    unique=False, postgresql_where=sa.text(OWN_USE), sqlite_where=sa.text(OWN_USE))
    for name, columns, where in POST_INDEXES:
        op.create_index(name, 'scheduled_post', columns, unique=False,
                        postgresql_where=sa.text(where), sqlite_where=sa.text(where))
    op.create_table(
        'partner_template_use',
        sa.Column('template_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('partner_id', sa.Integer(), nullable=False),
        sa.Column('first_day', sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint('template_id', 'kind', 'partner_id', name=op.f('pk_partner_template_use')),
    )
    op.execute(BACKFILL_TEMPLATE_USE)
    op.execute(BACKFILL_POSTED.format(day=UTC_DAY[op.get_bind().dialect.name]))


def downgrade():
    op.drop_table('partner_template_use')
    for name, _, where in reversed(POST_INDEXES):
        op.drop_index(name, table_name='scheduled_post', postgresql_where=sa.text(where),
                      sqlite_where=sa.text(where))
    op.drop_index('ix_partner_daily_engagement_own_use', table_name='partner_daily_engagement',
                  postgresql_where=sa.text(OWN_USE), sqlite_where=sa.text(OWN_USE))
    with op.batch_alter_table('partner_daily_engagement') as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
