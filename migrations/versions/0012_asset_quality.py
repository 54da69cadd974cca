"""asset_quality: assets may wait for fields only the partner can give (status "waiting")

Revision ID: 0012_asset_quality
Revises: 0011_experiments
Create Date: 2026-11-27 23:10:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012_asset_quality'
down_revision = '0011_experiments'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('asset', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_asset_status'), type_='check')
        batch_op.create_check_constraint(
            'status', "status IN ('queued', 'running', 'done', 'failed', 'waiting')")


def downgrade():
    # Waiting assets never rendered: they go back to queued (they fail then, naming the field).
    op.execute("UPDATE asset SET status = 'queued' WHERE status = 'waiting'")
    with op.batch_alter_table('asset', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_asset_status'), type_='check')
        batch_op.create_check_constraint('status', "status IN ('queued', 'running', 'done', 'failed')")
