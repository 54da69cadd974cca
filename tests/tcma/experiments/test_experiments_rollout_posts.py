# ruff: noqa: F401, F811 (the email and syndication fixtures are imported, and tests take them by name)
"""Test on a share of partners' posts, then the winner to the rest: the other partners' posts are held
(never claimed by the scheduler) until the decision, then wait for their time in the winner, once; a
stop sends the control."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tcma.extensions import db
from tcma.models import ExperimentAssignment, ScheduledPost
from tcma.models.base import utcnow
from tcma.services.accounts.auth import OPERATOR
from tcma.services.catalogue.templates import import_catalogue
from tcma.services.syndication.accounts import connect_account
from tcma.services.syndication.posts import show_post
from tcma.services.syndication.scheduler import run_pass
from tests.support.factories import make_partner, make_taxonomy, make_user
from tests.support.fake_networks import FakeMastodon
from tests.tcma.syndication.conftest import OUTPUTS, app, fake

HEADLINES = {"a": "Zero-trust networking is here", "b": "Say goodbye to your VPN"}  # launch-posts variants
PARTNERS = 16  # both sides of a 50% share are never empty in practice


@pytest.fixture
def many(app, client, fake):
    """PARTNERS partners with a Mastodon account each (one needs approval), in a launched campaign."""
    import_catalogue()
    taxonomy = make_taxonomy()
    partners = [make_partner(taxonomy, with_logo=False) for _ in range(PARTNERS)]
    for index, partner in enumerate(partners):
        account = connect_account(OPERATOR, partner.id, "mastodon",
                                  {"instance_url": fake.base_url, "access_token": FakeMastodon.TOKEN})
        account.auto_publish = index != 0
    db.session.commit()
    _, marketer = make_user("marketer")
    created = client.post("/api/v1/campaigns", headers=marketer,
                          json={"name": "Spring launch", "outputs": OUTPUTS, "segment": {}})
    campaign_id = created.json["id"]
    launched = client.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=marketer)
    assert launched.status_code == 202 and launched.json["done"] == 2 * PARTNERS, launched.json
    return {"campaign": campaign_id, "partners": partners, "marketer": marketer, "taxonomy": taxonomy}


def start_post_test(client, many) -> dict:
    response = client.post(f"/api/v1/campaigns/{many['campaign']}/experiments", headers=many["marketer"],
                           json={"name": "Post headline", "variants": [{"name": "a"}, {"name": "b"}],
                                 "min_runtime_days": 0, "rollout": {"test_share": 0.5, "deadline_hours": 72}})
    assert response.status_code == 201, response.json
    return response.json


def plan_posts(client, many, local: str) -> dict:
    response = client.post(f"/api/v1/campaigns/{many['campaign']}/post-plans", headers=many["marketer"],
                           json={"name": "Launch post", "networks": ["mastodon"],
                                 "timing": {"kind": "local_time", "local": local}})
    assert response.status_code == 201, response.json
    return response.json


def posts_of(plan_id: int) -> dict[int, ScheduledPost]:
    return {post.partner_id: post for post in db.session.scalars(
        select(ScheduledPost).where(ScheduledPost.plan_id == plan_id))}


def test_partners_outside_the_share_wait_for_the_winner_and_get_it_once(client, many, fake):
    experiment = start_post_test(client, many)
    tested = set(db.session.scalars(select(ExperimentAssignment.partner_id).where(
        ExperimentAssignment.experiment_id == experiment["id"])))
    assert 0 < len(tested) < PARTNERS
    soon = (utcnow() + timedelta(minutes=3)).strftime("%Y-%m-%dT%H:%M")  # UTC partners: due in minutes
    plan = plan_posts(client, many, soon)
    held = PARTNERS - len(tested)
    assert plan["counts"]["held_for_winner"] == held
    assert plan["experiment_plan"]["held_items"] == held and plan["experiment_plan"]["held_units"] == held
    assert plan["experiment_plan"]["tested_units"] == len(tested)
    posts = posts_of(plan["id"])
    for partner_id, post in posts.items():
        assert (post.status == "held_for_winner") == (partner_id not in tested)
        if partner_id in tested:
            assert HEADLINES[post.variant] in show_post(OPERATOR, post.id).text

    # Their time comes while they are held: the scheduler publishes the tested partners' posts only.
    needs_approval = many["partners"][0].id
    run_pass(now=utcnow() + timedelta(minutes=10))
    posts = posts_of(plan["id"])
    assert {p for p, post in posts.items() if post.status == "held_for_winner"} == set(posts) - tested
    published = {p for p, post in posts.items() if post.status == "published"}
    assert published == tested - {needs_approval} and len(fake.statuses) == len(published)
    for post in posts.values():  # an hour later the decision comes: their time has passed
        if post.status == "held_for_winner":
            post.scheduled_at -= timedelta(hours=1)
    db.session.commit()

    decided = client.post(f"/api/v1/experiments/{experiment['id']}/decide", headers=many["marketer"],
                          json={"winner": "b"})
    assert decided.status_code == 200, decided.json
    assert decided.json["rollout"]["released"]["posts"] == held
    assert decided.json["rollout"]["released"]["variant"] == "b"
    for partner_id, post in posts_of(plan["id"]).items():
        if partner_id in tested:
            continue
        assert post.variant == "b" and post.scheduled_at <= utcnow()  # goes now
        assert post.status == ("awaiting_approval" if partner_id == needs_approval else "scheduled")
        assert HEADLINES["b"] in show_post(OPERATOR, post.id).text
    run_pass(now=utcnow() + timedelta(minutes=1))
    run_pass(now=utcnow() + timedelta(minutes=2))
    rest = set(posts) - tested - {needs_approval}
    assert {p for p, post in posts_of(plan["id"]).items() if post.status == "published"} == published | rest
    assert len(fake.statuses) == len(published) + len(rest)  # each post went once
    assert all(HEADLINES["b"] in status["content"] for status in fake.statuses[len(published):])
    shown = client.get(f"/api/v1/post-plans/{plan['id']}", headers=many["marketer"]).json
    assert shown["counts"]["held_for_winner"] == 0
    assert shown["experiment_plan"]["released"]["posts"] == held
    again = client.post(f"/api/v1/experiments/{experiment['id']}/stop", headers=many["marketer"])
    assert again.status_code == 409  # decided once; nothing is released twice


def test_a_stop_sends_the_held_posts_the_control(client, many):
    experiment = start_post_test(client, many)
    plan = plan_posts(client, many, "2031-03-09T10:00")
    held = plan["counts"]["held_for_winner"]
    assert held > 0
    stopped = client.post(f"/api/v1/experiments/{experiment['id']}/stop", headers=many["marketer"])
    assert stopped.status_code == 200
    went = stopped.json["rollout"]["released"]
    assert (went["variant"], went["posts"]) == ("a", held)
    assert went["reason"] == "stopped without a decision: the rest get a (the control)"
    released = [post for post in posts_of(plan["id"]).values() if post.variant == "a"
                and post.status in ("scheduled", "awaiting_approval")]
    assert len(released) >= held
    assert all(post.local_at == "2031-03-09T10:00" for post in released)  # their own time, still ahead


def test_partners_joining_during_the_test_land_on_their_side_of_the_share(client, many, fake):
    from tcma.models import Asset
    from tcma.services.syndication.plans import fill_active_plans

    experiment = start_post_test(client, many)
    plan = plan_posts(client, many, "2031-03-09T10:00")
    late = []
    for _ in range(6):
        partner = make_partner(many["taxonomy"], with_logo=False)
        account = connect_account(OPERATOR, partner.id, "mastodon",
                                  {"instance_url": fake.base_url, "access_token": FakeMastodon.TOKEN})
        account.auto_publish = True
        late.append(partner.id)
    db.session.commit()
    relaunched = client.post(f"/api/v1/campaigns/{many['campaign']}/launch", headers=many["marketer"])
    assert relaunched.status_code == 202, relaunched.json
    fill_active_plans()
    db.session.commit()
    stored = select(ExperimentAssignment.partner_id, ExperimentAssignment.variant).where(
        ExperimentAssignment.experiment_id == experiment["id"])
    arms = dict(db.session.execute(stored).all())
    posts = posts_of(plan["id"])
    for partner_id in late:
        card = db.session.scalar(select(Asset.variant).where(Asset.partner_id == partner_id,
                                                             Asset.output == "png"))
        if partner_id in arms:  # tested: its arm everywhere, its post waits for its time
            assert posts[partner_id].status == "scheduled" and posts[partner_id].variant == arms[partner_id]
            assert card == arms[partner_id]
        else:  # held: the control on its renders until the winner, its post held
            assert posts[partner_id].status == "held_for_winner" and card == "a"
