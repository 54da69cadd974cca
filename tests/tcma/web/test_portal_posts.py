"""The posts pages (issue 12) through the Flask test client and in Chromium, against the fake Mastodon:
a partner's approval queue, agenda and history; a marketer's view of a campaign's post plans."""

from __future__ import annotations

import os
import re
import threading
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select, update
from werkzeug.serving import make_server

from tcma.extensions import db
from tcma.models import Event, ScheduledPost, SocialAccount
from tcma.services.accounts.auth import OPERATOR
from tcma.services.catalogue.templates import import_catalogue
from tcma.services.syndication.accounts import connect_account, mark_needs_reconnect
from tcma.services.syndication.plans import create_plan
from tcma.services.syndication.scheduler import run_pass
from tests.support.apps import app_on, base_config
from tests.support.factories import make_partner, make_taxonomy, make_user
from tests.support.fake_networks import FakeMastodon, serve
from tests.support.portal import PASSWORD, post_form, sign_in
from tests.support.statements import recorded_statements
from tests.tcma.web.test_portal_browser import FAILURES, _free_port, chromium_page

PAGE = "/portal/posts"
OUTPUTS = [{"template": "launch-posts", "output": "post:mastodon"},
           {"template": "launch-posts", "output": "post:linkedin"},
           {"template": "social-card", "output": "png"}]
SETTINGS = {"CONNECTORS_BACKEND": "live", "CONNECTORS_TIMEOUT": 2, "CONNECTORS_CONNECT_TIMEOUT": 2,
            "CONNECTORS_MEDIA_POLL_INTERVAL": 0.01}
BERLIN_TEN = datetime(2027, 3, 9, 9, 0, tzinfo=UTC)  # Tue 9 Mar 2027, 10:00 in Berlin
BROWSER = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/124.0 Safari/537.36")
EXPIRED_FORM = "This form has expired or did not come from this site"


@pytest.fixture
def app(migrated_pg, tmp_path):
    """Live connectors: they reach only the loopback fake Mastodon here."""
    url, tables = migrated_pg
    yield from app_on(base_config(tmp_path, DATABASE_URL=url, **SETTINGS), tables)


@pytest.fixture
def fake():
    with serve(FakeMastodon()) as fake:
        yield fake


@pytest.fixture
def world(app, client, fake):
    """Acme (Berlin, approves its posts) and Globex (New York, auto-publishes), each with a Mastodon
    account, in a launched campaign, a post planned for Tue 9 Mar 2027, 10:00 at each partner."""
    import_catalogue()
    taxonomy = make_taxonomy()
    acme, globex = make_partner(taxonomy, name="Acme Networks"), make_partner(taxonomy, name="Globex")
    acme.time_zone, globex.time_zone = "Europe/Berlin", "America/New_York"
    db.session.commit()
    accounts = {}
    for partner, auto in ((acme, False), (globex, True)):
        row = connect_account(OPERATOR, partner.id, "mastodon",
                              {"instance_url": fake.base_url, "access_token": FakeMastodon.TOKEN})
        row.auto_publish = auto
        accounts[partner.id] = row.id
    db.session.commit()
    marketer, marketer_api = make_user("marketer")
    created = client.post("/api/v1/campaigns", headers=marketer_api,
                          json={"name": "Spring launch", "outputs": OUTPUTS, "segment": {}})
    assert created.status_code == 201, created.json
    campaign_id = created.json["id"]
    launched = client.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=marketer_api)
    assert launched.status_code == 202 and launched.json["done"] == 6, launched.json
    world = {"campaign": campaign_id, "acme": acme, "globex": globex, "accounts": accounts,
             "marketer": marketer, "acme_user": make_user("partner", acme)[0],
             "globex_user": make_user("partner_admin", globex)[0]}
    world["plan"] = plan(world, "Spring post", "2027-03-09T10:00")
    return world


def plan(world, name: str, local: str, networks=("mastodon",), **extra) -> int:
    return create_plan(OPERATOR, world["campaign"], name=name, networks=list(networks), image_output="png",
                       timing={"kind": "local_time", "local": local}, **extra).id


def post_of(world, partner: str, plan_id: int | None = None, network: str = "mastodon") -> ScheduledPost:
    db.session.expire_all()
    return db.session.scalars(select(ScheduledPost).join(SocialAccount).where(
        ScheduledPost.partner_id == world[partner].id, SocialAccount.network == network,
        ScheduledPost.plan_id == (plan_id or world["plan"]))).one()


