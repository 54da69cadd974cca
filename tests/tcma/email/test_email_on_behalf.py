"""The vendor sends a campaign email in the name of the partners that allow it.

Each partner's send goes out exactly as its own would (its name, its suppressions, the caps, its
unsubscribe link); the vendor sees counts and reasons, never an address; a partner that withdraws
stops what has not gone out.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from tcma.extensions import db
from tcma.models import EmailRecipient, EmailSend, User
from tcma.services.accounts.auth import Principal
from tcma.services.sending import behalf
from tcma.services.sending.suppressions import address_hash, suppress
from tcma.services.transaction import commit
from tests.support.smtp import RecordingHandler
from tests.tcma.email.conftest import new_send, send_now


@pytest.fixture
def email_settings():
    """A weekly cap of one email per contact; batches of one (a withdrawal lands between them)."""
    return {"EMAIL_WEEKLY_CAP": 1, "EMAIL_SEND_BATCH": 1}


ADDRESSES = {"ada@example.com", "bob@example.com", "cy@example.com"}


def allow(client, shop, **values):
    body = {"list_ids": [shop["list_id"]], **values}
    response = client.put("/api/v1/email-sends/consent", headers=shop["headers"], json=body)
    assert response.status_code == 200, response.json
    return response.json


def send_on_behalf(client, shop, **values):
    body = {"campaign_id": shop["campaign_id"], **values}
    response = client.post("/api/v1/email-sends/on-behalf", headers=shop["marketer"], json=body)
    assert response.status_code == 201, response.json
    return response.json


def statuses(send_id):
    return {
        r.address: (r.status, r.detail)
        for r in db.session.scalars(select(EmailRecipient).where(EmailRecipient.send_id == send_id))
    }


def test_a_marketer_sends_in_the_name_of_each_partner_that_allows_it(client, shop, smtp_handler):
    consent = allow(client, shop, max_sends_per_month=2)
    assert consent["status"] == "active" and consent["tags"] == [] and consent["max_sends_per_month"] == 2

    result = send_on_behalf(client, shop)

    sends = [(s["partner_name"], s["status"], s["sent"]) for s in result["sends"]]
    assert sends == [("Acme IT GmbH", "done", 3)]
    assert result["skipped"] == [
        {
            "partner_id": shop["other"].id,
            "partner_name": shop["other"].name,
            "reason": "has not allowed sends on its behalf",
        }
    ]
    assert result["totals"]["sent"] == 3
    received = {r.rcpt_tos[0]: r.message for r in smtp_handler.received}
    assert set(received) == ADDRESSES
    message = received["ada@example.com"]
    sender = message["From"].addresses[0]
    assert (sender.display_name, sender.addr_spec) == ("Acme IT GmbH", "news@mail.vendor.test")
    assert message["Reply-To"] == f"sales@{shop['partner'].slug}.example"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Unsubscribe"].startswith("<http://tcma.test/u/")
    assert "Hello Ada," in message.get_body(("plain",)).get_content()

    # The partner sees the send among its own, marked as sent on its behalf, with the addresses.
    own = client.get("/api/v1/email-sends", headers=shop["headers"]).json
    assert [(s["behalf_id"], s["numbers"]["sent"]) for s in own] == [(result["id"], 3)]
    send_id = own[0]["id"]
    listed = client.get(f"/api/v1/email-sends/{send_id}/recipients", headers=shop["headers"]).json
    assert {r["address"] for r in listed["items"]} == ADDRESSES


def test_the_vendor_sees_counts_and_reasons_never_an_address(client, shop):
    allow(client, shop)
    result = send_on_behalf(client, shop)
    send_id = result["sends"][0]["send_id"]
    for url in (
        f"/api/v1/email-sends/on-behalf/{result['id']}",
        "/api/v1/email-sends/on-behalf",
        "/api/v1/email-sends/consents",
        f"/api/v1/email-sends/{send_id}",
        f"/api/v1/email-sends/{send_id}/preview",
    ):
        response = client.get(url, headers=shop["marketer"])
        assert response.status_code == 200, url
        body = json.dumps(response.json)
        assert not any(address in body for address in ADDRESSES), url
    refused = client.get(f"/api/v1/email-sends/{send_id}/recipients", headers=shop["marketer"])
    assert refused.status_code == 403
    assert refused.json["message"] == "this needs one of the roles: partner, partner_admin"
    consents = client.get("/api/v1/email-sends/consents", headers=shop["marketer"]).json
    assert [(c["partner_name"], c["status"], c["lists"], c["contacts"]) for c in consents] == [
        ("Acme IT GmbH", "active", 1, 3)
    ]




def test_tags_suppressions_and_caps_hold_as_for_the_partners_own_sends(client, shop, smtp_handler):
    # Only contacts tagged "vip" are allowed: Ada and Cy; Bob is not tagged.
    for address in ("ada@example.com", "cy@example.com"):
        listed = client.get("/api/v1/contacts", headers=shop["headers"]).json["items"]
        contact = next(c for c in listed if c["email"] == address)
        url = f"/api/v1/contacts/{contact['id']}"
        patched = client.patch(url, headers=shop["headers"], json={"tags": ["vip"]})
        assert patched.status_code == 200, patched.json
    allow(client, shop, tags=["VIP"], max_sends_per_month=1)
    # Cy unsubscribed from the partner; Ada got the partner's own send this week (weekly cap 1).
    suppress(shop["partner"].id, address_hash("cy@example.com"), "unsubscribed", "test")
    commit()
    own = new_send(client, shop)
    send_now(client, shop, own["id"])
    smtp_handler.received.clear()

    result = send_on_behalf(client, shop)

    assert smtp_handler.received == []
    partner_send = result["sends"][0]
    assert (partner_send["recipients"], partner_send["skipped"], partner_send["sent"]) == (2, 2, 0)
    assert statuses(partner_send["send_id"]) == {
        "ada@example.com": ("skipped", "weekly cap: 1 emails in 7 days"),
        "cy@example.com": ("skipped", "suppressed: unsubscribed"),
    }
    # The partner allowed one send on its behalf in 30 days: the next one leaves it out.
    again = send_on_behalf(client, shop)
    assert again["sends"] == []
    reasons = {s["partner_name"]: s["reason"] for s in again["skipped"]}
    assert reasons["Acme IT GmbH"] == "its limit is reached: 1 sends on its behalf in 30 days"


def test_withdrawing_cancels_a_scheduled_send_on_the_partners_behalf(client, shop, smtp_handler):
    allow(client, shop)
    tomorrow = (datetime.now() + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    result = send_on_behalf(client, shop, local_at=tomorrow.isoformat())
    assert [s["status"] for s in result["sends"]] == ["scheduled"]

    withdrawn = client.delete("/api/v1/email-sends/consent", headers=shop["headers"])

    assert withdrawn.status_code == 200
    assert withdrawn.json["status"] == "withdrawn" and withdrawn.json["cancelled_sends"] == 1
    after = client.get(f"/api/v1/email-sends/on-behalf/{result['id']}", headers=shop["marketer"]).json
    assert [(s["status"], s["detail"]) for s in after["sends"]] == [
        ("cancelled", "the partner withdrew its consent to sends on its behalf")
    ]
    # Its time comes: nothing starts, nothing is sent.
    assert behalf.start_behalf_send(result["sends"][0]["send_id"]) == "not due"
    assert smtp_handler.received == []
    again = send_on_behalf(client, shop)
    reasons = {s["partner_name"]: s["reason"] for s in again["skipped"]}
    assert reasons["Acme IT GmbH"].startswith("withdrew its consent on ")


class WithdrawingHandler(RecordingHandler):
    """Records messages; while the first one's DATA is under way, `withdraw` runs (if set)."""

    withdraw = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.withdraw is not None and not self.received:
            self.withdraw()
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def smtp_handler():
    return WithdrawingHandler()


