# ruff: noqa: F811 (the fixtures of the posts pages are imported, and test functions take them by name)
"""The post library and field edits in the portal (issue 12), through the Flask test client and in
Chromium, against the fake Mastodon: a partner schedules a library post on their account at a time on
their wall clock and a scheduler pass publishes it; a partner edits the fields of a post awaiting
approval and sees it rendered again."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

from tcma.extensions import db
from tcma.models import ScheduledPost
from tcma.services.catalogue.templates import import_catalogue
from tcma.services.syndication.scheduler import run_pass
from tests.support.evergreen_templates import write_templates
from tests.support.portal import PASSWORD, post_form
from tests.tcma.web.test_portal_browser import FAILURES, chromium_page
from tests.tcma.web.test_portal_posts import (  # noqa: F401 (fixtures)
    PAGE,
    app,
    card,
    fake,
    flash_of,
    post_of,
    posts_server,
    section,
    signed_in,
    text_of,
    words,
    world,
)

LIBRARY = "/portal/posts/library"
PICK = f"{LIBRARY}/launch-posts"
WEDNESDAY = datetime(2027, 3, 10, 8, 30, tzinfo=UTC)  # Wed 10 Mar 2027, 09:30 in Berlin


def as_text(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


def mastodon_text(html: str) -> str:
    match = re.search(r'<figure class="post-preview mastodon" id="text-mastodon">.*?'
                      r'<p class="post-text">([^<]*)</p>', html, re.S)
    assert match, "no Mastodon text on the page"
    return match.group(1).replace("&#39;", "'").replace("&amp;", "&")


def error_of(html: str, field_id: str) -> str:
    match = re.search(rf'<p class="field-error" id="err-{field_id}" role="alert">([^<]*)</p>', html)
    assert match, f"no error beside {field_id}"
    return match.group(1).replace("&#39;", "'")


def schedule(client, world, **form):
    values = {"action": "schedule", "account": str(world["accounts"][world["acme"].id]), "when": "at",
              "date": "2027-03-10", "time": "09:30", "field-comment": "Book a demo with us."}
    return post_form(client, PICK, PICK, {**values, **form})


def evergreen_posts() -> list[ScheduledPost]:
    db.session.expire_all()
    return list(db.session.query(ScheduledPost).filter(ScheduledPost.plan_id.is_(None)))


# --- the post library --------------------------------------------------------------------------

def test_a_partner_schedules_a_library_post_and_a_scheduler_pass_publishes_it(app, world, fake):
    acme = signed_in(app, world["acme_user"])
    posts_page = text_of(acme.get(PAGE))
    assert f'<a class="button" href="{LIBRARY}">Schedule a post from the library</a>' in posts_page
    html = text_of(acme.get(LIBRARY))
    assert "Product launch posts" in html and f'href="{PICK}"' in html
    assert "Social card 1200x627" not in html  # an image template: no post text

    html = text_of(acme.get(PICK))
    assert re.fullmatch(r"Zero trust for hospitals and clinics is here\. Acme Networks: We are proud to "
                        r"offer it to our customers\. http://tcma\.test/l/\w{10} #ZeroTrust #CyberSecurity",
                        mastodon_text(html))
    assert "Mastodon <span class=\"handle\">@acme@127.0.0.1</span>" in html
    assert "At a date and time in Europe/Berlin" in html

    previewed = post_form(acme, PICK, PICK, {"action": "preview", "field-comment": "Book a demo with us."})
    assert previewed.status_code == 200
    text = mastodon_text(text_of(previewed))
    assert "Acme Networks: Book a demo with us. http://tcma.test/l/" in text
    assert evergreen_posts() == []  # a preview makes no post

    made = schedule(acme, world)
    assert made.status_code == 302
    [post] = evergreen_posts()
    assert made.location == f"{PAGE}#post-{post.id}"
    html = text_of(acme.get(PAGE))
    assert flash_of(html) == ("Scheduled: the post goes out to Mastodon @acme@127.0.0.1 on "
                              "Wed 10 Mar 2027, 09:30 (Europe/Berlin).")
    upcoming = card(section(html, "upcoming"), post.id)
    assert "<time>09:30</time>" in upcoming and "Approved" in upcoming
    assert (post.status, post.text, post.scheduled_at) == ("approved", text, WEDNESDAY)

    run_pass(now=WEDNESDAY)
    sent = [as_text(status["content"]) for status in fake.statuses]
    assert [status for status in sent if "Book a demo" in status] == [text]
    assert evergreen_posts()[0].status == "published"


def test_refused_picks_say_why_beside_the_field_and_make_nothing(app, world, fake):
    acme = signed_in(app, world["acme_user"])
    refused = schedule(acme, world, account="")
    assert refused.status_code == 422
    assert error_of(text_of(refused), "accounts") == "Choose one or more of your connected accounts"
    refused = schedule(acme, world, date="2026-01-05")
    assert error_of(text_of(refused), "when") == ("Mon 5 Jan 2026, 09:30 in Europe/Berlin has passed: "
                                                  "choose a time to come")
    refused = schedule(acme, world, time="")
    assert error_of(text_of(refused), "when") == "Choose a date and a time"
    refused = schedule(acme, world, **{"field-comment": "c" * 121})
    html = text_of(refused)
    assert error_of(html, "f-field-comment") == "Field 'comment': is 121 characters; the limit is 120"
    assert 'aria-invalid="true"' in html and "c" * 121 in html  # the typed value is kept
    preview = post_form(acme, PICK, PICK, {"action": "preview", "field-comment": "c" * 121})
    assert preview.status_code == 422
    assert error_of(text_of(preview), "f-field-comment") == (
        "Field 'comment': is 121 characters; the limit is 120")
    theirs = schedule(acme, world, account=str(world["accounts"][world["globex"].id]))
    assert theirs.status_code == 404
    assert evergreen_posts() == []
    for hour in ("09:30", "10:30", "11:30"):
        assert schedule(acme, world, time=hour).status_code == 302
    capped = schedule(acme, world, time="18:00")
    assert capped.status_code == 422
    assert error_of(text_of(capped), "accounts") == (
        "The Mastodon account @acme@127.0.0.1 would post too often: 3 posts already on 2027-03-10 "
        "(the limit is 3 a day)")
    assert len(evergreen_posts()) == 3


def test_a_library_post_with_an_image_shows_it_and_may_leave_it_out(app, world, tmp_path):
    import_catalogue(write_templates(tmp_path))
    acme = signed_in(app, world["acme_user"])
    page = f"{LIBRARY}/card-posts"
    html = text_of(acme.get(page))
    assert html.count('<img class="post-image" src="http://tcma.test/files/renders/') == 2  # one per network
    assert '<input type="checkbox" name="image" value="yes" checked>' in html
    left_out = post_form(acme, page, page, {"action": "preview"})  # the box unticked
    assert '<img class="post-image"' not in text_of(left_out)
    made = post_form(acme, page, page, {"action": "schedule", "when": "asap", "image": "yes",
                                        "account": str(world["accounts"][world["acme"].id])})
    assert made.status_code == 302
    assert evergreen_posts()[0].image_asset_id is not None


def test_a_template_the_partners_tier_may_not_use_answers_404(app, world):
    acme = signed_in(app, world["acme_user"])
    assert acme.get(f"{LIBRARY}/social-card").status_code == 404
    assert acme.get(f"{LIBRARY}/event-flyer").status_code == 404  # gold and platinum only
    marketer = signed_in(app, world["marketer"])
    assert marketer.get(LIBRARY).status_code == 403


# --- field edits in the approval queue ----------------------------------------------------------

def test_a_partner_edits_the_fields_of_a_post_awaiting_approval(app, world):
    acme = signed_in(app, world["acme_user"])
    post = post_of(world, "acme")
    shown = card(section(text_of(acme.get(PAGE)), "queue"), post.id)
    assert "<summary>Edit your words</summary>" in shown
    assert (f'<input id="f-field-{post.id}-comment" name="field-comment" '
            f'value="We are proud to offer it to our customers."') in shown
    assert "Up to 120 characters." in shown
    edited = post_form(acme, PAGE, f"{PAGE}/{post.id}/fields", {"field-comment": "Call us today."})
    assert (edited.status_code, edited.location) == (302, f"{PAGE}#post-{post.id}")
    html = text_of(acme.get(PAGE))
    assert flash_of(html) == ("Saved your words: the post to Mastodon @acme@127.0.0.1 was rendered again "
                              "with them.")
    shown = card(section(html, "queue"), post.id)
    assert re.search(r'<p class="post-text">[^<]*Acme Networks[^<]*: Call us today\. http://tcma\.test/l/\w{10}',
                     shown)
    assert post_of(world, "acme").status == "awaiting_approval"

    refused = post_form(acme, PAGE, f"{PAGE}/{post.id}/fields", {"field-comment": "c" * 121})
    assert refused.status_code == 422
    html = text_of(refused)
    shown = card(section(html, "queue"), post.id)
    assert error_of(shown, f"f-fields-{post.id}") == "Field 'comment': is 121 characters; the limit is 120"
    assert "<details class=\"more\" open>" in shown and "c" * 121 in shown
    assert "Call us today." in post_of(world, "acme").text  # nothing changed
    theirs = post_of(world, "globex")
    assert post_form(acme, PAGE, f"{PAGE}/{theirs.id}/fields", {"field-comment": "x"}).status_code == 404


# --- in Chromium --------------------------------------------------------------------------------

def _sign_in(page, server, user) -> None:
    page.goto(f"{server}/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server}/portal/home")


def _shoot(page, shots: Path, name: str) -> None:
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 844 if width == 390 else 900})
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)


def test_the_library_pick_and_the_field_edit_in_chromium_at_phone_and_desktop_widths(
        posts_server, world, fake, tmp_path):
    """Full-page screenshots go to $PORTAL_SCREENSHOTS when set (to look at), else the test's tmp dir."""
    shots = Path(os.environ.get("PORTAL_SCREENSHOTS") or tmp_path)
    spring = post_of(world, "acme").id
    import_catalogue(write_templates(tmp_path))
    with chromium_page(tmp_path / "profile") as page:
        try:
            page.set_viewport_size({"width": 390, "height": 844})
            _sign_in(page, posts_server, world["acme_user"])
            page.get_by_role("link", name="Posts", exact=True).click()
            page.locator(f"#post-{spring}").get_by_text("Edit your words").click()
            page.locator(f"#post-{spring}").get_by_label("Comment").fill("Call us today.")
            _shoot(page, shots, "posts-fields")
            page.locator(f"#post-{spring}").get_by_role("button", name="Save and preview").click()
            page.wait_for_url(f"{posts_server}{PAGE}#post-{spring}")
            assert page.get_by_role("status").inner_text() == (
                "Saved your words: the post to Mastodon @acme@127.0.0.1 was rendered again with them.")
            assert ": Call us today. http" in page.locator(f"#post-{spring} .post-text").inner_text()

            page.get_by_role("link", name="Schedule a post from the library").click()
            page.wait_for_url(f"{posts_server}{LIBRARY}")
            _shoot(page, shots, "post-library")
            page.get_by_role("link", name="Preview and schedule Product launch posts").click()
            page.wait_for_url(f"{posts_server}{PICK}")
            page.get_by_label("Comment").fill("Book a demo with us.")
            page.get_by_role("button", name="Update preview").click()
            page.wait_for_load_state()
            assert "Book a demo with us." in page.locator("#text-mastodon .post-text").inner_text()
            page.get_by_role("button", name="Schedule", exact=True).click()  # no account chosen yet
            page.wait_for_load_state()
            refusal = page.locator("#err-accounts").inner_text()
            assert refusal == "Choose one or more of your connected accounts"
            _shoot(page, shots, "post-library-refused")
            page.get_by_label("Mastodon @acme@127.0.0.1").check()
            page.get_by_label("At a date and time in Europe/Berlin").check()
            page.get_by_label("Date", exact=True).fill("2027-03-10")
            page.get_by_label("Time", exact=True).fill("09:30")
            _shoot(page, shots, "post-library-pick")
            page.get_by_role("button", name="Schedule", exact=True).click()
            page.wait_for_url(re.compile(rf"{re.escape(posts_server)}{PAGE}#post-\d+"))
            assert page.get_by_role("status").inner_text() == (
                "Scheduled: the post goes out to Mastodon @acme@127.0.0.1 on Wed 10 Mar 2027, 09:30 "
                "(Europe/Berlin).")
            page.goto(f"{posts_server}{LIBRARY}/card-posts")  # a post with its image
            image = page.locator("#text-mastodon img.post-image")
            page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
            _shoot(page, shots, "post-library-image")
        except BaseException:
            FAILURES.mkdir(exist_ok=True)
            page.screenshot(path=str(FAILURES / "portal-evergreen.png"), full_page=True)
            raise
    [post] = [post for post in evergreen_posts() if post.image_asset_id is None]
    assert (post.status, post.scheduled_at) == ("approved", WEDNESDAY)
    assert "Book a demo with us." in post.text
