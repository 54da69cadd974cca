"""Outgoing mail: one Mailer interface; SMTP, Amazon SES and local-outbox backends chosen by settings."""

from __future__ import annotations

import contextlib
import email
import email.policy
import logging
import random
import re
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP as WIRE_POLICY
from email.utils import format_datetime, make_msgid, parseaddr, parsedate_to_datetime
from pathlib import Path
from typing import Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from tcma.fileio import write_atomically

log = logging.getLogger(__name__)

BACKENDS = ("outbox", "smtp", "ses")
SMTP_SECURITY = ("none", "starttls", "tls")
# Headers build_message sets itself, or that would change the MIME structure it builds.
RESERVED_HEADERS = {"from", "to", "cc", "bcc", "subject", "date", "message-id", "reply-to",
                    "mime-version", "content-type", "content-transfer-encoding"}
HEADER_NAME = re.compile(r"[!-9;-~]+")
ADDRESS = re.compile(r"[^@\s]+@[^@\s]+")
MESSAGE_ID = re.compile(r"<[^<>\s@]+@[^<>\s@]+>")
SES_THROTTLING = {"TooManyRequestsException", "Throttling", "ThrottlingException"}


def setting_variable(name: str) -> str:
    """The environment variable that sets MailSettings field `name`: TCMA_MAIL_*, TCMA_SMTP_*, TCMA_SES_*."""
    if name.startswith(("smtp_", "ses_")):
        return f"TCMA_{name.upper()}"
    return "TCMA_MAIL_FROM" if name == "from_address" else f"TCMA_MAIL_{name.upper()}"


@dataclass(frozen=True, kw_only=True)
class MailSettings:
    """How mail leaves tcma; each field is set by the environment variable `setting_variable(field)` names."""

    from_address: str
    backend: str = "outbox"
    reply_to: str | None = None
    outbox_dir: str | Path | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_username: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_timeout: float = 30.0
    smtp_ca_file: str | Path | None = None
    ses_region: str | None = None
    ses_endpoint_url: str | None = None
    ses_access_key_id: str | None = None
    ses_secret_access_key: str | None = field(default=None, repr=False)
    ses_configuration_set: str | None = None

    def __post_init__(self) -> None:
        self.check()


    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MailSettings:
        """Settings from a Flask config loaded with from_prefixed_env("TCMA") (keys without TCMA_)."""
        keys = {f.name: setting_variable(f.name).removeprefix("TCMA_") for f in fields(cls)}
        return cls(**{name: config[key] for name, key in keys.items() if key in config})

    def check(self) -> None:
        """Raise ValueError naming the TCMA_ variable that is missing or malformed."""
        _check_choice(self, "backend", BACKENDS)
        _check_address(self.from_address, "from_address")
        if self.reply_to is not None:
            _check_address(self.reply_to, "reply_to")
        if self.backend == "outbox" and not self.outbox_dir:
            raise ValueError(_required("outbox_dir"))
        if self.backend == "smtp":
            self._check_smtp()
        if self.backend == "ses":
            self._check_ses()

    def _check_smtp(self) -> None:
        if not self.smtp_host:
            raise ValueError(_required("smtp_host"))
        port = self.smtp_port
        if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
            raise ValueError(f"TCMA_SMTP_PORT must be a port number from 1 to 65535, not {port!r}")
        _check_choice(self, "smtp_security", SMTP_SECURITY)
        if not isinstance(timeout := self.smtp_timeout, int | float) or not timeout > 0:
            raise ValueError(f"TCMA_SMTP_TIMEOUT must be a number of seconds above 0, not {timeout!r}")
        _check_pair(self, "smtp_username", "smtp_password")
        if self.smtp_username and self.smtp_security == "none":
            raise ValueError("TCMA_SMTP_SECURITY must be starttls or tls when TCMA_SMTP_USERNAME is set, "
                             "so the password never crosses the network in clear")
        if self.smtp_ca_file and not Path(self.smtp_ca_file).is_file():
            raise ValueError(f"TCMA_SMTP_CA_FILE names no file: {str(self.smtp_ca_file)!r}")

    def _check_ses(self) -> None:
        if not self.ses_region:
            raise ValueError(_required("ses_region"))
        url = self.ses_endpoint_url
        if url and not url.startswith(("http://", "https://")):
            raise ValueError(f"TCMA_SES_ENDPOINT_URL must be an http:// or https:// URL, not {url!r}")
        _check_pair(self, "ses_access_key_id", "ses_secret_access_key")


