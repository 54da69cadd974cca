"""Bounces and complaints: SMTP DSNs and ARF reports at the VERP address, and SES notifications
through SNS (signature verified against a certificate served over HTTPS on loopback)."""

from __future__ import annotations

import base64
import datetime
import http.server
import json
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from tcma.extensions import db
from tcma.models import EmailRecipient, Suppression
from tests.support.apps import app_on, base_config
from tests.support.smtp import running_smtp_server
from tests.support.tls import make_self_signed_certificate
from tests.tcma.email.conftest import new_send, send_now


def dsn(uid: str, message_id: str, status: str, action: str = "failed") -> bytes:
    return (
        f"From: MAILER-DAEMON@mx.example.com\r\nTo: bounces+{uid}@mail.vendor.test\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n\r\n'
        "--b1\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n\r\n"
        f"Final-Recipient: rfc822; bob@example.com\r\nAction: {action}\r\nStatus: {status}\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n"
        f"--b1\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {message_id}\r\nSubject: x\r\n\r\n"
        "--b1--\r\n"
    ).encode()


def arf(message_id: str) -> bytes:
    return (
        "From: fbl@mailbox.example\r\nTo: abuse@mail.vendor.test\r\nSubject: complaint\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=feedback-report; boundary="b2"\r\n\r\n'
        "--b2\r\nContent-Type: text/plain\r\n\r\nThis is an abuse report.\r\n"
        "--b2\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nVersion: 1\r\n\r\n"
        f"--b2\r\nContent-Type: message/rfc822\r\n\r\nMessage-ID: {message_id}\r\nSubject: x\r\n\r\nbody\r\n"
        "--b2--\r\n"
    ).encode()


def rows(send_id):
    return {
        r.address: r
        for r in db.session.scalars(select(EmailRecipient).where(EmailRecipient.send_id == send_id))
    }


def test_a_hard_bounce_at_the_verp_address_suppresses(app, client, shop, runner):
    send = new_send(client, shop)
    send_now(client, shop, send["id"])
    bob = rows(send["id"])["bob@example.com"]
    soft = runner.invoke(
        args=["email-feedback", "--to", f"bounces+{bob.uid}@mail.vendor.test"],
        input=dsn(bob.uid, "<other@x>", "4.2.2", "delayed"),
    )
    assert soft.output.strip() == f"outcome=soft_bounce recipient_id={bob.id}"
    db.session.expire_all()
    assert rows(send["id"])["bob@example.com"].status == "sent"
    hard = runner.invoke(args=["email-feedback"], input=dsn(bob.uid, bob.message_id, "5.1.1"))
    assert hard.output.strip() == f"outcome=hard_bounce recipient_id={bob.id}"
    db.session.expire_all()
    bounced = rows(send["id"])["bob@example.com"]
    assert bounced.status == "bounced" and bounced.detail == "hard bounce: 5.1.1 smtp; 550 5.1.1 user unknown"
    again = new_send(client, shop)
    done = send_now(client, shop, again["id"])
    assert rows(again["id"])["bob@example.com"].detail == "suppressed: hard_bounce"
    assert done["numbers"]["skipped"] == 1
    numbers = client.get(f"/api/v1/email-sends/{send['id']}", headers=shop["headers"]).json["numbers"]
    assert (numbers["bounced"], numbers["delivered"]) == (1, 2)


def test_a_complaint_suppresses_for_every_partner(app, client, shop, runner):
    send = new_send(client, shop)
    send_now(client, shop, send["id"])
    ada = rows(send["id"])["ada@example.com"]
    result = runner.invoke(args=["email-feedback"], input=arf(ada.message_id))
    assert result.output.strip() == f"outcome=complaint recipient_id={ada.id}"
    kept = {(s.partner_id, s.reason) for s in db.session.scalars(select(Suppression))}
    assert kept == {(None, "complaint"), (shop["partner"].id, "complaint")}


@pytest.mark.parametrize(
    "raw, reason",
    [
        (b"Subject: hello\r\n\r\njust mail\r\n", "not a delivery status notification or a complaint report"),
        (dsn("0" * 32, "<nobody@x>", "5.1.1"), "it names no message tcma sent"),
    ],
)
def test_other_mail_is_ignored(app, runner, raw, reason):
    result = runner.invoke(args=["email-feedback"], input=raw)
    assert result.output.strip() == f"outcome=ignored reason={reason}"


# SES through SNS ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sns_keys():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return key, cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture
def sns_server(tmp_path, sns_keys):
    """HTTPS on loopback serving the signing certificate and answering subscription confirmations."""
    cert, key = make_self_signed_certificate(tmp_path)
    confirmed = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            if self.path.startswith("/confirm"):
                confirmed.append(self.path)
            body = sns_keys[1] if self.path == "/cert.pem" else b"<ConfirmSubscriptionResponse/>"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}", cert, confirmed
    server.shutdown()
    server.server_close()


