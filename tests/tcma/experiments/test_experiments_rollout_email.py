# ruff: noqa: F401, F811 (the email and syndication fixtures are imported, and tests take them by name)
"""Test on a share of an email's recipients, then send the winner to the rest: end to end through SMTP
on loopback. The held recipients get exactly the winner, once; at the plan's deadline with no clear
winner they get the control."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from tcma.extensions import db
from tcma.models import Contact, ContactListMember, EmailRecipient, Experiment
from tcma.models.base import utcnow
from tcma.services.maintenance import run_maintenance
from tcma.services.sending.suppressions import address_hash
from tests.tcma.email.conftest import (
    app,
    email_settings,
    new_send,
    send_now,
    shop,
    smtp_handler,
    smtp_port,
)

HEADLINES = {"a": "Zero trust in practice: three lessons from the field",  # the newsletter's variants
             "b": "Three zero-trust mistakes we see every month"}
CONTACTS = 40  # 3 from the shop and 37 more: both sides of a 50% share are never empty in practice


def add_contacts(shop, count: int) -> None:
    for index in range(count):
        address = f"reader{index}@example.org"
        contact = Contact(partner_id=shop["partner"].id, email=address, address_hash=address_hash(address),
                          consent_source="https://partner.example/form", consent_at=utcnow(),
                          consent_text="Send me the newsletter.", tags=[])
        db.session.add(contact)
        db.session.flush()
        db.session.add(ContactListMember(list_id=shop["list_id"], contact_id=contact.id))
    db.session.commit()


def headline_of(received) -> str:
    html = received.message.get_body(("html",)).get_content()
    (found,) = [arm for arm, headline in HEADLINES.items() if headline in html]
    return found


def delivered(smtp_handler, shop) -> dict[str, list[str]]:
    """Each recipient's messages (the headline's arm of each), leaving out the partner's own tests."""
    out: dict[str, list[str]] = {}
    for received in smtp_handler.received:
        out.setdefault(received.rcpt_tos[0], []).append(headline_of(received))
    return out


def start_email_test(client, shop, **overrides) -> dict:
    body = {"name": "Newsletter headline", "unit": "recipient", "metric": "open", "min_sample": 2,
            "min_runtime_days": 0, "variants": [{"name": "a"}, {"name": "b"}],
            "rollout": {"test_share": 0.5, "deadline_hours": 48}, **overrides}
    response = client.post(f"/api/v1/campaigns/{shop['campaign_id']}/experiments", headers=shop["marketer"],
                           json=body)
    assert response.status_code == 201, response.json
    return response.json


