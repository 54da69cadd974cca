"""Evergreen posts (issue 12): a partner picks a post text of the library, sees it rendered for them,
schedules it on their accounts at a time on their wall clock (or as soon as possible), and the
scheduler publishes it to the fake Mastodon, its link attributed to the partner and the network."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tcma.errors import ConflictError, InvalidInput, NotFoundError, PermissionDenied
from tcma.extensions import db
from tcma.models import ScheduledPost, SocialAccount, TrackedLink
from tcma.models.base import utcnow
from tcma.services.accounts.auth import Principal
from tcma.services.catalogue.templates import import_catalogue
from tcma.services.syndication import posts as post_service
from tcma.services.syndication.accounts import mark_needs_reconnect, update_account
from tcma.services.syndication.evergreen import list_evergreen, preview_evergreen, schedule_evergreen
from tcma.services.syndication.scheduler import run_pass
from tcma.services.tracking.links import load_link
from tests.support.evergreen_templates import write_templates
from tests.support.factories import make_user

BERLIN_TEN = datetime(2027, 3, 9, 9, 0, tzinfo=UTC)  # Tue 9 Mar 2027, 10:00 in Berlin
LINK = re.compile(r"https?://\S+/l/(\w+)")


@pytest.fixture
def library(world, tmp_path):
    import_catalogue(write_templates(tmp_path))
    return world


def partner_of(world, name: str) -> Principal:
    user, _ = make_user("partner", world[name])
    return Principal(user.id, "partner", world[name].id)


def account_of(world, name: str) -> int:
    return next(a.id for a in world["accounts"] if a.partner_id == world[name].id)


def as_text(html: str) -> str:
    """A Mastodon status's text (the network answers it as HTML)."""
    return re.sub(r"<[^>]+>", "", html)


def post_count() -> int:
    return db.session.scalar(select(func.count()).select_from(ScheduledPost).where(
        ScheduledPost.plan_id.is_(None)))


def test_the_library_offers_the_post_texts_the_partners_tier_may_use(library):
    berlin = partner_of(library, "berlin")  # a silver partner
    entries = {entry.slug: entry for entry in list_evergreen(berlin)}
    assert sorted(entries) == ["card-posts", "launch-posts", "plain-posts"]
    assert entries["launch-posts"].networks == ["linkedin", "x", "facebook", "mastodon", "bluesky"]
    assert [(f.name, f.max_length, f.value) for f in entries["launch-posts"].fields] == [
        ("comment", 120, "We are proud to offer it to our customers.")]
    with pytest.raises(NotFoundError, match="template 'gold-posts' not found"):
        preview_evergreen(berlin, "gold-posts")
    with pytest.raises(NotFoundError, match="evergreen post 'social-card' not found"):
        preview_evergreen(berlin, "social-card")  # an image template: no post text
    with pytest.raises(PermissionDenied, match="the library is for partner users"):
        list_evergreen(Principal(make_user("marketer")[0].id, "marketer"))


def test_the_preview_is_the_partners_exact_text_with_a_link_of_theirs_on_the_networks_channel(library):
    berlin = partner_of(library, "berlin")
    preview = preview_evergreen(berlin, "launch-posts", {"comment": "Ask us for a demo."})
    texts = {item.network: item for item in preview.texts}
    mastodon = texts["mastodon"].text
    name = library["berlin"].name
    code = LINK.search(mastodon).group(1)
    assert mastodon == (f"Zero trust for hospitals and clinics is here. {name}: Ask us for a demo. "
                        f"http://tcma.test/l/{code} #ZeroTrust #CyberSecurity")
    assert texts["mastodon"].length == len(mastodon) - len(f"http://tcma.test/l/{code}") + 23
    assert texts["mastodon"].limit == 500 and texts["mastodon"].error is None
    link = db.session.scalar(select(TrackedLink).where(TrackedLink.code == code))
    assert (link.partner_id, link.campaign_id, link.asset_id, link.channel) == (
        library["berlin"].id, None, None, "mastodon")
    x_code = LINK.search(texts["x"].text).group(1)
    assert db.session.scalar(select(TrackedLink.channel).where(TrackedLink.code == x_code)) == "x"
    assert [(a.network, a.id) for a in preview.accounts] == [("mastodon", account_of(library, "berlin"))]
    assert preview.time_zone == "Europe/Berlin"


