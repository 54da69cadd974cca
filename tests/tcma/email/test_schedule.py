"""Scheduling a send for the partner's local time, cancelling, and the refusals on the way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from tcma.extensions import db
from tcma.models import EmailSend, Partner
from tcma.services.sending.delivery import recover_sends
from tcma.services.transaction import commit
from tests.tcma.email.conftest import new_send


def test_a_send_waits_for_the_partners_local_time_then_goes(client, shop, smtp_handler):
    db.session.execute(
        update(Partner).where(Partner.id == shop["partner"].id).values(time_zone="Europe/Berlin")
    )
    commit()
    send = new_send(client, shop)
    local = (datetime.now(UTC) + timedelta(days=30)).replace(hour=9, minute=0, second=0, microsecond=0)
    response = client.post(
        f"/api/v1/email-sends/{send['id']}/schedule",
        headers=shop["headers"],
        json={"local_at": local.strftime("%Y-%m-%dT%H:%M:%S")},
    )
    assert response.status_code == 200, response.json
    body = response.json
    assert body["status"] == "scheduled" and body["time_zone"] == "Europe/Berlin"
    assert body["local_at"] == local.strftime("%Y-%m-%dT09:00:00")
    utc_hour = datetime.fromisoformat(body["scheduled_at"]).astimezone(UTC).hour
    assert utc_hour in (7, 8)  # 09:00 in Berlin is 08:00 UTC in winter, 07:00 in summer
    assert recover_sends()["started"] == 0 and smtp_handler.received == []
    db.session.execute(update(EmailSend).values(scheduled_at=datetime.now(UTC) - timedelta(seconds=1)))
    commit()
    assert recover_sends()["started"] == 1
    assert len(smtp_handler.received) == 3
    again = client.post(f"/api/v1/email-sends/{send['id']}/schedule", headers=shop["headers"], json={})
    assert again.status_code == 409
    assert again.json["message"] == "the send is done; only a draft or scheduled send can be scheduled"


def test_a_time_in_the_past_is_refused(client, shop):
    send = new_send(client, shop)
    response = client.post(
        f"/api/v1/email-sends/{send['id']}/schedule",
        headers=shop["headers"],
        json={"local_at": "2020-01-01T09:00:00"},
    )
    assert response.status_code == 422
    assert response.json["message"] == "2020-01-01 09:00 in UTC has passed"


def test_a_cancelled_send_sends_nothing(client, shop, smtp_handler):
    send = new_send(client, shop)
    local = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S")
    client.post(
        f"/api/v1/email-sends/{send['id']}/schedule", headers=shop["headers"], json={"local_at": local}
    )
    cancelled = client.post(f"/api/v1/email-sends/{send['id']}/cancel", headers=shop["headers"])
    assert cancelled.json["status"] == "cancelled"
    db.session.execute(update(EmailSend).values(scheduled_at=datetime.now(UTC) - timedelta(seconds=1)))
    commit()
    assert recover_sends()["started"] == 0 and smtp_handler.received == []
    twice = client.post(f"/api/v1/email-sends/{send['id']}/cancel", headers=shop["headers"])
    assert twice.status_code == 409 and twice.json["message"] == "the send is already cancelled"


def test_sends_need_an_email_of_the_campaign_for_the_partner(client, shop):
    missing = client.post(
        "/api/v1/email-sends",
        headers=shop["headers"],
        json={"campaign_id": 999999, "list_ids": [shop["list_id"]]},
    )
    assert missing.status_code == 404 and missing.json["message"] == "campaign 999999 not found"
    from tests.support.factories import make_user

    _, other = make_user("partner", shop["other"])
    theirs = client.post("/api/v1/contact-lists", headers=other, json={"name": "Theirs"}).json
    # The other partner is in the segment too, but the first partner's list is not theirs.
    refused = client.post(
        "/api/v1/email-sends",
        headers=other,
        json={"campaign_id": shop["campaign_id"], "list_ids": [shop["list_id"]]},
    )
    assert refused.status_code == 422 and refused.json["message"] == f"no contact list {shop['list_id']}"
    assert theirs["id"] != shop["list_id"]


def test_another_partners_send_answers_404(client, shop):
    send = new_send(client, shop)
    from tests.support.factories import make_user

    _, other = make_user("partner", shop["other"])
    for path in ("", "/preview", "/recipients"):
        response = client.get(f"/api/v1/email-sends/{send['id']}{path}", headers=other)
        assert response.status_code == 404, path
        assert response.json["message"] == f"email send {send['id']} not found"
