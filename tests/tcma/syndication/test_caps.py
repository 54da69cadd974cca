"""Frequency caps: no account gets more tcma posts a day or a week (on its partner's wall clock) than
TCMA_SOCIAL_POSTS_PER_DAY and TCMA_SOCIAL_POSTS_PER_WEEK allow; a plan that would break them moves a
window's post to another day or skips the account, and its view says which and why.

Here the caps are 2 a day and 4 a week; the partners are in New York and Berlin."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tcma.extensions import db
from tcma.models import ScheduledPost
from tcma.services.syndication.plans import fill_active_plans
from tests.support.apps import app_on, base_config
from tests.support.factories import make_user

PLANS = "/api/v1/campaigns/{}/post-plans"
DAY_FULL = "2 posts already on 2027-03-09 (the limit is 2 a day)"


@pytest.fixture
def app(migrated_pg, tmp_path):
    url, tables = migrated_pg
    yield from app_on(base_config(tmp_path, DATABASE_URL=url, CONNECTORS_BACKEND="live",
                                  CONNECTORS_TIMEOUT=0.5, CONNECTORS_CONNECT_TIMEOUT=0.5,
                                  CONNECTORS_MEDIA_POLL_INTERVAL=0.01,
                                  SOCIAL_POSTS_PER_DAY=2, SOCIAL_POSTS_PER_WEEK=4), tables)


def _plan(client, world, timing, **extra) -> dict:
    body = {"name": "Spring post", "networks": ["mastodon"], "timing": timing, **extra}
    response = client.post(PLANS.format(world["campaign"]), headers=world["marketer"], json=body)
    assert response.status_code == 201, response.json
    return response.json


def _at(client, world, local: str, **extra) -> dict:
    return _plan(client, world, {"kind": "local_time", "local": local}, **extra)


def _skips(world, reason: str) -> list[dict]:
    """Both partners' accounts skipped for `reason`, as a plan's view lists them."""
    return [{"account_id": account.id, "partner_id": account.partner_id, "network": "mastodon",
             "handle": account.handle, "reason": reason} for account in world["accounts"]]


def _local_times(plan_id: int) -> list[tuple[str, str]]:
    """(zone, wall-clock time) of the plan's posts, New York's first."""
    rows = db.session.execute(select(ScheduledPost.time_zone, ScheduledPost.local_at)
                              .where(ScheduledPost.plan_id == plan_id).order_by(ScheduledPost.partner_id))
    return [tuple(row) for row in rows]


def test_two_plans_on_one_local_day_within_the_cap_both_post(client, world):
    morning = _at(client, world, "2027-03-09T10:00")
    afternoon = _at(client, world, "2027-03-09T14:00")
    for plan in (morning, afternoon):
        assert (plan["total"], plan["counts"]["scheduled"], plan["skipped"]) == (2, 2, [])
    assert world["accounts"][0].handle == "@acme@127.0.0.1"


def test_a_plan_over_the_day_cap_skips_the_account_and_says_which_and_why(app, client, world):
    _at(client, world, "2027-03-09T10:00")
    _at(client, world, "2027-03-09T14:00")
    third = _at(client, world, "2027-03-09T18:00")
    assert (third["total"], third["skipped"]) == (0, _skips(world, DAY_FULL))
    shown = client.get(f"/api/v1/post-plans/{third['id']}", headers=world["marketer"])
    assert shown.json["skipped"] == [
        {"account_id": world["accounts"][0].id, "partner_id": world["ny"].id, "network": "mastodon",
         "handle": "@acme@127.0.0.1", "reason": "2 posts already on 2027-03-09 (the limit is 2 a day)"},
        {"account_id": world["accounts"][1].id, "partner_id": world["berlin"].id, "network": "mastodon",
         "handle": "@acme@127.0.0.1", "reason": "2 posts already on 2027-03-09 (the limit is 2 a day)"}]
    listed = app.test_cli_runner().invoke(args=["posts", "list", "--plan", str(third["id"])])
    assert listed.exit_code == 0, listed.output
    assert listed.output.splitlines() == ["No posts.", "Skipped by the frequency caps (2):"] + [
        f"      -  skipped           mastodon  @acme@127.0.0.1                partner {partner.id:<6} "
        f"2 posts already on 2027-03-09 (the limit is 2 a day)" for partner in (world["ny"], world["berlin"])]
    # The scheduler's passes fill the plan again: still no room, still skipped once each.
    fill_active_plans()
    db.session.commit()
    again = client.get(f"/api/v1/post-plans/{third['id']}", headers=world["marketer"]).json
    assert (again["total"], again["skipped"]) == (0, _skips(world, DAY_FULL))


def test_the_week_cap_counts_monday_to_sunday(client, world):
    for day in ("08", "09", "10", "11"):  # Monday to Thursday
        assert _at(client, world, f"2027-03-{day}T10:00")["total"] == 2
    friday = _at(client, world, "2027-03-12T10:00")
    assert (friday["total"], friday["skipped"]) == (
        0, _skips(world, "4 posts already in the week of 2027-03-08 (the limit is 4 a week)"))
    next_monday = _at(client, world, "2027-03-15T10:00")
    assert (next_monday["total"], next_monday["skipped"]) == (2, [])


def test_days_are_counted_on_the_partners_wall_clock(client, world):
    # 23:30 in New York is 04:30 UTC the next day: it still belongs to New York's 9 March.
    late = _at(client, world, "2027-03-09T23:30")
    assert _local_times(late["id"]) == [("America/New_York", "2027-03-09T23:30"),
                                        ("Europe/Berlin", "2027-03-09T23:30")]
    assert db.session.scalar(select(ScheduledPost.scheduled_at).where(
        ScheduledPost.plan_id == late["id"], ScheduledPost.partner_id == world["ny"].id)) == datetime(
        2027, 3, 10, 4, 30, tzinfo=UTC)
    # So New York has room for two posts on its 10 March (in UTC the third of that day).
    assert _at(client, world, "2027-03-10T10:00")["total"] == 2
    eleven = _at(client, world, "2027-03-10T11:00")
    assert (eleven["total"], eleven["skipped"]) == (2, [])
    noon = _at(client, world, "2027-03-10T12:00")
    assert (noon["total"], noon["skipped"]) == (
        0, _skips(world, "2 posts already on 2027-03-10 (the limit is 2 a day)"))


def test_cancelled_posts_do_not_count_and_a_skipped_account_gets_its_post_when_room_is_made(client, world):
    first = _at(client, world, "2027-03-09T10:00")
    _at(client, world, "2027-03-09T14:00")
    cancelled = client.post(f"/api/v1/post-plans/{first['id']}/cancel", headers=world["marketer"])
    assert cancelled.status_code == 200 and cancelled.json["counts"]["cancelled"] == 2
    third = _at(client, world, "2027-03-09T18:00")
    assert (third["total"], third["skipped"]) == (2, [])
    fourth = _at(client, world, "2027-03-09T20:00")
    assert fourth["skipped"] == _skips(world, DAY_FULL)
    # The partner in New York cancels its 18:00 post: the next scheduler pass fills the 20:00 plan there.
    ny_post = db.session.scalar(select(ScheduledPost.id).where(
        ScheduledPost.plan_id == third["id"], ScheduledPost.partner_id == world["ny"].id))
    _, ny_user = make_user("partner", world["ny"])
    assert client.post(f"/api/v1/posts/{ny_post}/cancel", headers=ny_user).status_code == 200
    assert fill_active_plans() == 1
    db.session.commit()
    shown = client.get(f"/api/v1/post-plans/{fourth['id']}", headers=world["marketer"]).json
    assert (shown["total"], shown["skipped"]) == (1, _skips(world, DAY_FULL)[1:])
    assert _local_times(fourth["id"]) == [("America/New_York", "2027-03-09T20:00")]


def test_a_window_post_moves_to_another_day_of_the_window_with_room_else_it_is_skipped(client, world):
    _at(client, world, "2027-03-09T10:00")
    _at(client, world, "2027-03-09T14:00")
    spread = _plan(client, world, {"kind": "window", "start_local": "2027-03-09T09:00",
                                   "end_local": "2027-03-10T17:00"})
    assert (spread["total"], spread["skipped"]) == (2, [])
    assert [local[:10] for _, local in _local_times(spread["id"])] == ["2027-03-10", "2027-03-10"]
    one_day = _plan(client, world, {"kind": "window", "start_local": "2027-03-09T09:00",
                                    "end_local": "2027-03-09T17:00"})
    assert (one_day["total"], one_day["skipped"]) == (0, _skips(world, DAY_FULL))


def test_approving_an_on_approval_post_over_the_day_cap_is_refused_naming_the_cap(client, world, monkeypatch):
    first = _at(client, world, "2027-03-09T10:00")
    _at(client, world, "2027-03-09T12:00")
    asked = _plan(client, world, {"kind": "on_approval"}, requires_approval=True)
    assert (asked["total"], asked["counts"]["awaiting_approval"], asked["skipped"]) == (2, 2, [])
    # Approved at 15:00 in New York on 9 March (20:00 UTC): its third post that day.
    monkeypatch.setattr("tcma.services.syndication.posts.utcnow",
                        lambda: datetime(2027, 3, 9, 20, 0, tzinfo=UTC))
    _, ny_user = make_user("partner", world["ny"])
    post_id = db.session.scalar(select(ScheduledPost.id).where(
        ScheduledPost.plan_id == asked["id"], ScheduledPost.partner_id == world["ny"].id))
    refused = client.post(f"/api/v1/posts/{post_id}/approve", headers=ny_user)
    assert (refused.status_code, refused.json["message"]) == (
        409, "the mastodon account @acme@127.0.0.1 would post too often: "
             "2 posts already on 2027-03-09 (the limit is 2 a day)")
    assert client.get(f"/api/v1/posts/{post_id}", headers=ny_user).json["status"] == "awaiting_approval"
    # Once one of that day's posts is cancelled, the approval goes through, due at once.
    ten = db.session.scalar(select(ScheduledPost.id).where(
        ScheduledPost.plan_id == first["id"], ScheduledPost.partner_id == world["ny"].id))
    assert client.post(f"/api/v1/posts/{ten}/cancel", headers=ny_user).status_code == 200
    approved = client.post(f"/api/v1/posts/{post_id}/approve", headers=ny_user)
    assert (approved.status_code, approved.json["status"], approved.json["scheduled_at"]) == (
        200, "approved", "2027-03-09T20:00:00+00:00")
