"""scheduled launch: a campaign launched at a chosen local time by the maintenance pass, once

Revision ID: 0017_scheduled_launch
Revises: 0016_scale_indexes
Create Date: 2026-11-28 03:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0017_scheduled_launch'
down_revision = '0016_scale_indexes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('scheduled_launch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('launch_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('local_at', sa.String(length=32), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('launched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('waiting', 'launched', 'cancelled', 'failed')",
                       name=op.f('ck_scheduled_launch_status')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'],
                            name=op.f('fk_scheduled_launch_campaign_id_campaign'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user_account.id'],
                            name=op.f('fk_scheduled_launch_requested_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scheduled_launch')),
    sa.UniqueConstraint('campaign_id', name=op.f('uq_scheduled_launch_campaign_id'))
    )
    with op.batch_alter_table('scheduled_launch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scheduled_launch_launch_at'), ['launch_at'], unique=False)


def downgrade():
    with op.batch_alter_table('scheduled_launch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scheduled_launch_launch_at'))
    op.drop_table('scheduled_launch')
