"""Migrations: one head, an empty database upgrades, and models match migrations."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from tcma import create_app
from tests.support.apps import base_config

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def test_there_is_a_single_head_and_every_revision_is_named():
    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    scripts = ScriptDirectory.from_config(config)
    assert len(scripts.get_heads()) == 1
    for revision in scripts.walk_revisions():
        assert revision.doc and revision.doc.strip(), f"revision {revision.revision} has no name"


def test_upgrade_builds_an_empty_postgresql(app, migrated_pg):
    from tcma.extensions import db

    _, tables = migrated_pg
    present = set(inspect(db.engine).get_table_names())
    assert set(tables) <= present
    assert "alembic_version" in present


def test_models_and_migrations_do_not_drift_on_postgresql(runner):
    result = runner.invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output


def test_upgrade_and_check_on_an_empty_sqlite(tmp_path):
    app = create_app(base_config(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/embedded.db"))
    runner = app.test_cli_runner()
    upgraded = runner.invoke(args=["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    checked = runner.invoke(args=["db", "check"])
    assert checked.exit_code == 0, checked.output
    with app.app_context():
        from tcma.extensions import db

        assert "partner" in inspect(db.engine).get_table_names()


def test_channel_names_are_migrated_to_the_one_vocabulary(tmp_path):
    app = create_app(base_config(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/old.db"))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0003_asset_progress_index"]).exit_code == 0
    from sqlalchemy import text

    from tcma.extensions import db

    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO tier (id, slug, name, rank, created_at, updated_at) "
            "VALUES (1,'t','T',1,'2026-01-01','2026-01-01');"))
        for table in ("vertical", "region"):
            conn.execute(text(f"INSERT INTO {table} (id, slug, name, created_at, updated_at) "
                              "VALUES (1,'x','X','2026-01-01','2026-01-01')"))
        conn.execute(text("INSERT INTO partner (id, name, slug, tier_id, vertical_id, region_id, locale, "
                          "time_zone, status, created_at, updated_at) VALUES "
                          "(1,'P','p',1,1,1,'en','UTC','active','2026-01-01','2026-01-01')"))
        conn.execute(text("INSERT INTO destination (id, name, url, created_at, updated_at) "
                          "VALUES (1,'d','https://x.example','2026-01-01','2026-01-01')"))
        links = [(1, "a1", "pdf"), (2, "a2", "png"), (3, "a3", "jpg"), (4, "a4", "post:linkedin"),
                 (5, "a5", "email")]
        for link_id, code, channel in links:  # preview links: no campaign, no asset
            conn.execute(text("INSERT INTO tracked_link (id, code, partner_id, channel, destination_id, "
                              "created_at) VALUES (:i, :c, 1, :ch, 1, '2026-01-01')"),
                         {"i": link_id, "c": code, "ch": channel})
        for rollup_id, channel, total in [(1, "png", 3), (2, "jpg", 4), (3, "portal", 2), (4, "pdf", 1)]:
            conn.execute(text("INSERT INTO event_rollup (id, campaign_id, asset_id, variant, partner_id, "
                              "channel, day, kind, total, uniques, bots) VALUES "
                              "(:i, 0, 0, '', 1, :ch, '2026-01-02', 'click', :t, 1, 0)"),
                         {"i": rollup_id, "ch": channel, "t": total})
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context(), db.engine.connect() as conn:
        channels = dict(conn.execute(text("SELECT code, channel FROM tracked_link")).all())
        rollups = dict(conn.execute(text("SELECT channel, total FROM event_rollup")).all())
    # png became "image"; the jpg preview link would collide with it, so it keeps its old name.
    assert channels == {"a1": "print", "a2": "image", "a3": "jpg", "a4": "linkedin", "a5": "email"}
    assert rollups == {"image": 7, "download": 2, "print": 1}
