"""tracking: send id on events, visitor index, tracked-link key unique with NULLs

Revision ID: 0002_tracking
Revises: 0001_initial
Create Date: 2026-11-21 06:39:10.964440

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0002_tracking'
down_revision = '0001_initial'
branch_labels = None
depends_on = None

# The naming convention's name, as PostgreSQL truncated it to 63 characters.
SHORT_NAME = 'uq_tracked_link_partner_id_campaign_id_asset_id_channel_6c07'
LINK_KEY = ['partner_id', 'campaign_id', 'asset_id', 'channel', 'variant', 'destination_id']


def upgrade():
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('send_id', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_event_visitor_occurred', ['visitor', 'occurred_at'], unique=False)

    # Only PostgreSQL (15+) has NULLS NOT DISTINCT; SQLite keeps its constraint as it is.
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(SHORT_NAME, 'tracked_link', type_='unique')
        op.create_unique_constraint(SHORT_NAME, 'tracked_link', LINK_KEY, postgresql_nulls_not_distinct=True)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(SHORT_NAME, 'tracked_link', type_='unique')
        op.create_unique_constraint(SHORT_NAME, 'tracked_link', LINK_KEY)

    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_index('ix_event_visitor_occurred')
        batch_op.drop_column('send_id')

