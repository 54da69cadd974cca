"""The demo's campaign email: contacts for a few partners, the newsletter sent to them (into the
outbox folder of the embedded default), then opens and clicks by people and by machines.

People open and click "a few minutes later" (the send events are moved back, as if delivered
then); a mail security scanner clicks every link of some messages at once and an image proxy
fetches some pixels: the tracking flags those as machine activity, shown apart from people's.
"""

from __future__ import annotations

import email
import email.policy
import random
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from tcma.config import get_settings
from tcma.demo.traffic import BROWSERS, SCANNER, drain_and_read
from tcma.extensions import db
from tcma.models import Event, Partner, User
from tcma.services.accounts.auth import Principal
from tcma.services.sending import contacts, sends
from tcma.services.transaction import commit

FIRST_NAMES = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tim")
IMAGE_PROXY = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
CONSENT = {"consent_source": "demo: newsletter sign-up form", "consent_text": "Yes, send me the newsletter."}


@dataclass
class DemoEmail:
    """Per demo send: the partner's name and the send's numbers; where the messages are."""

    sends: list[tuple[str, dict[str, int]]] = field(default_factory=list)
    outbox: str = ""


def send_demo_newsletter(campaign_id: int, partners: int = 3, per_partner: int = 10) -> DemoEmail:
    """Contacts for the first partners, the campaign's newsletter sent to them, opened and clicked."""
    report = DemoEmail(outbox=str(get_settings().mail_outbox_dir))
    rng = random.Random(11)
    send_ids = []
    for partner in db.session.scalars(select(Partner).order_by(Partner.id).limit(partners)):
        user = db.session.scalar(select(User).where(User.partner_id == partner.id).limit(1))
        principal = Principal.of(user)
        contact_list = contacts.create_list(principal, "Customers (demo)")
        for n in range(per_partner):
            first = FIRST_NAMES[n % len(FIRST_NAMES)]
            contacts.add_contact(principal, {"email": f"{first.lower()}.{n}@customers.{partner.slug}.example",
                                             "first_name": first if n % 4 else None,
                                             "list_ids": [contact_list.id], **CONSENT})
        send = sends.create_send(principal, {"campaign_id": campaign_id, "list_ids": [contact_list.id]})
        sends.schedule_send(principal, send.id, None)
        send_ids.append((partner.name, send.id))
    _engage(rng, report.outbox, {send_id for _, send_id in send_ids})
    drain_and_read(campaign_id)
    numbers = sends.send_numbers([send_id for _, send_id in send_ids])
    report.sends = [(name, sends.summary(numbers[send_id])) for name, send_id in send_ids]
    return report


def _engage(rng: random.Random, outbox: str, send_ids: set[int]) -> None:
    messages = _messages(outbox)
    client = current_app.test_client()
    for html in messages[::4]:  # a scanner clicks every link within a second of delivery
        for link in _links(html):
            client.get(link, headers={"User-Agent": SCANNER}, environ_base={"REMOTE_ADDR": "198.51.100.25"})
    for html in messages[1::3]:  # an image proxy fetches the pixel
        client.get(_pixel(html), headers={"User-Agent": IMAGE_PROXY},
                   environ_base={"REMOTE_ADDR": "66.102.8.1"})
    # People read later: as if the messages had been delivered ten minutes ago.
    for event in db.session.scalars(select(Event).where(Event.kind == "send")):
        event.occurred_at -= timedelta(minutes=10)
    commit()
    for index, html in enumerate(messages):
        agent, ip = rng.choice(BROWSERS), f"10.20.{index}.{rng.randrange(1, 255)}"
        if rng.random() < 0.6:
            client.get(_pixel(html), headers={"User-Agent": agent}, environ_base={"REMOTE_ADDR": ip})
            if rng.random() < 0.5:
                client.get(rng.choice(_links(html)), headers={"User-Agent": agent},
                           environ_base={"REMOTE_ADDR": ip})


def _messages(outbox: str) -> list[str]:
    """The HTML of every campaign message in the outbox (tcma's own mail has no List-Unsubscribe-Post)."""
    found = []
    for path in sorted(Path(outbox).glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["List-Unsubscribe-Post"]:
            found.append(message.get_body(("html",)).get_content())
    return found


def _links(html: str) -> list[str]:
    base = re.escape(get_settings().public_url)
    return sorted({m.group(1) for m in re.finditer(base + r"(/l/[A-Za-z0-9]+\?s=[0-9a-f]+)", html)})


def _pixel(html: str) -> str:
    base = re.escape(get_settings().public_url)
    return re.search(base + r'(/o/[^"]+\.gif)', html).group(1)
