"""Bots, link previews and mail scanners are flagged and kept out of counts; repeats count once."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from tcma.extensions import db
from tcma.models import Event, EventRollup
from tcma.services.tracking import events as tracking
from tcma.services.tracking.bots import truncate_ip, visitor_key
from tests.support.tracking import build_world, path_of

BROWSER = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/124.0 Safari/537.36")
OTHER_BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"


def rollup(kind: str = "click") -> tuple[int, int, int]:
    rows = db.session.scalars(select(EventRollup).where(EventRollup.kind == kind)).all()
    return (sum(r.total for r in rows), sum(r.uniques for r in rows), sum(r.bots for r in rows))


def reasons() -> list[str | None]:
    return [e.bot_reason for e in db.session.scalars(select(Event).order_by(Event.occurred_at))]


def visit(client, url: str, agent: str = BROWSER, ip: str = "192.0.2.10", method: str = "GET"):
    response = client.open(path_of(url), method=method, headers={"User-Agent": agent},
                           environ_base={"REMOTE_ADDR": ip})
    assert response.status_code == 302  # bots are redirected too, just not counted
    return response


def test_crawlers_head_requests_and_link_previews_are_flagged(client, world):
    link = world["links"][world["acme"].slug, "a"]
    visit(client, link)
    visit(client, link, agent="Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
    visit(client, link, agent="facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)")
    visit(client, link, agent="LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)")
    visit(client, link, method="HEAD")
    visit(client, link, agent="")
    expected = [None, "crawler", "preview", "preview", "head", "no-user-agent"]
    assert sorted(reasons(), key=str) == sorted(expected, key=str)
    assert rollup() == (1, 1, 5)


def test_repeat_clicks_by_one_visitor_count_once_as_unique(client, world):
    link = world["links"][world["acme"].slug, "a"]
    for _ in range(3):
        visit(client, link)
    visit(client, link, ip="192.0.2.200")            # same /24 and agent: the same visitor
    visit(client, link, agent=OTHER_BROWSER)          # another device
    visit(client, link, ip="198.51.100.1")            # another network
    assert rollup() == (6, 3, 0)


def test_a_scanner_clicking_every_link_of_a_message_is_flagged(client, world):
    slug = world["acme"].slug
    for key in ("a", "b", "pricing"):
        visit(client, world["links"][slug, key], ip="203.0.113.5")
    visit(client, world["links"][world["globex"].slug, "a"], ip="203.0.113.99", agent=OTHER_BROWSER)
    assert reasons().count("scanner") == 3
    assert rollup() == (1, 1, 3)


def test_a_click_within_seconds_of_delivery_is_a_scanner(client, world):
    acme, campaign = world["acme"], world["campaign"]
    send_id = uuid.uuid4().hex
    tracking.record_event("send", acme.id, campaign.id, channel="email", variant="a",
                          uid=f"send-{send_id}", send_id=send_id)
    client.get(path_of(world["links"][acme.slug, "a"]) + f"?s={send_id}", headers={"User-Agent": BROWSER})
    event = db.session.scalars(select(Event).where(Event.kind == "click")).one()
    assert (event.is_bot, event.bot_reason, event.send_id) == (True, "scanner", send_id)


def test_a_retried_event_with_the_same_uid_counts_once(app, world):
    for _ in range(2):
        tracking.record_event("download", world["acme"].id, world["campaign"].id, channel="download",
                              variant="a", uid="download-asset-7-user-3")
    assert rollup("download") == (1, 1, 0)


def test_ip_addresses_are_truncated_and_hashed_with_a_daily_salt():
    from datetime import date

    assert truncate_ip("203.0.113.77") == "203.0.113.0"
    assert truncate_ip("2001:db8:1234:5678::1") == "2001:db8:1234::"
    assert truncate_ip("not an ip") == ""
    today, tomorrow = date(2026, 3, 1), date(2026, 3, 2)
    key = visitor_key("203.0.113.77", BROWSER, "secret", today)
    assert key == visitor_key("203.0.113.1", BROWSER, "secret", today)
    assert key != visitor_key("203.0.113.77", BROWSER, "secret", tomorrow)
    assert "203" not in key and len(key) == 32


def test_the_open_pixel_records_an_open_and_a_forged_one_records_nothing(client, world):
    acme, campaign = world["acme"], world["campaign"]
    url = tracking.pixel_url(acme.id, campaign.id, None, "b", "send-42")
    assert url.startswith("http://tcma.test/o/") and url.endswith(".gif")
    response = client.get(path_of(url), headers={"User-Agent": BROWSER})
    assert (response.status_code, response.mimetype) == (200, "image/gif")
    assert response.headers["Cache-Control"].startswith("no-store")
    forged = client.get("/o/" + "x" * 40 + ".gif", headers={"User-Agent": BROWSER})
    assert forged.status_code == 200 and forged.mimetype == "image/gif"
    event = db.session.scalars(select(Event)).one()
    assert (event.kind, event.partner_id, event.variant, event.send_id, event.channel) == (
        "open", acme.id, "b", "send-42", "email")
    assert rollup("open") == (1, 1, 0)


def test_behind_a_proxy_visitors_are_told_apart_by_their_own_address(app, make_app, migrated_pg):
    # `app` empties the tables afterwards; the proxied app shares its database.
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
