"""People through the API, with mail through a real SMTP server on loopback (aiosmtpd).

Invite -> mail -> accept -> sign in for each role; refused links; partner scoping; suspension;
deactivation; password reset and change; sign-in without Redis.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import update

from tcma.extensions import db
from tcma.models import Invitation
from tcma.models.base import utcnow
from tcma.services.accounts.auth import OPERATOR
from tcma.services.partners.partners import update_partner
from tests.support.apps import app_on, base_config
from tests.support.factories import make_partner, make_taxonomy, make_user
from tests.support.smtp import RecordingHandler, running_smtp_server

PASSWORD = "a long enough password"


@pytest.fixture
def mailbox():
    handler = RecordingHandler()
    with running_smtp_server(handler) as controller:
        yield handler, controller.port


@pytest.fixture
def smtp_app(migrated_pg, tmp_path, mailbox):
    """The app on PostgreSQL, jobs in-process, mail through the loopback SMTP server."""
    url, tables = migrated_pg
    _, port = mailbox
    config = base_config(tmp_path, DATABASE_URL=url, MAIL_BACKEND="smtp", SMTP_HOST="127.0.0.1",
                         SMTP_PORT=port, SMTP_SECURITY="none",
                         MAIL_FROM="Northwind Programme <team@vendor.test>")
    yield from app_on(config, tables)


@pytest.fixture
def api(smtp_app):
    return smtp_app.test_client()


def _link(handler: RecordingHandler, to: str, path: str) -> str:
    """The token of the last link to `path` mailed to `to` (from the text part)."""
    messages = [r.message for r in handler.received if to in r.rcpt_tos]
    assert messages, f"no mail reached {to}"
    text = messages[-1].get_body(preferencelist=("plain",)).get_content()
    return re.search(rf"http://tcma\.test/{path}/(\S+)", text).group(1)


def _sign_in(api, email: str, password: str = PASSWORD) -> int:
    body = {"email": email, "password": password, "name": "t"}
    return api.post("/api/v1/auth/tokens", json=body).status_code


@pytest.mark.parametrize(("inviter", "role", "for_partner"), [
    ("admin", "admin", False), ("admin", "marketer", False), ("marketer", "partner", True),
    ("marketer", "partner_admin", True), ("partner_admin", "partner", True),
])
def test_invite_accept_and_sign_in_for_each_role(api, mailbox, inviter, role, for_partner):
    handler, _ = mailbox
    partner = make_partner(make_taxonomy(), name="Northwind Traders")
    _, headers = make_user(inviter, partner if inviter == "partner_admin" else None)
    body = {"email": "New.Person@Example.com", "role": role,
            "partner_id": partner.id if for_partner else None}
    invited = api.post("/api/v1/invitations", headers=headers, json=body)
    assert invited.status_code == 201, invited.json
    assert invited.json["email"] == "new.person@example.com"
    mail = handler.received[-1].message
    assert mail["To"] == "new.person@example.com"
    assert mail["From"] == "Northwind Programme <team@vendor.test>"
    assert mail["Subject"] == ("You are invited to Northwind Traders on tcma" if for_partner
                               else "You are invited to the vendor's team on tcma")
    token = _link(handler, "new.person@example.com", "invitations")
    accepted = api.post("/api/v1/invitations/accept", json={"token": token, "password": PASSWORD})
    assert accepted.status_code == 201
    assert (accepted.json["role"], accepted.json["partner_id"]) == (role, partner.id if for_partner else None)
    assert _sign_in(api, "new.person@example.com") == 201
    again = api.post("/api/v1/invitations/accept", json={"token": token, "password": PASSWORD})
    assert again.status_code == 422
    assert again.json["message"] == ("this invitation link is not valid: it was replaced, withdrawn "
                                     "or already used")


def test_re_inviting_replaces_the_earlier_link_and_an_expired_one_is_refused(api, mailbox):
    handler, _ = mailbox
    _, admin = make_user("admin")
    api.post("/api/v1/invitations", headers=admin, json={"email": "m@example.com", "role": "marketer"})
    first = _link(handler, "m@example.com", "invitations")
    api.post("/api/v1/invitations", headers=admin, json={"email": "m@example.com", "role": "marketer"})
    second = _link(handler, "m@example.com", "invitations")
    assert first != second
    refused = api.post("/api/v1/invitations/accept", json={"token": first, "password": PASSWORD})
    assert refused.status_code == 422 and refused.json["errors"] == {"token": ["not valid"]}
    db.session.execute(update(Invitation).values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    expired = api.post("/api/v1/invitations/accept", json={"token": second, "password": PASSWORD})
    assert expired.status_code == 422
    assert expired.json["message"] == "this invitation has expired; ask for a new one"
    forged = api.post("/api/v1/invitations/accept", json={"token": second[:-2] + "xx", "password": PASSWORD})
    assert forged.status_code == 422


def test_a_partner_admin_invites_and_sees_only_their_own_partner(api, mailbox):
    handler, _ = mailbox
    taxonomy = make_taxonomy()
    own, other = make_partner(taxonomy), make_partner(taxonomy)
    _, admin = make_user("partner_admin", own)
    colleague, _ = make_user("partner", own)
    stranger, _ = make_user("partner", other)
    elsewhere = api.post("/api/v1/invitations", headers=admin,
                         json={"email": "x@example.com", "role": "partner", "partner_id": other.id})
    assert elsewhere.status_code == 404
    assert api.post("/api/v1/invitations", headers=admin,
                    json={"email": "x@example.com", "role": "marketer"}).status_code == 422
    assert handler.received == []
    listed = {u["email"] for u in api.get("/api/v1/users", headers=admin).json["items"]}
    assert colleague.email in listed and stranger.email not in listed
    assert api.get(f"/api/v1/users/{stranger.id}", headers=admin).status_code == 404
    assert api.post(f"/api/v1/users/{stranger.id}/deactivate", headers=admin).status_code == 404
    _, partner_user = make_user("partner", own)
    refused = api.post("/api/v1/invitations", headers=partner_user,
                       json={"email": "y@example.com", "role": "partner"})
    assert refused.status_code == 403


def test_deactivation_stops_tokens_at_once_and_reactivation_lets_the_user_back(api):
    partner = make_partner(make_taxonomy())
    user, token = make_user("partner", partner)
    _, marketer = make_user("marketer")
    assert api.get("/api/v1/auth/me", headers=token).status_code == 200
    assert api.post(f"/api/v1/users/{user.id}/deactivate", headers=marketer).json["is_active"] is False
    assert api.get("/api/v1/auth/me", headers=token).status_code == 401
    assert api.post(f"/api/v1/users/{user.id}/reactivate", headers=marketer).json["is_active"] is True
    assert api.get("/api/v1/auth/me", headers=token).status_code == 200
    me, admin = make_user("admin")
    refused = api.post(f"/api/v1/users/{me.id}/deactivate", headers=admin)
    assert refused.status_code == 409
    assert refused.json["message"] == "you cannot deactivate or reactivate yourself"


def test_suspending_a_partner_ends_its_users_tokens_and_no_one_elses(api):
    taxonomy = make_taxonomy()
    suspended, fine = make_partner(taxonomy), make_partner(taxonomy)
    user, token = make_user("partner", suspended)
    _, other_token = make_user("partner", fine)
    update_partner(OPERATOR, suspended.id, {"status": "suspended"})
    assert api.get("/api/v1/auth/me", headers=token).status_code == 401  # revoked
    assert api.get("/api/v1/auth/me", headers=other_token).status_code == 200
    new = api.post("/api/v1/auth/tokens", json={"email": user.email, "password": "correct horse battery",
                                                "name": "again"})
    assert new.status_code == 403
    assert new.json["message"] == "your partner's access to tcma is suspended; ask your vendor contact"


def test_password_reset_by_mail_is_silent_single_use_and_ends_sessions(api, mailbox):
    handler, _ = mailbox
    user, token = make_user("marketer")
    unknown = api.post("/api/v1/auth/password-reset", json={"email": "nobody@example.com"})
    known = api.post("/api/v1/auth/password-reset", json={"email": user.email})
    assert (unknown.status_code, unknown.json) == (known.status_code, known.json) == (
        202, {"message": "if this address belongs to an account, a reset link is on its way"})
    assert [r.rcpt_tos for r in handler.received] == [[user.email]]
    reset = _link(handler, user.email, "password-reset")
    done = api.post("/api/v1/auth/password-reset/confirm", json={"token": reset, "password": PASSWORD})
    assert done.status_code == 200
    assert _sign_in(api, user.email, "correct horse battery") == 401
    assert _sign_in(api, user.email) == 201
    reused = api.post("/api/v1/auth/password-reset/confirm",
                      json={"token": reset, "password": "another one 123"})
    assert reused.status_code == 422
    assert reused.json["message"] == "this password reset link is not valid: it was already used or replaced"


def test_a_reset_link_expires(smtp_app, api, mailbox, monkeypatch):
    handler, _ = mailbox
    user, _ = make_user("marketer")
    api.post("/api/v1/auth/password-reset", json={"email": user.email})
    reset = _link(handler, user.email, "password-reset")
    later = time.time() + 61 * 60
    monkeypatch.setattr(time, "time", lambda: later)
    expired = api.post("/api/v1/auth/password-reset/confirm", json={"token": reset, "password": PASSWORD})
    assert expired.status_code == 422
    assert expired.json["message"] == "this password reset link has expired; ask for a new one"


def test_changing_a_password_needs_the_current_one(api):
    user, headers = make_user("marketer")
    wrong = api.post("/api/v1/auth/password", headers=headers,
                     json={"current_password": "not it", "new_password": PASSWORD})
    assert wrong.status_code == 422 and wrong.json["errors"] == {"current_password": ["wrong password"]}
    short = api.post("/api/v1/auth/password", headers=headers,
                     json={"current_password": "correct horse battery", "new_password": "short"})
    assert short.status_code == 422 and short.json["errors"] == {"new_password": ["at least 10 characters"]}
    changed = api.post("/api/v1/auth/password", headers=headers,
                       json={"current_password": "correct horse battery", "new_password": PASSWORD})
    assert changed.status_code == 200
    assert _sign_in(api, user.email) == 201


def test_tokens_expire_by_default_and_cannot_outlive_the_maximum(api):
    user, _ = make_user("marketer")
    issued = api.post("/api/v1/auth/tokens", json={"email": user.email, "password": "correct horse battery",
                                                   "name": "ci"})
    assert issued.status_code == 201 and issued.json["expires_at"] is not None
    too_long = api.post("/api/v1/auth/tokens", json={"email": user.email, "password": "correct horse battery",
                                                     "name": "ci", "expires_in_days": 400})
    assert too_long.status_code == 422
    assert too_long.json["errors"] == {"expires_in_days": ["from 1 to 365"]}


def test_sign_in_works_when_redis_is_unreachable(migrated_pg, tmp_path):
    url, tables = migrated_pg
    config = base_config(tmp_path, DATABASE_URL=url, REDIS_URL="redis://127.0.0.1:1/0")
    for app in app_on(config, tables):
        user, _ = make_user("marketer")
        response = app.test_client().post("/api/v1/auth/tokens", json={
            "email": user.email, "password": "correct horse battery", "name": "no redis"})
        assert response.status_code == 201
        wrong = app.test_client().post("/api/v1/auth/tokens", json={
            "email": user.email, "password": "wrong", "name": "no redis"})
        assert wrong.status_code == 401


def test_logout_ends_the_session_on_the_server_so_a_replayed_cookie_is_refused(api):
    from tests.support.portal import csrf_from, sign_in

    user, _ = make_user("marketer")
    sign_in(api, user)
    cookie = api.get_cookie("session").value
    assert len(cookie) == 43  # an opaque random id: the cookie carries nothing else
    assert api.get("/api/v1/auth/me").json["user_id"] == user.id
    token = csrf_from(api.get("/portal/campaigns").get_data(as_text=True))
    api.post("/logout", data={"csrf_token": token})
    assert api.get_cookie("session") is None
    api.set_cookie("session", cookie)  # the old cookie, replayed
    replayed = api.get("/api/v1/auth/me")
    assert replayed.status_code == 401


def test_the_session_id_changes_at_sign_in(api):
    from tests.support.portal import sign_in

    user, _ = make_user("marketer")
    api.get("/login")  # an anonymous session (its CSRF token) is made first
    before = api.get_cookie("session").value
    sign_in(api, user)
    after = api.get_cookie("session").value
    assert before != after
    api.set_cookie("session", before)
    assert api.get("/api/v1/auth/me").status_code == 401


def test_reset_mails_to_one_address_are_capped_per_hour(api, mailbox):
    handler, _ = mailbox
    user, _ = make_user("marketer")
    for _ in range(5):
        assert api.post("/api/v1/auth/password-reset", json={"email": user.email}).status_code == 202
    assert len(handler.received) == 3


def test_a_suspended_partner_cannot_be_invited_into(api):
    partner = make_partner(make_taxonomy(), name="Dormant Ltd")
    update_partner(OPERATOR, partner.id, {"status": "suspended"})
    _, admin = make_user("admin")
    refused = api.post("/api/v1/invitations", headers=admin,
                       json={"email": "z@example.com", "role": "partner", "partner_id": partner.id})
    assert refused.status_code == 409
    assert refused.json["message"] == "Dormant Ltd is suspended: its users cannot be invited"
