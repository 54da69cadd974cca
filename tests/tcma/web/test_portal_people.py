"""People pages through the Flask test client: team, invitations, password reset and change, access."""

from __future__ import annotations

import email.policy
import re
from datetime import timedelta
from email.parser import BytesParser
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import update

from tcma.extensions import db
from tcma.models import Invitation
from tcma.models.base import utcnow
from tcma.services.accounts.auth import OPERATOR
from tcma.services.partners.partners import update_partner
from tcma.state import app_state
from tests.support.factories import make_partner, make_user
from tests.support.portal import PASSWORD, post_form, sign_in
from tests.support.statements import recorded_statements

TEAM = "/portal/team"
NEW_PASSWORD = "a brand new passphrase"
LINK = re.compile(r"http://tcma\.test(/(?:invitations|password-reset)/[A-Za-z0-9._-]+)")


def mailed_link(address: str) -> str:
    """The path of the link in the newest mail to `address` in the app's outbox."""
    outbox = Path(app_state().mail_settings.outbox_dir)
    parser = BytesParser(policy=email.policy.default)
    found = []
    for path in sorted(outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns):
        message = parser.parsebytes(path.read_bytes())
        if message["To"] == address:
            found.append(LINK.search(message.get_body(("plain",)).get_content()).group(1))
    assert found, f"no mail to {address} in the outbox"
    return found[-1]


def mails_to(address: str) -> int:
    """How many mails to `address` the outbox holds."""
    outbox = Path(app_state().mail_settings.outbox_dir)
    if not outbox.exists():
        return 0
    parser = BytesParser(policy=email.policy.default)
    return sum(parser.parsebytes(p.read_bytes())["To"] == address for p in outbox.glob("*.eml"))


def signed_in_client(app, user):
    client = app.test_client()
    assert sign_in(client, user).status_code == 302
    return client


def text_of(response) -> str:
    return response.get_data(as_text=True)


def accept(client, link: str, password: str = NEW_PASSWORD, repeat: str | None = None):
    """Choose a password on an invitation page, as the invited person would."""
    return post_form(client, link, link, {"password": password,
                                          "password_repeat": password if repeat is None else repeat})


@pytest.fixture
def partner_admin(partner):
    return make_user("partner_admin", partner)[0]


def test_admin_invites_a_marketer_who_sets_a_password_and_lands_on_the_dashboard(app, client, taxonomy):
    admin = signed_in_client(app, make_user("admin")[0])
    form = text_of(admin.get(TEAM))
    assert 'name="email"' in form and '<option value="marketer"' in form and 'name="partner_id"' in form

    sent = post_form(admin, TEAM, "/portal/team/invitations",
                     {"email": "New.Marketer@Example.com", "role": "marketer", "partner_id": ""})
    assert sent.status_code == 302 and sent.location == TEAM
    team = text_of(admin.get(TEAM))
    assert "Invitation sent to new.marketer@example.com" in team and "Pending invitations <span" in team

    link = mailed_link("new.marketer@example.com")
    invited = text_of(client.get(link))
    assert "new.marketer@example.com" in invited and "Marketer" in invited and "Choose a password" in invited
    mismatch = accept(client, link, repeat="something else entirely")
    assert mismatch.status_code == 422 and "The two passwords differ" in text_of(mismatch)
    short = accept(client, link, password="short")
    assert short.status_code == 422 and "At least 10 characters" in text_of(short)

    joined = accept(client, link)
    assert joined.status_code == 302 and joined.location == "/portal/dashboard"
    home = client.get("/portal/campaigns")
    assert home.status_code == 200 and "Welcome to tcma" in text_of(home)
    account = text_of(client.get("/portal/account"))
    assert "new.marketer@example.com" in account and "Marketer" in account

    used = client.get(link)
    assert used.status_code == 400 and "already used" in text_of(used)
    assert 'name="password"' not in text_of(used)
    assert "new.marketer@example.com" not in text_of(admin.get(TEAM)).split("People <span")[0].split(
        "Pending invitations")[1]  # no longer pending


