"""Liveness and readiness probes."""

from __future__ import annotations

from tests.support.redis_db import redis_url


def test_healthz_answers(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readyz_reports_every_part_ready(rq_app):
    response = rq_app.test_client().get("/readyz")
    body = response.get_json()
    assert response.status_code == 200
    assert {name: part["ok"] for name, part in body["parts"].items()} == {
        "database": True, "redis": True, "storage": True,
    }


def test_readyz_names_redis_when_it_is_down(migrated_pg, make_app):
    url, _ = migrated_pg
    app = make_app(DATABASE_URL=url, REDIS_URL="redis://127.0.0.1:1/0")
    response = app.test_client().get("/readyz")
    body = response.get_json()
    assert response.status_code == 503
    assert body["parts"]["redis"]["ok"] is False
    assert "Connection" in body["parts"]["redis"]["error"]
    assert body["parts"]["database"]["ok"] is True


def test_readyz_names_the_database_when_it_is_down(make_app):
    app = make_app(DATABASE_URL="postgresql://postgres@127.0.0.1:1/none", REDIS_URL=redis_url())
    response = app.test_client().get("/readyz")
    body = response.get_json()
    assert response.status_code == 503
    assert body["parts"]["database"]["ok"] is False
    assert body["parts"]["redis"]["ok"] is True