def _required(name: str) -> str:
    backend = {"outbox_dir": "outbox", "smtp_host": "smtp", "ses_region": "ses"}[name]
    return f"{setting_variable(name)} is required when TCMA_MAIL_BACKEND is {backend}"


def _check_choice(settings: MailSettings, name: str, choices: tuple[str, ...]) -> None:
    value = getattr(settings, name)
    if value not in choices:
        raise ValueError(f"{setting_variable(name)} must be one of {', '.join(choices)}, not {value!r}")


def _check_address(value: str | None, name: str) -> None:
    text = value or ""
    if "\r" in text or "\n" in text or not ADDRESS.fullmatch(parseaddr(text)[1]):
        example = "'tcma <no-reply@example.com>'"
        raise ValueError(f"{setting_variable(name)} must be an address like {example}, not {value!r}")


def _check_pair(settings: MailSettings, first: str, second: str) -> None:
    """Both settings or neither: a login without its password (or a key without its secret) is a slip."""
    values = getattr(settings, first), getattr(settings, second)
    if bool(values[0]) != bool(values[1]):
        missing, given = (second, first) if values[0] else (first, second)
        raise ValueError(f"{setting_variable(missing)} is required when {setting_variable(given)} is set")


@dataclass(frozen=True, kw_only=True)
class OutgoingMail:
    """One message to build: recipients, subject, text, optional HTML and extra headers."""

    to: Sequence[str]
    subject: str
    text: str
    html: str | None = None
    reply_to: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    message_id: str | None = None


def new_message_id(settings: MailSettings) -> str:
    """A fresh Message-ID on the From domain, for callers that record it before sending."""
    return make_msgid(domain=parseaddr(settings.from_address)[1].rpartition("@")[2])


def build_message(mail: OutgoingMail, settings: MailSettings, *, now: datetime | None = None) -> EmailMessage:
    """The message as sent: text (+ HTML alternative), Date, Message-ID, From, To, Reply-To, headers."""
    if not mail.to:
        raise ValueError("a message needs at least one recipient in to")
    for address in mail.to:
        if not ADDRESS.fullmatch(parseaddr(address)[1]):
            raise ValueError(f"recipient {address!r} is not an email address")
    if mail.message_id is not None and not MESSAGE_ID.fullmatch(mail.message_id):
        raise ValueError(f"message_id must look like <id@domain>, not {mail.message_id!r}")
    reply_to = mail.reply_to or settings.reply_to
    headers = {
        "From": settings.from_address, "To": ", ".join(mail.to), "Subject": mail.subject,
        "Date": format_datetime(now or datetime.now(UTC)),
        "Message-ID": mail.message_id or new_message_id(settings),
        **({"Reply-To": reply_to} if reply_to else {}),
    }
    for name, value in mail.headers.items():
        if not HEADER_NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not a valid header name")
        if name.lower() in RESERVED_HEADERS:
            raise ValueError(f"header {name} is set by build_message, not through headers")
        headers[name] = value
    message = EmailMessage()
    for name, value in headers.items():
        if "\r" in value or "\n" in value:
            raise ValueError(f"header {name} contains a line break; refused (header injection)")
        message[name] = value
    message.set_content(mail.text, cte="quoted-printable")
    if mail.html is not None:
        message.add_alternative(mail.html, subtype="html", cte="quoted-printable")
    return message


class MailError(Exception):
    """A message could not be handed to the mail transport."""


class TemporaryMailError(MailError):
    """Sending failed for now; the same message may be sent again later (after retry_delay)."""


