"""API tokens: issued once, stored hashed, revocable."""

from __future__ import annotations

import pytest
from flask_migrate import upgrade
from sqlalchemy import select

from tcma.extensions import db
from tcma.models import ApiToken
from tcma.services.accounts.users import create_user
from tests.support.factories import make_user


def test_a_token_is_shown_once_stored_hashed_and_revocable(client):
    create_user("m@test.example", "correct horse battery", "marketer")
    issued = client.post("/api/v1/auth/tokens", json={"email": "m@test.example",
                                                      "password": "correct horse battery", "name": "ci"})
    assert issued.status_code == 201
    raw = issued.json["token"]
    stored = db.session.scalar(select(ApiToken))
    assert raw not in (stored.token_hash, stored.prefix) and raw.startswith(stored.prefix)
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get("/api/v1/auth/me", headers=headers).json["role"] == "marketer"
    listed = client.get("/api/v1/auth/tokens", headers=headers).json
    assert "token" not in listed[0]
    assert client.delete(f"/api/v1/auth/tokens/{stored.id}", headers=headers).status_code == 200
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_a_wrong_password_gets_no_token(client):
    create_user("m@test.example", "correct horse battery", "marketer")
    response = client.post("/api/v1/auth/tokens", json={"email": "m@test.example",
                                                        "password": "wrong", "name": "x"})
    assert response.status_code == 401
    assert db.session.scalar(select(ApiToken)) is None


def test_passwords_are_hashed_with_argon2(app):
    user = create_user("p@test.example", "correct horse battery", "admin")
    assert user.password_hash.startswith("$argon2id$")


def test_a_user_cannot_revoke_someone_elses_token(client):
    _, mine = make_user("marketer")
    other, theirs = make_user("marketer")
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == other.id))
    assert client.delete(f"/api/v1/auth/tokens/{token.id}", headers=mine).status_code == 404
    assert client.get("/api/v1/auth/me", headers=theirs).status_code == 200


@pytest.mark.parametrize("fixture", ["app", "rq_app"])  # counted in the process, or in Redis
def test_password_guessing_is_stopped_after_ten_failures(request, fixture):
    client = request.getfixturevalue(fixture).test_client()
    create_user("g@test.example", "correct horse battery", "marketer")
    guess = {"email": "g@test.example", "name": "x"}
    for attempt in range(10):
        response = client.post("/api/v1/auth/tokens", json={**guess, "password": f"guess {attempt}"})
        assert response.status_code == 401
    blocked = client.post("/api/v1/auth/tokens", json={**guess, "password": "correct horse battery"})
    assert blocked.status_code == 429 and "too many" in blocked.json["message"]


def test_tokens_keep_working_on_the_embedded_sqlite_default(make_app, tmp_path):
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/t.db")
    with app.app_context():
        upgrade()
        _, headers = make_user("marketer")
        client = app.test_client()
        assert [client.get("/api/v1/auth/me", headers=headers).status_code for _ in range(3)] == [200] * 3
