"""`tcma demo` on the embedded default (SQLite, local files, in-process jobs), and never in production."""

from __future__ import annotations

import json

from PIL import Image
from sqlalchemy import func, select

from tcma import create_app
from tests.support.apps import base_config


def test_demo_seeds_the_vendor_once(tmp_path):
    app = create_app(base_config(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/demo.db"))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "30 partners" in first.output
    assert "sign in as marketer" in first.output
    # The demo campaign's headline experiment: people and bots click, bots never count, one sentence.
    assert "Ran experiment 1 (headline a or b, one arm per partner) on " in first.output
    assert "chance b is better; sample ratio as planned." in first.output
    # Every partner gets dry-run Mastodon and LinkedIn accounts and the campaign's planned post: two
    # partners in three auto-publish (published at once into the dry-run folder, with their social
    # card), the others' posts wait for their approval. Nothing left the machine.
    assert "Connected 60 dry-run social accounts" in first.output
    assert "planned the campaign's post to each: 20 awaiting approval, 40 published." in first.output
    assert f"under {tmp_path / 'social-dryrun'}/" in first.output
    posts = sorted((tmp_path / "social-dryrun").glob("*/*.json"))
    assert len(posts) == 40
    assert {p.parent.name for p in posts} == {"mastodon", "linkedin"}
    records = [json.loads(p.read_text()) for p in posts]
    assert all(r["image_type"] == "image/png" and r["image_bytes"] > 10_000 for r in records)
    assert all("http" in r["text"] for r in records)  # the partner's tracked link
    second = runner.invoke(args=["demo"])
    assert "already there" in second.output and "30 partners" in second.output
    with app.app_context():
        from tcma.extensions import db
        from tcma.models import BrandKit, Partner, User
        from tcma.storage import get_storage

        assert db.session.scalar(select(func.count()).select_from(User)) == 32
        kits = db.session.scalars(select(BrandKit)).all()
        assert len({kit.primary_color for kit in kits}) > 10
        logo = get_storage().get(kits[0].logo_key)
        import io

        assert Image.open(io.BytesIO(logo)).size[0] > 0
        tiers = {p.tier.slug for p in db.session.scalars(select(Partner))}
        assert tiers == {"registered", "silver", "gold", "platinum"}


def test_the_demo_refuses_a_production_database(make_app, tmp_path):
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/p.db", ENV="production", SECRET_KEY="s" * 40,
                   ALLOW_EMBEDDED=True, PUBLIC_URL="https://partners.vendor.example")
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code != 0 and "production" in result.output
