"""A real SMTP server on loopback (aiosmtpd) that records what it receives and answers as told."""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    """A loopback TCP port nothing listens on (at the time of asking)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    """One message as the server got it: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    authenticated_as: str | None


@dataclass
class RecordingHandler:
    """Accepts and records messages, unless told to answer RCPT or DATA with a given reply."""

    mail_reply: str | None = None
    rcpt_reply: str | None = None
    data_reply: str | None = None
    refused_recipients: dict[str, str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    data_commands: int = 0

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802
        if self.mail_reply:
            return self.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        reply = self.refused_recipients.get(address) or self.rcpt_reply
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.data_commands += 1
        if self.data_reply:
            return self.data_reply
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        login = session.auth_data.decode() if session.authenticated else None
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message, login))
        return "250 Message accepted for delivery"


@dataclass(frozen=True)
class PasswordCheck:
    """An aiosmtpd authenticator accepting one login and password."""

    login: str
    password: str

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode(), auth_data.password.decode()
        ) == (self.login, self.password)
        return AuthResult(success=ok, handled=False, auth_data=auth_data.login if ok else None)


def server_tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A server-side TLS context presenting the given certificate."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@contextmanager
def running_smtp_server(handler: RecordingHandler, **options) -> Iterator[Controller]:
    """Run aiosmtpd on 127.0.0.1 on a free port for the block; `options` go to its Controller."""
    controller = Controller(
        handler, hostname="127.0.0.1", port=free_port(), server_hostname="mx.test", **options
    )
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


@contextmanager
def greeting_listener(greeting: str) -> Iterator[int]:
    """A loopback port whose server opens every connection with `greeting`, then only listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(4)

        sock.settimeout(5)

        def greet() -> None:
            try:
                connection, _ = sock.accept()
            except TimeoutError:
                return
            with connection:
                connection.sendall(greeting.encode() + b"\r\n")
                while connection.recv(1024):
                    pass

        thread = threading.Thread(target=greet)
        thread.start()
        yield sock.getsockname()[1]
        thread.join(5)


@contextmanager
def silent_listener() -> Iterator[int]:
    """A loopback port that accepts connections and never says a word (for timeouts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(4)
        yield sock.getsockname()[1]
