"""The parts of a complete email: images as CID parts or inline, the text part, the .eml file."""

from __future__ import annotations

import base64
import hashlib
import re
from email.message import EmailMessage
from email.policy import SMTP
from html.parser import HTMLParser

LOGO_CID = "partner-logo@tcma"
HERO_CID = "hero@tcma"
BLOCKS = {"p", "div", "tr", "table", "h1", "h2", "h3", "h4", "li", "ul", "ol", "hr"}
SKIPPED = {"style", "script", "title", "head"}
URL_TEXT = re.compile(r"^\s*(https?://|www\.)", re.IGNORECASE)


class _TextWriter(HTMLParser):
    """Collects an email body's visible text: blocks as paragraphs, links as 'label: URL'."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._hidden = 0
        self._href: list[str | None] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        attributes = dict(attrs)
        style = (attributes.get("style") or "").replace(" ", "").lower()
        if tag in SKIPPED:
            self._skip += 1
        elif tag == "div" and "display:none" in style:  # the preheader: not part of the text
            self._hidden += 1
            self._href.append("hidden")
            return
        if tag == "br":
            self.parts.append("\n")
        elif tag in BLOCKS:
            self.parts.append("\n\n")
        if tag == "a":
            self._href.append(attributes.get("href"))
        elif tag == "div":
            self._href.append(None)

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED:
            self._skip = max(self._skip - 1, 0)
        elif tag in ("a", "div") and self._href:
            href = self._href.pop()
            if href == "hidden":
                self._hidden -= 1
            elif tag == "a" and href and not href.startswith(("cid:", "#")):
                self.parts.append(f": {href}")
        if tag in BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skip and not self._hidden:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """The plain-text part from the HTML itself, so both parts always say the same."""
    body = re.split(r"<body[^>]*>", html, maxsplit=1)[-1]
    writer = _TextWriter()
    writer.feed(body)
    text = "".join(writer.parts)
    lines = [line.strip() for line in text.splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def data_uri(data: bytes, media_type: str) -> str:
    """Bytes as a data: URI (a standalone .html file carries its images)."""
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


def eml_bytes(subject: str, html: str, text: str, images: dict[str, tuple[bytes, str]],
              lang: str) -> bytes:
    """A complete message: text and HTML alternatives, images as related CID parts.

    No From, To or Date: the sender adds them per recipient. The MIME boundaries are derived
    from the content, so the same email is byte-for-byte the same file.
    """
    message = EmailMessage(policy=SMTP)
    message["Subject"] = subject
    message["MIME-Version"] = "1.0"
    message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    if lang:  # after the parts exist: making a multipart moves Content-* headers into its first part
        message["Content-Language"] = lang
    html_part = message.get_payload()[1]
    for cid, (data, media_type) in images.items():
        maintype, subtype = media_type.split("/")
        html_part.add_related(data, maintype=maintype, subtype=subtype, cid=f"<{cid}>",
                              disposition="inline", filename=cid.split("@")[0] + "." + subtype)
    seed = hashlib.sha256(html.encode() + text.encode()).hexdigest()
    for index, part in enumerate(message.walk()):
        if part.is_multipart():
            part.set_boundary(f"tcma-{seed[:24]}-{index}")
    return message.as_bytes()
