"""Frequency caps of campaign email: a weekly cap per contact, a daily cap per partner."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text, update

from tcma.extensions import db
from tcma.models import EmailRecipient, EmailSend
from tcma.services.sending.delivery import recover_sends
from tcma.services.transaction import commit
from tests.tcma.email.conftest import new_send, send_now


def recipients(send_id):
    return {
        r.address: r
        for r in db.session.scalars(select(EmailRecipient).where(EmailRecipient.send_id == send_id))
    }


@pytest.fixture
def email_settings():
    return {"EMAIL_WEEKLY_CAP": 1, "EMAIL_DAILY_CAP": 2}


def test_weekly_cap_skips_and_daily_cap_holds_the_rest(client, shop, smtp_handler):
    send = new_send(client, shop)
    first = send_now(client, shop, send["id"])
    assert first["status"] == "sending" and first["resume_at"]
    assert first["numbers"]["sent"] == 2 and first["numbers"]["queued"] == 1
    # The next day (the cap's day has passed): the maintenance pass goes on with the send.
    db.session.execute(
        update(EmailRecipient).values(
            claimed_at=text("claimed_at - interval '1 day'"), sent_at=text("sent_at - interval '1 day'")
        )
    )
    db.session.execute(update(EmailSend).values(resume_at=text("resume_at - interval '1 day'")))
    commit()
    assert recover_sends()["resumed"] == 1
    after = client.get(f"/api/v1/email-sends/{send['id']}", headers=shop["headers"]).json
    assert after["status"] == "done" and after["numbers"]["sent"] == 3

    smtp_handler.received.clear()
    second = new_send(client, shop)
    done = send_now(client, shop, second["id"])
    assert smtp_handler.received == []
    assert done["numbers"]["skipped"] == 3
    assert {r.detail for r in recipients(second["id"]).values()} == {"weekly cap: 1 emails in 7 days"}
