"""Evergreen posts and post field edits through the API (real PostgreSQL, the fake Mastodon on
loopback): a partner lists the library's posts, previews them, schedules one on their account (another
partner's account or post answers 404), edits a post's fields with PATCH; every refusal by name."""

from __future__ import annotations

import re

import pytest

from tcma.extensions import db
from tcma.services.accounts.auth import OPERATOR
from tcma.services.catalogue.templates import import_catalogue
from tcma.services.syndication.accounts import connect_account
from tests.support.apps import app_on, base_config
from tests.support.evergreen_templates import write_templates
from tests.support.factories import make_partner, make_taxonomy, make_user
from tests.support.fake_networks import FakeMastodon, serve

EVERGREEN = "/api/v1/evergreen-posts"
POSTS = "/api/v1/posts"
LINK = r"http://tcma\.test/l/[A-Za-z0-9]{10}"


@pytest.fixture
def app(migrated_pg, tmp_path):
    url, tables = migrated_pg
    yield from app_on(base_config(tmp_path, DATABASE_URL=url, CONNECTORS_BACKEND="live",
                                  CONNECTORS_TIMEOUT=0.5, CONNECTORS_CONNECT_TIMEOUT=0.5), tables)


@pytest.fixture
def world(app, tmp_path):
    """Berlin and New York partners (silver), a Mastodon account each, a user each, and a marketer."""
    with serve(FakeMastodon()) as fake:
        import_catalogue()
        import_catalogue(write_templates(tmp_path))
        taxonomy = make_taxonomy()
        berlin, ny = make_partner(taxonomy), make_partner(taxonomy)
        berlin.time_zone, ny.time_zone = "Europe/Berlin", "America/New_York"
        db.session.commit()
        accounts = [connect_account(OPERATOR, partner.id, "mastodon",
                                    {"instance_url": fake.base_url, "access_token": FakeMastodon.TOKEN}).id
                    for partner in (berlin, ny)]
        db.session.commit()
        yield {"berlin": berlin.id, "berlin_name": berlin.name, "berlin_account": accounts[0],
               "ny_account": accounts[1], "berlin_user": make_user("partner", berlin)[1],
               "ny_user": make_user("partner", ny)[1], "marketer": make_user("marketer")[1]}


def _error(response, status: int, message: str, errors: dict | None = None) -> None:
    phrases = {403: "Forbidden", 404: "Not Found", 409: "Conflict", 422: "Unprocessable Entity"}
    assert (response.status_code, response.json) == (
        status, {"code": status, "status": phrases[status], "message": message, "errors": errors or {}})


def _schedule(client, world, slug="launch-posts", **body):
    return client.post(f"{EVERGREEN}/{slug}/schedule", headers=world["berlin_user"],
                       json={"account_ids": [world["berlin_account"]], "local_at": "2027-03-09T10:00",
                             **body})


def test_a_partner_lists_previews_and_schedules_an_evergreen_post(client, world):
    listed = client.get(EVERGREEN, headers=world["berlin_user"])
    assert listed.status_code == 200
    assert [entry["slug"] for entry in listed.json] == ["card-posts", "launch-posts", "plain-posts"]
    launch = listed.json[1]
    assert launch["networks"] == ["linkedin", "x", "facebook", "mastodon", "bluesky"]
    assert launch["fields"] == [{"name": "comment", "label": "comment", "type": "text", "max_length": 120,
                                 "choices": [], "required": False,
                                 "value": "We are proud to offer it to our customers."}]

    preview = client.post(f"{EVERGREEN}/launch-posts/preview", headers=world["berlin_user"],
                          json={"fields": {"comment": "Ask us for a demo."}})
    assert preview.status_code == 200
    mastodon = next(t for t in preview.json["texts"] if t["network"] == "mastodon")
    expected = (r"Zero trust for hospitals and clinics is here\. " + re.escape(world["berlin_name"])
                + rf": Ask us for a demo\. {LINK} #ZeroTrust #CyberSecurity")
    assert re.fullmatch(expected, mastodon["text"]), mastodon["text"]
    assert (mastodon["limit"], mastodon["error"]) == (500, None)
    assert preview.json["accounts"] == [{"id": world["berlin_account"], "network": "mastodon",
                                         "handle": "@acme@127.0.0.1", "display_name": None}]
    assert preview.json["time_zone"] == "Europe/Berlin"
    assert client.get(f"{EVERGREEN}/launch-posts", headers=world["berlin_user"]).status_code == 200

    made = _schedule(client, world, fields={"comment": "Ask us for a demo."})
    assert made.status_code == 201, made.json
    [post] = made.json
    assert {k: post[k] for k in ("account_id", "campaign_id", "plan_id", "status", "local_at", "time_zone",
                                 "scheduled_at")} == {
        "account_id": world["berlin_account"], "campaign_id": None, "plan_id": None, "status": "approved",
        "local_at": "2027-03-09T10:00", "time_zone": "Europe/Berlin",
        "scheduled_at": "2027-03-09T09:00:00+00:00"}
    assert post["text"] == mastodon["text"]
    listed = client.get(POSTS, headers=world["berlin_user"], query_string={"status": "approved"})
    assert [p["id"] for p in listed.json["items"]] == [post["id"]]
    # Another partner neither sees it nor changes it.
    _error(client.get(f"{POSTS}/{post['id']}", headers=world["ny_user"]), 404, f"post {post['id']} not found")
    _error(client.patch(f"{POSTS}/{post['id']}", headers=world["ny_user"], json={"fields": {"comment": "x"}}),
           404, f"post {post['id']} not found")
    cancelled = client.post(f"{POSTS}/{post['id']}/cancel", headers=world["berlin_user"])
    assert cancelled.json["status"] == "cancelled"


