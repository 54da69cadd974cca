"""A campaign email for one partner, rendered once; each recipient's message filled in from it.

The co-branded part is rendered with placeholders where a recipient's own values go (greeting,
unsubscribe link, open pixel); tracked links get the recipient's send id (`?s=<uid>`), so every
open and click is that recipient's. Filling in is string substitution, never a second render.
"""

from __future__ import annotations

import binascii
import dataclasses
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr

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
    variant: str | None = None  # an experiment's arm for this recipient (None: the send's own)


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
        self._fixed_head: bytes | None = None
        self._boundary = f"=_tcma_{secrets.token_hex(12)}"

    def envelope_from(self, uid: str) -> str:
        """VERP: a bounce to this address names the message it is about."""
        return f"bounces+{uid}@{self.domain}"

    def _parts(self, person: Personal) -> tuple[str, str, str]:
        """The recipient's text, HTML and unsubscribe URL: greeting, links, pixel filled in."""
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
        return text.replace(GREETING, greeting).replace(UNSUBSCRIBE, unsubscribe), html, unsubscribe

    def _headers(self, unsubscribe: str) -> dict[str, str]:
        return {
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "List-Id": self.list_id,
            "Precedence": "bulk",
        }

    def message(self, person: Personal) -> EmailMessage:
        """The recipient's message as an EmailMessage (previews and tests; sending uses `wire`)."""
        text, html, unsubscribe = self._parts(person)
        outgoing = OutgoingMail(
            to=[person.address],
            subject=self.prepared.subject,
            text=text,
            html=html,
            message_id=person.message_id,
            headers=self._headers(unsubscribe),
        )
        message = build_message(outgoing, self.mail_settings)
        return self.signer.sign(message) if self.signer else message

    def wire(self, person: Personal) -> bytes:
        """The recipient's message as sent, built as bytes around headers encoded once per send.

        The email package spends milliseconds per message parsing headers it wrote itself; here
        only To, Message-ID, Date and the unsubscribe link change, and the two parts are encoded
        with binascii's quoted-printable. A non-ASCII address takes the `message` path.
        """
        if not person.address.isascii():
            return self.message(person).as_bytes(policy=SMTP)
        text, html, unsubscribe = self._parts(person)
        head = self._fixed_head or self._head()
        lines = [
            f"To: {person.address}",
            f"Date: {format_datetime(datetime.now(UTC))}",
            f"Message-ID: {person.message_id}",
            f"List-Unsubscribe: <{unsubscribe}>",
        ]
        if any("\r" in line or "\n" in line for line in lines):
            raise ValueError("a header contains a line break; refused (header injection)")
        boundary = self._boundary
        raw = b"".join(
            (
                head,
                "\r\n".join(lines).encode(),
                b"\r\n",
                b"MIME-Version: 1.0\r\n",
                f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'.encode(),
                f"--{boundary}\r\n".encode(),
                _qp_part("text/plain", text),
                f"--{boundary}\r\n".encode(),
                _qp_part("text/html", html),
                f"--{boundary}--\r\n".encode(),
            )
        )
        return self.signer.sign_bytes(raw) if self.signer else raw

    def _head(self) -> bytes:
        """From, Reply-To, Subject and the list headers, folded and encoded once per send."""
        policy = SMTP
        names = {
            "From": self.mail_settings.from_address,
            "Reply-To": self.mail_settings.reply_to,
            "Subject": self.prepared.subject,
            "List-Id": self.list_id,
            "Precedence": "bulk",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
        head = "".join(policy.fold(name, value) for name, value in names.items() if value)
        self._fixed_head = head.encode("ascii")
        return self._fixed_head


def _qp_part(media_type: str, content: str) -> bytes:
    body = binascii.b2a_qp(content.replace("\r\n", "\n").encode("utf-8"), istext=True)
    body = body.replace(b"\n", b"\r\n")
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return (
        f'Content-Type: {media_type}; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'
    ).encode() + body


def preheader_of(spec: dict, values: dict) -> str:
    """The template's preheader (its manifest's [email] preheader), filled like the subject."""
    source = ((spec.get("manifest") or {}).get("email") or {}).get("preheader") or ""
    return campaigns.render_text(source, values).strip() if source else ""
