"""scale indexes: a campaign's assets in id order; rollups read by campaign or partner without the table

Measured on the design's size (bench/seed_scale.py: 5 M assets, 11 M rollup rows): a campaign's
asset page walked the primary key past millions of other campaigns' rows, and a campaign's or a
large partner's stats fetched every rollup row from the heap. The partner index without day goes:
the new one leads with partner_id.

Revision ID: 0016_scale_indexes
Revises: 0015_partner_send_consent
Create Date: 2026-11-28 03:05:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0016_scale_indexes'
down_revision = '0015_partner_send_consent'
branch_labels = None
depends_on = None

MEASURES = ['total', 'uniques', 'bots']
WAITING = "status IN ('scheduled', 'approved')"


def upgrade():
    op.create_index('ix_asset_campaign_id_id', 'asset', ['campaign_id', 'id'], unique=False)
    op.create_index('ix_event_rollup_campaign_kind', 'event_rollup', ['campaign_id', 'kind', 'day'],
                    unique=False, postgresql_include=['variant', 'partner_id', 'channel', *MEASURES])
    op.create_index('ix_event_rollup_partner_day', 'event_rollup', ['partner_id', 'day'],
                    unique=False, postgresql_include=['kind', 'campaign_id', *MEASURES])
    op.drop_index('ix_event_rollup_partner_id', table_name='event_rollup')  # the new one leads with it
    # Rows that point at an asset: deleting a campaign (its assets cascade) scanned 2 M links and
    # 2 M posts per asset, and the flusher counts a clicked asset's links.
    op.create_index('ix_tracked_link_asset_id', 'tracked_link', ['asset_id'], unique=False)
    op.create_index('ix_scheduled_post_asset_id', 'scheduled_post', ['asset_id'], unique=False)
    op.create_index('ix_scheduled_post_image_asset_id', 'scheduled_post', ['image_asset_id'], unique=False)
    # The scheduler's claim, in its own order: the (status, scheduled_at) index cannot give two
    # statuses in time order, so the planner walked every published post (3 s at 2 M posts).
    op.create_index('ix_scheduled_post_waiting', 'scheduled_post', ['scheduled_at', 'id'], unique=False,
                    postgresql_where=sa.text(WAITING), sqlite_where=sa.text(WAITING))


def downgrade():
    op.drop_index('ix_scheduled_post_waiting', table_name='scheduled_post',
                  postgresql_where=sa.text(WAITING), sqlite_where=sa.text(WAITING))
    op.drop_index('ix_scheduled_post_image_asset_id', table_name='scheduled_post')
    op.drop_index('ix_scheduled_post_asset_id', table_name='scheduled_post')
    op.drop_index('ix_tracked_link_asset_id', table_name='tracked_link')
    op.create_index('ix_event_rollup_partner_id', 'event_rollup', ['partner_id'], unique=False)
    op.drop_index('ix_event_rollup_partner_day', table_name='event_rollup')
    op.drop_index('ix_event_rollup_campaign_kind', table_name='event_rollup')
    op.drop_index('ix_asset_campaign_id_id', table_name='asset')