def test_as_soon_as_possible_and_refusals_by_name(client, world):
    asap = _schedule(client, world, slug="plain-posts", local_at=None, as_soon_as_possible=True)
    assert asap.status_code == 422  # local_at: null is not a time
    asap = client.post(f"{EVERGREEN}/plain-posts/schedule", headers=world["berlin_user"],
                       json={"account_ids": [world["berlin_account"]], "as_soon_as_possible": True})
    assert asap.status_code == 201 and asap.json[0]["local_at"] is None
    _error(client.post(f"{EVERGREEN}/plain-posts/schedule", headers=world["berlin_user"],
                       json={"account_ids": [world["berlin_account"]]}), 422, "invalid input: see errors",
           {"json": {"local_at": ["give a local_at on your wall clock, or as_soon_as_possible: true"]}})
    _error(_schedule(client, world, as_soon_as_possible=True), 422, "invalid input: see errors",
           {"json": {"local_at": ["give local_at or as_soon_as_possible, not both"]}})
    _error(_schedule(client, world, account_ids=[world["ny_account"]]), 404,
           f"social account {world['ny_account']} not found")
    _error(_schedule(client, world, slug="gold-posts"), 404, "template 'gold-posts' not found")
    _error(_schedule(client, world, slug="social-card"), 404, "evergreen post 'social-card' not found")
    message = "2026-01-05T10:00 in Europe/Berlin has passed: choose a time to come"
    _error(_schedule(client, world, local_at="2026-01-05T10:00"), 422, message, {"local_at": [message]})
    message = "field 'comment': is 121 characters; the limit is 120"
    _error(_schedule(client, world, fields={"comment": "c" * 121}), 422, message,
           {"fields.comment": [message]})
    for hour in ("11:00", "12:00", "18:00"):  # three a day fit
        assert _schedule(client, world, local_at=f"2027-03-09T{hour}").status_code == 201
    message = ("the mastodon account @acme@127.0.0.1 would post too often: "
               "3 posts already on 2027-03-09 (the limit is 3 a day)")
    _error(_schedule(client, world, local_at="2027-03-09T19:00"), 409, message, {"account_ids": [message]})
    _error(client.get(EVERGREEN, headers=world["marketer"]), 403,
           "this needs one of the roles: partner, partner_admin")


def test_a_partner_edits_a_posts_fields_with_patch(client, world):
    preview = client.get(f"{EVERGREEN}/card-posts", headers=world["berlin_user"]).json
    assert client.get(preview["image_url"]).headers["Content-Type"] == "image/png"
    text_only = _schedule(client, world, slug="card-posts", with_image=False).json[0]
    assert text_only["image_url"] is None
    [post] = _schedule(client, world, slug="card-posts", local_at="2027-03-09T11:00").json
    assert post["image_url"].split("?")[0] == preview["image_url"].split("?")[0]
    fields = client.get(f"{POSTS}/{post['id']}/fields", headers=world["berlin_user"])
    assert [(f["name"], f["max_length"], f["value"]) for f in fields.json] == [
        ("body", 600, "Hall 4, booth 12."), ("headline", 60, "Meet us at the fair")]
    link = re.search(LINK, post["text"]).group(0)
    edited = client.patch(f"{POSTS}/{post['id']}", headers=world["berlin_user"],
                          json={"fields": {"headline": "Come to Hall 7"}})
    assert edited.status_code == 200, edited.json
    assert edited.json["text"] == f"Come to Hall 7: Hall 4, booth 12. {link}"
    assert edited.json["status"] == "approved"
    message = "field 'headline': is 61 characters; the limit is 60"
    _error(client.patch(f"{POSTS}/{post['id']}", headers=world["berlin_user"],
                        json={"fields": {"headline": "h" * 61}}), 422, message,
           {"fields.headline": [message]})
    message = "send either text or fields: the fields render the text again"
    _error(client.patch(f"{POSTS}/{post['id']}", headers=world["berlin_user"],
                        json={"fields": {"headline": "A"}, "text": "B"}), 422, message, {"fields": [message]})
    still = client.get(f"{POSTS}/{post['id']}", headers=world["berlin_user"]).json
    assert still["text"] == f"Come to Hall 7: Hall 4, booth 12. {link}"
    _error(client.get(f"{POSTS}/{post['id']}/fields", headers=world["ny_user"]), 404,
           f"post {post['id']} not found")
    _error(client.patch(f"{POSTS}/{post['id']}", headers=world["marketer"],
                        json={"fields": {"headline": "A"}}), 403,
           "this needs one of the roles: partner, partner_admin")
