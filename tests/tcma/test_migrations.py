"""Migrations: one head, an empty database upgrades, and models match migrations."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from tcma import create_app
from tests.conftest import base_config

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