class PermanentMailError(MailError):
    """Sending failed for good; sending the same message again would fail the same way."""


class Mailer(Protocol):
    """What every backend offers: send one built message once, return the transport's id for it."""

    name: str

    def send(self, message: EmailMessage) -> str:
        """Send once; raise TemporaryMailError or PermanentMailError when the transport refuses."""

    def close(self) -> None:
        """Release what the backend holds open."""


def _message_id(message: EmailMessage) -> str:
    if not message["Message-ID"]:
        raise ValueError("the message has no Message-ID header; build it with build_message")
    return str(message["Message-ID"])


def _redacted(text: str, *secrets: str | None) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


class SmtpMailer:
    """Hands each message to an SMTP server over its own connection (plain, STARTTLS or TLS)."""

    name = "smtp"
    STEPS = {smtplib.SMTPSenderRefused: "refused the sender:", smtplib.SMTPDataError: "refused the message:",
             smtplib.SMTPAuthenticationError: "refused the login:"}

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings
        self.where = f"SMTP {settings.smtp_host}:{settings.smtp_port}"
        self.context = ssl.create_default_context(cafile=settings.smtp_ca_file)

    def send(self, message: EmailMessage) -> str:
        """Deliver the message in one SMTP session; return its Message-ID."""
        message_id = _message_id(message)
        settings = self.settings
        try:
            with self._connect() as smtp:
                if settings.smtp_security == "starttls":
                    smtp.starttls(context=self.context)
                if settings.smtp_username:
                    smtp.login(settings.smtp_username, settings.smtp_password or "")
                refused = smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            error = self._classify(exc)
            raise type(error)(_redacted(str(error), settings.smtp_password)) from exc
        if refused:
            log.warning("%s refused some recipients of %s: %s", self.where, message_id, _replies(refused))
        return message_id

    def close(self) -> None:
        """Nothing to release: each message has its own connection."""

    def send_many(self, messages: Sequence[WireMessage]) -> list[BatchResult]:
        """Send finished messages over one session (TLS and login once), in order."""
        settings = self.settings
        results: list[BatchResult] = []
        try:
            with self._connect() as smtp:
                if settings.smtp_security == "starttls":
                    smtp.starttls(context=self.context)
                if settings.smtp_username:
                    smtp.login(settings.smtp_username, settings.smtp_password or "")
                deferring: set[str] = set()  # domains that answered 4xx: the rest of theirs waits
                for message in messages:
                    domain = message.to.rpartition("@")[2].lower()
                    if domain in deferring:
                        results.append(BatchResult(error=TemporaryMailError(
                            f"{self.where}: not tried, {domain} deferred a message before it")))
                        continue
                    results.append(self._send_one(smtp, message))
                    if results[-1].unknown:
                        break
                    if results[-1].answered and isinstance(results[-1].error, TemporaryMailError):
                        deferring.add(domain)
        except (smtplib.SMTPException, OSError) as exc:
            if not results or not results[-1].unknown:
                error = self._classify(exc)
                failed = type(error)(_redacted(str(error), settings.smtp_password))
                results.extend(BatchResult(error=failed) for _ in range(len(messages) - len(results)))
        while len(results) < len(messages):
            results.append(BatchResult(error=TemporaryMailError(f"{self.where}: not tried, session ended")))
        return results

    def _send_one(self, smtp: smtplib.SMTP, message: WireMessage) -> BatchResult:
        try:
            _transaction(smtp, message)
        except smtplib.SMTPServerDisconnected as exc:
            # Lost mid-transaction: the server may have taken the message. Never send it again.
            return BatchResult(error=self._classify(exc), unknown=True)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as exc:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                smtp.rset()
            return BatchResult(error=self._classify(exc), answered=True)
        return BatchResult(transport_id=message.message_id)

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        if settings.smtp_security == "tls":
            return smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout,
                                    context=self.context)
        return smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout)

    def _classify(self, exc: Exception) -> MailError:
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            temporary = all(400 <= code < 500 for code, _ in exc.recipients.values())
            kind = TemporaryMailError if temporary else PermanentMailError
            return kind(f"{self.where} refused every recipient: {_replies(exc.recipients)}")
        if isinstance(exc, smtplib.SMTPResponseException):
            kind = TemporaryMailError if 400 <= exc.smtp_code < 500 else PermanentMailError
            reply = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) \
                else str(exc.smtp_error)
            step = self.STEPS.get(type(exc), "answered")
            return kind(f"{self.where} {step} {exc.smtp_code} {reply}")
        if isinstance(exc, smtplib.SMTPServerDisconnected):
            return TemporaryMailError(f"{self.where} stopped answering: {exc}")
        if isinstance(exc, ssl.SSLCertVerificationError):
            return PermanentMailError(f"{self.where} presented a TLS certificate that is not trusted: "
                                      f"{exc.verify_message}")
        if isinstance(exc, smtplib.SMTPException):  # e.g. STARTTLS or AUTH asked for and not offered
            return PermanentMailError(f"{self.where} cannot do what the settings ask: {exc}")
        return TemporaryMailError(f"{self.where} unreachable: {exc.strerror or exc}")


