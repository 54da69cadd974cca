"""The mail transport: messages built right, sent through a real SMTP server, moto's SES and the outbox."""

from __future__ import annotations

import base64
import email
import email.policy
import json
import logging
import threading
import urllib.request
from contextlib import ExitStack
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest

from tcma.mail import (
    MailSettings,
    OutboxMailer,
    OutgoingMail,
    PermanentMailError,
    SesMailer,
    SmtpMailer,
    TemporaryMailError,
    build_mailer,
    build_message,
    new_message_id,
    retry_delay,
    setting_variable,
)
from tests.support.smtp import (
    PasswordCheck,
    RecordingHandler,
    free_port,
    greeting_listener,
    running_smtp_server,
    server_tls_context,
    silent_listener,
)
from tests.support.tls import make_self_signed_certificate

FROM = "tcma <no-reply@example.com>"
PASSWORD = "hunter2-very-secret"
AWS_SECRET = "aws-secret-do-not-print"
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def a_mail(**extra) -> OutgoingMail:
    """A typical marketing message: two parts, a non-ASCII subject, an unsubscribe header."""
    fields = {
        "to": ["Zoë Client <zoe@client.example>"],
        "subject": "Grüße from your partner — 20 % off",
        "text": "Hello Zoë,\nour spring offer.\n",
        "html": "<p>Hello Zoë,</p><p>our <b>spring</b> offer.</p>",
        "headers": {"List-Unsubscribe": "<https://tcma.test/u/abc>"},
    }
    fields.update(extra)
    return OutgoingMail(**fields)


def body(message, subtype: str) -> str:
    """The decoded text of the message's `subtype` part, with the wire's CRLF line ends read as LF."""
    return message.get_body((subtype,)).get_content().replace("\r\n", "\n")


# --- settings -------------------------------------------------------------------------------

@pytest.mark.parametrize(("fields", "expected"), [
    ({"backend": "mailgun"}, "TCMA_MAIL_BACKEND must be one of outbox, smtp, ses, not 'mailgun'"),
    ({"from_address": "tcma"},
     "TCMA_MAIL_FROM must be an address like 'tcma <no-reply@example.com>', not 'tcma'"),
    ({"from_address": "a@b.example\r\nBcc: x@y.example"},
     "TCMA_MAIL_FROM must be an address like 'tcma <no-reply@example.com>', "
     "not 'a@b.example\\r\\nBcc: x@y.example'"),
    ({"reply_to": "nobody"},
     "TCMA_MAIL_REPLY_TO must be an address like 'tcma <no-reply@example.com>', not 'nobody'"),
    ({"outbox_dir": None}, "TCMA_MAIL_OUTBOX_DIR is required when TCMA_MAIL_BACKEND is outbox"),
    ({"backend": "smtp"}, "TCMA_SMTP_HOST is required when TCMA_MAIL_BACKEND is smtp"),
    ({"backend": "smtp", "smtp_host": "mx", "smtp_port": 0},
     "TCMA_SMTP_PORT must be a port number from 1 to 65535, not 0"),
    ({"backend": "smtp", "smtp_host": "mx", "smtp_port": "587"},
     "TCMA_SMTP_PORT must be a port number from 1 to 65535, not '587'"),
    ({"backend": "smtp", "smtp_host": "mx", "smtp_security": "ssl"},
     "TCMA_SMTP_SECURITY must be one of none, starttls, tls, not 'ssl'"),
    ({"backend": "smtp", "smtp_host": "mx", "smtp_timeout": 0},
     "TCMA_SMTP_TIMEOUT must be a number of seconds above 0, not 0"),
    ({"backend": "smtp", "smtp_host": "mx", "smtp_username": "tcma"},
     "TCMA_SMTP_PASSWORD is required when TCMA_SMTP_USERNAME is set"),
    ({"backend": "smtp", "smtp_host": "mx", "smtp_password": PASSWORD},
     "TCMA_SMTP_USERNAME is required when TCMA_SMTP_PASSWORD is set"),
    ({"backend": "smtp", "smtp_host": "mx", "smtp_security": "none", "smtp_username": "tcma",
      "smtp_password": PASSWORD},
     "TCMA_SMTP_SECURITY must be starttls or tls when TCMA_SMTP_USERNAME is set, "
     "so the password never crosses the network in clear"),
    ({"backend": "smtp", "smtp_host": "mx", "smtp_ca_file": "/nonexistent/ca.pem"},
     "TCMA_SMTP_CA_FILE names no file: '/nonexistent/ca.pem'"),
    ({"backend": "ses"}, "TCMA_SES_REGION is required when TCMA_MAIL_BACKEND is ses"),
    ({"backend": "ses", "ses_region": "eu-west-1", "ses_endpoint_url": "127.0.0.1:5000"},
     "TCMA_SES_ENDPOINT_URL must be an http:// or https:// URL, not '127.0.0.1:5000'"),
    ({"backend": "ses", "ses_region": "eu-west-1", "ses_access_key_id": "AKIA"},
     "TCMA_SES_SECRET_ACCESS_KEY is required when TCMA_SES_ACCESS_KEY_ID is set"),
    ({"backend": "ses", "ses_region": "eu-west-1", "ses_secret_access_key": AWS_SECRET},
     "TCMA_SES_ACCESS_KEY_ID is required when TCMA_SES_SECRET_ACCESS_KEY is set"),
])
def test_settings_errors_name_the_variable(fields, expected):
    values = {"from_address": FROM, "outbox_dir": "/tmp/outbox", **fields}
    with pytest.raises(ValueError) as caught:
        MailSettings(**values)
    assert str(caught.value) == expected
    assert PASSWORD not in str(caught.value) and AWS_SECRET not in str(caught.value)


