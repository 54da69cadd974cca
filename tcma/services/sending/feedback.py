"""What mailbox providers report back about campaign email: SMTP delivery status notifications
(RFC 3464) and complaint reports (ARF, RFC 5965) reaching the VERP bounce address, and Amazon SES
notifications through SNS (signature verified first). Hard bounces and complaints suppress the
address (complaints for every partner); soft bounces are noted on the message."""

from __future__ import annotations

import base64
import email
import email.policy
import json
import re
import ssl
from email.message import Message
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from sqlalchemy import select

from tcma.config import get_settings
from tcma.errors import InvalidInput, PermissionDenied
from tcma.extensions import db
from tcma.models import EmailRecipient
from tcma.services.sending.suppressions import suppress
from tcma.services.transaction import commit

VERP = re.compile(r"bounces\+([0-9a-f]{32})@", re.IGNORECASE)
SNS_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
    "UnsubscribeConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}


def record_feedback_message(raw: bytes, envelope_to: str | None = None) -> dict[str, Any]:
    """A DSN or complaint report that reached the bounce address: what it says, applied."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    report = (
        message.get_param("report-type", header="content-type")
        if message.get_content_type() == "multipart/report"
        else None
    )
    if report not in ("delivery-status", "feedback-report"):
        return {"outcome": "ignored", "reason": "not a delivery status notification or a complaint report"}
    uid = _verp_uid(envelope_to or "") or _verp_uid(str(message["To"] or ""))
    recipient = _find(uid, _original_message_id(message))
    if recipient is None:
        return {"outcome": "ignored", "reason": "it names no message tcma sent"}
    if report == "feedback-report":
        return _apply(recipient, "complaint", "complaint report (ARF)")
    status = _dsn_status(message)
    if status is None:
        return {"outcome": "ignored", "reason": "the report has no failed recipient"}
    return _apply(
        recipient,
        "hard_bounce" if status[0].startswith("5") else "soft_bounce",
        f"{status[0]} {status[1]}".strip(),
    )


def _verp_uid(address: str) -> str | None:
    match = VERP.search(address)
    return match.group(1).lower() if match else None


def _original_message_id(message: Message) -> str | None:
    for part in message.walk():
        if part.get_content_type() in ("text/rfc822-headers", "message/rfc822"):
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) else email.message_from_string(str(payload))
            if inner.get("Message-ID"):
                return str(inner["Message-ID"]).strip()
    return None


def _dsn_status(message: Message) -> tuple[str, str] | None:
    """The first failed (or delayed) recipient's Status and diagnostic."""
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        for block in part.get_payload():
            action = str(block.get("Action", "")).strip().lower()
            status = str(block.get("Status", "")).strip()
            if action in ("failed", "delayed") and status:
                return status, str(block.get("Diagnostic-Code", "")).strip()
    return None


def _find(uid: str | None, message_id: str | None) -> EmailRecipient | None:
    if uid:
        found = db.session.scalar(select(EmailRecipient).where(EmailRecipient.uid == uid))
        if found is not None:
            return found
    if message_id:
        return db.session.scalar(select(EmailRecipient).where(EmailRecipient.message_id == message_id))
    return None


def _apply(recipient: EmailRecipient, outcome: str, detail: str) -> dict[str, Any]:
    """Hard bounce: bounced, suppressed for the partner; complaint: complained, suppressed for every
    partner; soft bounce: noted only."""
    if outcome == "hard_bounce":
        recipient.status, recipient.detail = "bounced", f"hard bounce: {detail}"[:2000]
        suppress(recipient.partner_id, recipient.address_hash, "hard_bounce", "bounce report")
    elif outcome == "complaint":
        recipient.status, recipient.detail = "complained", detail
        suppress(None, recipient.address_hash, "complaint", "complaint report")
        suppress(recipient.partner_id, recipient.address_hash, "complaint", "complaint report")
    else:
        recipient.detail = f"soft bounce: {detail}"[:2000]
    commit()
    return {"outcome": outcome, "recipient_id": recipient.id}


# Amazon SES through SNS --------------------------------------------------------------------------


