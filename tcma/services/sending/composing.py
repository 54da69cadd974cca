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
LINK_SUFFIX = "[[tcma:link-suffix]]"  # the slot after each tracked link: ?s=<the recipient's send id>
MAX_QP_LINE = 76  # RFC 2045: encoded lines of at most 76 characters


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
        self._plan: tuple[list[str], list[str]] | None = None
        self._encoded: tuple[list, list] | None = None
        self._unsubscribe: tuple[str, URLSafeSerializer] | None = None
        self._boundary = f"=_tcma_{secrets.token_hex(12)}"

    def envelope_from(self, uid: str) -> str:
        """VERP: a bounce to this address names the message it is about."""
        return f"bounces+{uid}@{self.domain}"

    def _plans(self) -> tuple[list[str], list[str]]:
        """The HTML and text split once per send into fixed text and the slots a recipient fills."""
        if self._plan is None:
            html = _split(self.prepared.html, self.links, (GREETING, UNSUBSCRIBE, PIXEL))
            text = _split(self.prepared.text, self.links, (GREETING, UNSUBSCRIBE))
            self._plan = (html, text)
        return self._plan

    def _values(self, person: Personal) -> tuple[dict[str, str], dict[str, str]]:
        """What fills each slot for this person, in the HTML and in the text."""
        greeting = greeting_for(self.greeting, person.first_name)
        unsubscribe = self._unsubscribe_link(person.recipient_id)
        shared = {LINK_SUFFIX: f"?s={person.uid}", UNSUBSCRIBE: unsubscribe}
        html = {**shared, GREETING: str(escape(greeting)), PIXEL: self.pixel_for(person.uid)}
        return html, {**shared, GREETING: greeting}

    def _unsubscribe_link(self, recipient_id: int) -> str:
        if self._unsubscribe is None:
            self._unsubscribe = (f"{get_settings().public_url}/u/", _unsubscribe_signer())
        prefix, signer = self._unsubscribe
        return prefix + signer.dumps(recipient_id)

    def _parts(self, person: Personal) -> tuple[str, str, str]:
        """The recipient's text, HTML and unsubscribe URL: greeting, links, pixel filled in."""
        html_plan, text_plan = self._plans()
        html_values, text_values = self._values(person)
        html = "".join(html_values[p] if i % 2 else p for i, p in enumerate(html_plan))
        text = "".join(text_values[p] if i % 2 else p for i, p in enumerate(text_plan))
        return text, html, html_values[UNSUBSCRIBE]

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
        html_values, text_values = self._values(person)
        unsubscribe = html_values[UNSUBSCRIBE]
        head = self._fixed_head or self._head()
        lines = [
            f"To: {person.address}",
            f"Date: {format_datetime(datetime.now(UTC))}",
            f"Message-ID: {person.message_id}",
            f"List-Unsubscribe: <{unsubscribe}>",
        ]
        if any("\r" in line or "\n" in line for line in lines):
            raise ValueError("a header contains a line break; refused (header injection)")
        html_body, text_body = self._encoded_plans()
        boundary = self._boundary
        raw = b"".join(
            (
                head,
                "\r\n".join(lines).encode(),
                b"\r\n",
                b"MIME-Version: 1.0\r\n",
                f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'.encode(),
                f"--{boundary}\r\n".encode(),
                _part_head("text/plain"),
                _fill_encoded(text_body, text_values),
                f"--{boundary}\r\n".encode(),
                _part_head("text/html"),
                _fill_encoded(html_body, html_values),
                f"--{boundary}--\r\n".encode(),
            )
        )
        return self.signer.sign_bytes(raw) if self.signer else raw

    def _encoded_plans(self) -> tuple[list, list]:
        """The plans with their fixed text quoted-printable encoded once (slots stay names)."""
        if self._encoded is None:
            self._encoded = tuple(
                [qp_piece(p) if i % 2 == 0 else p for i, p in enumerate(plan)] for plan in self._plans()
            )
        return self._encoded

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


def _split(content: str, links: re.Pattern, placeholders: tuple[str, ...]) -> list[str]:
    """[fixed, slot, fixed, slot, ..., fixed]: a slot after each tracked link (its ?s=<uid>) and in
    place of each placeholder; even items are fixed text, odd items slot names."""
    pattern = re.compile("|".join([links.pattern, *map(re.escape, placeholders)]))
    plan, start = [], 0
    for match in pattern.finditer(content):
        if match.group(0) in placeholders:
            plan += [content[start : match.start()], match.group(0)]
        else:
            plan += [content[start : match.end()], LINK_SUFFIX]
        start = match.end()
    plan.append(content[start:])
    return plan


def qp_piece(content: str) -> bytes:
    """Quoted-printable for a piece of a part, ending with a line break (a soft one, =CRLF, when
    the piece ends mid-line), so that encoded pieces join into a valid body that decodes to the
    pieces joined."""
    if not content:
        return b""
    body = binascii.b2a_qp(content.replace("\r\n", "\n").encode("utf-8"), istext=True).replace(b"\n", b"\r\n")
    if body.endswith(b"\r\n"):
        return body
    cut = body.rfind(b"\r\n") + 2 if b"\r\n" in body else 0
    last = body[cut:]
    if len(last) > MAX_QP_LINE - 1:  # no room for the soft break's "=": break the line earlier
        at = MAX_QP_LINE - 1
        while b"=" in last[at - 2 : at]:  # never inside an =XX escape
            at -= 1
        body = body[:cut] + last[:at] + b"=\r\n" + last[at:]
    return body + b"=\r\n"


def _fill_encoded(plan: list, values: dict[str, str]) -> bytes:
    body = b"".join(qp_piece(values[p]) if i % 2 else p for i, p in enumerate(plan))
    # The line break before the boundary belongs to the boundary: the last soft break goes.
    return body[:-3] + b"\r\n" if body.endswith(b"=\r\n") else body or b"\r\n"


def _part_head(media_type: str) -> bytes:
    return (
        f'Content-Type: {media_type}; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'
    ).encode()


def preheader_of(spec: dict, values: dict) -> str:
    """The template's preheader (its manifest's [email] preheader), filled like the subject."""
    source = ((spec.get("manifest") or {}).get("email") or {}).get("preheader") or ""
    return campaigns.render_text(source, values).strip() if source else ""