def test_partner_admin_invites_a_colleague_into_their_own_partner(app, client, partner, partner_admin):
    manager = signed_in_client(app, partner_admin)
    form = text_of(manager.get(TEAM))
    assert 'name="partner_id"' not in form  # invited into the admin's own partner, no picker
    assert 'value="admin"' not in form and 'value="marketer"' not in form
    assert "Acme &lt;b&gt;Networks&lt;/b&gt;" in form and "Acme <b>" not in form

    sent = post_form(manager, TEAM, "/portal/team/invitations",
                     {"email": "colleague@acme.example", "role": "partner"})
    assert sent.status_code == 302
    link = mailed_link("colleague@acme.example")
    assert "Acme &lt;b&gt;Networks&lt;/b&gt;" in text_of(client.get(link))

    joined = accept(client, link)
    assert joined.status_code == 302 and joined.location == "/portal/home"
    assert client.get("/portal").status_code == 200
    account = text_of(client.get("/portal/account"))
    assert "colleague@acme.example" in account and "Partner user" in account and "Acme &lt;b&gt;" in account
    assert client.get(TEAM).status_code == 403  # a partner user manages nobody
    assert "colleague@acme.example" in text_of(manager.get(TEAM))


def test_invite_errors_are_shown_beside_their_fields(app, partner):
    admin = signed_in_client(app, make_user("admin")[0])
    taken = make_user("marketer")[0]
    cases = [({"email": "not an address", "role": "marketer"}, "err-email", "Not an email address"),
             ({"email": "p@acme.example", "role": "partner", "partner_id": ""}, "err-partner_id",
              "Choose a partner"),
             ({"email": taken.email, "role": "marketer"}, "err-email", "Already registered")]
    for data, error_id, message in cases:
        refused = post_form(admin, TEAM, "/portal/team/invitations", data)
        html = text_of(refused)
        assert refused.status_code == 422, data
        assert f'id="{error_id}">{message}' in html, data
        assert f'value="{data["email"]}"' in html  # what was typed stays in the form
    assert mails_to("p@acme.example") == 0


def test_withdrawn_invitation_link_no_longer_works(app, client, partner):
    admin = signed_in_client(app, make_user("admin")[0])
    post_form(admin, TEAM, "/portal/team/invitations",
              {"email": "gone@acme.example", "role": "partner_admin", "partner_id": str(partner.id)})
    link = mailed_link("gone@acme.example")
    invitation_id = int(re.search(r'id="invitation-(\d+)"', text_of(admin.get(TEAM))).group(1))
    withdrawn = post_form(admin, TEAM, f"/portal/team/invitations/{invitation_id}/withdraw", {})
    assert "was withdrawn" in text_of(admin.get(withdrawn.location))
    refused = client.get(link)
    assert refused.status_code == 400 and "withdrawn" in text_of(refused)