def test_settings_repr_hides_the_password_and_the_secret():
    settings = MailSettings(
        backend="smtp", from_address=FROM, smtp_host="mx", smtp_username="tcma", smtp_password=PASSWORD
    )
    ses = MailSettings(backend="ses", from_address=FROM, ses_region="eu-west-1",
                       ses_access_key_id="AKIA", ses_secret_access_key=AWS_SECRET)
    assert PASSWORD not in repr(settings)
    assert AWS_SECRET not in repr(ses)


def test_settings_from_flask_config_keys():
    config = {"MAIL_BACKEND": "smtp", "MAIL_FROM": FROM, "MAIL_REPLY_TO": "help@example.com",
              "SMTP_HOST": "mx.example.com", "SMTP_PORT": 465, "SMTP_SECURITY": "tls",
              "SECRET_KEY": "not ours"}
    settings = MailSettings.from_config(config)
    assert (settings.backend, settings.from_address, settings.reply_to) == (
        "smtp", "tcma <no-reply@example.com>", "help@example.com")
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_security) == ("mx.example.com", 465, "tls")
    names = [setting_variable(name) for name in ("backend", "from_address", "outbox_dir", "smtp_ca_file",
                                                 "ses_configuration_set")]
    assert names == ["TCMA_MAIL_BACKEND", "TCMA_MAIL_FROM", "TCMA_MAIL_OUTBOX_DIR", "TCMA_SMTP_CA_FILE",
                     "TCMA_SES_CONFIGURATION_SET"]


# --- building messages ------------------------------------------------------------------------

@pytest.fixture
def outbox_settings(tmp_path) -> MailSettings:
    return MailSettings(from_address=FROM, reply_to="partner@partner.example", outbox_dir=tmp_path / "outbox")


def test_message_has_both_parts_and_the_headers(outbox_settings):
    message = build_message(a_mail(message_id="<m-1@example.com>"), outbox_settings, now=NOW)
    wire = message.as_bytes(policy=email.policy.SMTP)
    assert b"Subject: =?utf-8?" in wire  # encoded for 7-bit transport
    parsed = email.message_from_bytes(wire, policy=email.policy.default)
    assert parsed["Subject"] == "Grüße from your partner — 20 % off"
    assert parsed["From"] == "tcma <no-reply@example.com>"
    assert parsed["To"] == "Zoë Client <zoe@client.example>"
    assert parsed["Reply-To"] == "partner@partner.example"
    assert parsed["Date"] == "Fri, 02 Jan 2026 03:04:05 +0000"
    assert parsed["Message-ID"] == "<m-1@example.com>"
    assert parsed["List-Unsubscribe"] == "<https://tcma.test/u/abc>"
    assert parsed.get_content_type() == "multipart/alternative"
    assert body(parsed, "plain") == "Hello Zoë,\nour spring offer.\n"
    assert body(parsed, "html") == "<p>Hello Zoë,</p><p>our <b>spring</b> offer.</p>\n"