def _transaction(smtp: smtplib.SMTP, message: WireMessage) -> None:
    """One SMTP transaction with smtplib's replies and errors, as `sendmail` does it, minus the
    work it repeats on every message: parsing addresses tcma has validated, and rescanning a
    body built with CRLF line ends (dot-stuffing is one bytes.replace). Anything else (non-ASCII
    addresses, bare line feeds) goes through `sendmail` itself."""
    raw, sender, to = message.raw, message.envelope_from, message.to
    if not (sender.isascii() and to.isascii()) or raw.count(b"\n") != raw.count(b"\r\n"):
        smtp.sendmail(sender, [to], raw)
        return
    smtp.ehlo_or_helo_if_needed()
    code, reply = smtp.docmd("mail", f"FROM:<{sender}>")
    if code != 250:
        _end_transaction(smtp, code)
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    code, reply = smtp.docmd("rcpt", f"TO:<{to}>")
    if code not in (250, 251):
        _end_transaction(smtp, code)
        raise smtplib.SMTPRecipientsRefused({to: (code, reply)})
    code, reply = smtp.docmd("data")
    if code != 354:
        _end_transaction(smtp, code)
        raise smtplib.SMTPDataError(code, reply)
    body = (b"." if raw.startswith(b".") else b"") + raw.replace(b"\r\n.", b"\r\n..")
    smtp.send(body + (b"" if body.endswith(b"\r\n") else b"\r\n") + b".\r\n")
    code, reply = smtp.getreply()
    if code != 250:
        _end_transaction(smtp, code)
        raise smtplib.SMTPDataError(code, reply)


def _end_transaction(smtp: smtplib.SMTP, code: int) -> None:
    """After a refusal: the server closing (421) closes our side too, else RSET (as smtplib does)."""
    if code == 421:
        smtp.close()
    else:
        with contextlib.suppress(smtplib.SMTPServerDisconnected):
            smtp.rset()