def test_a_withdrawn_consent_stops_a_send_under_way(app, client, shop, smtp_handler):
    allow(client, shop)

    def withdraw():  # the partner's user, in another request, while the first message goes out
        with app.app_context():
            behalf.withdraw_consent(Principal.of(db.session.get(User, shop["user"].id)))

    smtp_handler.withdraw = withdraw

    result = send_on_behalf(client, shop)

    send = result["sends"][0]
    assert send["status"] == "cancelled" and send["detail"] == behalf.WITHDRAWN
    assert len(smtp_handler.received) == 1  # the message in flight when the partner withdrew
    assert (send["sent"], send["queued"]) == (1, 2)
    assert db.session.get(EmailSend, send["send_id"]).status == "cancelled"


def test_consent_and_on_behalf_errors_name_the_problem(client, shop):
    missing = 999999
    refused = client.put("/api/v1/email-sends/consent", headers=shop["headers"], json={"list_ids": [missing]})
    assert refused.status_code == 422 and refused.json["message"] == f"no contact list {missing}"
    zero = client.put(
        "/api/v1/email-sends/consent",
        headers=shop["headers"],
        json={"list_ids": [shop["list_id"]], "max_sends_per_month": 0},
    )
    assert zero.status_code == 422 and "max_sends_per_month" in json.dumps(zero.json["errors"])
    assert client.get("/api/v1/email-sends/consent", headers=shop["headers"]).json["status"] == "none"
    nothing = client.delete("/api/v1/email-sends/consent", headers=shop["headers"])
    assert nothing.status_code == 404
    assert nothing.json["message"] == "this partner has not allowed sends on its behalf"
    allow(client, shop)
    client.delete("/api/v1/email-sends/consent", headers=shop["headers"])
    twice = client.delete("/api/v1/email-sends/consent", headers=shop["headers"])
    assert twice.status_code == 409
    assert twice.json["message"].startswith("the consent was already withdrawn on ")
    body = {"campaign_id": 99999}
    unknown = client.post("/api/v1/email-sends/on-behalf", headers=shop["marketer"], json=body)
    assert unknown.status_code == 404 and unknown.json["message"] == "campaign 99999 not found"
    allow(client, shop)
    past = send_on_behalf(client, shop, local_at="2020-01-01T09:00:00")
    reasons = {s["partner_name"]: s["reason"] for s in past["skipped"]}
    assert reasons["Acme IT GmbH"] == "2020-01-01 09:00 in UTC has passed"
    cancel = client.post(f"/api/v1/email-sends/on-behalf/{past['id']}/cancel", headers=shop["marketer"])
    assert cancel.status_code == 200
    again = client.post(f"/api/v1/email-sends/on-behalf/{past['id']}/cancel", headers=shop["marketer"])
    assert again.status_code == 409
    assert again.json["message"] == "this send on partners' behalf is already cancelled"
