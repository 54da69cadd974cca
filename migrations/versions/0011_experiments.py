"""experiments: decision rules, stored assignments and recorded decisions

Revision ID: 0011_experiments
Revises: 0010_email_campaigns
Create Date: 2026-11-27 22:55:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0011_experiments'
down_revision = '0010_email_campaigns'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
experiment = sa.table('experiment', sa.column('created_at', sa.DateTime(timezone=True)),
                      sa.column('started_at', sa.DateTime(timezone=True)), sa.column('strata', JSON))


def upgrade():
    op.create_table('experiment_assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('experiment_id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('variant', sa.String(length=40), nullable=False),
    sa.Column('stratum', sa.String(length=120), nullable=False),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['experiment_id'], ['experiment.id'], name=op.f('fk_experiment_assignment_experiment_id_experiment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], name=op.f('fk_experiment_assignment_partner_id_partner'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_experiment_assignment')),
    sa.UniqueConstraint('experiment_id', 'partner_id', name=op.f('uq_experiment_assignment_experiment_id_partner_id'))
    )
    with op.batch_alter_table('experiment_assignment', schema=None) as batch_op:
        batch_op.create_index('ix_experiment_assignment_stratum', ['experiment_id', 'stratum', 'variant'], unique=False)

    with op.batch_alter_table('experiment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit', sa.String(length=16), server_default='partner', nullable=False))
        batch_op.add_column(sa.Column('method', sa.String(length=16), server_default='sequential', nullable=False))
        batch_op.add_column(sa.Column('salt', sa.String(length=64), server_default='', nullable=False))
        batch_op.add_column(sa.Column('strata', JSON, nullable=True))
        batch_op.add_column(sa.Column('min_runtime_days', sa.Integer(), server_default='7', nullable=False))
        batch_op.add_column(sa.Column('max_runtime_days', sa.Integer(), server_default='28', nullable=False))
        batch_op.add_column(sa.Column('max_machine_share_gap', sa.Double(), server_default='0.1', nullable=False))
        batch_op.add_column(sa.Column('started_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('stopped_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('decision', JSON, nullable=True))
        batch_op.add_column(sa.Column('decided_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_experiment_decided_by_id_user_account'), 'user_account', ['decided_by_id'], ['id'], ondelete='SET NULL')
        batch_op.drop_constraint(batch_op.f('ck_experiment_metric'), type_='check')
        batch_op.create_check_constraint('metric', "metric IN ('click', 'open', 'download', 'reaction')")
        batch_op.create_check_constraint('unit', "unit IN ('partner', 'recipient')")
        batch_op.create_check_constraint('method', "method IN ('sequential', 'bayesian')")
    op.execute(experiment.update().values(started_at=experiment.c.created_at))
    op.execute(experiment.update().where(experiment.c.strata.is_(None)).values(strata=[]))
    with op.batch_alter_table('experiment', schema=None) as batch_op:
        batch_op.alter_column('started_at', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.alter_column('strata', existing_type=JSON, nullable=False)


def downgrade():
    with op.batch_alter_table('experiment', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_experiment_method'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_experiment_unit'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_experiment_metric'), type_='check')
        batch_op.create_check_constraint('metric', "metric IN ('click', 'open', 'download')")
        batch_op.drop_constraint(batch_op.f('fk_experiment_decided_by_id_user_account'), type_='foreignkey')
        for column in ('decided_by_id', 'decision', 'stopped_at', 'started_at', 'max_machine_share_gap',
                       'max_runtime_days', 'min_runtime_days', 'strata', 'salt', 'method', 'unit'):
            batch_op.drop_column(column)

    with op.batch_alter_table('experiment_assignment', schema=None) as batch_op:
        batch_op.drop_index('ix_experiment_assignment_stratum')

    op.drop_table('experiment_assignment')
