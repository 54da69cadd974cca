"""Defences found in review: CSRF through the API, redirects after sign-in, proxies, bad ids."""

from __future__ import annotations

import json

from flask_migrate import upgrade
from sqlalchemy import select

from tcma.extensions import db
from tcma.models import Asset, Event
from tcma.services.catalogue.templates import import_catalogue
from tests.support.factories import make_partner, make_taxonomy, make_user


def _sign_in(client, email: str) -> str:
    client.post("/login", data={"email": email, "password": "correct horse battery",
                                "csrf_token": _csrf(client)})
    return _csrf(client)


def _csrf(client) -> str:
    with client.session_transaction() as session:
        return session.get("csrf_token", "")


def test_the_api_refuses_a_session_write_without_the_csrf_header(client):
    make_taxonomy()
    import_catalogue()
    user, _ = make_user("marketer")
    client.get("/login")
    token = _sign_in(client, user.email)
    body = {"name": "x", "outputs": [{"template": "newsletter", "output": "email"}]}
    assert client.get("/api/v1/auth/me").status_code == 200  # reading with the session is fine
    assert client.post("/api/v1/campaigns", json=body).status_code == 401  # a cross-site form
    assert client.post("/api/v1/campaigns", json=body, headers={"X-CSRF-Token": token}).status_code == 201


def test_sign_in_never_redirects_off_site(client):
    user, _ = make_user("marketer")
    client.get("/login")
    for target in ("/\t/evil.example", "//evil.example", "https://evil.example/", "/\\evil.example"):
        response = client.post("/login?next=" + target, data={
            "email": user.email, "password": "correct horse battery", "csrf_token": _csrf(client)})
        assert response.status_code == 302
        assert "evil" not in response.headers["Location"]


def test_tokens_keep_working_on_the_embedded_sqlite_default(make_app, tmp_path):
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/t.db")
    with app.app_context():
        upgrade()
        _, headers = make_user("marketer")
        client = app.test_client()
        assert [client.get("/api/v1/auth/me", headers=headers).status_code for _ in range(3)] == [200] * 3


def test_behind_a_proxy_visitors_are_told_apart_by_their_own_address(app, make_app, migrated_pg):
    # `app` empties the tables afterwards; the proxied app shares its database.
    from tests.support.tracking import build_world, path_of

    proxied = make_app(DATABASE_URL=migrated_pg[0], PROXY_HOPS=1)
    with proxied.app_context():
        world = build_world()
        client = proxied.test_client()
        agent = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/124.0"}
        for address in ("203.0.113.9", "198.51.100.7"):
            client.get(path_of(world["links"][world["acme"].slug, "a"]),
                       headers={**agent, "X-Forwarded-For": address},
                       environ_base={"REMOTE_ADDR": "10.0.0.2"})
        visitors = db.session.scalars(select(Event.visitor).where(Event.kind == "click")).all()
        assert len(visitors) == 2 and len(set(visitors)) == 2


def test_ids_too_large_for_the_database_are_not_found(client):
    _, headers = make_user("admin")
    assert client.get("/api/v1/assets/99999999999999999999", headers=headers).status_code == 404
    huge = client.get("/api/v1/assets?partner_id=99999999999999999999", headers=headers)
    assert huge.status_code == 422 and "partner_id" in huge.json["errors"]["query"]


def test_only_tiers_have_a_rank(client):
    _, headers = make_user("admin")
    response = client.post("/api/v1/vendor/verticals", headers=headers,
                           json={"slug": "hc", "name": "Healthcare", "rank": 3})
    assert response.status_code == 422 and "rank" in response.json["errors"]


def test_an_unknown_template_in_a_campaign_is_named(client):
    _, headers = make_user("marketer")
    response = client.post("/api/v1/campaigns", headers=headers,
                           json={"name": "x", "outputs": [{"template": "nope", "output": "pdf"}]})
    assert response.status_code == 422 and "outputs.0.template" in response.json["errors"]


def test_a_carried_customization_drops_every_value_the_new_version_refuses(client):
    taxonomy = make_taxonomy()
    partner = make_partner(taxonomy)
    import_catalogue()
    _, marketer = make_user("marketer")
    _, mine = make_user("partner", partner)
    client.put("/api/v1/library/solution-brief/customization", headers=mine,
               json={"fields": {"intro": "x" * 400, "contact_cta": "y" * 50}})
    spec = client.get("/api/v1/templates/solution-brief/versions/1", headers=marketer).json["spec"]
    spec["manifest"]["fields"]["intro"]["max_length"] = 200  # still above the defaults
    spec["manifest"]["fields"]["contact_cta"]["max_length"] = 30
    assert client.post("/api/v1/templates/solution-brief/versions", headers=marketer,
                       json={"spec": json.loads(json.dumps(spec))}).status_code == 201
    now = client.get("/api/v1/library/solution-brief/customization", headers=mine).json
    assert now["fields"] == {} and sorted(now["dropped_fields"]) == ["contact_cta", "intro"]


def test_a_self_served_render_left_running_by_a_dead_worker_is_recovered(app):
    from tcma.models.base import utcnow
    from tcma.services.launch.launches import recover_stalled

    taxonomy = make_taxonomy()
    partner = make_partner(taxonomy)
    import_catalogue()
    from tcma.services.catalogue.templates import get_version

    version = get_version("solution-brief")
    stale = Asset(partner_id=partner.id, template_version_id=version.id, output="pdf",
                  fields={}, status="running", updated_at=utcnow().replace(year=2020))
    db.session.add(stale)
    db.session.commit()
    assert recover_stalled() == 1
    db.session.expire_all()
    assert db.session.get(Asset, stale.id).status == "done"


def test_the_demo_refuses_a_production_database(make_app, tmp_path):
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/p.db", ENV="production", SECRET_KEY="s" * 40,
                   ALLOW_EMBEDDED=True)
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code != 0 and "production" in result.output