def test_a_scheduled_evergreen_post_goes_out_at_ten_in_berlin_through_a_scheduler_pass(library, fake):
    berlin = partner_of(library, "berlin")
    preview = preview_evergreen(berlin, "launch-posts", {"comment": "Ask us for a demo."})
    expected = next(item.text for item in preview.texts if item.network == "mastodon")
    [post] = schedule_evergreen(berlin, "launch-posts", [account_of(library, "berlin")],
                                datetime(2027, 3, 9, 10, 0), {"comment": "Ask us for a demo."})
    db.session.expire_all()
    post = db.session.get(ScheduledPost, post.id)
    assert (post.status, post.plan_id, post.campaign_id, post.local_at, post.scheduled_at) == (
        "approved", None, None, "2027-03-09T10:00", BERLIN_TEN)
    assert post.approved_by_id == berlin.user_id and post.text == expected
    assert run_pass(now=BERLIN_TEN - timedelta(minutes=1)).claimed == 0 and fake.statuses == []
    assert run_pass(now=BERLIN_TEN).claimed == 1
    assert [as_text(status["content"]) for status in fake.statuses] == [expected]
    db.session.expire_all()
    assert db.session.get(ScheduledPost, post.id).status == "published"
    target = load_link(LINK.search(expected).group(1))
    assert (target.partner_id, target.campaign_id, target.channel) == (library["berlin"].id, None, "mastodon")


def test_as_soon_as_possible_goes_out_at_the_next_pass(library, fake):
    berlin = partner_of(library, "berlin")
    [post] = schedule_evergreen(berlin, "plain-posts", [account_of(library, "berlin")], None)
    assert post.local_at is None and post.scheduled_at <= utcnow()
    assert run_pass().claimed == 1
    assert len(fake.statuses) == 1 and as_text(fake.statuses[0]["content"]).startswith(
        "Our plain news: http://tcma.test/l/")


def test_a_spring_forward_time_moves_to_the_first_valid_minute_a_fall_back_one_is_the_first(library):
    ny = partner_of(library, "ny")
    [post] = schedule_evergreen(ny, "launch-posts", [account_of(library, "ny")], datetime(2027, 3, 14, 2, 30))
    assert (post.local_at, post.scheduled_at) == ("2027-03-14T03:00", datetime(2027, 3, 14, 7, 0, tzinfo=UTC))
    # Fall back: 01:30 shows twice on 7 Nov 2027 in New York; the first (EDT, 05:30 UTC) is taken.
    [post] = schedule_evergreen(ny, "launch-posts", [account_of(library, "ny")],
                                datetime(2027, 11, 7, 1, 30))
    assert (post.local_at, post.scheduled_at) == (
        "2027-11-07T01:30", datetime(2027, 11, 7, 5, 30, tzinfo=UTC))


def test_a_time_that_has_passed_is_refused_and_nothing_is_made(library):
    berlin = partner_of(library, "berlin")
    passed = r"^2026-01-05T10:00 in Europe/Berlin has passed: choose a time to come$"
    with pytest.raises(InvalidInput, match=passed):
        schedule_evergreen(berlin, "launch-posts", [account_of(library, "berlin")],
                           datetime(2026, 1, 5, 10, 0))
    assert post_count() == 0


def test_the_frequency_cap_refuses_a_fourth_post_that_day_naming_the_cap(library):
    berlin, account = partner_of(library, "berlin"), account_of(library, "berlin")
    for hour in (9, 10, 11):
        schedule_evergreen(berlin, "plain-posts", [account], datetime(2027, 3, 9, hour, 0))
    with pytest.raises(ConflictError) as refused:
        schedule_evergreen(berlin, "plain-posts", [account], datetime(2027, 3, 9, 18, 0))
    handle = library["accounts"][1].handle
    assert refused.value.message == (f"the mastodon account {handle} would post too often: "
                                     "3 posts already on 2027-03-09 (the limit is 3 a day)")
    assert post_count() == 3
    schedule_evergreen(berlin, "plain-posts", [account], datetime(2027, 3, 10, 9, 0))  # the next day has room


def test_refused_picks_change_nothing_and_name_the_problem(library):
    berlin, ny_account = partner_of(library, "berlin"), account_of(library, "ny")
    mine = account_of(library, "berlin")
    ten = datetime(2027, 3, 9, 10, 0)
    with pytest.raises(NotFoundError, match=f"social account {ny_account} not found"):
        schedule_evergreen(berlin, "launch-posts", [mine, ny_account], ten)
    with pytest.raises(InvalidInput, match=r"field 'comment': is 121 characters; the limit is 120"):
        schedule_evergreen(berlin, "launch-posts", [mine], ten, {"comment": "x" * 121})
    with pytest.raises(InvalidInput, match="choose one or more of your connected accounts"):
        schedule_evergreen(berlin, "launch-posts", [], ten)
    with pytest.raises(NotFoundError, match="template 'gold-posts' not found"):
        schedule_evergreen(berlin, "gold-posts", [mine], ten)
    update_account(berlin, mine, paused=True)
    handle = library["accounts"][1].handle
    with pytest.raises(InvalidInput, match=f"the Mastodon account {handle} is paused: resume it first"):
        schedule_evergreen(berlin, "launch-posts", [mine], ten)
    assert post_count() == 0