def test_the_share_gets_arms_and_the_rest_gets_exactly_the_winner_once(client, shop, smtp_handler):
    add_contacts(shop, CONTACTS - 3)
    experiment = start_email_test(client, shop)
    plan = experiment["rollout"]
    assert plan["test_share"] == 0.5 and plan["held_items"] == 0 and plan["released"] is None
    assert plan["rest_goes"].startswith("when the experiment is decided, at the latest ")

    send = new_send(client, shop)
    sent = send_now(client, shop, send["id"])
    held = sent["numbers"]["held_for_winner"]
    assert 0 < held < CONTACTS
    assert sent["numbers"]["sent"] == CONTACTS - held and sent["status"] == "sending"
    assert sent["experiment_plan"]["held_items"] == held
    assert sent["experiment_plan"]["tested_units"] == CONTACTS - held
    first = delivered(smtp_handler, shop)
    assert len(first) == CONTACTS - held and all(len(arms) == 1 for arms in first.values())
    assert set(Counter(arms[0] for arms in first.values())) == {"a", "b"}  # both arms tested
    rows = db.session.scalars(select(EmailRecipient).where(EmailRecipient.send_id == send["id"])).all()
    assert {r.address: r.variant for r in rows if r.status == "sent"} == {a: v[0] for a, v in first.items()}
    shown = client.get(f"/api/v1/experiments/{experiment['id']}", headers=shop["marketer"]).json
    assert shown["rollout"]["held_items"] == held and shown["rollout"]["tested_units"] == CONTACTS - held

    decided = client.post(f"/api/v1/experiments/{experiment['id']}/decide", headers=shop["marketer"],
                          json={"winner": "b"})
    assert decided.status_code == 200, decided.json
    went = decided.json["rollout"]["released"]
    assert (went["variant"], went["recipients"], went["sends"]) == ("b", held, 1)
    assert decided.json["rollout"]["held_items"] == 0
    assert decided.json["rollout"]["tested_units"] == CONTACTS - held
    assert decided.json["rollout"]["rest_goes"].startswith("went ") and "in variant b" in \
        decided.json["rollout"]["rest_goes"]
    final = delivered(smtp_handler, shop)
    assert len(final) == CONTACTS and all(len(arms) == 1 for arms in final.values())  # each once
    rest = {address: arms for address, arms in final.items() if address not in first}
    assert len(rest) == held and {arms[0] for arms in rest.values()} == {"b"}  # exactly the winner
    done = client.get(f"/api/v1/email-sends/{send['id']}", headers=shop["headers"]).json
    assert done["status"] == "done" and done["numbers"]["sent"] == CONTACTS
    assert done["numbers"]["held_for_winner"] == 0

    run_maintenance()  # nothing goes twice
    again = client.post(f"/api/v1/experiments/{experiment['id']}/stop", headers=shop["marketer"])
    assert again.status_code == 409
    assert len(smtp_handler.received) == CONTACTS


def test_at_the_deadline_with_no_clear_winner_the_rest_gets_the_control(client, shop, smtp_handler):
    add_contacts(shop, CONTACTS - 3)
    experiment = start_email_test(client, shop, auto_decide=False,
                                  rollout={"test_share": 0.5, "deadline_hours": 1})
    send = new_send(client, shop)
    held = send_now(client, shop, send["id"])["numbers"]["held_for_winner"]
    assert held > 0
    assert run_maintenance().experiments == 0  # before the deadline the held part waits
    assert len(smtp_handler.received) == CONTACTS - held
    row = db.session.get(Experiment, experiment["id"])
    row.rest_deadline = utcnow() - timedelta(minutes=1)
    db.session.commit()

    assert run_maintenance().experiments == 1
    shown = client.get(f"/api/v1/experiments/{experiment['id']}", headers=shop["marketer"]).json
    assert shown["status"] == "decided" and shown["winner"] is None
    assert shown["decision"]["rule"]["outcome"] == "no_clear_winner"
    assert shown["decision"]["rule"]["reason"].startswith("the plan's deadline came with no clear winner (")
    assert shown["decision"]["rule"]["reason"].endswith("a (the control) goes to the rest")
    went = shown["rollout"]["released"]
    assert went["variant"] == "a" and went["recipients"] == held
    final = delivered(smtp_handler, shop)
    assert len(final) == CONTACTS and all(len(arms) == 1 for arms in final.values())
    held_addresses = set(db.session.scalars(select(EmailRecipient.address).where(
        EmailRecipient.send_id == send["id"], EmailRecipient.variant == "a")))
    assert {final[address][0] for address in held_addresses} == {"a"}
    assert run_maintenance().experiments == 0
    assert len(smtp_handler.received) == CONTACTS


def test_a_cancelled_send_keeps_its_held_messages_unsent(client, shop, smtp_handler):
    add_contacts(shop, CONTACTS - 3)
    experiment = start_email_test(client, shop)
    send = new_send(client, shop)
    held = send_now(client, shop, send["id"])["numbers"]["held_for_winner"]
    cancelled = client.post(f"/api/v1/email-sends/{send['id']}/cancel", headers=shop["headers"])
    assert cancelled.status_code == 200
    decided = client.post(f"/api/v1/experiments/{experiment['id']}/decide", headers=shop["marketer"],
                          json={"winner": "b"})
    assert decided.json["rollout"]["released"]["recipients"] == held
    assert len(smtp_handler.received) == CONTACTS - held  # the partner stopped it: nothing more goes