def test_text_only_message_and_fresh_ids(outbox_settings):
    message = build_message(a_mail(html=None, reply_to="other@partner.example"), outbox_settings)
    assert message.get_content_type() == "text/plain"
    assert message["Reply-To"] == "other@partner.example"
    assert message["Message-ID"].endswith("@example.com>")
    assert message["Date"].endswith(" +0000")
    assert new_message_id(outbox_settings) != new_message_id(outbox_settings)
    assert new_message_id(outbox_settings).endswith("@example.com>")


@pytest.mark.parametrize(("fields", "expected"), [
    ({"subject": "Offer\r\nBcc: victim@else.example"},
     "header Subject contains a line break; refused (header injection)"),
    ({"reply_to": "a@b.example\nBcc: victim@else.example"},
     "header Reply-To contains a line break; refused (header injection)"),
    ({"headers": {"List-Unsubscribe": "<https://x>\r\nBcc: v@else.example"}},
     "header List-Unsubscribe contains a line break; refused (header injection)"),
    ({"headers": {"X-Bad\r\nBcc": "v@else.example"}}, "'X-Bad\\r\\nBcc' is not a valid header name"),
    ({"headers": {"bcc": "v@else.example"}}, "header bcc is set by build_message, not through headers"),
    ({"to": []}, "a message needs at least one recipient in to"),
    ({"to": ["zoe at client"]}, "recipient 'zoe at client' is not an email address"),
    ({"message_id": "m-1"}, "message_id must look like <id@domain>, not 'm-1'"),
])
def test_unsafe_or_incomplete_messages_are_refused(outbox_settings, fields, expected):
    with pytest.raises(ValueError) as caught:
        build_message(a_mail(**fields), outbox_settings)
    assert str(caught.value) == expected


def test_a_message_without_message_id_is_not_sent(outbox_settings):
    message = build_message(a_mail(), outbox_settings)
    del message["Message-ID"]
    with pytest.raises(ValueError) as caught:
        OutboxMailer(outbox_settings).send(message)
    assert str(caught.value) == "the message has no Message-ID header; build it with build_message"


# --- SMTP against aiosmtpd on loopback ----------------------------------------------------------

@pytest.fixture
def certificate(tmp_path) -> tuple[Path, Path]:
    return make_self_signed_certificate(tmp_path)


@pytest.fixture
def smtp_server():
    """Start aiosmtpd servers on loopback for the test: `smtp_server(handler, **controller_options)`."""
    with ExitStack() as stack:
        def start(handler: RecordingHandler | None = None, **options):
            return stack.enter_context(running_smtp_server(handler or RecordingHandler(), **options))

        yield start


