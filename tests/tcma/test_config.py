"""The application factory and its settings."""

from __future__ import annotations

import pytest

from tcma import create_app
from tcma.config import DEV_SECRET, ConfigError, get_settings
from tcma.crypto import generate_key


def test_factory_builds_from_a_mapping(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/a.db", "PUBLIC_URL": "https://x.test/",
                      "SIGNED_URL_TTL": "120"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/a.db"
    assert app.config["PUBLIC_URL"] == "https://x.test"
    assert app.config["SIGNED_URL_TTL"] == 120


def test_postgres_urls_use_psycopg3(tmp_path):
    app = create_app({"DATABASE_URL": "postgresql://u@db/tcma"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/tcma"


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        ("SIGNED_URL_TTL", "soon", "TCMA_SIGNED_URL_TTL"),
        ("JOB_TIMEOUT", "-5", "TCMA_JOB_TIMEOUT"),
        ("TESTING", "maybe", "TCMA_TESTING"),
        ("REDIS_URL", "http://localhost:6379", "TCMA_REDIS_URL"),
        ("DATABASE_URL", "mysql://x/y", "TCMA_DATABASE_URL"),
        ("STORAGE", "ftp", "TCMA_STORAGE"),
        ("ENV", "staging", "TCMA_ENV"),
        ("CLICK_SHIP_INTERVAL", "-1", "TCMA_CLICK_SHIP_INTERVAL"),
        ("RENDER_CHUNK", "many", "TCMA_RENDER_CHUNK"),
        ("PROXY_HOPS", "-1", "TCMA_PROXY_HOPS"),
        ("ESTIMATED_TOTAL_FROM", "-1", "TCMA_ESTIMATED_TOTAL_FROM"),
        ("INSIGHT_MAX_AGE_SECONDS", "-1", "TCMA_INSIGHT_MAX_AGE_SECONDS"),
        ("INSIGHT_MAX_AGE_SECONDS", "an hour", "TCMA_INSIGHT_MAX_AGE_SECONDS"),
        ("CONNECTORS_BACKEND", "fake", "TCMA_CONNECTORS_BACKEND"),
        ("CONNECTORS_TIMEOUT", "0", "TCMA_CONNECTORS_TIMEOUT"),
        ("CONNECTORS_CONNECT_TIMEOUT", "soon", "TCMA_CONNECTORS_CONNECT_TIMEOUT"),
        ("SOCIAL_LEASE_SECONDS", "0", "TCMA_SOCIAL_LEASE_SECONDS"),
        ("SOCIAL_POSTS_PER_DAY", "0", "TCMA_SOCIAL_POSTS_PER_DAY"),
        ("SOCIAL_POSTS_PER_WEEK", "often", "TCMA_SOCIAL_POSTS_PER_WEEK"),
    ],
)
def test_bad_settings_fail_naming_the_setting(setting, value, named):
    with pytest.raises(ConfigError, match=named):
        create_app({setting: value})


def test_insight_snapshots_are_read_for_an_hour_by_default_and_0_turns_them_off():
    assert create_app({}).config["INSIGHT_MAX_AGE_SECONDS"] == 3600
    assert create_app({"INSIGHT_MAX_AGE_SECONDS": "0"}).config["INSIGHT_MAX_AGE_SECONDS"] == 0
    refused = "TCMA_INSIGHT_MAX_AGE_SECONDS must be a whole number of at least 0, got '-1'"
    with pytest.raises(ConfigError, match=refused):
        create_app({"INSIGHT_MAX_AGE_SECONDS": "-1"})


def test_s3_storage_needs_a_bucket():
    with pytest.raises(ConfigError, match="TCMA_S3_BUCKET"):
        create_app({"STORAGE": "s3"})


@pytest.mark.parametrize("secret", [DEV_SECRET, "short"])
def test_production_refuses_a_default_or_weak_secret(secret):
    with pytest.raises(ConfigError, match="TCMA_SECRET_KEY"):
        create_app({"ENV": "production", "SECRET_KEY": secret})


def test_production_starts_with_a_real_secret_postgres_and_redis():
    app = create_app({"ENV": "production", "SECRET_KEY": "k" * 40,
                      "PUBLIC_URL": "https://partners.vendor.example",
                      "DATABASE_URL": "postgresql://tcma@db.internal/tcma",
                      "REDIS_URL": "redis://redis.internal:6379/0",
                      "MAIL_BACKEND": "smtp", "SMTP_HOST": "smtp.internal",
                      "CONNECTORS_BACKEND": "live", "CREDENTIALS_KEYS": generate_key()})
    assert app.config["ENV"] == "production"
    assert get_settings_of(app).is_production


def test_production_refuses_to_run_without_credential_keys_unless_allowed():
    production = {"ENV": "production", "SECRET_KEY": "k" * 40, "PUBLIC_URL": "https://partners.vendor.example",
                  "DATABASE_URL": "postgresql://tcma@db.internal/tcma", "REDIS_URL": "redis://redis.internal:6379/0",
                  "MAIL_BACKEND": "smtp", "SMTP_HOST": "smtp.internal", "CONNECTORS_BACKEND": "live"}
    with pytest.raises(ConfigError, match="TCMA_CREDENTIALS_KEYS is required in production"):
        create_app(production)
    allowed = create_app({**production, "ALLOW_EMBEDDED": "true"})
    box = allowed.extensions["tcma"].credentials
    assert box.open(box.seal({"access_token": "t"})) == {"access_token": "t"}


def test_credential_keys_seal_with_the_first_and_a_bad_key_stops_the_start():
    old, new = generate_key(), generate_key()
    sealed = create_app({"CREDENTIALS_KEYS": old}).extensions["tcma"].credentials.seal({"a": "b"})
    rotated = create_app({"CREDENTIALS_KEYS": f"{new}, {old}"}).extensions["tcma"].credentials
    assert rotated.open(sealed) == {"a": "b"}
    with pytest.raises(ConfigError, match="TCMA_CREDENTIALS_KEYS key #1") as refused:
        create_app({"CREDENTIALS_KEYS": "not-a-key"})
    assert "not-a-key" not in str(refused.value)
    assert "not-a-key" not in repr(get_settings_of(create_app({"CREDENTIALS_KEYS": old})))


def test_development_derives_a_credential_key_from_the_secret_key():
    first = create_app({"SECRET_KEY": "s" * 40}).extensions["tcma"].credentials
    again = create_app({"SECRET_KEY": "s" * 40}).extensions["tcma"].credentials
    assert again.open(first.seal({"a": "b"})) == {"a": "b"}


def test_connector_settings_come_from_tcma_connectors_variables():
    app = create_app({"CONNECTORS_BACKEND": "dryrun", "CONNECTORS_TIMEOUT": "3.5"})
    connectors = app.extensions["tcma"].connectors
    assert (connectors.backend, connectors.timeout, connectors.connect_timeout) == ("dryrun", 3.5, 5.0)
    assert create_app({}).extensions["tcma"].connectors.timeout == 10.0


def test_outside_production_posts_go_to_the_dry_run_folder_and_production_refuses_it(tmp_path):
    connectors = create_app({}).extensions["tcma"].connectors
    assert connectors.backend == "dryrun"
    assert str(connectors.dryrun_dir).endswith("/instance/social-dryrun")
    production = {"ENV": "production", "SECRET_KEY": "k" * 40,
                  "PUBLIC_URL": "https://partners.vendor.example", "DATABASE_URL": "postgresql://u@db/t",
                  "REDIS_URL": "redis://r:6379/0", "MAIL_BACKEND": "smtp", "SMTP_HOST": "smtp.internal",
                  "CREDENTIALS_KEYS": generate_key()}
    with pytest.raises(ConfigError) as refused:
        create_app(production)
    assert str(refused.value) == ("TCMA_CONNECTORS_BACKEND must be live in production: the dry-run "
                                  "connector publishes nothing (set TCMA_ALLOW_EMBEDDED=true to keep posts "
                                  "in the folder)")
    allowed = create_app({**production, "ALLOW_EMBEDDED": "true"})
    assert allowed.extensions["tcma"].connectors.backend == "dryrun"


def test_production_refuses_the_outbox_mail_backend_unless_allowed():
    production = {"ENV": "production", "SECRET_KEY": "k" * 40,
                  "PUBLIC_URL": "https://partners.vendor.example", "DATABASE_URL": "postgresql://u@db/t",
                  "REDIS_URL": "redis://r:6379/0"}
    with pytest.raises(ConfigError) as refused:
        create_app(production)
    assert str(refused.value) == ("TCMA_MAIL_BACKEND must be smtp or ses in production: the outbox "
                                  "folder sends nothing (set TCMA_ALLOW_EMBEDDED=true to keep mail in "
                                  "the folder)")
    assert create_app({**production, "ALLOW_EMBEDDED": "true"}).config["MAIL_BACKEND"] == "outbox"


def test_mail_settings_are_checked_at_start_naming_the_variable():
    with pytest.raises(ConfigError) as refused:
        create_app({"MAIL_BACKEND": "smtp"})
    assert str(refused.value) == "TCMA_SMTP_HOST is required when TCMA_MAIL_BACKEND is smtp"
    with pytest.raises(ConfigError, match="TCMA_MAIL_BACKEND must be one of outbox, smtp, ses"):
        create_app({"MAIL_BACKEND": "pigeon"})


def test_a_default_token_lifetime_beyond_the_maximum_is_refused():
    with pytest.raises(ConfigError) as refused:
        create_app({"TOKEN_DEFAULT_DAYS": "400"})
    assert str(refused.value) == "TCMA_TOKEN_DEFAULT_DAYS must not exceed TCMA_TOKEN_MAX_DAYS (400 > 365)"


def test_production_refuses_sqlite_unless_allowed(tmp_path):
    production = {"ENV": "production", "SECRET_KEY": "k" * 40,
                  "PUBLIC_URL": "https://partners.vendor.example", "REDIS_URL": "redis://r:6379/0"}
    with pytest.raises(ConfigError) as refused:
        create_app({**production, "DATABASE_URL": f"sqlite:///{tmp_path}/p.db"})
    assert str(refused.value) == ("TCMA_DATABASE_URL must name a PostgreSQL database in production "
                                  "(set TCMA_ALLOW_EMBEDDED=true to run on SQLite on purpose)")
    with pytest.raises(ConfigError, match="TCMA_DATABASE_URL must name a PostgreSQL"):
        create_app(production)  # no database named: the SQLite default
    allowed = create_app({**production, "DATABASE_URL": f"sqlite:///{tmp_path}/p.db",
                          "ALLOW_EMBEDDED": "true"})
    assert allowed.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/p.db"


def test_production_refuses_to_run_without_redis_unless_allowed():
    production = {"ENV": "production", "SECRET_KEY": "k" * 40,
                  "PUBLIC_URL": "https://partners.vendor.example", "DATABASE_URL": "postgresql://u@db/t"}
    with pytest.raises(ConfigError) as refused:
        create_app(production)
    assert str(refused.value) == ("TCMA_REDIS_URL is required in production: without it jobs run inside "
                                  "web requests (set TCMA_ALLOW_EMBEDDED=true to run that way on purpose)")
    assert create_app({**production, "ALLOW_EMBEDDED": "yes"}).config["REDIS_URL"] is None


def test_a_misspelt_key_in_the_mapping_is_refused_like_a_variable():
    with pytest.raises(ConfigError) as refused:
        create_app({"DATABSE_URL": "sqlite://", "PUBLIC_URL": "https://x.test"})
    assert str(refused.value) == "unknown setting(s): TCMA_DATABSE_URL"


def test_settings_are_typed():
    app = create_app({"RENDER_CHUNK": "25", "CLICK_SHIP_INTERVAL": "0.5", "TESTING": "on"})
    settings = get_settings_of(app)
    assert (settings.render_chunk, settings.click_ship_interval, settings.testing) == (25, 0.5, True)


def test_the_social_lease_is_five_minutes_unless_set(monkeypatch):
    from datetime import timedelta

    from tcma.services.syndication.scheduler import lease

    with create_app({}).app_context():
        assert lease() == timedelta(minutes=5)
    monkeypatch.setenv("TCMA_SOCIAL_LEASE_SECONDS", "2.5")
    with create_app({}).app_context():
        assert lease() == timedelta(seconds=2.5)


def test_frequency_caps_are_three_a_day_and_ten_a_week_unless_set(monkeypatch):
    settings = get_settings_of(create_app({}))
    assert (settings.social_posts_per_day, settings.social_posts_per_week) == (3, 10)
    monkeypatch.setenv("TCMA_SOCIAL_POSTS_PER_DAY", "1")
    monkeypatch.setenv("TCMA_SOCIAL_POSTS_PER_WEEK", "4")
    settings = get_settings_of(create_app({}))
    assert (settings.social_posts_per_day, settings.social_posts_per_week) == (1, 4)


def get_settings_of(app):
    with app.app_context():
        return get_settings()


def test_settings_come_from_tcma_environment_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("TCMA_PUBLIC_URL", "https://partners.vendor.test")
    monkeypatch.setenv("TCMA_DATABASE_URL", f"sqlite:///{tmp_path}/e.db")
    app = create_app()
    assert app.config["PUBLIC_URL"] == "https://partners.vendor.test"


def test_a_misspelt_environment_variable_is_refused(monkeypatch):
    monkeypatch.setenv("TCMA_DATABSE_URL", "sqlite://")
    with pytest.raises(ConfigError, match="TCMA_DATABSE_URL"):
        create_app()


def test_importing_reads_no_settings_and_connects_nowhere(tmp_path):
    import os
    import subprocess
    import sys

    env = dict(os.environ, TCMA_ENV="bogus", TCMA_REDIS_URL="redis://127.0.0.1:1/0")
    code = "import tcma, tcma.cli, tcma.models, tcma.jobs, tcma.queue, tcma.storage, tcma.api"
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "instance").exists()


@pytest.mark.parametrize("url", [
    "http://partners.vendor.example", "https://127.0.0.1:5000", "https://localhost", "https://10.0.0.8",
    "https://192.168.1.20/tcma", "https://[::1]:8443", "https://tcma.localhost"])
def test_production_refuses_a_public_url_partners_cannot_reach(url):
    with pytest.raises(ConfigError) as refused:
        create_app({"ENV": "production", "SECRET_KEY": "k" * 40, "ALLOW_EMBEDDED": "true",
                    "PUBLIC_URL": url})
    assert str(refused.value) == (
        "TCMA_PUBLIC_URL must be the https address partners and their audience reach (not a loopback or "
        f"private address) in production, got {url!r}")