def signed_in(app, user):
    client = app.test_client()
    assert sign_in(client, user).status_code == 302
    return client


def text_of(response) -> str:
    return response.get_data(as_text=True)


def flash_of(html: str) -> str:
    match = re.search(r'<p class="flash" role="status">([^<]*)</p>', html)
    assert match, "no message on the page"
    return match.group(1).replace("&#39;", "'").replace("&amp;", "&")


def section(html: str, name: str) -> str:
    """One section of the partner page: queue, upcoming or history."""
    match = re.search(rf'<section[^>]* aria-labelledby="{name}-title".*?</section>', html, re.S)
    assert match, f"no {name} section"
    return match.group(0)


def card(html: str, post_id: int) -> str:
    match = re.search(rf'<(article|li|tr)[^>]* id="post-{post_id}">.*?</\1>', html, re.S)
    assert match, f"no post {post_id} on the page"
    return match.group(0)


def words(html: str) -> str:
    """The page's text with tags removed and spaces collapsed (for sentences split across lines)."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split()).replace("&#39;", "'")


def field_error(html: str, field_id: str) -> str:
    """The message shown under the field `field_id` (the field points at it)."""
    assert f'aria-describedby="err-{field_id}' in html
    match = re.search(rf'<p class="field-error" id="err-{field_id}" role="alert">([^<]*)</p>', html)
    assert match, f"no error beside {field_id}"
    return match.group(1)


def act(client, post_id: int, action: str, data: dict | None = None, page_url: str = PAGE):
    return post_form(client, page_url, f"{PAGE}/{post_id}/{action}", data or {})


# --- the partner's page -------------------------------------------------------------------------

def test_a_partner_approves_their_post_and_one_scheduler_pass_publishes_it_once(app, world, fake):
    acme = signed_in(app, world["acme_user"])
    post = post_of(world, "acme")
    html = text_of(acme.get(PAGE))
    assert '<a href="/portal/posts">Posts</a>' in html  # in the navigation
    assert ("What tcma publishes to the social accounts of Acme Networks, at times in Europe/Berlin."
            in words(html))
    queue = section(html, "queue")
    assert "Awaiting your approval <span class=\"muted\">(1)</span>" in queue
    shown = card(queue, post.id)
    assert '<p class="post-when">Tue 9 Mar 2027, 10:00 (Europe/Berlin)</p>' in shown
    assert '<p class="post-meta">Mastodon @acme@127.0.0.1</p>' in shown
    # The exact text that goes out (the partner's render, its tracked link included) and the image.
    text = post.text or re.search(r'<p class="post-text">([^<]*)</p>', shown).group(1)
    assert "Acme Networks" in text and "http://tcma.test/l/" in text
    assert '<img class="post-image" src="http://tcma.test/files/renders/' in shown
    src = re.search(r'<img class="post-image" src="([^"]+)"', shown).group(1)
    image = urlsplit(src.replace("&amp;", "&"))
    assert acme.get(f"{image.path}?{image.query}").data.startswith(b"\x89PNG")
    assert re.search(r'<p class="length">\d+ of 500 characters</p>', shown)
    assert "Mastodon allows 500 characters; each link counts as 23." in shown
    assert "No post is scheduled." in section(html, "upcoming")
    assert "Nothing has been published yet." in section(html, "history")

    approved = act(acme, post.id, "approve")
    assert approved.status_code == 302 and approved.location == "/portal/posts#upcoming"
    html = text_of(acme.get(PAGE))
    assert flash_of(html) == ("Approved: the post to Mastodon @acme@127.0.0.1 goes out "
                              "Tue 9 Mar 2027, 10:00 (Europe/Berlin).")
    assert "Nothing awaits your approval." in section(html, "queue")
    upcoming = section(html, "upcoming")
    assert '<h3 class="agenda-day">Tuesday 9 March 2027</h3>' in upcoming
    assert '<time>10:00</time>' in card(upcoming, post.id) and "Approved" in card(upcoming, post.id)
    assert post_of(world, "acme").status == "approved"

    run_pass(now=BERLIN_TEN)
    assert len(fake.statuses) == 1 and fake.statuses[0]["media_attachments"]
    published = post_of(world, "acme")
    assert published.status == "published"
    html = text_of(acme.get(PAGE))
    assert "No post is scheduled." in section(html, "upcoming")
    row = card(section(html, "history"), post.id)
    assert f'<a href="{published.external_url}" rel="noopener" target="_blank">View on Mastodon</a>' in row
    assert "Published" in row and 'class="numbers"' not in row  # no numbers read yet
    published.metrics = {"likes": 12, "reposts": 1, "replies": 3}  # as the metrics pass stores them
    db.session.commit()
    row = card(section(text_of(acme.get(PAGE)), "history"), post.id)
    assert '<span class="numbers">12 likes · 1 repost · 3 replies</span>' in row
    run_pass(now=BERLIN_TEN)
    assert len(fake.statuses) == 1  # approving, then two passes: exactly one status


def test_approving_twice_says_why_and_changes_nothing(app, world, fake):
    acme = signed_in(app, world["acme_user"])
    post = post_of(world, "acme")
    assert act(acme, post.id, "approve").status_code == 302
    again = act(acme, post.id, "approve")
    assert again.status_code == 302 and again.location == f"/portal/posts#post-{post.id}"
    assert flash_of(text_of(acme.get(PAGE))) == (
        f"Nothing was changed: Post {post.id} is approved: only a post awaiting approval can be approved.")
    assert post_of(world, "acme").status == "approved"


def test_a_partner_rejects_a_post_with_a_reason_and_it_never_goes_out(app, world, fake):
    acme = signed_in(app, world["acme_user"])
    post = post_of(world, "acme")
    rejected = act(acme, post.id, "reject", {"reason": "  Not our tone\r\nfor March  "})
    assert rejected.status_code == 302 and rejected.location == "/portal/posts#history"
    html = text_of(acme.get(PAGE))
    assert flash_of(html) == "Rejected: the post to Mastodon @acme@127.0.0.1 will not be published."
    assert "Nothing awaits your approval." in section(html, "queue")
    row = card(section(html, "history"), post.id)
    assert "Cancelled" in row and "You rejected it: Not our tone for March" in row
    assert (post_of(world, "acme").status, post_of(world, "acme").error) == (
        "cancelled", "rejected: Not our tone for March")
    run_pass(now=BERLIN_TEN)
    assert fake.statuses == []  # Globex's post is due at 15:00 UTC


def test_text_over_the_networks_limit_is_refused_beside_the_field_and_nothing_changes(app, world):
    acme = signed_in(app, world["acme_user"])
    post = post_of(world, "acme")
    long_text = "Zero trust, explained. " * 30  # 690 characters
    refused = act(acme, post.id, "text", {"text": long_text})
    assert refused.status_code == 422
    html = text_of(refused)
    shown = card(html, post.id)
    assert "<details class=\"more\" open>\n    <summary>Edit text</summary>" in shown
    assert 'aria-invalid="true" aria-describedby="err-f-text-1 hint-f-text-1"' in shown
    assert field_error(shown, "f-text-1") == (
        "Mastodon post is 689 characters as Mastodon counts them; the limit is 500")
    assert long_text.strip() in shown  # what was typed is kept to be shortened
    assert post_of(world, "acme").text == ""  # still the render

    saved = act(acme, post.id, "text", {"text": "Spring is here at Acme Networks.\r\nSee you there!"})
    assert saved.status_code == 302 and saved.location == f"/portal/posts#post-{post.id}"
    html = text_of(acme.get(PAGE))
    assert flash_of(html) == "Saved the new text of the post to Mastodon @acme@127.0.0.1."
    shown = card(section(html, "queue"), post.id)
    assert '<p class="post-text">Spring is here at Acme Networks.\nSee you there!</p>' in shown
    assert '<p class="length">47 of 500 characters</p>' in shown
    assert post_of(world, "acme").status == "awaiting_approval"  # still the partner's to approve


def test_rescheduling_shows_the_new_local_time_and_a_past_time_is_refused(app, world):
    acme = signed_in(app, world["acme_user"])
    post = post_of(world, "acme")
    moved = act(acme, post.id, "reschedule", {"date": "2027-03-12", "time": "16:45"})
    assert moved.status_code == 302 and moved.location == f"/portal/posts#post-{post.id}"
    html = text_of(acme.get(PAGE))
    assert flash_of(html) == ("Rescheduled: the post to Mastodon @acme@127.0.0.1 goes out "
                              "Fri 12 Mar 2027, 16:45 (Europe/Berlin).")
    assert '<p class="post-when">Fri 12 Mar 2027, 16:45 (Europe/Berlin)</p>' in card(html, post.id)
    assert 'value="2027-03-12"' in card(html, post.id) and 'value="16:45"' in card(html, post.id)
    stored = post_of(world, "acme")
    assert stored.local_at == "2027-03-12T16:45"
    assert stored.scheduled_at == datetime(2027, 3, 12, 15, 45, tzinfo=UTC)

    for values, expected in (({"date": "2020-01-07", "time": "09:00"},
                              "Tue 7 Jan 2020, 09:00 in Europe/Berlin has passed: choose a time to come"),
                             ({"date": "2027-03-12", "time": ""}, "Choose a date and a time")):
        refused = act(acme, post.id, "reschedule", values)
        assert refused.status_code == 422
        shown = card(text_of(refused), post.id)
        assert field_error(shown, "f-date-1") == expected
        assert f'value="{values["date"]}"' in shown
        assert post_of(world, "acme").local_at == "2027-03-12T16:45"


def test_an_account_that_needs_reconnecting_shows_a_reconnect_link_beside_its_posts(app, world):
    account = db.session.get(SocialAccount, world["accounts"][world["acme"].id])
    mark_needs_reconnect(account, "mastodon refused the credentials: The access token was revoked")
    db.session.commit()
    acme = signed_in(app, world["acme_user"])
    html = text_of(acme.get(PAGE))
    link = f'<a href="/portal/social-accounts#account-{account.id}">Reconnect</a>'
    assert ("Mastodon @acme@127.0.0.1 needs reconnecting: its posts are not published until it is connected "
            "again.") in words(section(html, "stuck"))
    assert link in section(html, "stuck")
    shown = card(section(html, "queue"), post_of(world, "acme").id)
    assert ("Mastodon @acme@127.0.0.1 needs reconnecting: nothing is published to it until it is connected "
            "again.") in words(shown)
    assert link in shown


def test_a_held_post_says_what_to_do_and_goes_out_once_the_account_is_connected_again(app, world, fake):
    account = db.session.get(SocialAccount, world["accounts"][world["globex"].id])
    mark_needs_reconnect(account, "mastodon refused the credentials: The access token was revoked")
    db.session.commit()
    post = post_of(world, "globex")
    assert post.status == "held"
    globex = signed_in(app, world["globex_user"])
    row = card(section(text_of(globex.get(PAGE)), "history"), post.id)
    assert "Held" in row
    assert ("Held until the account is connected again: Mastodon refused the credentials: The access token "
            "was revoked") in row
    assert (f'To send it: <a href="/portal/social-accounts#account-{account.id}">reconnect Mastodon '
            "@acme@127.0.0.1</a>; it goes out once the account is connected again.") in row
    assert "Send again" not in row
    connect_account(OPERATOR, world["globex"].id, "mastodon",
                    {"instance_url": fake.base_url, "access_token": FakeMastodon.TOKEN})
    html = text_of(globex.get(PAGE))
    assert '<time>10:00</time>' in card(section(html, "upcoming"), post.id)
    assert "Posts are waiting for an account" not in html


def test_another_partners_post_answers_404_and_nothing_changes(app, world, fake):
    globex_post = post_of(world, "globex")
    acme = signed_in(app, world["acme_user"])
    html = text_of(acme.get(PAGE))
    assert f'id="post-{globex_post.id}"' not in html and "@globex" not in html
    for action, data in [("approve", {}), ("reject", {"reason": "no"}), ("text", {"text": "Mine now"}),
                         ("reschedule", {"date": "2027-04-01", "time": "09:00"}), ("cancel", {}),
                         ("retry", {})]:
        response = act(acme, globex_post.id, action, data)
        assert response.status_code == 404, action
        assert f"post {globex_post.id} not found" in text_of(response)
    stored = post_of(world, "globex")
    assert (stored.status, stored.text, stored.local_at) == ("scheduled", "", "2027-03-09T10:00")
    assert acme.get(f"/portal/campaigns/{world['campaign']}/posts").status_code == 403


def test_posts_without_the_forms_csrf_token_change_nothing(app, world):
    acme = signed_in(app, world["acme_user"])
    post = post_of(world, "acme")
    acme.get(PAGE)
    for action in ("approve", "reject", "text", "reschedule", "cancel"):
        for token in ({}, {"csrf_token": "forged"}):
            refused = acme.post(f"{PAGE}/{post.id}/{action}", data={"text": "x", **token})
            assert refused.status_code == 400, action
            assert EXPIRED_FORM in text_of(refused)
    assert post_of(world, "acme").status == "awaiting_approval"


def test_an_expired_post_can_be_rescheduled_back_into_the_queue(app, world):
    run_pass(now=BERLIN_TEN)  # nobody approved it by 10:00
    acme = signed_in(app, world["acme_user"])
    post = post_of(world, "acme")
    row = card(section(text_of(acme.get(PAGE)), "history"), post.id)
    assert "Expired" in row and "It was not approved by its time, so it was not published." in row
    moved = act(acme, post.id, "reschedule", {"date": "2027-03-10", "time": "09:30"})
    assert moved.status_code == 302
    queue = section(text_of(acme.get(PAGE)), "queue")
    assert '<p class="post-when">Wed 10 Mar 2027, 09:30 (Europe/Berlin)</p>' in card(queue, post.id)


def test_the_history_shows_the_latest_first_by_pages_of_25(app, world):
    from tcma.services.accounts.auth import Principal
    from tcma.services.syndication import posts

    partner = Principal(world["acme_user"].id, "partner", world["acme"].id)
    for day in range(1, 28):
        plan_id = plan(world, f"Tip {day}", f"2027-04-{day:02d}T09:00")
        posts.reject(partner, post_of(world, "acme", plan_id).id)
    acme = signed_in(app, world["acme_user"])
    first = section(text_of(acme.get(PAGE)), "history")
    assert "History <span class=\"muted\">(27)</span>" in first
    days = re.findall(r'<td data-label="When">\w+ (\d+) Apr 2027, 09:00 \(Europe/Berlin\)</td>', first)
    assert days == [str(day) for day in range(27, 2, -1)]
    assert "Page 1 of 2" in first and "You rejected it." in first
    second = section(text_of(acme.get(f"{PAGE}?page=2")), "history")
    assert re.findall(r'<td data-label="When">\w+ (\d+) Apr 2027', second) == ["2", "1"]


# --- the marketer's view ------------------------------------------------------------------------

def campaign_page(world) -> str:
    return f"/portal/campaigns/{world['campaign']}/posts"


def test_a_marketer_sees_counts_failures_and_clicks_and_retries_a_failed_post(app, world, fake):
    globex_post = post_of(world, "globex")
    fake.fail_next("/api/v1/statuses", 422, {"error": "Validation failed: Text character limit exceeded"})
    run_pass(now=datetime(2027, 3, 9, 15, 0, tzinfo=UTC))  # 10:00 in New York; Acme's expired at 09:00 UTC
    assert post_of(world, "globex").status == "failed" and fake.statuses == []
    marketer = signed_in(app, world["marketer"])
    campaign = text_of(marketer.get(f"/portal/campaigns/{world['campaign']}"))
    assert (f'<a href="/portal/campaigns/{world["campaign"]}/posts">Social posts: by state and network, '
            "failures, clicks →</a>") in campaign

    html = text_of(marketer.get(campaign_page(world)))
    plan_id = world["plan"]
    counts = re.search(rf'<tr id="plan-{plan_id}-mastodon">.*?</tr>', html, re.S).group(0)
    assert re.findall(r'<td class="num (\w+)[^"]*" data-label="[^"]+">(\d+)</td>', counts) == [
        ("awaiting", "0"), ("upcoming", "0"), ("published", "0"), ("failed", "1"), ("held", "0"),
        ("expired", "1"), ("cancelled", "0")]
    assert "10:00 on Tue 9 Mar 2027 at each partner's local time" in words(html)
    failure = card(html, globex_post.id)
    assert "<strong>Globex</strong> · Mastodon @acme@127.0.0.1" in failure
    assert "Mastodon refused the post: Validation failed: Text character limit exceeded" in failure
    assert "Retry all failed (1)" in html

    retried = post_form(marketer, campaign_page(world), f"{PAGE}/{globex_post.id}/retry",
                        {"campaign": world["campaign"]})
    assert retried.status_code == 302
    assert retried.location == f"/portal/campaigns/{world['campaign']}/posts#post-{globex_post.id}"
    html = text_of(marketer.get(campaign_page(world)))
    assert flash_of(html) == (
        f"Post {globex_post.id} to Mastodon @acme@127.0.0.1 will be sent again in a moment.")
    assert post_of(world, "globex").status == "scheduled"
    run_pass(now=datetime(2027, 3, 9, 15, 1, tzinfo=UTC))
    assert len(fake.statuses) == 1 and post_of(world, "globex").status == "published"

    # A click on the published post's tracked link counts for Mastodon.
    link = re.search(r"http://tcma\.test(/l/\w+)", post_of(world, "globex").text).group(1)
    assert app.test_client().get(link, headers={"User-Agent": BROWSER}).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Event).where(Event.channel == "mastodon")) >= 1
    html = text_of(marketer.get(campaign_page(world)))
    network = re.search(r'<tr id="network-mastodon">.*?</tr>', html, re.S).group(0)
    assert re.findall(r'<td data-label="[^"]+" class="num (\w+)[^"]*">([\d,]+)</td>', network) == [
        ("published", "1"), ("clicks", "1"), ("awaiting", "0"), ("upcoming", "0"), ("failed", "0")]
    assert "Retry all failed" not in html


def statements_of(client, path: str) -> tuple[str, int]:
    """The page and how many SQL statements answering it took (from a fresh session, as a request)."""
    db.session.expunge_all()
    with recorded_statements() as seen:
        answer = client.get(path)
    assert answer.status_code == 200
    return text_of(answer), len(seen)


def test_the_marketers_failures_are_shown_in_the_same_statements_for_one_partner_or_two(app, world, fake):
    fake.fail_next("/api/v1/statuses", 422, {"error": "Validation failed"})
    run_pass(now=datetime(2027, 3, 9, 15, 0, tzinfo=UTC))
    acme_post = post_of(world, "acme").id
    marketer = signed_in(app, world["marketer"])
    marketer.get("/portal/campaigns")  # the session's first page notes when it was last used
    one, for_one = statements_of(marketer, campaign_page(world))
    db.session.execute(update(ScheduledPost).where(ScheduledPost.id == acme_post).values(
        status="failed", error="mastodon refused the post: Validation failed"))
    db.session.commit()
    two, for_two = statements_of(marketer, campaign_page(world))
    assert "<strong>Acme Networks</strong>" not in one and "<strong>Globex</strong>" in one
    assert "<strong>Acme Networks</strong>" in two and "<strong>Globex</strong>" in two
    assert for_one == for_two


def test_a_partners_history_pages_take_the_same_statements_however_many_states_they_show(app, world):
    from tcma.services.accounts.auth import Principal
    from tcma.services.syndication import posts

    partner = Principal(world["acme_user"].id, "partner", world["acme"].id)
    for day in range(1, 28):
        plan_id = plan(world, f"Tip {day}", f"2027-04-{day:02d}T09:00")
        posts.reject(partner, post_of(world, "acme", plan_id).id)
    expired = post_of(world, "acme")
    expired.status = "expired"
    db.session.commit()
    acme = signed_in(app, world["acme_user"])
    acme.get(PAGE)  # the session's first page notes when it was last used
    first, on_first = statements_of(acme, PAGE)
    second, on_second = statements_of(acme, f"{PAGE}?page=2")
    assert "History <span class=\"muted\">(28)</span>" in section(first, "history")
    # The latest first across states: the cancelled April posts, then the expired one of 9 March.
    assert re.findall(r'<td data-label="When">\w+ (\d+ \w+) 2027', section(second, "history")) == [
        "2 Apr", "1 Apr", "9 Mar"]
    assert on_first == on_second


def test_a_marketer_cancels_a_failed_post(app, world, fake):
    globex_post = post_of(world, "globex")
    fake.fail_next("/api/v1/statuses", 422, {"error": "Validation failed"})
    run_pass(now=datetime(2027, 3, 9, 15, 0, tzinfo=UTC))
    marketer = signed_in(app, world["marketer"])
    cancelled = post_form(marketer, campaign_page(world), f"{PAGE}/{globex_post.id}/cancel",
                          {"campaign": world["campaign"]})
    assert cancelled.location == f"/portal/campaigns/{world['campaign']}/posts#post-{globex_post.id}"
    html = text_of(marketer.get(campaign_page(world)))
    assert flash_of(html) == "Cancelled: the post to Mastodon @acme@127.0.0.1 will not be published."
    assert f'id="post-{globex_post.id}"' not in html
    assert (post_of(world, "globex").status, post_of(world, "globex").error) == (
        "cancelled", "cancelled by the vendor")


def test_a_marketer_retries_all_failed_posts_of_a_plan_and_cancels_it(app, world, fake):
    fake.fail_next("/api/v1/statuses", 422, {"error": "Validation failed"})
    run_pass(now=datetime(2027, 3, 9, 15, 0, tzinfo=UTC))
    marketer = signed_in(app, world["marketer"])
    plan_id = world["plan"]
    retried = post_form(marketer, campaign_page(world), f"/portal/plans/{plan_id}/retry-failed", {})
    assert retried.location == f"/portal/campaigns/{world['campaign']}/posts#plan-{plan_id}"
    assert flash_of(text_of(marketer.get(campaign_page(world)))) == (
        "1 failed post of “Spring post” will be sent again in a moment.")
    again = post_form(marketer, campaign_page(world), f"/portal/plans/{plan_id}/retry-failed", {})
    assert again.status_code == 302
    assert flash_of(text_of(marketer.get(campaign_page(world)))) == (
        "“Spring post” has no failed post that can be sent again.")

    html = text_of(marketer.get(campaign_page(world)))
    assert "Its 1 post not yet published will not go out; published ones stay." in html
    cancelled = post_form(marketer, campaign_page(world), f"/portal/plans/{plan_id}/cancel", {})
    assert cancelled.status_code == 302
    html = text_of(marketer.get(campaign_page(world)))
    assert flash_of(html) == "Cancelled “Spring post”: its posts not yet published will not go out."
    assert '<span class="badge plan-cancelled">Cancelled</span>' in html and "Cancel plan…" not in html
    assert post_of(world, "globex").status == "cancelled"
    run_pass(now=datetime(2027, 3, 9, 16, 0, tzinfo=UTC))
    assert fake.statuses == []


# --- in Chromium --------------------------------------------------------------------------------

@pytest.fixture
def posts_server(app, make_app, migrated_pg):
    """The app with the same settings served over HTTP on loopback, on the test's database."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    served = make_app(DATABASE_URL=migrated_pg[0], PUBLIC_URL=base_url, **SETTINGS)
    server = make_server("127.0.0.1", port, served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base_url
    server.shutdown()
    server.server_close()
    thread.join(5)


def busy_week(world, fake) -> dict[str, int]:
    """Acme's posts in every state a partner meets: two awaiting approval (one for a LinkedIn account
    that needs reconnecting), an approved one to come, one published, one failed, one expired,
    one rejected; Globex's the same plans, auto-published."""
    acme = world["acme"]
    linkedin = SocialAccount(partner_id=acme.id, network="linkedin", handle="acme-networks",
                             display_name="Acme Networks", external_id="urn:li:organization:4242")
    db.session.add(linkedin)
    db.session.commit()
    ids = {"spring": post_of(world, "acme").id}
    launch = plan(world, "Launch week teaser", "2027-03-09T08:30", networks=("mastodon", "linkedin"),
                  requires_approval=True)
    ids["teaser"] = post_of(world, "acme", launch).id
    mark_needs_reconnect(linkedin, "linkedin refused the credentials: The token used in the request has "
                                   "been revoked by the user")
    db.session.commit()
    from tcma.services.accounts.auth import Principal
    from tcma.services.syndication import posts

    partner = Principal(world["acme_user"].id, "partner", acme.id)
    for name, local in (("Customer story", "2027-03-02T09:00"), ("Partner day", "2027-03-03T09:00"),
                        ("Webinar reminder", "2027-03-16T16:30")):
        ids[name] = post_of(world, "acme", plan(world, name, local)).id
        posts.approve(partner, ids[name])
    ids["Expired"] = post_of(world, "acme", plan(world, "Holiday hours", "2027-03-04T09:00")).id
    ids["Rejected"] = post_of(world, "acme", plan(world, "Price update", "2027-03-05T09:00")).id
    posts.reject(partner, ids["Rejected"], "We do not announce prices on Mastodon")
    run_pass(now=datetime(2027, 3, 2, 15, 0, tzinfo=UTC))  # Acme's at 08:00 UTC, Globex's at 14:00
    fake.fail_next("/api/v1/statuses", 422, {"error": "Validation failed: Text character limit exceeded"})
    run_pass(now=datetime(2027, 3, 3, 8, 0, tzinfo=UTC))
    run_pass(now=datetime(2027, 3, 4, 8, 0, tzinfo=UTC))
    return ids


def test_the_approval_flow_in_chromium_fits_a_phone_and_a_desktop(posts_server, world, fake, tmp_path):
    """Full-page screenshots go to $PORTAL_SCREENSHOTS when set (to look at), else the test's tmp dir."""
    shots = Path(os.environ.get("PORTAL_SCREENSHOTS") or tmp_path)
    ids = busy_week(world, fake)
    assert post_of(world, "acme", None).status == "awaiting_approval"
    spring = ids["spring"]
    with chromium_page(tmp_path / "profile") as page:
        try:
            page.set_viewport_size({"width": 390, "height": 844})
            page.goto(f"{posts_server}/login")
            page.get_by_label("Email").fill(world["acme_user"].email)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{posts_server}/portal/home")
            page.get_by_role("link", name="Posts", exact=True).click()
            page.wait_for_url(f"{posts_server}{PAGE}")
            queue = page.locator("section[aria-labelledby=queue-title]")
            assert queue.locator("article.post-card").count() == 3
            image = page.locator(f"#post-{spring} img.post-image")
            image.scroll_into_view_if_needed()
            page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
            page.locator(f"#post-{spring}").get_by_text("Edit text").click()
            for width in (390, 1280):
                page.set_viewport_size({"width": width, "height": 844 if width == 390 else 900})
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                shots.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(shots / f"posts-{width}.png"), full_page=True)

            page.locator(f"#post-{spring}").get_by_role("button", name="Approve").click()
            page.wait_for_url(f"{posts_server}{PAGE}#upcoming")
            assert page.get_by_role("status").inner_text() == (
                "Approved: the post to Mastodon @acme@127.0.0.1 goes out "
                "Tue 9 Mar 2027, 10:00 (Europe/Berlin).")
            assert queue.locator("article.post-card").count() == 2
            assert queue.locator(f"#post-{spring}").count() == 0
            moved = page.locator(f"section#upcoming #post-{spring}")
            assert moved.locator(".badge").inner_text() == "Approved"
            assert moved.locator("time").inner_text() == "10:00"
        except BaseException:
            FAILURES.mkdir(exist_ok=True)
            page.screenshot(path=str(FAILURES / "portal-posts.png"), full_page=True)
            raise


