"""Post plans and scheduled posts through the API (real PostgreSQL, the fake Mastodon on loopback):
a marketer plans, each partner approves, rejects, edits and reschedules their own posts (and cannot
see another's), wrong states are refused by name, failures are retried and published once, every
attempt is listed, and `tcma posts show` prints a post with its attempts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tcma.extensions import db
from tcma.models import PostAttempt, PostPlan, ScheduledPost
from tcma.models.base import utcnow
from tcma.services.accounts.auth import OPERATOR
from tcma.services.catalogue.templates import import_catalogue
from tcma.services.syndication.accounts import connect_account
from tcma.services.syndication.scheduler import run_pass
from tests.support.apps import app_on, base_config
from tests.support.factories import make_partner, make_taxonomy, make_user
from tests.support.fake_networks import FakeMastodon, serve

OUTPUTS = [{"template": "launch-posts", "output": "post:mastodon"},
           {"template": "social-card", "output": "png"}]
SPRING = {"name": "Spring post", "networks": ["mastodon"], "image_output": "png",
          "timing": {"kind": "local_time", "local": "2027-03-09T10:00"}}
ZERO_COUNTS = {"awaiting_approval": 0, "scheduled": 0, "approved": 0, "claimed": 0, "publishing": 0,
               "held": 0, "published": 0, "failed": 0, "expired": 0, "cancelled": 0, "held_for_winner": 0}
POSTS = "/api/v1/posts"


@pytest.fixture
def app(migrated_pg, tmp_path):
    url, tables = migrated_pg
    yield from app_on(base_config(tmp_path, DATABASE_URL=url, CONNECTORS_BACKEND="live",
                                  CONNECTORS_TIMEOUT=0.5, CONNECTORS_CONNECT_TIMEOUT=0.5,
                                  CONNECTORS_MEDIA_POLL_INTERVAL=0.01), tables)


@pytest.fixture
def fake():
    with serve(FakeMastodon()) as fake:
        yield fake


@pytest.fixture
def world(app, client, fake):
    """Partners in New York and Berlin, a Mastodon account each (auto-publish), a launched campaign,
    a user of each partner and a marketer."""
    import_catalogue()
    taxonomy = make_taxonomy()
    ny, berlin = make_partner(taxonomy), make_partner(taxonomy)
    ny.time_zone, berlin.time_zone = "America/New_York", "Europe/Berlin"
    db.session.commit()
    for partner in (ny, berlin):
        account = connect_account(OPERATOR, partner.id, "mastodon",
                                  {"instance_url": fake.base_url, "access_token": FakeMastodon.TOKEN})
        account.auto_publish = True
    db.session.commit()
    _, marketer = make_user("marketer")
    _, ny_user = make_user("partner", ny)
    _, berlin_user = make_user("partner_admin", berlin)
    created = client.post("/api/v1/campaigns", headers=marketer,
                          json={"name": "Spring launch", "outputs": OUTPUTS, "segment": {}})
    assert created.status_code == 201, created.json
    campaign_id = created.json["id"]
    launched = client.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=marketer)
    assert launched.status_code == 202 and launched.json["done"] == 4, launched.json
    return {"campaign": campaign_id, "ny": ny.id, "berlin": berlin.id, "ny_name": ny.name,
            "berlin_name": berlin.name, "marketer": marketer, "ny_user": ny_user, "berlin_user": berlin_user}


def _plan(client, world, **extra):
    response = client.post(f"/api/v1/campaigns/{world['campaign']}/post-plans", headers=world["marketer"],
                           json={**SPRING, **extra})
    assert response.status_code == 201, response.json
    return response.json


def _post_of(client, world, partner: str) -> dict:
    """The one post of `partner` ("ny" or "berlin"), as the marketer sees it."""
    found = client.get(POSTS, headers=world["marketer"], query_string={"partner_id": world[partner]})
    assert found.status_code == 200 and found.json["total"] == 1, found.json
    return found.json["items"][0]


def _error(response, status: int, message: str, errors: dict | None = None) -> None:
    phrases = {403: "Forbidden", 404: "Not Found", 409: "Conflict", 422: "Unprocessable Entity"}
    assert (response.status_code, response.json) == (
        status, {"code": status, "status": phrases[status], "message": message, "errors": errors or {}})


def _pick(values: dict, *keys: str) -> tuple:
    return tuple(values[key] for key in keys)


def _launch_text(name: str) -> str:
    """The campaign's Mastodon post as each partner's render says it (its tracked link varies)."""
    return (r"Zero trust for hospitals and clinics is here\. " + re.escape(name)
            + r": We are proud to offer it to our customers\. http://tcma\.test/l/[A-Za-z0-9]{10} "
              r"#ZeroTrust #CyberSecurity")


def test_a_marketer_plans_and_sees_each_partners_post_at_ten_in_their_zone(client, world):
    plan = _plan(client, world)
    assert {k: v for k, v in plan.items() if k != "created_at"} == {
        "id": plan["id"], "campaign_id": world["campaign"], "name": "Spring post", "networks": ["mastodon"],
        "image_output": "png", "timing": {"kind": "local_time", "local": "2027-03-09T10:00"},
        "requires_approval": False, "allow_late": False, "status": "active",
        "counts": {**ZERO_COUNTS, "scheduled": 2}, "total": 2, "skipped": [],
        "experiment_plan": None}  # no experiment tests a share of this campaign
    listed = client.get(f"/api/v1/campaigns/{world['campaign']}/post-plans", headers=world["marketer"])
    assert [p["id"] for p in listed.json] == [plan["id"]]
    assert client.get(f"/api/v1/post-plans/{plan['id']}", headers=world["marketer"]).json["total"] == 2

    page = client.get(POSTS, headers=world["marketer"], query_string={"plan_id": plan["id"]})
    assert (page.json["total"], page.json["page"], page.json["per_page"]) == (2, 1, 50)
    berlin, ny = page.json["items"]  # soonest due first: 10:00 in Berlin is 09:00 UTC
    assert (berlin["partner_id"], berlin["local_at"], berlin["time_zone"], berlin["scheduled_at"]) == (
        world["berlin"], "2027-03-09T10:00", "Europe/Berlin", "2027-03-09T09:00:00+00:00")
    assert (ny["partner_id"], ny["local_at"], ny["time_zone"], ny["scheduled_at"]) == (
        world["ny"], "2027-03-09T10:00", "America/New_York", "2027-03-09T15:00:00+00:00")
    assert {k: ny[k] for k in ("campaign_id", "plan_id", "network", "handle", "status", "attempts",
                               "next_attempt_at", "error", "external_id", "external_url", "published_at",
                               "approved_at")} == {
        "campaign_id": world["campaign"], "plan_id": plan["id"], "network": "mastodon",
        "handle": "@acme@127.0.0.1", "status": "scheduled", "attempts": 0, "next_attempt_at": None,
        "error": None, "external_id": None, "external_url": None, "published_at": None, "approved_at": None}
    # The exact text that will go out: the partner's render, tracked link included.
    assert re.fullmatch(_launch_text(world["ny_name"]), ny["text"]), ny["text"]
    assert re.fullmatch(_launch_text(world["berlin_name"]), berlin["text"]), berlin["text"]
    assert re.fullmatch(r"http://tcma\.test/files/renders/\w\w/\w{64}\.png\?expires=\d+&sig=\w{64}",
                        ny["image_url"]), ny["image_url"]
    assert client.get(ny["image_url"]).headers["Content-Type"] == "image/png"

    by_filter = client.get(POSTS, headers=world["marketer"],
                           query_string={"network": "mastodon", "status": "scheduled",
                                         "campaign_id": world["campaign"], "per_page": 1, "page": 2})
    assert (by_filter.json["total"], [p["id"] for p in by_filter.json["items"]]) == (2, [ny["id"]])
    none = client.get(POSTS, headers=world["marketer"], query_string={"network": "linkedin"})
    assert (none.json["total"], none.json["items"]) == (0, [])
    _error(client.get(POSTS, headers=world["marketer"], query_string={"state": "failed"}), 422,
           "invalid input: see errors", {"query": {"state": ["Unknown field."]}})

    # Partners do not plan.
    _error(client.post(f"/api/v1/campaigns/{world['campaign']}/post-plans", headers=world["ny_user"],
                       json=SPRING), 403, "this needs one of the roles: admin, marketer")


def test_planning_refuses_what_cannot_be_posted(client, world):
    url = f"/api/v1/campaigns/{world['campaign']}/post-plans"
    _error(client.post(url, headers=world["marketer"], json={**SPRING, "networks": ["linkedin"]}), 422,
           "the campaign has no post text for linkedin",
           {"networks": ["add the post:linkedin output to the campaign first"]})
    _error(client.post(url, headers=world["marketer"], json={**SPRING, "timing": {"kind": "local_time"}}),
           422, "timing: a local_time timing needs local", {"timing": ["a local_time timing needs local"]})
    _error(client.post(url, headers=world["marketer"],
                       json={**SPRING, "timing": {"kind": "local_time", "local": "1999-12-31T10:00"}}),
           422, "invalid input: see errors", {"json": {"timing": {"local": ["a date from 2000 to 2199"]}}})


def test_a_partner_approves_their_own_post_and_cannot_see_or_approve_another_partners(client, world, fake):
    _plan(client, world, requires_approval=True)
    mine = client.get(POSTS, headers=world["ny_user"])
    assert mine.json["total"] == 1 and mine.json["items"][0]["partner_id"] == world["ny"]
    assert mine.json["items"][0]["status"] == "awaiting_approval"
    assert client.get(POSTS, headers=world["ny_user"],
                      query_string={"partner_id": world["berlin"]}).json["total"] == 0
    ny_id, berlin_id = mine.json["items"][0]["id"], _post_of(client, world, "berlin")["id"]

    before = utcnow()
    approved = client.post(f"{POSTS}/{ny_id}/approve", headers=world["ny_user"])
    assert approved.status_code == 200, approved.json
    assert _pick(approved.json, "status", "scheduled_at") == ("approved", "2027-03-09T15:00:00+00:00")
    assert before <= datetime.fromisoformat(approved.json["approved_at"]) <= utcnow()

    # Another partner's post is answered as if it did not exist.
    for response in (client.get(f"{POSTS}/{berlin_id}", headers=world["ny_user"]),
                     client.post(f"{POSTS}/{berlin_id}/approve", headers=world["ny_user"]),
                     client.post(f"{POSTS}/{berlin_id}/reject", headers=world["ny_user"], json={}),
                     client.patch(f"{POSTS}/{berlin_id}", headers=world["ny_user"], json={"text": "Ours"}),
                     client.post(f"{POSTS}/{berlin_id}/cancel", headers=world["ny_user"]),
                     client.get(f"{POSTS}/{berlin_id}/attempts", headers=world["ny_user"])):
        _error(response, 404, f"post {berlin_id} not found")
    assert _post_of(client, world, "berlin")["status"] == "awaiting_approval"
    # The approval is the partner's: a marketer cannot give it.
    _error(client.post(f"{POSTS}/{berlin_id}/approve", headers=world["marketer"]), 403,
           "this needs one of the roles: partner, partner_admin")

    # The approved post goes out at 10:00 New York time, once.
    run_pass(now=datetime(2027, 3, 9, 15, 0, tzinfo=UTC))
    assert len(fake.statuses) == 1
    assert client.get(f"{POSTS}/{ny_id}", headers=world["ny_user"]).json["status"] == "published"


def test_each_change_from_a_wrong_state_is_refused_naming_the_state(client, world, fake):
    _plan(client, world, requires_approval=True)
    ny_id, berlin_id = _post_of(client, world, "ny")["id"], _post_of(client, world, "berlin")["id"]
    ny, berlin = world["ny_user"], world["berlin_user"]

    rejected = client.post(f"{POSTS}/{berlin_id}/reject", headers=berlin, json={"reason": "Not our audience"})
    assert (rejected.json["status"], rejected.json["error"]) == ("cancelled", "rejected: Not our audience")
    _error(client.post(f"{POSTS}/{berlin_id}/reject", headers=berlin, json={}), 409,
           f"post {berlin_id} is cancelled: only a post awaiting approval can be rejected")
    _error(client.post(f"{POSTS}/{berlin_id}/approve", headers=berlin), 409,
           f"post {berlin_id} is cancelled: only a post awaiting approval can be approved")
    _error(client.patch(f"{POSTS}/{berlin_id}", headers=berlin, json={"text": "New words"}), 409,
           f"post {berlin_id} is cancelled: only a post awaiting approval, scheduled or approved "
           f"can be edited")
    _error(client.patch(f"{POSTS}/{berlin_id}", headers=berlin, json={"local_at": "2027-03-10T10:00"}), 409,
           f"post {berlin_id} is cancelled: only a post awaiting approval, scheduled, approved or expired "
           f"can be rescheduled")
    _error(client.post(f"{POSTS}/{berlin_id}/retry", headers=world["marketer"]), 409,
           f"post {berlin_id} is cancelled: only a failed or held post can be retried")
    _error(client.post(f"{POSTS}/{berlin_id}/cancel", headers=world["marketer"]), 409,
           f"post {berlin_id} is cancelled: only a post not sent yet (awaiting approval, scheduled, "
           f"approved, claimed, held or failed) can be cancelled")

    assert client.post(f"{POSTS}/{ny_id}/approve", headers=ny).status_code == 200
    _error(client.post(f"{POSTS}/{ny_id}/approve", headers=ny), 409,
           f"post {ny_id} is approved: only a post awaiting approval can be approved")
    run_pass(now=datetime(2027, 3, 9, 15, 0, tzinfo=UTC))
    _error(client.post(f"{POSTS}/{ny_id}/approve", headers=ny), 409,
           f"post {ny_id} is published: only a post awaiting approval can be approved")
    _error(client.post(f"{POSTS}/{ny_id}/cancel", headers=world["marketer"]), 409,
           f"post {ny_id} is published: only a post not sent yet (awaiting approval, scheduled, approved, "
           f"claimed, held or failed) can be cancelled")
    _error(client.post(f"{POSTS}/{ny_id}/retry", headers=ny), 409,
           f"post {ny_id} is published: only a failed or held post can be retried")
    assert len(fake.statuses) == 1


def test_a_post_whose_time_passed_is_approved_only_when_its_plan_allows_late_posts(client, world, fake):
    plan = _plan(client, world, requires_approval=True)
    ny_id = _post_of(client, world, "ny")["id"]
    db.session.get(ScheduledPost, ny_id).scheduled_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    late = "this post's time has passed: reschedule it first"
    _error(client.post(f"{POSTS}/{ny_id}/approve", headers=world["ny_user"]), 409, late, {"local_at": [late]})
    assert _post_of(client, world, "ny")["status"] == "awaiting_approval"

    db.session.get(PostPlan, plan["id"]).allow_late = True
    db.session.commit()
    before = utcnow()
    approved = client.post(f"{POSTS}/{ny_id}/approve", headers=world["ny_user"])
    assert approved.json["status"] == "approved"
    assert before <= datetime.fromisoformat(approved.json["scheduled_at"]) <= utcnow()  # due now
    run_pass()
    assert len(fake.statuses) == 1


def test_an_on_approval_post_is_due_the_moment_it_is_approved(client, world, fake):
    _plan(client, world, requires_approval=True, timing={"kind": "on_approval"})
    post = _post_of(client, world, "berlin")
    assert (post["local_at"], post["status"]) == (None, "awaiting_approval")
    run_pass()
    assert fake.statuses == []  # nothing goes out unapproved
    before = utcnow()
    approved = client.post(f"{POSTS}/{post['id']}/approve", headers=world["berlin_user"])
    assert before <= datetime.fromisoformat(approved.json["scheduled_at"]) <= utcnow()
    run_pass()
    assert len(fake.statuses) == 1
    assert _post_of(client, world, "berlin")["status"] == "published"


def test_editing_the_text_keeps_the_networks_limit_and_the_edit_is_what_goes_out(client, world, fake):
    _plan(client, world)
    post = _post_of(client, world, "berlin")
    over = "Spring is here. " * 31 + "Come see"  # 504 characters as Mastodon counts them
    _error(client.patch(f"{POSTS}/{post['id']}", headers=world["berlin_user"], json={"text": over}), 422,
           "mastodon post is 504 characters as mastodon counts them; the limit is 500",
           {"text": ["mastodon post is 504 characters as mastodon counts them; the limit is 500"]})
    _error(client.patch(f"{POSTS}/{post['id']}", headers=world["berlin_user"], json={"text": "   "}), 422,
           "mastodon post text is empty", {"text": ["mastodon post text is empty"]})
    _error(client.patch(f"{POSTS}/{post['id']}", headers=world["berlin_user"], json={}), 422,
           "invalid input: see errors", {"json": {"_schema": ["nothing to change: send at least one field"]}})
    # A 23-character link makes 477 + 23 = 500: exactly the limit.
    text = "Spring is here. " * 29 + "x" * 12 + " https://example.com/" + "s" * 60
    edited = client.patch(f"{POSTS}/{post['id']}", headers=world["berlin_user"], json={"text": text})
    assert (edited.status_code, edited.json["text"], edited.json["status"]) == (200, text, "scheduled")
    assert client.get(f"{POSTS}/{post['id']}", headers=world["marketer"]).json["text"] == text
    _error(client.patch(f"{POSTS}/{post['id']}", headers=world["marketer"], json={"text": "Ours"}), 403,
           "this needs one of the roles: partner, partner_admin")

    run_pass(now=datetime(2027, 3, 9, 9, 0, tzinfo=UTC))
    assert len(fake.statuses) == 1
    assert fake.statuses[0]["content"].startswith("<p>Spring is here. Spring is here. ")
    assert db.session.scalar(select(ScheduledPost.text).where(ScheduledPost.id == post["id"])) == text


def test_a_partner_reschedules_on_their_own_wall_clock(client, world):
    _plan(client, world, requires_approval=True)
    ny, berlin = _post_of(client, world, "ny"), _post_of(client, world, "berlin")
    assert client.post(f"{POSTS}/{ny['id']}/approve", headers=world["ny_user"]).status_code == 200

    moved = client.patch(f"{POSTS}/{ny['id']}", headers=world["ny_user"],
                         json={"local_at": "2027-03-11T09:30"})
    assert _pick(moved.json, "local_at", "time_zone", "scheduled_at", "status") == (
        "2027-03-11T09:30", "America/New_York", "2027-03-11T14:30:00+00:00", "approved")  # EST, approval kept
    # 02:30 on 14 March 2027 never shows in New York (clocks go from 02:00 to 03:00 EDT).
    gap = client.patch(f"{POSTS}/{ny['id']}", headers=world["ny_user"], json={"local_at": "2027-03-14T02:30"})
    assert _pick(gap.json, "local_at", "scheduled_at") == ("2027-03-14T03:00", "2027-03-14T07:00:00+00:00")
    summer = client.patch(f"{POSTS}/{berlin['id']}", headers=world["berlin_user"],
                          json={"local_at": "2027-04-02T08:15", "text": "Spring at our place."})
    assert _pick(summer.json, "local_at", "scheduled_at", "text", "status") == (
        "2027-04-02T08:15", "2027-04-02T06:15:00+00:00", "Spring at our place.", "awaiting_approval")

    past = "2026-01-05T10:00 in America/New_York has passed: choose a time to come"
    _error(client.patch(f"{POSTS}/{ny['id']}", headers=world["ny_user"],
                        json={"local_at": "2026-01-05T10:00"}), 422, past, {"local_at": [past]})
    # Neither change is made when one is refused.
    _error(client.patch(f"{POSTS}/{berlin['id']}", headers=world["berlin_user"],
                        json={"local_at": "2026-01-05T10:00", "text": "Other words"}), 422,
           "2026-01-05T10:00 in Europe/Berlin has passed: choose a time to come",
           {"local_at": ["2026-01-05T10:00 in Europe/Berlin has passed: choose a time to come"]})
    assert _post_of(client, world, "berlin")["text"] == "Spring at our place."
    _error(client.patch(f"{POSTS}/{ny['id']}", headers=world["ny_user"],
                        json={"local_at": "2027-03-14T02:30+01:00"}),
           422, "invalid input: see errors", {"json": {"local_at": ["Not a valid naive datetime."]}})

    # An expired post (not approved by its time) awaits approval again at its new time.
    expire = db.session.get(ScheduledPost, berlin["id"])
    expire.status, expire.error = "expired", "not approved by its time"
    db.session.commit()
    again = client.patch(f"{POSTS}/{berlin['id']}", headers=world["berlin_user"],
                         json={"local_at": "2027-03-28T02:30"})  # Berlin springs forward at 02:00
    assert _pick(again.json, "status", "error", "local_at", "scheduled_at") == (
        "awaiting_approval", None, "2027-03-28T03:00", "2027-03-28T01:00:00+00:00")


def test_cancelling_a_plan_cancels_its_pending_posts(client, world, fake):
    plan = _plan(client, world)
    run_pass(now=datetime(2027, 3, 9, 9, 0, tzinfo=UTC))  # Berlin's is out
    _error(client.post(f"/api/v1/post-plans/{plan['id']}/cancel", headers=world["ny_user"]), 403,
           "this needs one of the roles: admin, marketer")
    cancelled = client.post(f"/api/v1/post-plans/{plan['id']}/cancel", headers=world["marketer"])
    assert (cancelled.status_code, cancelled.json["status"], cancelled.json["counts"]) == (
        200, "cancelled", {**ZERO_COUNTS, "published": 1, "cancelled": 1})
    ny = _post_of(client, world, "ny")
    assert (ny["status"], ny["error"]) == ("cancelled", "the plan was cancelled")
    run_pass(now=datetime(2027, 3, 9, 16, 0, tzinfo=UTC))
    assert len(fake.statuses) == 1
    _error(client.post(f"/api/v1/post-plans/{plan['id']}/retry-failed", headers=world["marketer"]), 409,
           f"post plan {plan['id']} is cancelled: its posts are not retried")
    _error(client.get("/api/v1/post-plans/999999", headers=world["marketer"]), 404,
           "post plan 999999 not found")


def test_a_partner_cancels_a_post_of_their_own_before_it_goes_out(client, world, fake):
    _plan(client, world)
    post = _post_of(client, world, "ny")
    cancelled = client.post(f"{POSTS}/{post['id']}/cancel", headers=world["ny_user"])
    assert (cancelled.json["status"], cancelled.json["error"]) == ("cancelled", "cancelled by the partner")
    run_pass(now=datetime(2027, 3, 9, 16, 0, tzinfo=UTC))
    assert len(fake.statuses) == 1  # Berlin's only


def test_failed_posts_are_retried_one_by_one_or_all_and_published_once(client, world, fake):
    plan = _plan(client, world)
    fake.fail_next("/api/v1/statuses", 422, {"error": "Validation failed: Text character limit exceeded"})
    run_pass(now=datetime(2027, 3, 9, 9, 0, tzinfo=UTC))
    berlin = _post_of(client, world, "berlin")
    assert (berlin["status"], berlin["error"]) == (
        "failed", "mastodon refused the post: mastodon answered 422: Validation failed: Text character limit "
                  "exceeded")
    assert fake.statuses == []

    retried = client.post(f"{POSTS}/{berlin['id']}/retry", headers=world["berlin_user"])
    assert (retried.status_code, retried.json["status"], retried.json["error"],
            retried.json["next_attempt_at"]) == (200, "scheduled", None, None)
    run_pass(now=datetime(2027, 3, 9, 9, 1, tzinfo=UTC))
    assert len(fake.statuses) == 1
    published = _post_of(client, world, "berlin")
    assert _pick(published, "status", "attempts", "external_id", "external_url") == (
        "published", 2, fake.statuses[0]["id"], fake.statuses[0]["url"])

    tries = client.get(f"{POSTS}/{berlin['id']}/attempts", headers=world["marketer"]).json
    assert [(t["outcome"], t["detail"]) for t in tries] == [
        ("rejected", "mastodon answered 422: Validation failed: Text character limit exceeded"),
        ("published", fake.statuses[0]["url"])]
    assert tries[0]["rate_limit"] is None
    assert (tries[1]["rate_limit"]["limit"], tries[1]["rate_limit"]["remaining"]) == (300, 295)
    assert all(t["worker"] and t["started_at"] <= t["finished_at"] for t in tries)

    # New York's fails too: the marketer retries every failure of the plan at once.
    fake.fail_next("/api/v1/statuses", 422, {"error": "Validation failed: Text character limit exceeded"})
    run_pass(now=datetime(2027, 3, 9, 15, 0, tzinfo=UTC))
    assert _post_of(client, world, "ny")["status"] == "failed"
    _error(client.post(f"/api/v1/post-plans/{plan['id']}/retry-failed", headers=world["ny_user"]), 403,
           "this needs one of the roles: admin, marketer")
    all_failed = client.post(f"/api/v1/post-plans/{plan['id']}/retry-failed", headers=world["marketer"])
    assert (all_failed.status_code, all_failed.json) == (200, {"retried": 1})
    assert client.post(f"/api/v1/post-plans/{plan['id']}/retry-failed", headers=world["marketer"]).json == {
        "retried": 0}
    run_pass(now=datetime(2027, 3, 9, 15, 1, tzinfo=UTC))
    assert len(fake.statuses) == 2
    counts = client.get(f"/api/v1/post-plans/{plan['id']}", headers=world["marketer"]).json["counts"]
    assert counts == {**ZERO_COUNTS, "published": 2}


def test_a_held_post_is_not_retried_while_its_account_cannot_publish(client, world, fake):
    _plan(client, world)
    fake.fail_next("/api/v1/statuses", 401, {"error": "The access token was revoked"})
    run_pass(now=datetime(2027, 3, 9, 9, 0, tzinfo=UTC))
    berlin = _post_of(client, world, "berlin")
    assert (berlin["status"], berlin["error"]) == (
        "held", "the account needs connecting again: mastodon answered 401: The access token was revoked")
    _error(client.post(f"{POSTS}/{berlin['id']}/retry", headers=world["marketer"]), 409,
           "the mastodon account @acme@127.0.0.1 needs connecting again: reconnect it, then retry")
    # Connecting it again puts its held posts back on the schedule by itself.
    connect_account(OPERATOR, world["berlin"], "mastodon",
                    {"instance_url": fake.base_url, "access_token": FakeMastodon.TOKEN})
    _error(client.post(f"{POSTS}/{berlin['id']}/retry", headers=world["marketer"]), 409,
           f"post {berlin['id']} is scheduled: only a failed or held post can be retried")
    run_pass(now=datetime(2027, 3, 9, 9, 1, tzinfo=UTC))
    assert len(fake.statuses) == 1

    # A paused account holds its posts until the partner resumes it: then they go back by themselves.
    ny = _post_of(client, world, "ny")
    account = f"/api/v1/social-accounts/{ny['account_id']}"
    assert client.patch(account, headers=world["ny_user"], json={"paused": True}).status_code == 200
    run_pass(now=datetime(2027, 3, 9, 15, 0, tzinfo=UTC))
    assert _post_of(client, world, "ny")["error"] == "the account is paused"
    _error(client.post(f"{POSTS}/{ny['id']}/retry", headers=world["ny_user"]), 409,
           "the mastodon account @acme@127.0.0.1 is paused: resume it, then retry")
    assert client.patch(account, headers=world["ny_user"], json={"paused": False}).status_code == 200
    resumed = _post_of(client, world, "ny")
    assert (resumed["status"], resumed["error"]) == ("scheduled", None)
    run_pass(now=datetime(2027, 3, 9, 15, 1, tzinfo=UTC))
    assert len(fake.statuses) == 2
    assert _post_of(client, world, "ny")["status"] == "published"


def test_tcma_posts_show_prints_the_post_and_every_attempt(app, client, world, fake):
    plan = _plan(client, world)
    fake.fail_next("/api/v1/statuses", 422, {"error": "Validation failed: Text character limit exceeded"})
    run_pass(now=datetime(2027, 3, 9, 9, 0, tzinfo=UTC))
    berlin = _post_of(client, world, "berlin")
    client.post(f"{POSTS}/{berlin['id']}/retry", headers=world["marketer"])
    run_pass(now=datetime(2027, 3, 9, 9, 1, tzinfo=UTC))
    post = _post_of(client, world, "berlin")
    db.session.expire_all()
    first, second = db.session.scalars(select(PostAttempt).order_by(PostAttempt.id)).all()
    published_at = datetime.fromisoformat(post["published_at"])

    shown = app.test_cli_runner().invoke(args=["posts", "show", str(post["id"])])
    assert shown.exit_code == 0, shown.output
    assert shown.output.splitlines() == [
        f"post {post['id']}: published",
        f"account:   mastodon @acme@127.0.0.1 (account {post['account_id']}, partner {world['berlin']})",
        f"campaign:  {world['campaign']}, plan {plan['id']}",
        "due:       2027-03-09T10:00 Europe/Berlin (2027-03-09 09:00:00 UTC)",
        "approved:  -",
        "attempts:  2, next not before -",
        "error:     -",
        f"published: {published_at:%Y-%m-%d %H:%M:%S} UTC {fake.statuses[0]['url']}",
        "image:     yes",
        "text:",
        f"  {post['text']}",
        "2 attempts:",
        f"  {first.started_at:%Y-%m-%d %H:%M:%S} UTC  rejected        by {first.worker}",
        "    detail: mastodon answered 422: Validation failed: Text character limit exceeded",
        "    rate limit: -",
        f"  {second.started_at:%Y-%m-%d %H:%M:%S} UTC  published       by {second.worker}",
        f"    detail: {fake.statuses[0]['url']}",
        f"    rate limit: 295/300 left, resets {second.rate_limit['reset']}",
    ]

    listed = app.test_cli_runner().invoke(args=["posts", "list", "--plan", str(plan["id"]), "--status",
                                                "published"])
    assert listed.exit_code == 0, listed.output
    assert listed.output == (f"{post['id']:>7}  published         mastodon  {'@acme@127.0.0.1':<30} "
                             f"partner {world['berlin']:<6} 2027-03-09 09:00:00 UTC\n")
    everything = app.test_cli_runner().invoke(args=["posts", "list", "--limit", "1"])
    assert everything.output.splitlines()[1:] == ["... and 1 more (--limit)"]
    empty = app.test_cli_runner().invoke(args=["posts", "list", "--status", "expired"])
    assert empty.output == "No posts.\n"
    missing = app.test_cli_runner().invoke(args=["posts", "show", "999999"])
    assert (missing.exit_code, missing.output) == (1, "Error: post 999999 not found\n")
