"""evergreen posts: a scheduled post from a library template (no campaign), with its own field values

Revision ID: 0009_evergreen_posts
Revises: 0008_syndication
Create Date: 2026-11-27 22:45:00.000000

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0009_evergreen_posts'
down_revision = '0008_syndication'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('scheduled_post', schema=None) as batch_op:
        batch_op.add_column(sa.Column('template_version_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column(
            'fields', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
            nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_scheduled_post_template_version_id_template_version'),
                                    'template_version', ['template_version_id'], ['id'])


def downgrade():
    with op.batch_alter_table('scheduled_post', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_scheduled_post_template_version_id_template_version'),
                                 type_='foreignkey')
        batch_op.drop_column('fields')
        batch_op.drop_column('template_version_id')
