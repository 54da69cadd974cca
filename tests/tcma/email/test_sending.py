"""Sending a campaign email to a partner's contacts, end to end through SMTP on loopback."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy import select, text, update

from tcma.extensions import db
from tcma.models import EmailRecipient, Event, Suppression
from tcma.services.sending.suppressions import address_hash, suppress
from tcma.services.transaction import commit
from tests.tcma.email.conftest import new_send, send_now

BROWSER = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15"
)


def by_recipient(handler):
    return {r.rcpt_tos[0]: r for r in handler.received}


def parts(message):
    return tuple(message.get_body((kind,)).get_content().replace("\r\n", "\n") for kind in ("plain", "html"))


def recipients(send_id):
    return {
        r.address: r
        for r in db.session.scalars(select(EmailRecipient).where(EmailRecipient.send_id == send_id))
    }


def test_preview_then_test_to_oneself_then_send(client, shop, smtp_handler):
    send = new_send(client, shop)
    assert send["status"] == "draft"
    assert send["subject"] == "Acme IT GmbH: How hospitals roll out zero trust without disrupting care"
    assert send["preheader"] == "Reply to this email to book a free architecture review."
    preview = client.get(f"/api/v1/email-sends/{send['id']}/preview", headers=shop["headers"]).json
    assert preview["from"] == "Acme IT GmbH <news@mail.vendor.test>"
    assert preview["reply_to"] == f"sales@{shop['partner'].slug}.example"
    assert "Hello," in preview["text"] and "Reply to this email" in preview["html"]
    assert smtp_handler.received == []

    test = client.post(f"/api/v1/email-sends/{send['id']}/test", headers=shop["headers"])
    assert test.status_code == 202
    (received,) = smtp_handler.received
    assert received.rcpt_tos == [shop["user"].email]
    assert received.message["Subject"].strip() == f"[Test] {send['subject']}"

    sent = send_now(client, shop, send["id"])
    assert sent["status"] == "done"
    assert sent["numbers"]["sent"] == 3 and sent["numbers"]["recipients"] == 3
    assert set(by_recipient(smtp_handler)) == {
        shop["user"].email,
        "ada@example.com",
        "bob@example.com",
        "cy@example.com",
    }


def test_each_message_has_its_headers_greeting_links_and_pixel(client, shop, smtp_handler):
    send = new_send(client, shop)
    send_now(client, shop, send["id"])
    rows, got = recipients(send["id"]), by_recipient(smtp_handler)
    seen_links = set()
    for address, name in (("ada@example.com", "Ada"), ("bob@example.com", None)):
        row, message = rows[address], got[address].message
        assert got[address].mail_from == f"bounces+{row.uid}@mail.vendor.test"
        assert message["From"] == "Acme IT GmbH <news@mail.vendor.test>"
        assert message["Reply-To"] == f"sales@{shop['partner'].slug}.example"
        assert message["To"] == address
        assert message["Message-ID"] == row.message_id
        assert message["Subject"].strip() == send["subject"]  # folded after "Subject:" when long
        unsubscribe = re.fullmatch(r"<(http://tcma\.test/u/[^>]+)>", message["List-Unsubscribe"]).group(1)
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        text, html = parts(message)
        assert ("Hello Ada," if name else "Hello,\n") in text
        assert ("Hello Ada," if name else ">Hello,<") in html
        assert "[[tcma:" not in text + html and "tcma.invalid" not in text + html
        assert unsubscribe in text and unsubscribe in html
        links = set(re.findall(r"http://tcma\.test/l/[A-Za-z0-9]+\?s=([0-9a-f]+)", html))
        assert links == {row.uid}
        assert f"?s={row.uid}" in text
        assert "Reply to this email to book a free architecture review." in html.split("<table")[0]
        pixel = re.search(r'<img src="(http://tcma\.test/o/[^"]+\.gif)"', html).group(1)
        seen_links.add(pixel)
    assert len(seen_links) == 2  # each recipient its own pixel


def test_one_click_unsubscribe_suppresses_and_the_next_send_skips(client, shop, smtp_handler):
    send = new_send(client, shop)
    send_now(client, shop, send["id"])
    message = by_recipient(smtp_handler)["bob@example.com"].message
    path = urlsplit(message["List-Unsubscribe"].strip("<>")).path
    page = client.get(path)
    assert page.status_code == 200 and "Unsubscribe from Acme IT GmbH" in page.get_data(as_text=True)
    assert db.session.scalar(select(Suppression.id)) is None  # a GET (a scanner) changes nothing
    response = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200 and response.get_data(as_text=True) == "unsubscribed\n"
    (kept,) = db.session.scalars(select(Suppression)).all()
    assert (kept.partner_id, kept.reason, kept.address_hash) == (
        shop["partner"].id,
        "unsubscribed",
        address_hash("bob@example.com"),
    )
    numbers = client.get(f"/api/v1/email-sends/{send['id']}", headers=shop["headers"]).json["numbers"]
    assert numbers["unsubscribed"] == 1

    smtp_handler.received.clear()
    second = new_send(client, shop)
    done = send_now(client, shop, second["id"])
    assert set(by_recipient(smtp_handler)) == {"ada@example.com", "cy@example.com"}
    assert done["numbers"]["skipped"] == 1
    assert recipients(second["id"])["bob@example.com"].detail == "suppressed: unsubscribed"


def test_the_landing_page_unsubscribes_in_one_step(client, shop, smtp_handler):
    send = new_send(client, shop)
    send_now(client, shop, send["id"])
    path = urlsplit(
        by_recipient(smtp_handler)["ada@example.com"].message["List-Unsubscribe"].strip("<>")
    ).path
    done = client.post(path)
    assert done.status_code == 200 and "You are unsubscribed" in done.get_data(as_text=True)
    assert client.get("/u/not-a-token").status_code == 404
    assert client.post("/u/not-a-token", data={"List-Unsubscribe": "One-Click"}).status_code == 404


def test_global_complaints_and_partner_suppressions_are_checked_at_send_time(client, shop, smtp_handler):
    suppress(None, address_hash("cy@example.com"), "complaint", "complained about another partner")
    suppress(shop["other"].id, address_hash("ada@example.com"), "unsubscribed")  # another partner's
    commit()
    send = new_send(client, shop)
    send_now(client, shop, send["id"])
    assert set(by_recipient(smtp_handler)) == {"ada@example.com", "bob@example.com"}
    assert recipients(send["id"])["cy@example.com"].detail == "suppressed: complaint"


def test_opens_and_clicks_are_per_recipient_and_machines_apart(client, shop, smtp_handler):
    send = new_send(client, shop)
    send_now(client, shop, send["id"])
    got = by_recipient(smtp_handler)
    sends = db.session.scalars(select(Event).where(Event.kind == "send")).all()
    assert len(sends) == 3 and not any(e.is_bot for e in sends)  # the delivery is no scanner's click
    # Delivered a minute ago: a click now is a person's, not a scanner's (scanners click within seconds).
    db.session.execute(
        update(Event)
        .where(Event.kind == "send")
        .values(occurred_at=text("occurred_at - interval '1 minute'"))
    )
    commit()
    _, ada_html = parts(got["ada@example.com"].message)
    ada_link = re.search(r"http://tcma\.test(/l/[A-Za-z0-9]+\?s=[0-9a-f]+)", ada_html).group(1)
    ada_pixel = re.search(r'http://tcma\.test(/o/[^"]+\.gif)', ada_html).group(1)
    assert client.get(ada_link, headers={"User-Agent": BROWSER}).status_code == 302
    assert client.get(ada_pixel, headers={"User-Agent": BROWSER}).status_code == 200
    _, bob_html = parts(got["bob@example.com"].message)
    bob_pixel = re.search(r'http://tcma\.test(/o/[^"]+\.gif)', bob_html).group(1)
    client.get(bob_pixel, headers={"User-Agent": "Googlebot/2.1 (+http://www.google.com/bot.html)"})
    numbers = client.get(f"/api/v1/email-sends/{send['id']}", headers=shop["headers"]).json["numbers"]
    assert (numbers["opened"], numbers["opened_machine"], numbers["clicked"]) == (1, 1, 1)

    stats = client.get(f"/api/v1/email-sends/campaigns/{shop['campaign_id']}", headers=shop["marketer"])
    assert stats.status_code == 200
    assert stats.json["totals"]["delivered"] == 3 and stats.json["totals"]["clicked"] == 1
    assert [s["partner_id"] for s in stats.json["sends"]] == [shop["partner"].id]
    assert "@example.com" not in stats.get_data(as_text=True)
    listed = client.get("/api/v1/email-sends", headers=shop["marketer"])
    assert "@example.com" not in listed.get_data(as_text=True)
    assert (
        client.get(f"/api/v1/email-sends/{send['id']}/recipients", headers=shop["marketer"]).status_code
        == 403
    )
    rows = client.get(f"/api/v1/email-sends/{send['id']}/recipients", headers=shop["headers"]).json
    assert sorted(r["address"] for r in rows["items"]) == [
        "ada@example.com",
        "bob@example.com",
        "cy@example.com",
    ]
    # A send's recipients walk by id with the `next` cursor, each once.
    url = f"/api/v1/email-sends/{send['id']}/recipients"
    first = client.get(f"{url}?per_page=2", headers=shop["headers"]).json
    rest = client.get(f"{url}?per_page=2&after={first['next']}", headers=shop["headers"]).json
    assert [r["id"] for r in first["items"] + rest["items"]] == [r["id"] for r in rows["items"]]
    assert (len(first["items"]), rest["page"], rest["next"], rest["total"]) == (2, None, None, 3)
