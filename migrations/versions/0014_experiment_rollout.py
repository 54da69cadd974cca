"""experiment_rollout: test on a share, then the winner to the rest (held posts and recipients, arm renders)

Revision ID: 0014_experiment_rollout
Revises: 0013_launch_review
Create Date: 2026-11-28 02:30:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0014_experiment_rollout'
down_revision = '0013_launch_review'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
POST_STATUSES = ('awaiting_approval', 'scheduled', 'approved', 'claimed', 'publishing', 'held', 'published',
                 'failed', 'expired', 'cancelled')
RECIPIENT_STATUSES = ('queued', 'sending', 'sent', 'skipped', 'unknown', 'failed', 'bounced', 'complained')


def _in(values):
    return "status IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade():
    with op.batch_alter_table('experiment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('test_share', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('rest_deadline', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('rest_released_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('rest_release', JSON, nullable=True))
    with op.batch_alter_table('email_recipient', schema=None) as batch_op:
        batch_op.add_column(sa.Column('variant', sa.String(length=40), nullable=True))
        batch_op.drop_constraint(batch_op.f('ck_email_recipient_status'), type_='check')
        batch_op.create_check_constraint('status', _in(RECIPIENT_STATUSES + ('held_for_winner',)))
    with op.batch_alter_table('scheduled_post', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_scheduled_post_status'), type_='check')
        batch_op.create_check_constraint('status', _in(POST_STATUSES + ('held_for_winner',)))
    op.create_table('send_arm_email',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('send_id', sa.Integer(), nullable=False),
    sa.Column('variant', sa.String(length=40), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('preheader', sa.Text(), nullable=False),
    sa.Column('html', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['send_id'], ['email_send.id'], name=op.f('fk_send_arm_email_send_id_email_send'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_send_arm_email')),
    sa.UniqueConstraint('send_id', 'variant', name=op.f('uq_send_arm_email_send_id_variant'))
    )


def downgrade():
    op.drop_table('send_arm_email')
    # Held units go out as the control would have: posts wait for their time again, messages queue.
    op.execute("UPDATE scheduled_post SET status = 'scheduled' WHERE status = 'held_for_winner'")
    op.execute("UPDATE email_recipient SET status = 'queued' WHERE status = 'held_for_winner'")
    with op.batch_alter_table('scheduled_post', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_scheduled_post_status'), type_='check')
        batch_op.create_check_constraint('status', _in(POST_STATUSES))
    with op.batch_alter_table('email_recipient', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_email_recipient_status'), type_='check')
        batch_op.create_check_constraint('status', _in(RECIPIENT_STATUSES))
        batch_op.drop_column('variant')
    with op.batch_alter_table('experiment', schema=None) as batch_op:
        for column in ('rest_release', 'rest_released_at', 'rest_deadline', 'test_share'):
            batch_op.drop_column(column)