def smtp_settings(port: int, **extra) -> MailSettings:
    fields = {"backend": "smtp", "from_address": FROM, "reply_to": "partner@partner.example",
              "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "none", "smtp_timeout": 5}
    fields.update(extra)
    return MailSettings(**fields)


def send_by_smtp(settings: MailSettings, **mail) -> str:
    message = build_message(a_mail(**mail), settings)
    return build_mailer(settings).send(message)


def test_plain_smtp_delivers_the_message(smtp_server):
    server = smtp_server()
    settings = smtp_settings(server.port)
    message = build_message(a_mail(message_id="<m-2@example.com>"), settings, now=NOW)
    assert SmtpMailer(settings).send(message) == "<m-2@example.com>"
    [received] = server.handler.received
    assert (received.mail_from, received.rcpt_tos) == ("no-reply@example.com", ["zoe@client.example"])
    got = received.message
    assert got["Subject"] == "Grüße from your partner — 20 % off"
    assert (got["From"], got["Reply-To"]) == ("tcma <no-reply@example.com>", "partner@partner.example")
    assert (got["Date"], got["Message-ID"]) == ("Fri, 02 Jan 2026 03:04:05 +0000", "<m-2@example.com>")
    assert got["List-Unsubscribe"] == "<https://tcma.test/u/abc>"
    assert body(got, "plain") == "Hello Zoë,\nour spring offer.\n"
    assert body(got, "html") == "<p>Hello Zoë,</p><p>our <b>spring</b> offer.</p>\n"


def test_starttls_with_the_servers_certificate_trusted(smtp_server, certificate):
    server = smtp_server(tls_context=server_tls_context(*certificate), require_starttls=True)
    settings = smtp_settings(server.port, smtp_security="starttls", smtp_ca_file=certificate[0])
    assert send_by_smtp(settings, message_id="<m-3@example.com>") == "<m-3@example.com>"
    assert [r.message["Message-ID"] for r in server.handler.received] == ["<m-3@example.com>"]


def test_starttls_refuses_an_untrusted_certificate(smtp_server, certificate):
    server = smtp_server(tls_context=server_tls_context(*certificate), require_starttls=True)
    with pytest.raises(PermanentMailError) as caught:
        send_by_smtp(smtp_settings(server.port, smtp_security="starttls"))
    assert str(caught.value) == (f"SMTP 127.0.0.1:{server.port} presented a TLS certificate that is not "
                                 "trusted: self-signed certificate")
    assert server.handler.received == []


def test_starttls_required_but_not_offered_is_permanent(smtp_server):
    server = smtp_server()
    with pytest.raises(PermanentMailError) as caught:
        send_by_smtp(smtp_settings(server.port, smtp_security="starttls"))
    assert str(caught.value) == (f"SMTP 127.0.0.1:{server.port} cannot do what the settings ask: "
                                 "STARTTLS extension not supported by server.")


def test_implicit_tls(smtp_server, certificate):
    server = smtp_server(ssl_context=server_tls_context(*certificate))
    settings = smtp_settings(server.port, smtp_security="tls", smtp_ca_file=certificate[0])
    assert send_by_smtp(settings, message_id="<m-4@example.com>") == "<m-4@example.com>"
    assert len(server.handler.received) == 1


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_auth_over_tls(smtp_server, certificate, security):
    context = server_tls_context(*certificate)
    # aiosmtpd 1.4 counts only STARTTLS as TLS for AUTH, so on implicit TLS it must be told AUTH is safe.
    tls = {"tls_context": context, "require_starttls": True, "auth_required": True}
    if security == "tls":
        tls = {"ssl_context": context, "auth_require_tls": False}
    server = smtp_server(authenticator=PasswordCheck("tcma", PASSWORD), **tls)
    settings = smtp_settings(server.port, smtp_security=security, smtp_ca_file=certificate[0],
                             smtp_username="tcma", smtp_password=PASSWORD)
    send_by_smtp(settings)
    assert [r.authenticated_as for r in server.handler.received] == ["tcma"]


def test_wrong_password_is_permanent_and_never_printed(smtp_server, certificate):
    server = smtp_server(tls_context=server_tls_context(*certificate), require_starttls=True,
                         authenticator=PasswordCheck("tcma", "the-right-one"), auth_required=True)
    settings = smtp_settings(server.port, smtp_security="starttls", smtp_ca_file=certificate[0],
                             smtp_username="tcma", smtp_password=PASSWORD)
    with pytest.raises(PermanentMailError) as caught:
        send_by_smtp(settings)
    assert str(caught.value) == (f"SMTP 127.0.0.1:{server.port} refused the login: "
                                 "535 5.7.8 Authentication credentials invalid")
    assert PASSWORD not in str(caught.value)


def test_a_server_reply_quoting_the_password_is_redacted(smtp_server, certificate):
    handler = RecordingHandler(data_reply=f"554 5.7.1 your password {PASSWORD} is on a list")
    server = smtp_server(handler, tls_context=server_tls_context(*certificate), require_starttls=True,
                         authenticator=PasswordCheck("tcma", PASSWORD), auth_required=True)
    settings = smtp_settings(server.port, smtp_security="starttls", smtp_ca_file=certificate[0],
                             smtp_username="tcma", smtp_password=PASSWORD)
    with pytest.raises(PermanentMailError) as caught:
        send_by_smtp(settings)
    assert str(caught.value) == (f"SMTP 127.0.0.1:{server.port} refused the message: "
                                 "554 5.7.1 your password *** is on a list")


@pytest.mark.parametrize(("replies", "kind", "expected", "data_commands"), [
    ({"rcpt_reply": "451 4.3.0 Try again later"}, TemporaryMailError,
     "refused every recipient: zoe@client.example: 451 4.3.0 Try again later", 0),
    ({"rcpt_reply": "550 5.1.1 No such user"}, PermanentMailError,
     "refused every recipient: zoe@client.example: 550 5.1.1 No such user", 0),
    ({"data_reply": "451 4.7.1 Greylisted, come back later"}, TemporaryMailError,
     "refused the message: 451 4.7.1 Greylisted, come back later", 1),
    ({"data_reply": "554 5.7.1 Message rejected as spam"}, PermanentMailError,
     "refused the message: 554 5.7.1 Message rejected as spam", 1),
])
def test_smtp_replies_are_classified_and_sent_once(smtp_server, replies, kind, expected, data_commands):
    server = smtp_server(RecordingHandler(**replies))
    with pytest.raises(kind) as caught:
        send_by_smtp(smtp_settings(server.port))
    assert type(caught.value) is kind
    assert str(caught.value) == f"SMTP 127.0.0.1:{server.port} {expected}"
    assert server.handler.data_commands == data_commands
    assert server.handler.received == []


@pytest.mark.parametrize(("reply", "kind"), [
    ("451 4.4.5 Insufficient system storage", TemporaryMailError),
    ("550 5.7.1 Sender not allowed", PermanentMailError),
])
def test_a_refused_sender_is_classified(smtp_server, reply, kind):
    server = smtp_server(RecordingHandler(mail_reply=reply))
    with pytest.raises(kind) as caught:
        send_by_smtp(smtp_settings(server.port))
    assert type(caught.value) is kind
    assert str(caught.value) == f"SMTP 127.0.0.1:{server.port} refused the sender: {reply}"


def test_a_busy_server_at_greeting_is_temporary():
    with greeting_listener("421 4.3.2 Too busy, try later") as port, \
            pytest.raises(TemporaryMailError) as caught:
        send_by_smtp(smtp_settings(port))
    assert str(caught.value) == f"SMTP 127.0.0.1:{port} answered 421 4.3.2 Too busy, try later"


def test_some_recipients_refused_is_sent_and_logged(smtp_server, caplog):
    handler = RecordingHandler(refused_recipients={"gone@client.example": "550 5.1.1 No such user"})
    server = smtp_server(handler)
    with caplog.at_level(logging.WARNING, logger="tcma.mail"):
        sent = send_by_smtp(smtp_settings(server.port), to=["zoe@client.example", "gone@client.example"],
                            message_id="<m-5@example.com>")
    assert sent == "<m-5@example.com>"
    assert [r.rcpt_tos for r in handler.received] == [["zoe@client.example"]]
    assert caplog.messages == [f"SMTP 127.0.0.1:{server.port} refused some recipients of <m-5@example.com>: "
                               "gone@client.example: 550 5.1.1 No such user"]


def test_connection_refused_is_temporary():
    port = free_port()
    with pytest.raises(TemporaryMailError) as caught:
        send_by_smtp(smtp_settings(port))
    assert str(caught.value) == f"SMTP 127.0.0.1:{port} unreachable: Connection refused"


def test_a_silent_server_times_out_as_temporary():
    with silent_listener() as port, pytest.raises(TemporaryMailError) as caught:
        send_by_smtp(smtp_settings(port, smtp_timeout=0.3))
    assert str(caught.value) == (
        f"SMTP 127.0.0.1:{port} stopped answering: Connection unexpectedly closed: timed out"
    )


# --- SES on moto's server, and on a local stand-in for the answers moto cannot give ----------------

def ses_settings(endpoint: str, **extra) -> MailSettings:
    fields = {"backend": "ses", "from_address": "tcma <news@mail-test.example>", "ses_region": "eu-west-1",
              "ses_endpoint_url": endpoint, "ses_access_key_id": "testing",
              "ses_secret_access_key": AWS_SECRET}
    fields.update(extra)
    return MailSettings(**fields)


def test_ses_sends_the_raw_message_through_moto(s3_endpoint):
    admin = boto3.client("sesv2", region_name="eu-west-1", endpoint_url=s3_endpoint,
                         aws_access_key_id="testing", aws_secret_access_key="testing")
    admin.create_email_identity(EmailIdentity="mail-test.example")
    admin.close()
    settings = ses_settings(s3_endpoint)
    mailer = build_mailer(settings)
    try:
        ses_id = mailer.send(build_message(a_mail(message_id="<m-6@mail-test.example>"), settings))
    finally:
        mailer.close()
    with urllib.request.urlopen(f"{s3_endpoint}/moto-api/data.json") as response:
        recorded = json.load(response)["ses"]["RawMessage"]
    [sent] = [m for m in recorded if m["id"] == ses_id]
    assert sent["destinations"] == ["=?utf-8?q?Zo=C3=AB?= Client <zoe@client.example>"]
    parsed = email.message_from_string(sent["raw_data"], policy=email.policy.default)
    assert parsed["Message-ID"] == "<m-6@mail-test.example>"
    assert parsed["Subject"] == "Grüße from your partner — 20 % off"
    assert body(parsed, "html") == "<p>Hello Zoë,</p><p>our <b>spring</b> offer.</p>\n"


def test_ses_refuses_an_unverified_sender(s3_endpoint):
    settings = ses_settings(s3_endpoint, from_address="tcma <news@unverified.example>")
    mailer = SesMailer(settings)
    try:
        with pytest.raises(PermanentMailError) as caught:
            mailer.send(build_message(a_mail(), settings))
    finally:
        mailer.close()
    assert str(caught.value) == (
        "SES answered 400 MessageRejected: Did not have authority to send from email news@unverified.example"
    )


class FakeSes(BaseHTTPRequestHandler):
    """Answers sesv2 SendEmail as the server's `answer` says, and records each request."""

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.requests.append((self.path, json.loads(body)))
        status, error_type, text = self.server.answer
        payload = json.dumps({"MessageId": "fake-ses-1"} if status == 200 else {"message": text}).encode()
        self.send_response(status)
        if error_type:
            self.send_header("x-amzn-ErrorType", error_type)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format, *args):  # noqa: A002
        pass


