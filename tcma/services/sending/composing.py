"""A campaign email for one partner, rendered once; each recipient's message filled in from it.

The co-branded part is rendered with placeholders where a recipient's own values go (greeting,
unsubscribe link, open pixel); tracked links get the recipient's send id (`?s=<uid>`), so every
open and click is that recipient's. Filling in is string substitution, never a second render.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr

from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import escape

import campaigns
from tcma.config import get_settings
from tcma.mail import MailSettings, OutgoingMail, build_message

GREETING = "[[tcma:greeting]]"
UNSUBSCRIBE = "https://tcma.invalid/unsubscribe/[[tcma:recipient]]"
PIXEL = "https://tcma.invalid/open/[[tcma:recipient]].gif"
PREHEADER_STYLE = (
    "display:none;font-size:1px;color:#ffffff;line-height:1px;max-height:0;"
    "max-width:0;opacity:0;overflow:hidden;mso-hide:all"
)
BODY_OPEN = re.compile(r"<body[^>]*>", re.IGNORECASE)


@dataclass(frozen=True)
class PreparedEmail:
    """A partner's rendered email with its placeholders, and what every message of it shares."""

    subject: str
    preheader: str
    html: str
    text: str


@dataclass(frozen=True)
class Personal:
    """What differs per recipient."""

    recipient_id: int
    uid: str
    address: str
    first_name: str | None
    message_id: str


def with_preheader(html: str, preheader: str) -> str:
    """The inbox preview line as the first, hidden, text of the body."""
    if not preheader:
        return html
    hidden = f'<div style="{PREHEADER_STYLE}">{escape(preheader)}</div>'
    match = BODY_OPEN.search(html)
    return html[: match.end()] + hidden + html[match.end() :] if match else hidden + html


def greeting_for(template: str, first_name: str | None) -> str:
    """The send's greeting ("Hello {first_name},") for one person; without a name, "Hello,"."""
    if first_name:
        return template.replace("{first_name}", first_name.strip())
    return re.sub(r"\s*\{first_name\}", "", template)


def _unsubscribe_signer() -> URLSafeSerializer:
    return URLSafeSerializer(get_settings().secret_key, salt="tcma-recipient-unsubscribe")


def unsubscribe_link(recipient_id: int) -> str:
    """The recipient's own signed unsubscribe URL (RFC 8058: it alone says who, and for whom)."""
    return f"{get_settings().public_url}/u/{_unsubscribe_signer().dumps(recipient_id)}"


def recipient_of_token(token: str) -> int | None:
    """The recipient id an unsubscribe token speaks for, or None if it is not ours."""
    try:
        value = _unsubscribe_signer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class MessageFiller:
    """Builds each recipient's message of one send from the prepared email (cheap per message)."""

    def __init__(
        self,
        prepared: PreparedEmail,
        *,
        partner_name: str,
        reply_to: str | None,
        greeting: str,
        pixel_for,
        mail_settings: MailSettings,
        list_id: str,
        signer=None,
    ) -> None:
        settings = get_settings()
        self.prepared, self.greeting, self.pixel_for = prepared, greeting, pixel_for
        self.links = re.compile(re.escape(settings.public_url) + r"/l/([A-Za-z0-9]+)")
        self.domain = settings.email_sending_domain
        # A verified partner domain signs (DKIM) and is the From; else the vendor's sending domain.
        self.signer = signer
        address = signer.from_address if signer else f"{settings.email_from_local}@{self.domain}"
        sender = formataddr((partner_name.replace("\r", " ").replace("\n", " "), address))
        self.mail_settings = dataclasses.replace(mail_settings, from_address=sender, reply_to=reply_to)
        self.list_id = list_id

    def envelope_from(self, uid: str) -> str:
        """VERP: a bounce to this address names the message it is about."""
        return f"bounces+{uid}@{self.domain}"

    def message(self, person: Personal) -> EmailMessage:
        """The recipient's message: personal greeting, links, pixel and unsubscribe; text and HTML."""
        unsubscribe = unsubscribe_link(person.recipient_id)
        greeting = greeting_for(self.greeting, person.first_name)
        link_suffix = f"?s={person.uid}"
        html = self.links.sub(lambda m: m.group(0) + link_suffix, self.prepared.html)
        html = (
            html.replace(GREETING, str(escape(greeting)))
            .replace(UNSUBSCRIBE, unsubscribe)
            .replace(PIXEL, self.pixel_for(person.uid))
        )
        text = self.links.sub(lambda m: m.group(0) + link_suffix, self.prepared.text)
        text = text.replace(GREETING, greeting).replace(UNSUBSCRIBE, unsubscribe)
        outgoing = OutgoingMail(
            to=[person.address],
            subject=self.prepared.subject,
            text=text,
            html=html,
            message_id=person.message_id,
            headers={
                "List-Unsubscribe": f"<{unsubscribe}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "List-Id": self.list_id,
                "Precedence": "bulk",
            },
        )
        message = build_message(outgoing, self.mail_settings)
        return self.signer.sign(message) if self.signer else message


def preheader_of(spec: dict, values: dict) -> str:
    """The template's preheader (its manifest's [email] preheader), filled like the subject."""
    source = ((spec.get("manifest") or {}).get("email") or {}).get("preheader") or ""
    return campaigns.render_text(source, values).strip() if source else ""
