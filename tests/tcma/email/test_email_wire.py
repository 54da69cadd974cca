"""The bytes each recipient's message is sent as: built from pieces encoded once per send, they
decode to exactly the message the preview shows, in lines mail servers accept."""

from __future__ import annotations

import email
import email.policy

from tcma.extensions import db
from tcma.models import EmailSend
from tcma.services.sending.composing import Personal, qp_piece
from tcma.services.sending.delivery import filler_for
from tests.tcma.email.conftest import new_send


def contents(message):
    """Text and HTML as a mail client shows them (line ends aside)."""
    bodies = (message.get_body((kind,)).get_content() for kind in ("plain", "html"))
    return tuple(body.replace("\r\n", "\n").rstrip("\n") for body in bodies)


def test_the_sent_bytes_decode_to_the_previewed_message(client, shop):
    send = new_send(client, shop, greeting="Dear {first_name} =?utf-8?q?x?= – ü,")
    filler = filler_for(db.session.get(EmailSend, send["id"]))
    for first_name in ("Ada", None, "Zoë " + "x" * 90):
        person = Personal(7, "u" * 32, "ada@example.com", first_name, "<id-1@tcma.test>")
        raw = filler.wire(person)
        preview = filler.message(person)
        assert contents(email.message_from_bytes(raw, policy=email.policy.default)) == contents(preview)
        body = raw.split(b"\r\n\r\n", 1)[1]
        assert all(len(line) <= 76 for line in body.split(b"\r\n")), "a body line is longer than 76"
        assert b"\n" not in body.replace(b"\r\n", b""), "a bare line feed in the body"


def test_pieces_end_with_a_break_and_decode_back():
    import quopri

    for text in ("", "plain", "trailing space ", "x" * 75, "y" * 76, "z" * 74 + "é", "a=b" * 40, "line\n"):
        piece = qp_piece(text)
        assert piece == b"" if not text else piece.endswith(b"\r\n")
        assert all(len(line) <= 76 for line in piece.split(b"\r\n"))
        assert quopri.decodestring(piece.replace(b"\r\n", b"\n")).decode() == text


def test_lines_starting_with_a_dot_and_refusals_cross_smtp_as_smtplib_sends_them(smtp_port, smtp_handler):
    from tcma.mail import MailSettings, PermanentMailError, SmtpMailer, TemporaryMailError, WireMessage

    mailer = SmtpMailer(MailSettings(from_address="tcma <news@mail.vendor.test>", backend="smtp",
                                     smtp_host="127.0.0.1", smtp_port=smtp_port, smtp_security="none"))
    raw = b"Subject: dots\r\nMessage-ID: <1@t>\r\n\r\n.starts with a dot\r\n..two\r\nend"
    smtp_handler.refused_recipients = {"gone@example.com": "550 5.1.1 no such user",
                                       "later@slow.example.org": "451 4.7.1 try again later"}
    results = mailer.send_many([
        WireMessage(raw, "bounces+1@mail.vendor.test", "ada@example.com", "<1@t>"),
        WireMessage(raw, "bounces+2@mail.vendor.test", "gone@example.com", "<2@t>"),
        WireMessage(raw, "bounces+3@mail.vendor.test", "later@slow.example.org", "<3@t>"),
        WireMessage(raw, "bounces+4@mail.vendor.test", "next@slow.example.org", "<4@t>"),
        WireMessage(raw, "bounces+5@mail.vendor.test", "bob@example.com", "<5@t>"),
    ])
    assert [r.transport_id for r in results] == ["<1@t>", None, None, None, "<5@t>"]
    assert isinstance(results[1].error, PermanentMailError)
    assert "550 5.1.1 no such user" in str(results[1].error)
    assert isinstance(results[2].error, TemporaryMailError) and results[2].answered
    # The rest of a domain that answered 4xx waits (not tried); other domains go on.
    assert isinstance(results[3].error, TemporaryMailError) and not results[3].answered
    assert "not tried, slow.example.org deferred a message before it" in str(results[3].error)
    received = {r.rcpt_tos[0]: r for r in smtp_handler.received}
    assert set(received) == {"ada@example.com", "bob@example.com"}
    assert received["ada@example.com"].mail_from == "bounces+1@mail.vendor.test"
    content = received["ada@example.com"].message.get_content().replace("\r\n", "\n")
    assert content == ".starts with a dot\n..two\nend\n"
