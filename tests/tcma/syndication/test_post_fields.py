"""Editing a post's fields (issue 12): a partner changes the editable fields of a post awaiting
approval; the limits are checked (the field and its limit named, nothing changed), the text is rendered
again with the same tracked link, and the image is rendered again when the edit changes it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tcma.errors import ConflictError, InvalidInput
from tcma.extensions import db
from tcma.models import Asset, ScheduledPost
from tcma.services.accounts.auth import OPERATOR, Principal
from tcma.services.catalogue.templates import import_catalogue
from tcma.services.syndication import posts as service
from tcma.services.syndication.plans import create_plan
from tcma.services.syndication.scheduler import run_pass
from tcma.storage import get_storage
from tests.support.evergreen_templates import write_templates
from tests.support.factories import make_user

LINK = re.compile(r"https?://\S+/l/\w+")
CARD = [{"template": "card-posts", "output": "post:mastodon"}, {"template": "card-posts", "output": "png"}]


@pytest.fixture
def card(world, client, tmp_path):
    """A launched campaign of the card template (text and image); a plan awaiting Berlin's approval."""
    import_catalogue(write_templates(tmp_path))
    created = client.post("/api/v1/campaigns", headers=world["marketer"],
                          json={"name": "Fair", "outputs": CARD, "segment": {}})
    campaign_id = created.json["id"]
    launched = client.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=world["marketer"])
    assert launched.json["done"] == 4, launched.json
    plan = create_plan(OPERATOR, campaign_id, name="Fair post", networks=["mastodon"], image_output="png",
                       timing={"kind": "local_time", "local": "2027-03-09T10:00"}, requires_approval=True)
    user, _ = make_user("partner", world["berlin"])
    post = db.session.scalars(select(ScheduledPost).where(
        ScheduledPost.plan_id == plan.id, ScheduledPost.partner_id == world["berlin"].id)).one()
    return {**world, "post": post.id, "partner": Principal(user.id, "partner", world["berlin"].id)}


def image_bytes(post: ScheduledPost) -> bytes:
    asset = db.session.get(Asset, post.image_asset_id)
    return get_storage().get(asset.render.storage_key)


def current(post_id: int) -> ScheduledPost:
    db.session.expire_all()
    return db.session.get(ScheduledPost, post_id)


def test_the_fields_are_listed_with_their_limits_and_the_values_the_post_renders_with(card):
    fields = service.fields_of(card["partner"], card["post"])
    assert [(f.name, f.type, f.max_length, f.value) for f in fields] == [
        ("body", "multiline", 600, "Hall 4, booth 12."), ("headline", "text", 60, "Meet us at the fair")]


def test_an_edit_renders_the_text_again_with_the_same_tracked_link_and_the_changed_image(card):
    before = current(card["post"])
    text_before, image_before = service.view(before).text, image_bytes(before)
    image_id = before.image_asset_id
    link = LINK.search(text_before).group(0)
    assert text_before == f"Meet us at the fair: Hall 4, booth 12. {link}"
    service.edit_fields(card["partner"], card["post"], {"headline": "Come to Hall 7"})
    after = current(card["post"])
    assert after.text == f"Come to Hall 7: Hall 4, booth 12. {link}"
    assert after.status == "awaiting_approval" and after.fields == {"headline": "Come to Hall 7"}
    assert after.image_asset_id != image_id
    assert image_bytes(after) != image_before
    assert service.view(after).image_url is not None


def test_an_edit_of_a_field_the_image_does_not_use_keeps_the_image(card):
    image_id = current(card["post"]).image_asset_id
    service.edit_fields(card["partner"], card["post"], {"body": "Hall 9 this year."})
    after = current(card["post"])
    assert after.image_asset_id == image_id
    assert after.text.startswith("Meet us at the fair: Hall 9 this year. http")


def test_refused_values_name_the_field_and_the_limit_and_change_nothing(card):
    text = current(card["post"]).text
    with pytest.raises(InvalidInput, match=r"^field 'headline': is 61 characters; the limit is 60$"):
        service.edit_fields(card["partner"], card["post"], {"headline": "h" * 61})
    with pytest.raises(InvalidInput, match=r"^field 'colour': is not an editable field of this template "
                                           r"\(editable: \['body', 'headline'\]\)$"):
        service.edit_fields(card["partner"], card["post"], {"colour": "red"})
    with pytest.raises(InvalidInput, match=r"^field 'headline': must be a single line$"):
        service.edit_fields(card["partner"], card["post"], {"headline": "one\ntwo"})
    with pytest.raises(InvalidInput, match=r"^with these values the mastodon post is 5\d\d characters; "
                                           r"the limit is 500$"):
        service.edit_fields(card["partner"], card["post"], {"body": "b" * 480})
    with pytest.raises(InvalidInput, match="^send either text or fields: the fields render the text again$"):
        service.update_post(card["partner"], card["post"], text="Hello", fields={"body": "x"})
    db.session.rollback()
    after = current(card["post"])
    assert (after.text, after.fields) == (text, None)


def test_a_post_with_no_template_or_no_fields_says_so(card, world):
    post = current(card["post"])
    post.asset_id, post.text = None, "Typed by hand"
    db.session.commit()
    with pytest.raises(ConflictError,
                       match="^this post's text was not made from a template: edit its text instead$"):
        service.edit_fields(card["partner"], card["post"], {"body": "x"})
    assert service.fields_of(card["partner"], card["post"]) == []


def test_a_published_post_cannot_be_edited(card):
    service.approve(card["partner"], card["post"])
    post = current(card["post"])
    post.status = "published"
    db.session.commit()
    with pytest.raises(ConflictError, match=f"post {post.id} is published: only a post awaiting approval, "
                                            "scheduled or approved can be edited"):
        service.edit_fields(card["partner"], card["post"], {"body": "x"})


def test_the_edited_text_and_image_are_what_goes_out(card, fake):
    from datetime import UTC, datetime

    service.edit_fields(card["partner"], card["post"], {"headline": "Come to Hall 7"})
    service.approve(card["partner"], card["post"])
    run_pass(now=datetime(2027, 3, 9, 9, 0, tzinfo=UTC))
    assert len(fake.statuses) == 1
    sent = re.sub(r"<[^>]+>", "", fake.statuses[0]["content"])
    assert sent.startswith("Come to Hall 7: Hall 4, booth 12. http")
    assert fake.statuses[0]["media_attachments"]


def test_an_update_with_nothing_to_change_is_refused(card):
    with pytest.raises(InvalidInput, match="^nothing to change: send text, fields or local_at$"):
        service.update_post(card["partner"], card["post"])