def test_an_evergreen_post_is_rescheduled_edited_and_cancelled_like_any_other(library):
    berlin = partner_of(library, "berlin")
    [post] = schedule_evergreen(berlin, "launch-posts", [account_of(library, "berlin")],
                                datetime(2027, 3, 9, 10, 0))
    moved = post_service.reschedule(berlin, post.id, datetime(2027, 3, 10, 8, 15))
    assert (moved.local_at, moved.status) == ("2027-03-10T08:15", "approved")
    edited = post_service.edit_fields(berlin, post.id, {"comment": "Call us."})
    assert "Call us." in edited.text and edited.fields["comment"] == "Call us."
    assert [(f.name, f.value) for f in post_service.fields_of(berlin, post.id)] == [("comment", "Call us.")]
    assert post_service.cancel(berlin, post.id).status == "cancelled"
    ny = partner_of(library, "ny")
    with pytest.raises(NotFoundError, match=f"post {post.id} not found"):
        post_service.show_post(ny, post.id)


def test_a_post_without_editable_fields_says_so_when_its_fields_are_edited(library):
    berlin = partner_of(library, "berlin")
    [post] = schedule_evergreen(berlin, "plain-posts", [account_of(library, "berlin")],
                                datetime(2027, 3, 9, 10, 0))
    assert post_service.fields_of(berlin, post.id) == []
    with pytest.raises(InvalidInput, match="^the template 'plain-posts' has no editable fields$"):
        post_service.edit_fields(berlin, post.id, {"comment": "x"})


def test_accounts_that_cannot_take_the_post_are_refused_by_name(library):
    berlin, mine = partner_of(library, "berlin"), account_of(library, "berlin")
    ten = datetime(2027, 3, 9, 10, 0)
    linkedin = SocialAccount(partner_id=library["berlin"].id, network="linkedin", handle="berlin-page",
                             external_id="urn:li:organization:7")
    db.session.add(linkedin)
    db.session.commit()
    with pytest.raises(InvalidInput,
                       match="^this post has no text for LinkedIn: choose an account on Mastodon$"):
        schedule_evergreen(berlin, "plain-posts", [linkedin.id], ten)
    mark_needs_reconnect(db.session.get(SocialAccount, mine), "mastodon refused the credentials: revoked")
    db.session.commit()
    handle = library["accounts"][1].handle
    with pytest.raises(InvalidInput, match=f"^the Mastodon account {handle} needs connecting again: "
                                           "reconnect it first$"):
        schedule_evergreen(berlin, "plain-posts", [mine], ten)
    with pytest.raises(InvalidInput, match="^choose at most 20 accounts at once$"):
        schedule_evergreen(berlin, "plain-posts", list(range(1, 22)), ten)
    assert post_count() == 0


def test_a_template_with_an_image_shows_it_and_its_posts_carry_it_unless_left_out(library, fake):
    berlin, mine = partner_of(library, "berlin"), account_of(library, "berlin")
    preview = preview_evergreen(berlin, "card-posts", {"headline": "Hall 7"})
    assert re.fullmatch(r"http://tcma\.test/files/renders/\w\w/\w{64}\.png\?expires=\d+&sig=\w{64}",
                        preview.image_url), preview.image_url
    assert preview_evergreen(berlin, "plain-posts").image_url is None
    [post] = schedule_evergreen(berlin, "card-posts", [mine], None, {"headline": "Hall 7"})
    shown = post_service.view(post).image_url
    assert shown.split("?")[0] == preview.image_url.split("?")[0]  # the image previewed is the one sent
    [text_only] = schedule_evergreen(berlin, "card-posts", [mine], datetime(2027, 3, 9, 10, 0),
                                     {"headline": "Hall 7"}, with_image=False)
    assert text_only.image_asset_id is None
    run_pass()
    assert len(fake.statuses) == 1 and len(fake.statuses[0]["media_attachments"]) == 1
    assert as_text(fake.statuses[0]["content"]).startswith("Hall 7: Hall 4, booth 12. http://tcma.test/l/")
