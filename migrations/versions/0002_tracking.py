"""tracking: send id on events, visitor index, tracked-link key unique with NULLs

Revision ID: 0002_tracking
Revises: 0001_initial
Create Date: 2026-11-21 06:39:10.964440

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002_tracking'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('send_id', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_event_visitor_occurred', ['visitor', 'occurred_at'], unique=False)

    with op.batch_alter_table('tracked_link', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_tracked_link_partner_id_campaign_id_asset_id_channel_6c07'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_tracked_link_partner_id_campaign_id_asset_id_channel_variant_destination_id'), ['partner_id', 'campaign_id', 'asset_id', 'channel', 'variant', 'destination_id'], postgresql_nulls_not_distinct=True)



def downgrade():
    with op.batch_alter_table('tracked_link', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_tracked_link_partner_id_campaign_id_asset_id_channel_variant_destination_id'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_tracked_link_partner_id_campaign_id_asset_id_channel_6c07'), ['partner_id', 'campaign_id', 'asset_id', 'channel', 'variant', 'destination_id'], postgresql_nulls_not_distinct=False)

    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_index('ix_event_visitor_occurred')
        batch_op.drop_column('send_id')