def test_the_marketers_view_fits_a_phone_and_a_desktop(posts_server, world, fake, tmp_path):
    shots = Path(os.environ.get("PORTAL_SCREENSHOTS") or tmp_path)
    busy_week(world, fake)
    with chromium_page(tmp_path / "profile") as page:
        try:
            page.set_viewport_size({"width": 390, "height": 844})
            page.goto(f"{posts_server}/login")
            page.get_by_label("Email").fill(world["marketer"].email)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{posts_server}/portal/dashboard")
            page.get_by_role("link", name="Campaigns", exact=True).click()
            page.get_by_role("link", name="Spring launch").click()
            page.get_by_role("link", name="Social posts: by state and network, failures, clicks →").click()
            page.wait_for_url(f"{posts_server}/portal/campaigns/{world['campaign']}/posts")
            assert page.locator("section.plan h3").all_inner_texts() == [
                "Price update", "Holiday hours", "Webinar reminder", "Partner day", "Customer story",
                "Launch week teaser", "Spring post"]
            for width in (390, 1280):
                page.set_viewport_size({"width": width, "height": 844 if width == 390 else 900})
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                shots.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(shots / f"posts-campaign-{width}.png"), full_page=True)
        except BaseException:
            FAILURES.mkdir(exist_ok=True)
            page.screenshot(path=str(FAILURES / "portal-posts-campaign.png"), full_page=True)
            raise