def record_sns_notification(body: bytes) -> dict[str, Any]:
    """An SNS POST: signature verified against SNS's certificate before anything else; then a
    subscription confirmed, or SES's bounce or complaint applied."""
    try:
        note = json.loads(body)
        kind = note["Type"]
        fields = SNS_FIELDS[kind]
    except (ValueError, KeyError, TypeError):
        raise InvalidInput("not an SNS message", {"body": ["an SNS message (JSON with Type)"]}) from None
    _verify_sns(note, fields)
    if kind == "SubscriptionConfirmation":
        _fetch(_sns_url(note["SubscribeURL"], "SubscribeURL"))
        return {"outcome": "subscribed", "topic": note.get("TopicArn")}
    if kind != "Notification":
        return {"outcome": "ignored", "reason": kind}
    try:
        event = json.loads(note["Message"])
    except ValueError:
        return {"outcome": "ignored", "reason": "the notification's Message is not JSON"}
    return _ses_event(event)


def _ses_event(event: dict[str, Any]) -> dict[str, Any]:
    kind = event.get("notificationType") or event.get("eventType")
    mail = event.get("mail") or {}
    message_id = (mail.get("commonHeaders") or {}).get("messageId") or _header(mail, "Message-ID")
    recipient = _find(_verp_uid(str(mail.get("source") or "")), message_id)
    if recipient is None:
        return {"outcome": "ignored", "reason": "it names no message tcma sent"}
    if kind == "Bounce":
        bounce = event.get("bounce") or {}
        status = next(
            (r.get("status") or r.get("diagnosticCode") or "" for r in bounce.get("bouncedRecipients", [])),
            "",
        )
        outcome = "hard_bounce" if bounce.get("bounceType") == "Permanent" else "soft_bounce"
        return _apply(
            recipient, outcome, f"SES {bounce.get('bounceType')}/{bounce.get('bounceSubType')} {status}"
        )
    if kind == "Complaint":
        feedback = (event.get("complaint") or {}).get("complaintFeedbackType") or "complaint"
        return _apply(recipient, "complaint", f"SES complaint: {feedback}")
    return {"outcome": "ignored", "reason": f"SES {kind}"}


def _header(mail: dict[str, Any], name: str) -> str | None:
    for header in mail.get("headers") or []:
        if str(header.get("name", "")).lower() == name.lower():
            return header.get("value")
    return None


def _verify_sns(note: dict[str, Any], fields: tuple[str, ...]) -> None:
    version = str(note.get("SignatureVersion"))
    algorithm = {"1": hashes.SHA1(), "2": hashes.SHA256()}.get(version)
    if algorithm is None:
        raise PermissionDenied(f"SNS SignatureVersion {version!r} is not 1 or 2; refused")
    certificate = x509.load_pem_x509_certificate(
        _fetch(_sns_url(note.get("SigningCertURL", ""), "SigningCertURL"))
    )
    text = "".join(f"{name}\n{note[name]}\n" for name in fields if name in note)
    try:
        signature = base64.b64decode(note.get("Signature", ""), validate=True)
        certificate.public_key().verify(signature, text.encode(), padding.PKCS1v15(), algorithm)
    except (InvalidSignature, ValueError) as exc:
        raise PermissionDenied("the SNS message's signature does not verify; refused") from exc


def _sns_url(url: str, name: str) -> str:
    """Only an HTTPS URL on an SNS host (TCMA_EMAIL_SNS_HOSTS) is fetched."""
    parts = urlsplit(url or "")
    if parts.scheme != "https" or not re.fullmatch(get_settings().email_sns_hosts, parts.hostname or ""):
        raise PermissionDenied(f"{name} must be an https URL on an SNS host, not {url[:200]!r}; refused")
    return url


def _fetch(url: str) -> bytes:
    settings = get_settings()
    try:
        context = ssl.create_default_context(cafile=settings.email_sns_ca_file or None)
        response = httpx.get(url, timeout=10, verify=context)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise InvalidInput(f"{url[:200]} could not be fetched: {exc}", {"url": [str(exc)]}) from None
    return response.content

