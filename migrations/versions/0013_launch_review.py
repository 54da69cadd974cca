"""launch_review: a look at the contact sheet before launch (or the choice to skip it)

Revision ID: 0013_launch_review
Revises: 0012_asset_quality
Create Date: 2026-11-28 02:20:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0013_launch_review'
down_revision = '0012_asset_quality'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    op.create_table('launch_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('decision', sa.String(length=8), nullable=False),
    sa.Column('via', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('pages_seen', JSON, nullable=False),
    sa.Column('items_seen', sa.Integer(), nullable=False),
    sa.Column('warnings_seen', sa.Integer(), nullable=False),
    sa.Column('launched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('launched_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("decision IN ('seen', 'skipped')", name=op.f('ck_launch_review_decision')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_launch_review_campaign_id_campaign'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['launched_by_id'], ['user_account.id'], name=op.f('fk_launch_review_launched_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_launch_review_user_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_launch_review'))
    )
    with op.batch_alter_table('launch_review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_launch_review_campaign_id'), ['campaign_id'], unique=False)


def downgrade():
    with op.batch_alter_table('launch_review', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_launch_review_campaign_id'))
    op.drop_table('launch_review')
