"""Posts and experiments: each post carries its partner's arm; a decided winner switches the posts not
yet published (their text follows the re-rendered post), and a partner whose post awaits approval is told."""

from __future__ import annotations

import email
import email.policy

from sqlalchemy import select

from tcma.extensions import db
from tcma.models import ScheduledPost
from tcma.services.accounts.auth import OPERATOR
from tcma.services.accounts.users import create_user
from tcma.services.experiments.assignment import variant_for_partner
from tcma.services.syndication.plans import create_plan
from tcma.services.syndication.posts import show_post

HEADLINES = {"a": "Zero-trust networking is here", "b": "Say goodbye to your VPN"}  # launch-posts variants


def _plan(world, name, requires_approval):
    return create_plan(OPERATOR, world["campaign"], name=name, networks=["mastodon"],
                       timing={"kind": "local_time", "local": "2027-03-09T10:00"},
                       requires_approval=requires_approval)


def _posts(plan_id):
    return list(db.session.scalars(select(ScheduledPost).where(ScheduledPost.plan_id == plan_id)
                                   .order_by(ScheduledPost.partner_id)))


def _experiment(client, world):
    response = client.post(f"/api/v1/campaigns/{world['campaign']}/experiments", headers=world["marketer"],
                           json={"name": "Post headline", "variants": [{"name": "a"}, {"name": "b"}]})
    assert response.status_code == 201, response.json
    return response.json["id"]


def test_posts_carry_the_arm_and_switch_to_the_winner(client, world, tmp_path):
    experiment_id = _experiment(client, world)
    arms = {p.id: variant_for_partner(world["campaign"], p.id) for p in (world["ny"], world["berlin"])}
    waiting = _plan(world, "Needs approval", requires_approval=True)
    planned = _plan(world, "Goes out alone", requires_approval=False)
    for plan in (waiting, planned):
        assert [(p.partner_id, p.variant) for p in _posts(plan.id)] == sorted(arms.items())
    for post in _posts(waiting.id):
        assert HEADLINES[arms[post.partner_id]] in show_post(OPERATOR, post.id).text
    # Berlin edits its own words into the waiting post: those stay, whatever wins.
    edited = next(p for p in _posts(waiting.id) if p.partner_id == world["berlin"].id)
    edited.text = "Our own words"
    db.session.commit()
    ada = create_user("ada@ny-partner.example", "correct horse battery", "partner", partner_id=world["ny"].id)
    winner = "b" if arms[world["ny"].id] == "a" else "a"  # New York's post must change

    decided = client.post(f"/api/v1/experiments/{experiment_id}/decide", headers=world["marketer"],
                          json={"winner": winner})
    assert decided.status_code == 200, decided.json
    assert decided.json["decision"]["switched"]["awaiting_approval"] == 1
    for post in _posts(planned.id):
        assert post.variant == winner
        assert HEADLINES[winner] in show_post(OPERATOR, post.id).text
    ny_post, berlin_post = _posts(waiting.id)
    assert ny_post.variant == winner and HEADLINES[winner] in show_post(OPERATOR, ny_post.id).text
    assert berlin_post.text == "Our own words" and berlin_post.variant == arms[world["berlin"].id]
    mails = sorted((tmp_path / "outbox").glob("*.eml"))
    notices = [email.message_from_bytes(m.read_bytes(), policy=email.policy.default) for m in mails]
    notices = [m for m in notices if m["Subject"].startswith("Posts waiting for your approval changed")]
    assert [m["To"] for m in notices] == [ada.email]
    body = notices[0].get_body(("plain",)).get_content()
    assert "now use the winning version" in body and "Spring launch: Mastodon" in body
