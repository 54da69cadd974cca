"""partner_send_consent: partners' consent to sends in their name, the vendor's sends on their behalf

One email_send per consenting partner points at the vendor's send (behalf_id); a send keeps why it
stopped (detail) and the tags it is limited to.

Revision ID: 0015_partner_send_consent
Revises: 0014_experiment_rollout
Create Date: 2026-11-28 02:30:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0015_partner_send_consent'
down_revision = '0014_experiment_rollout'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    op.create_table('email_send_consent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('list_ids', JSON, nullable=False),
    sa.Column('tags', JSON, nullable=False),
    sa.Column('max_sends_per_month', sa.Integer(), nullable=False),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('active', 'withdrawn')", name=op.f('ck_email_send_consent_status')),
    sa.ForeignKeyConstraint(['granted_by_id'], ['user_account.id'], name=op.f('fk_email_send_consent_granted_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], name=op.f('fk_email_send_consent_partner_id_partner'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['withdrawn_by_id'], ['user_account.id'], name=op.f('fk_email_send_consent_withdrawn_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email_send_consent')),
    sa.UniqueConstraint('partner_id', name=op.f('uq_email_send_consent_partner_id'))
    )
    op.create_table('email_behalf_send',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('greeting', sa.String(length=80), nullable=False),
    sa.Column('local_at', sa.String(length=19), nullable=True),
    sa.Column('skipped', JSON, nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_email_behalf_send_campaign_id_campaign'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_email_behalf_send_created_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email_behalf_send'))
    )
    with op.batch_alter_table('email_behalf_send', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_email_behalf_send_campaign_id'), ['campaign_id'], unique=False)

    with op.batch_alter_table('email_send', schema=None) as batch_op:
        batch_op.add_column(sa.Column('behalf_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('tags', JSON, nullable=True))
        batch_op.add_column(sa.Column('detail', sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f('ix_email_send_behalf_id'), ['behalf_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_email_send_behalf_id_email_behalf_send'),
                                    'email_behalf_send', ['behalf_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('email_send', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_email_send_behalf_id_email_behalf_send'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_email_send_behalf_id'))
        batch_op.drop_column('detail')
        batch_op.drop_column('tags')
        batch_op.drop_column('behalf_id')

    with op.batch_alter_table('email_behalf_send', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_email_behalf_send_campaign_id'))

    op.drop_table('email_behalf_send')
    op.drop_table('email_send_consent')