@pytest.fixture
def fake_ses():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeSes)
    server.requests, server.answer = [], (200, None, "")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.shutdown()
    thread.join()
    server.server_close()


def send_by_ses(endpoint: str, **extra) -> str:
    settings = ses_settings(endpoint, **extra)
    mailer = SesMailer(settings)
    try:
        return mailer.send(build_message(a_mail(message_id="<m-7@mail-test.example>"), settings))
    finally:
        mailer.close()


def test_ses_request_carries_the_raw_message_and_configuration_set(fake_ses):
    endpoint = f"http://127.0.0.1:{fake_ses.server_address[1]}"
    assert send_by_ses(endpoint, ses_configuration_set="tcma-events") == "fake-ses-1"
    [(path, request)] = fake_ses.requests
    assert path == "/v2/email/outbound-emails"
    assert sorted(request) == ["ConfigurationSetName", "Content"]
    assert request["ConfigurationSetName"] == "tcma-events"
    raw = email.message_from_bytes(base64.b64decode(request["Content"]["Raw"]["Data"]),
                                   policy=email.policy.default)
    assert raw["Message-ID"] == "<m-7@mail-test.example>"


@pytest.mark.parametrize(("answer", "kind", "expected"), [
    ((429, "TooManyRequestsException", "Too many requests"), TemporaryMailError,
     "SES answered 429 TooManyRequestsException: Too many requests"),
    ((500, "InternalFailure", "Internal failure"), TemporaryMailError,
     "SES answered 500 InternalFailure: Internal failure"),
    ((400, "BadRequestException", "Invalid configuration set"), PermanentMailError,
     "SES answered 400 BadRequestException: Invalid configuration set"),
    ((403, "AccessDeniedException", f"signature for {AWS_SECRET} does not match"), PermanentMailError,
     "SES answered 403 AccessDeniedException: signature for *** does not match"),
])
def test_ses_errors_are_classified_and_asked_once(fake_ses, answer, kind, expected):
    fake_ses.answer = answer
    with pytest.raises(kind) as caught:
        send_by_ses(f"http://127.0.0.1:{fake_ses.server_address[1]}")
    assert type(caught.value) is kind
    assert str(caught.value) == expected
    assert len(fake_ses.requests) == 1  # botocore's own retries are off: never twice for one message


