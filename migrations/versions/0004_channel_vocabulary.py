"""channel vocabulary: links and events name the channel, not the output

Revision ID: 0004_channel_vocabulary
Revises: 0003_asset_progress_index
Create Date: 2026-11-27 17:40:00

Before: tracked links carried the output name (pdf, png, jpg, email, post:<network>), portal
downloads "portal", and campaign outputs print/image/email/social. After: one vocabulary
(campaigns.vocabulary): print, image, email, download, qr and each network by name.
Table stubs only: the models may change after this revision.
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_channel_vocabulary'
down_revision = '0003_asset_progress_index'
branch_labels = None
depends_on = None

RENAMES = {"pdf": "print", "png": "image", "jpg": "image", "portal": "download",
           **{f"post:{n}": n for n in ("linkedin", "x", "facebook", "mastodon", "bluesky", "webhook")}}


ROLLUP_KEY = ("campaign_id", "asset_id", "variant", "partner_id", "day", "kind")
LINK_KEY = ("partner_id", "campaign_id", "asset_id", "variant", "destination_id")


def _same(table, other, names):
    """Rows agree on every key column (NULL matching NULL: links key on nullable columns)."""
    return sa.and_(*[sa.or_(table.c[n] == other.c[n], sa.and_(table.c[n].is_(None), other.c[n].is_(None)))
                     for n in names])


def upgrade():
    events = sa.table("event", sa.column("channel", sa.String))
    links = sa.table("tracked_link", *[sa.column(n) for n in (*LINK_KEY, "channel")])
    rollups = sa.table("event_rollup", sa.column("id"), sa.column("total"), sa.column("uniques"),
                       sa.column("bots"), *[sa.column(n) for n in (*ROLLUP_KEY, "channel")])
    for old, new in RENAMES.items():
        op.execute(events.update().where(events.c.channel == old).values(channel=new))
        # png and jpg both become "image": a link already renamed keeps its code, the other
        # keeps its old channel name rather than break the unique key (only preview links can meet).
        taken = links.alias("taken")
        op.execute(links.update().where(links.c.channel == old, ~sa.exists().where(
            _same(links, taken, LINK_KEY), taken.c.channel == new)).values(channel=new))
        _rename_rollups(rollups, old, new)
    output = sa.table("campaign_output", sa.column("output", sa.String), sa.column("channel", sa.String))
    op.execute(output.update().where(output.c.output.like("post:%"))
               .values(channel=sa.func.substr(output.c.output, 6)))


def _rename_rollups(rollups, old, new):
    """Rename a rollup channel; where the new name already has a row, add the counts to it."""
    source = rollups.alias("source")
    match = sa.and_(_same(rollups, source, ROLLUP_KEY), source.c.channel == old)
    op.execute(rollups.update().where(rollups.c.channel == new, sa.exists().where(match)).values(
        total=rollups.c.total + sa.select(source.c.total).where(match).scalar_subquery(),
        uniques=rollups.c.uniques + sa.select(source.c.uniques).where(match).scalar_subquery(),
        bots=rollups.c.bots + sa.select(source.c.bots).where(match).scalar_subquery(),
    ))
    target = rollups.alias("target")
    merged = sa.and_(_same(rollups, target, ROLLUP_KEY), target.c.channel == new)
    op.execute(rollups.delete().where(rollups.c.channel == old, sa.exists().where(merged)))
    op.execute(rollups.update().where(rollups.c.channel == old).values(channel=new))


def downgrade():
    # The old names cannot all be recovered (png and jpg both became "image"); keep the new ones.
    pass
