"""Shared fixtures: real PostgreSQL, real Redis, an S3-compatible server on loopback."""

from __future__ import annotations

import os
import socket
import uuid
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, text

from tcma import create_app
from tests.support import redis_db
from tests.support.apps import app_on, base_config

PG_ADMIN_URL = os.environ.get(
    "TCMA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
START_PG = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
START_REDIS = (
    'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no'
)


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or default_port), timeout=2):
            return True
    except OSError:
        return False


def _xdist_controller(config: pytest.Config) -> bool:
    """True in the process that hands tests to xdist workers and runs none itself."""
    return getattr(config.option, "numprocesses", None) not in (None, 0) and not hasattr(
        config, "workerinput")


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Give the run's Redis db back."""
    if not _xdist_controller(session.config):
        redis_db.release_redis_db()


def pytest_sessionstart(session: pytest.Session) -> None:
    """Fail the run at once, naming the service, when PostgreSQL or Redis is missing."""
    missing = []
    if not _reachable(PG_ADMIN_URL, 5432):
        missing.append(f"PostgreSQL is not reachable at {PG_ADMIN_URL}; start it with: {START_PG}")
    redis_url = redis_db.DEFAULT_REDIS_URL
    if not _reachable(redis_url, 6379):
        missing.append(f"Redis is not reachable at {redis_url}; start it with: {START_REDIS}")
    if missing:
        pytest.exit("\n".join(missing), returncode=3)
    if _xdist_controller(session.config):
        return  # each xdist worker claims a Redis db of its own
    if "TCMA_TEST_REDIS_URL" not in os.environ and redis_db.claim_redis_db() is None:
        pytest.exit(f"every test Redis db {redis_db.TEST_REDIS_DBS} is held by another test run",
                    returncode=3)


@pytest.fixture(scope="session")
def pg_url():
    """A fresh, empty PostgreSQL database for this run, dropped at the end."""
    name = f"tcma_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def migrated_pg(pg_url, tmp_path_factory):
    """The run's PostgreSQL database, upgraded to the head revision once."""
    from flask_migrate import upgrade

    app = create_app(base_config(tmp_path_factory.mktemp("migrate"), DATABASE_URL=pg_url))
    with app.app_context():
        upgrade()
        from tcma.extensions import db

        tables = [t.name for t in db.metadata.sorted_tables]
        db.engine.dispose()
    return pg_url, tables


@pytest.fixture
def redis_client():
    """The run's Redis db, flushed (keeping the run's claim on it) before and after each test."""
    from redis import Redis

    client = Redis.from_url(redis_db.redis_url())
    redis_db.flush_claimed_db(client)
    yield client
    redis_db.flush_claimed_db(client)
    client.close()


@pytest.fixture
def app(migrated_pg, tmp_path):
    """The app on PostgreSQL with in-process jobs; tables are emptied after each test."""
    url, tables = migrated_pg
    yield from app_on(base_config(tmp_path, DATABASE_URL=url), tables)


@pytest.fixture
def rq_app(migrated_pg, tmp_path, redis_client):
    """The app on PostgreSQL and Redis: jobs go to rq and need a worker."""
    url, tables = migrated_pg
    yield from app_on(base_config(tmp_path, DATABASE_URL=url, REDIS_URL=redis_db.redis_url()), tables)


@pytest.fixture
def rq_s3_app(migrated_pg, tmp_path, redis_client, s3_config):
    """Production-shaped: PostgreSQL, Redis + rq, boto3 against the loopback S3 server."""
    url, tables = migrated_pg
    config = base_config(tmp_path, DATABASE_URL=url, REDIS_URL=redis_db.redis_url(), **s3_config)
    yield from app_on(config, tables)


@pytest.fixture
def make_app(tmp_path):
    """Build extra apps from settings; their database pools are closed after the test."""
    made = []

    def make(**extra):
        application = create_app(base_config(tmp_path, **extra))
        made.append(application)
        return application

    yield make
    from tcma.extensions import db

    for application in made:
        with application.app_context():
            db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def s3_endpoint():
    """moto's S3-compatible server, over HTTP on loopback, for the whole run."""
    from moto.server import ThreadedMotoServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_config(s3_endpoint):
    """Settings for the S3 backend against a fresh bucket on the loopback server."""
    import boto3

    bucket = f"tcma-{uuid.uuid4().hex[:12]}"
    settings = {
        "STORAGE": "s3", "S3_BUCKET": bucket, "S3_ENDPOINT_URL": s3_endpoint,
        "S3_REGION": "us-east-1", "S3_ACCESS_KEY_ID": "testing",
        "S3_SECRET_ACCESS_KEY": "testing", "S3_PREFIX": "tcma",
    }
    boto3.client(
        "s3", endpoint_url=s3_endpoint, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    ).create_bucket(Bucket=bucket)
    return settings