def test_ses_unreachable_is_temporary():
    port = free_port()
    with pytest.raises(TemporaryMailError) as caught:
        send_by_ses(f"http://127.0.0.1:{port}")
    assert str(caught.value) == (
        f'SES unreachable: Could not connect to the endpoint URL: "http://127.0.0.1:{port}/v2/email/outbound-emails"'
    )


def test_ses_without_credentials_is_permanent(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                 "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(PermanentMailError) as caught:
        send_by_ses(f"http://127.0.0.1:{free_port()}", ses_access_key_id=None, ses_secret_access_key=None)
    assert str(caught.value) == "SES cannot be asked: Unable to locate credentials"


# --- outbox -----------------------------------------------------------------------------------------

def test_outbox_writes_an_eml_file_a_mail_client_opens(outbox_settings, tmp_path):
    message = build_message(a_mail(message_id="<m-8.x/y@example.com>"), outbox_settings, now=NOW)
    mailer = build_mailer(outbox_settings)
    path = mailer.send(message)
    assert path == str(tmp_path / "outbox" / "20260102T030405Z-m-8.x_y@example.com.eml")
    assert mailer.send(message) == path  # the same message again replaces its file
    files = sorted(p.name for p in (tmp_path / "outbox").iterdir())
    assert files == ["20260102T030405Z-m-8.x_y@example.com.eml"]  # and no temporary file left
    parsed = email.message_from_bytes(Path(path).read_bytes(), policy=email.policy.default)
    assert parsed["Subject"] == "Grüße from your partner — 20 % off"
    assert body(parsed, "plain") == "Hello Zoë,\nour spring offer.\n"
    assert body(parsed, "html") == "<p>Hello Zoë,</p><p>our <b>spring</b> offer.</p>\n"


def test_outbox_that_cannot_be_written_is_permanent(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the outbox should be")
    settings = MailSettings(from_address=FROM, outbox_dir=blocker)
    with pytest.raises(PermanentMailError) as caught:
        OutboxMailer(settings).send(build_message(a_mail(), settings))
    assert str(caught.value) == f"outbox {blocker} cannot be written: File exists"


@pytest.mark.parametrize(("fields", "backend"), [
    ({"outbox_dir": "/tmp/outbox"}, OutboxMailer),
    ({"backend": "smtp", "smtp_host": "mx.example.com"}, SmtpMailer),
    ({"backend": "ses", "ses_region": "eu-west-1"}, SesMailer),
])
def test_build_mailer_picks_the_backend_the_settings_name(fields, backend):
    mailer = build_mailer(MailSettings(from_address=FROM, **fields))
    try:
        assert type(mailer) is backend
        assert mailer.name == fields.get("backend", "outbox")
    finally:
        mailer.close()


# --- retries ----------------------------------------------------------------------------------------

class Highest:
    """A random source that always draws the top of the range, to read the backoff ceilings."""

    def uniform(self, low: float, high: float) -> float:
        return high


def test_retry_delay_grows_exponentially_up_to_the_cap():
    ceilings = [retry_delay(attempt, rng=Highest()) for attempt in (1, 2, 3, 4, 5, 6, 7, 8, 1000)]
    assert ceilings == [30.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1800.0, 1800.0, 1800.0]
    assert all(0 <= retry_delay(3) <= 120.0 for _ in range(200))


def test_retry_delay_counts_attempts_from_one():
    with pytest.raises(ValueError) as caught:
        retry_delay(0)
    assert str(caught.value) == "attempt counts from 1, not 0"