def test_expired_invitation_link_shows_the_refusal_page_without_a_form(app, client, partner, partner_admin):
    manager = signed_in_client(app, partner_admin)
    post_form(manager, TEAM, "/portal/team/invitations", {"email": "late@acme.example", "role": "partner"})
    link = mailed_link("late@acme.example")
    db.session.execute(update(Invitation).values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()

    expired = client.get(link)
    html = text_of(expired)
    assert expired.status_code == 410 and "This invitation has expired; ask for a new one" in html
    assert 'name="password"' not in html
    too_late = post_form(client, "/login", link, {"password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD})
    assert too_late.status_code == 410 and "has expired" in text_of(too_late)
    assert sign_in(client, SimpleNamespace(email="late@acme.example"), NEW_PASSWORD).status_code == 401
    forged = client.get("/invitations/not-a-real-token")
    assert forged.status_code == 400 and "is not valid" in text_of(forged)


def test_partner_admin_cannot_see_or_deactivate_another_partners_users(app, taxonomy, partner, partner_admin):
    stranger = make_user("partner", make_partner(taxonomy, name="Other Co"))[0]
    colleague = make_user("partner", partner)[0]
    manager = signed_in_client(app, partner_admin)
    team = text_of(manager.get(TEAM))
    assert colleague.email in team and stranger.email not in team and "Other Co" not in team

    assert manager.get(f"/portal/team/users/{stranger.id}").status_code == 404
    refused = post_form(manager, TEAM, f"/portal/team/users/{stranger.id}/deactivate", {})
    assert refused.status_code == 404 and refused.mimetype == "text/html"
    assert signed_in_client(app, stranger).get("/portal").status_code == 200  # still active
    assert manager.get(f"/portal/team/users/{colleague.id}").status_code == 200


def test_deactivating_a_user_ends_their_session_and_reactivating_lets_them_back(app, partner_user,
                                                                               partner_client):
    admin_user = make_user("admin")[0]
    admin = signed_in_client(app, admin_user)
    team = text_of(admin.get(TEAM))
    assert f"/portal/team/users/{admin_user.id}/deactivate" not in team  # not for yourself

    done = post_form(admin, TEAM, f"/portal/team/users/{partner_user.id}/deactivate", {})
    assert done.status_code == 302
    assert "is deactivated and was signed out everywhere" in text_of(admin.get(TEAM))
    bounced = partner_client.get("/portal/assets")
    assert bounced.status_code == 302 and bounced.location.startswith("/login")
    assert sign_in(app.test_client(), partner_user).status_code == 401

    post_form(admin, TEAM, f"/portal/team/users/{partner_user.id}/reactivate", {"back": "user"})
    assert "active</span>" in text_of(admin.get(f"/portal/team/users/{partner_user.id}"))
    assert sign_in(app.test_client(), partner_user).status_code == 302


def test_password_reset_end_to_end(client, partner_user):
    login = text_of(client.get("/login"))
    assert 'href="/password-reset">Forgot your password?' in login
    asked = post_form(client, "/password-reset", "/password-reset", {"email": partner_user.email.upper()})
    assert asked.status_code == 200 and "If this address belongs to an account" in text_of(asked)

    link = mailed_link(partner_user.email)
    assert 'name="password_repeat"' in text_of(client.get(link))
    short = post_form(client, link, link, {"password": "short", "password_repeat": "short"})
    assert short.status_code == 422 and "At least 10 characters" in text_of(short)
    changed = post_form(client, link, link, {"password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD})
    assert changed.status_code == 302 and changed.location == "/login"
    assert "Your password was changed; sign in with the new one" in text_of(client.get("/login"))

    assert sign_in(client, partner_user).status_code == 401
    assert sign_in(client, partner_user, password=NEW_PASSWORD).status_code == 302
    again = post_form(client, link, link, {"password": "yet another passphrase",
                                           "password_repeat": "yet another passphrase"})
    assert again.status_code == 400 and "already used" in text_of(again)
    assert 'name="password"' not in text_of(again)


def test_resetting_in_a_signed_in_browser_signs_it_out_too(partner_user, partner_client):
    post_form(partner_client, "/password-reset", "/password-reset", {"email": partner_user.email})
    link = mailed_link(partner_user.email)
    post_form(partner_client, link, link, {"password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD})
    assert "sign in with the new one" in text_of(partner_client.get("/login"))
    assert partner_client.get("/portal").location.startswith("/login")


def test_reset_request_page_says_the_same_for_an_unknown_address(client, partner_user):
    known = post_form(client, "/password-reset", "/password-reset", {"email": partner_user.email})
    unknown = post_form(client, "/password-reset", "/password-reset", {"email": "nobody@nowhere.example"})
    assert known.status_code == unknown.status_code == 200
    assert text_of(known) == text_of(unknown)
    assert mails_to("nobody@nowhere.example") == 0 and mails_to(partner_user.email) == 1


def test_changing_the_password_keeps_this_session_and_ends_the_others(app, partner_user, partner_client):
    elsewhere = signed_in_client(app, partner_user)
    wrong = post_form(partner_client, "/portal/account", "/portal/account/password", {
        "current_password": "not it", "new_password": NEW_PASSWORD, "new_password_repeat": NEW_PASSWORD})
    assert wrong.status_code == 422 and 'id="err-current_password">Wrong password' in text_of(wrong)
    differ = post_form(partner_client, "/portal/account", "/portal/account/password", {
        "current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_repeat": "typo"})
    assert differ.status_code == 422 and "The two passwords differ" in text_of(differ)

    changed = post_form(partner_client, "/portal/account", "/portal/account/password", {
        "current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_repeat": NEW_PASSWORD})
    assert changed.status_code == 302
    assert "Your password was changed" in text_of(partner_client.get("/portal/account"))
    assert partner_client.get("/portal").status_code == 200
    assert elsewhere.get("/portal").location.startswith("/login")
    assert sign_in(app.test_client(), partner_user).status_code == 401
    assert sign_in(app.test_client(), partner_user, password=NEW_PASSWORD).status_code == 302


def test_suspended_partners_user_sees_the_suspended_page_on_every_portal_page(app, partner, partner_admin,
                                                                              catalogue):
    manager = signed_in_client(app, partner_admin)
    update_partner(OPERATOR, partner.id, {"status": "suspended"})
    assert manager.get("/portal").location.startswith("/login")  # the suspension ended the session

    assert sign_in(manager, partner_admin).status_code == 302
    for url in ("/portal", "/portal/assets", "/portal/templates/solution-brief", TEAM, "/portal/account"):
        response = manager.get(url)
        html = text_of(response)
        assert response.status_code == 403, url
        assert "Your access is suspended" in html and "vendor contact" in html, url
        assert "My assets" not in html and ">Team<" not in html and html.count(">Sign out<") == 1, url
    refused = post_form(manager, "/portal", "/portal/team/invitations",
                        {"email": "x@acme.example", "role": "partner"})
    assert refused.status_code == 403 and mails_to("x@acme.example") == 0


def test_replaying_the_session_cookie_after_logout_is_not_signed_in(app, partner_client):
    cookie = partner_client.get_cookie("session")
    assert cookie is not None and partner_client.get("/portal").status_code == 200
    post_form(partner_client, "/portal", "/logout", {})

    replay = app.test_client()
    replay.set_cookie("session", cookie.value)
    response = replay.get("/portal/account")
    assert response.status_code == 302 and response.location.startswith("/login")


def test_nav_links_follow_the_role(app, partner_user, partner_admin):
    assert ">Team<" in text_of(signed_in_client(app, partner_admin).get("/portal"))
    member = text_of(signed_in_client(app, partner_user).get("/portal"))
    assert ">Team<" not in member and ">Account<" in member
    marketer = text_of(signed_in_client(app, make_user("marketer")[0]).get("/portal/campaigns"))
    assert ">Team<" in marketer and ">Account<" in marketer


def test_the_admins_team_page_names_each_users_partner_and_offers_active_partners_in_the_same_statements(
        app, taxonomy):
    admin = make_user("admin")[0]
    manager = signed_in_client(app, admin)
    first = make_partner(taxonomy, name="Alpha Resellers")
    make_user("partner", first)
    manager.get(TEAM)  # the session's first page notes when it was last used
    db.session.expunge_all()  # a request starts with nothing loaded, as a served one does
    with recorded_statements() as few:
        html = text_of(manager.get(TEAM))
    assert '<td data-label="Partner">Alpha Resellers</td>' in html
    more = [make_partner(taxonomy, name=f"Reseller {n:02d}") for n in range(12)]
    for partner in more:
        make_user("partner", partner)
    update_partner(OPERATOR, more[0].id, {"status": "suspended"})
    # the invite form offers the active partners by id; the suspended one is not among them
    active = [(str(p.id), p.name) for p in [first, *more[1:]]]
    db.session.expunge_all()
    with recorded_statements() as many:
        html = text_of(manager.get(TEAM))
    assert html.count('<td data-label="Partner">Reseller ') == 12  # every user's partner named
    offered = re.findall(r'<option value="(\d+)">([^<]*)</option>', html)
    assert offered == active
    assert len(many) == len(few)  # no statement per user or per partner