@pytest.fixture
def app(migrated_pg, tmp_path, smtp_handler, sns_server):
    url, tables = migrated_pg
    with running_smtp_server(smtp_handler) as smtp:
        config = base_config(
            tmp_path,
            DATABASE_URL=url,
            MAIL_BACKEND="smtp",
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=smtp.port,
            SMTP_SECURITY="none",
            EMAIL_SENDING_DOMAIN="mail.vendor.test",
            EMAIL_SNS_HOSTS=r"127\.0\.0\.1",
            EMAIL_SNS_CA_FILE=str(sns_server[1]),
        )
        yield from app_on(config, tables)


def signed(note: dict, key, version: str = "2") -> dict:
    fields = (
        ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
        if note["Type"] == "Notification"
        else ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
    )
    text = "".join(f"{name}\n{note[name]}\n" for name in fields if name in note)
    algorithm = hashes.SHA256() if version == "2" else hashes.SHA1()
    signature = key.sign(text.encode(), padding.PKCS1v15(), algorithm)
    return {**note, "SignatureVersion": version, "Signature": base64.b64encode(signature).decode()}


def ses_note(base: str, event: dict) -> dict:
    return {
        "Type": "Notification",
        "MessageId": "m-1",
        "TopicArn": "arn:aws:sns:eu-west-1:1:ses",
        "Timestamp": "2026-11-27T10:00:00.000Z",
        "Message": json.dumps(event),
        "SigningCertURL": f"{base}/cert.pem",
    }


def test_a_signed_ses_bounce_and_complaint_suppress(client, shop, sns_server, sns_keys):
    base, _, confirmed = sns_server
    key = sns_keys[0]
    subscribe = {
        "Type": "SubscriptionConfirmation",
        "MessageId": "s-1",
        "Token": "t",
        "TopicArn": "arn:x",
        "Message": "confirm",
        "Timestamp": "2026-11-27T10:00:00.000Z",
        "SubscribeURL": f"{base}/confirm?token=t",
        "SigningCertURL": f"{base}/cert.pem",
    }
    answer = client.post("/email/ses-notifications", data=json.dumps(signed(subscribe, key, "1")))
    assert answer.status_code == 200 and answer.json["outcome"] == "subscribed"
    assert confirmed == ["/confirm?token=t"]

    send = new_send(client, shop)
    send_now(client, shop, send["id"])
    bob, cy = rows(send["id"])["bob@example.com"], rows(send["id"])["cy@example.com"]
    bounce = ses_note(
        base,
        {
            "notificationType": "Bounce",
            "mail": {"commonHeaders": {"messageId": bob.message_id}},
            "bounce": {
                "bounceType": "Permanent",
                "bounceSubType": "General",
                "bouncedRecipients": [{"emailAddress": "bob@example.com", "status": "5.1.1"}],
            },
        },
    )
    assert client.post("/email/ses-notifications", data=json.dumps(signed(bounce, key))).json == {
        "outcome": "hard_bounce",
        "recipient_id": bob.id,
    }
    complaint = ses_note(
        base,
        {
            "notificationType": "Complaint",
            "mail": {"commonHeaders": {"messageId": cy.message_id}},
            "complaint": {"complaintFeedbackType": "abuse"},
        },
    )
    client.post("/email/ses-notifications", data=json.dumps(signed(complaint, key)))
    db.session.expire_all()
    after = rows(send["id"])
    assert (after["bob@example.com"].status, after["cy@example.com"].status) == ("bounced", "complained")
    assert after["bob@example.com"].detail == "hard bounce: SES Permanent/General 5.1.1"
    stats = client.get(f"/api/v1/email-sends/campaigns/{shop['campaign_id']}", headers=shop["marketer"]).json
    assert (stats["totals"]["bounced"], stats["totals"]["complained"]) == (1, 1)


def test_an_sns_message_that_does_not_verify_changes_nothing(client, shop, sns_server, sns_keys):
    base = sns_server[0]
    send = new_send(client, shop)
    send_now(client, shop, send["id"])
    bob = rows(send["id"])["bob@example.com"]
    note = signed(
        ses_note(
            base,
            {
                "notificationType": "Bounce",
                "mail": {"commonHeaders": {"messageId": bob.message_id}},
                "bounce": {"bounceType": "Permanent"},
            },
        ),
        sns_keys[0],
    )
    forged = {**note, "Message": note["Message"].replace("Permanent", "Permanent ")}
    refused = client.post("/email/ses-notifications", data=json.dumps(forged))
    assert refused.status_code == 403
    assert refused.json["message"] == "the SNS message's signature does not verify; refused"
    elsewhere = {**note, "SigningCertURL": "https://evil.example/cert.pem"}
    refused = client.post("/email/ses-notifications", data=json.dumps(elsewhere))
    assert refused.json["message"] == (
        "SigningCertURL must be an https URL on an SNS host, not 'https://evil.example/cert.pem'; refused"
    )
    version = client.post("/email/ses-notifications", data=json.dumps({**note, "SignatureVersion": "3"}))
    assert version.json["message"] == "SNS SignatureVersion '3' is not 1 or 2; refused"
    junk = client.post("/email/ses-notifications", data=b"not json")
    assert junk.status_code == 422 and junk.json["message"] == "not an SNS message"
    db.session.expire_all()
    assert rows(send["id"])["bob@example.com"].status == "sent"
    assert db.session.scalar(select(Suppression.id)) is None