def _replies(replies: Mapping[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{address}: {code} {text.decode('utf-8', 'replace')}"
                     for address, (code, text) in replies.items())


class SesMailer:
    """Hands each message to Amazon SES (sesv2 SendEmail, raw content), one attempt per send."""

    name = "ses"

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings
        # No retries inside botocore: a retried SendEmail after a lost answer would send twice;
        # the job layer decides about retrying, with retry_delay.
        self.client = boto3.client(
            "sesv2", region_name=settings.ses_region, endpoint_url=settings.ses_endpoint_url,
            aws_access_key_id=settings.ses_access_key_id,
            aws_secret_access_key=settings.ses_secret_access_key,
            config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
        )

    def send(self, message: EmailMessage) -> str:
        """Ask SES once to send the raw message; return the MessageId SES gives it."""
        _message_id(message)
        request: dict[str, Any] = {"Content": {"Raw": {"Data": message.as_bytes(policy=WIRE_POLICY)}}}
        if self.settings.ses_configuration_set:
            request["ConfigurationSetName"] = self.settings.ses_configuration_set
        try:
            return self.client.send_email(**request)["MessageId"]
        except (ClientError, BotoCoreError) as exc:
            error = self._classify(exc)
            raise type(error)(_redacted(str(error), self.settings.ses_secret_access_key)) from exc

    def close(self) -> None:
        """Close the HTTP connections of the boto3 client."""
        self.client.close()

    def _classify(self, exc: ClientError | BotoCoreError) -> MailError:
        if isinstance(exc, BotoConnectionError | HTTPClientError):
            return TemporaryMailError(f"SES unreachable: {exc}")
        if not isinstance(exc, ClientError):
            return PermanentMailError(f"SES cannot be asked: {exc}")
        error = exc.response.get("Error", {})
        code, text = error.get("Code", "Unknown"), error.get("Message", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        temporary = status == 429 or status >= 500 or code in SES_THROTTLING
        kind = TemporaryMailError if temporary else PermanentMailError
        return kind(f"SES answered {status} {code}: {text}")


class OutboxMailer:
    """Writes each message as `<outbox_dir>/<date>-<message id>.eml`, a file a mail client opens."""

    name = "outbox"

    def __init__(self, settings: MailSettings) -> None:
        self.folder = Path(settings.outbox_dir or "")

    def send(self, message: EmailMessage) -> str:
        """Write the message (atomically, replacing an earlier copy of it); return the file's path."""
        safe_id = re.sub(r"[^A-Za-z0-9.@_-]", "_", _message_id(message).strip("<>"))[:120]
        date = parsedate_to_datetime(message["Date"]) if message["Date"] else datetime.now(UTC)
        path = self.folder / f"{date.astimezone(UTC):%Y%m%dT%H%M%SZ}-{safe_id}.eml"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_atomically(path, message.as_bytes(policy=WIRE_POLICY))
        except OSError as exc:
            raise PermanentMailError(f"outbox {self.folder} cannot be written: {exc.strerror}") from exc
        return str(path)

    def close(self) -> None:
        """Nothing to release."""


@dataclass(frozen=True, slots=True)
class BatchResult:
    """One message of a batch: sent (the transport's id), refused (why), or unknown (the connection
    was lost while the server held it: it may have been delivered, so it must not be sent again)."""

    transport_id: str | None = None
    error: MailError | None = None
    unknown: bool = False
    answered: bool = False  # the refusal was the server's answer about this message, not the session's


@dataclass(frozen=True, slots=True)
class WireMessage:
    """A finished message as bytes (headers included, maybe signed), its envelope and its Message-ID."""

    raw: bytes
    envelope_from: str
    to: str
    message_id: str


def send_batch(mailer: Mailer, messages: Sequence[WireMessage]) -> list[BatchResult]:
    """Send finished messages in order: SMTP over one connection, the other backends one by one.

    One message's refusal does not stop the others; messages after a lost connection come back
    refused as temporary (not tried).
    """
    if isinstance(mailer, SmtpMailer):
        return mailer.send_many(messages)
    results = []
    for message in messages:
        parsed = email.message_from_bytes(message.raw, policy=email.policy.default)
        try:
            results.append(BatchResult(transport_id=mailer.send(parsed)))
        except MailError as exc:
            results.append(BatchResult(error=exc))
    return results


def build_mailer(settings: MailSettings) -> Mailer:
    """The backend the settings choose."""
    backends: dict[str, type[Mailer]] = {"outbox": OutboxMailer, "smtp": SmtpMailer, "ses": SesMailer}
    return backends[settings.backend](settings)


def retry_delay(attempt: int, *, base: float = 30.0, cap: float = 1800.0,
                rng: random.Random | None = None) -> float:
    """Seconds to wait before retry number `attempt` (from 1): exponential backoff, full jitter, capped."""
    if attempt < 1:
        raise ValueError(f"attempt counts from 1, not {attempt}")
    ceiling = min(cap, base * 2 ** min(attempt - 1, 32))
    return (rng or random).uniform(0, ceiling)

