"""Connecting LinkedIn, X, Facebook and Mastodon accounts through their consent pages, end to end
against the loopback fakes; then the accounts' token lifecycle (refresh, needs_reconnect, held
posts, reconnect, the expiry report) and disconnecting with a revoke."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from sqlalchemy import select

from tcma.errors import ConflictError
from tcma.extensions import db
from tcma.models import OAuthConnection, ScheduledPost, SocialAccount
from tcma.models.base import utcnow
from tcma.services.maintenance import run_maintenance
from tcma.services.syndication.publishing import Outgoing, publish_to_account
from tcma.services.syndication.tokens import refresh_due_tokens
from tests.support.apps import app_on, base_config
from tests.support.factories import make_partner, make_taxonomy, make_user
from tests.support.fake_networks import FakeMastodon, follow_consent, serve
from tests.support.fake_oauth_networks import FakeFacebook, FakeLinkedIn, FakeX
from tests.support.portal import sign_in

URL = "/api/v1/social-accounts"
SECRETS = (FakeLinkedIn.CLIENT_SECRET, FakeX.CLIENT_SECRET, FakeFacebook.APP_SECRET)


@pytest.fixture(scope="module")
def fakes():
    with ExitStack() as stack:
        yield {name: stack.enter_context(serve(fake)) for name, fake in
               (("linkedin", FakeLinkedIn()), ("x", FakeX()), ("facebook", FakeFacebook()),
                ("mastodon", FakeMastodon()))}


@pytest.fixture
def app(migrated_pg, tmp_path, fakes):
    url, tables = migrated_pg
    config = {}
    for name in ("linkedin", "x", "facebook"):
        config.update(fakes[name].config())
        fakes[name].deny = False
    fakes["mastodon"].deny = False
    yield from app_on(base_config(tmp_path, DATABASE_URL=url, CONNECTORS_BACKEND="live",
                                  CONNECTORS_TIMEOUT=2, CONNECTORS_CONNECT_TIMEOUT=2, **config), tables)


@pytest.fixture
def world(app):
    taxonomy = make_taxonomy()
    acme, globex = make_partner(taxonomy), make_partner(taxonomy)
    acme_user, acme_headers = make_user("partner", acme)
    _, globex_headers = make_user("partner", globex)
    _, marketer = make_user("marketer")
    return {"acme": acme.id, "globex": globex.id, "acme_user": acme_user, "acme_headers": acme_headers,
            "globex_headers": globex_headers, "marketer": marketer}


def _start(client, world, network, **query):
    response = client.get(f"{URL}/connect/{network}", headers=world["acme_headers"], query_string=query)
    assert response.status_code == 302, response.get_json()
    assert response.headers["Location"] == response.get_json()["authorization_url"]
    return response.headers["Location"]


def _connect(client, world, network, **query):
    """Start, consent as the partner, come back: the callback's answer."""
    back = follow_consent(_start(client, world, network, **query))
    return client.get(f"{URL}/callback/{network}", query_string=back)


def _accounts(network):
    return list(db.session.scalars(select(SocialAccount).where(SocialAccount.network == network)
                                   .order_by(SocialAccount.id)))


def test_linkedin_connects_the_member_and_the_page_they_administer(client, world, fakes):
    location = _start(client, world, "linkedin", return_to="/portal/social-accounts")
    assert location.startswith(f"{fakes['linkedin'].base_url}/oauth/v2/authorization?")
    query = dict(parse_qsl(urlsplit(location).query))
    assert query["client_id"] == "li-client-78kq2n"
    assert query["redirect_uri"] == "http://tcma.test/api/v1/social-accounts/callback/linkedin"
    back = follow_consent(location)
    done = client.get(f"{URL}/callback/linkedin", query_string=back)
    assert done.status_code == 303
    assert done.headers["Location"] == "/portal/social-accounts?connect=done"
    listed = client.get(URL, headers=world["acme_headers"]).get_json()["items"]
    assert sorted((a["network"], a["handle"], a["external_id"], a["state"]) for a in listed) == [
        ("linkedin", "Ada Partner", "urn:li:person:8rJt2KqWxY", "active"),
        ("linkedin", "acme-outdoor", "urn:li:organization:2414183", "active")]
    body = client.get(URL, headers=world["marketer"]).get_data(as_text=True)
    assert "acme-outdoor" in body
    assert not any(secret in body for secret in SECRETS)
    assert "access_token" not in body and "refresh_token" not in body
    # The credentials are sealed at rest: no token in the column.
    sealed = _accounts("linkedin")[0].credentials
    assert b"access_token" not in sealed
    # The consent under way is spent: the same state cannot connect again.
    again = client.get(f"{URL}/callback/linkedin", query_string=back)
    assert again.status_code == 422
    assert again.get_json()["errors"]["state"] == [
        "this connection link is unknown, already used or expired: start connecting the account again"]


def test_x_connects_with_pkce_and_answers_the_account_when_no_page_waits(client, world, fakes):
    location = _start(client, world, "x")
    query = dict(parse_qsl(urlsplit(location).query))
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    back = follow_consent(location)
    done = client.get(f"{URL}/callback/x", query_string=back)
    assert done.status_code == 201, done.get_json()
    [account] = done.get_json()
    assert (account["handle"], account["external_id"], account["partner_id"]) == (
        "@acme_outdoor", "1587216400137162752", world["acme"])
    [row] = _accounts("x")
    left = row.token_expires_at - utcnow()
    assert timedelta(minutes=115) < left <= timedelta(minutes=120)
    assert row.reconnect_by is None  # a refresh token keeps it alive: no date to reconnect by
    assert db.session.scalar(select(OAuthConnection.id)) is None


def test_facebook_connects_every_page_the_person_granted(client, world, fakes):
    done = _connect(client, world, "facebook")
    assert done.status_code == 201, done.get_json()
    assert sorted((a["handle"], a["external_id"]) for a in done.get_json()) == [
        ("Acme Outlet", "104815924761240"), ("acmeoutdoor", "104815924761239")]
    assert all(row.token_expires_at is None for row in _accounts("facebook"))


def test_mastodon_connects_through_the_partners_own_instance(client, world, fakes):
    done = _connect(client, world, "mastodon", instance_url=fakes["mastodon"].base_url)
    assert done.status_code == 201, done.get_json()
    [account] = done.get_json()
    assert account["external_id"] == FakeMastodon.ACCOUNT_ID
    assert account["base_url"] == fakes["mastodon"].base_url
    missing = client.get(f"{URL}/connect/mastodon", headers=world["acme_headers"])
    assert missing.status_code == 422
    assert missing.get_json()["errors"]["instance_url"] == [
        "the partner's Mastodon server, e.g. https://mastodon.social"]
    stray = client.get(f"{URL}/connect/x", headers=world["acme_headers"],
                       query_string={"instance_url": "https://mastodon.social"})
    assert stray.get_json()["errors"]["instance_url"] == ["not a x field"]


def test_a_denied_consent_connects_nothing_and_says_what_the_network_said(client, world, fakes):
    fakes["x"].deny = True
    back = follow_consent(_start(client, world, "x"))
    refused = client.get(f"{URL}/callback/x", query_string=back)
    assert refused.status_code == 422
    assert refused.get_json()["message"].startswith("x did not connect the account: ")
    assert _accounts("x") == []
    # With a page to go back to, the browser goes there with the message.
    back = follow_consent(_start(client, world, "x", return_to="/portal/social-accounts"))
    bounced = client.get(f"{URL}/callback/x", query_string=back)
    assert bounced.status_code == 303
    assert bounced.headers["Location"] == "/portal/social-accounts?connect=failed"


def test_a_forged_or_missing_state_or_a_refused_code_connects_nothing(client, world, fakes):
    no_state = client.get(f"{URL}/callback/x", query_string={"code": "abc"})
    assert no_state.status_code == 422 and no_state.get_json()["message"] == "the network sent no state back"
    forged = client.get(f"{URL}/callback/x", query_string={"code": "abc", "state": "made-up"})
    assert forged.get_json()["message"] == "this connection link is unknown, already used or expired"
    back = follow_consent(_start(client, world, "linkedin"))
    wrong_network = client.get(f"{URL}/callback/x", query_string=back)
    assert wrong_network.status_code == 422
    bad_code = client.get(f"{URL}/callback/linkedin", query_string={**back, "code": "not-the-code"})
    assert bad_code.status_code == 422
    assert bad_code.get_json()["message"].startswith("linkedin refused the connection: ")
    assert not any(secret in bad_code.get_data(as_text=True) for secret in SECRETS)
    assert _accounts("linkedin") == []


def test_an_expired_consent_is_refused(client, world, fakes):
    back = follow_consent(_start(client, world, "facebook"))
    db.session.execute(OAuthConnection.__table__.update().values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    late = client.get(f"{URL}/callback/facebook", query_string=back)
    assert late.status_code == 422 and _accounts("facebook") == []


def test_a_consent_started_in_a_portal_session_must_come_back_in_that_browser(app, client, world, fakes):
    sign_in(client, world["acme_user"])
    started = client.get(f"{URL}/connect/x", query_string={"return_to": "/portal/social-accounts"})
    assert started.status_code == 302
    back = follow_consent(started.headers["Location"])
    other_browser = app.test_client().get(f"{URL}/callback/x", query_string=back)
    assert other_browser.status_code == 303  # back to the page, with the refusal flashed
    assert _accounts("x") == []
    started = client.get(f"{URL}/connect/x", query_string={"return_to": "/portal/social-accounts"})
    done = client.get(f"{URL}/callback/x", query_string=follow_consent(started.headers["Location"]))
    assert done.status_code == 303 and done.headers["Location"] == "/portal/social-accounts?connect=done"
    assert len(_accounts("x")) == 1


def test_starting_a_connection_is_refused_clearly(app, client, world, fakes):
    foreign = client.get(f"{URL}/connect/x", headers=world["acme_headers"],
                         query_string={"partner_id": world["globex"]})
    assert foreign.status_code == 404
    offsite = client.get(f"{URL}/connect/x", headers=world["acme_headers"],
                         query_string={"return_to": "https://evil.example/x"})
    assert offsite.status_code == 422
    assert offsite.get_json()["errors"]["return_to"] == ["a path starting with / on this site"]
    for sneaky in ("//evil.example/x", "portal"):
        assert client.get(f"{URL}/connect/x", headers=world["acme_headers"],
                          query_string={"return_to": sneaky}).status_code == 422
    pasted = client.get(f"{URL}/connect/bluesky", headers=world["acme_headers"])
    assert pasted.get_json()["errors"]["network"] == ["one of linkedin, x, facebook, mastodon"]
    vendor = client.get(f"{URL}/connect/x", headers=world["marketer"])
    assert vendor.get_json()["errors"]["partner_id"] == ["the partner the account is for"]
    app.extensions["tcma"].connectors = type(app.extensions["tcma"].connectors)(backend="live")
    unset = client.get(f"{URL}/connect/linkedin", headers=world["acme_headers"])
    assert unset.status_code == 422
    assert "TCMA_CONNECTORS_LINKEDIN_CLIENT_ID" in unset.get_json()["message"]
    assert db.session.scalar(select(OAuthConnection.id)) is None


def _hold_a_post(account: SocialAccount) -> ScheduledPost:
    post = ScheduledPost(social_account_id=account.id, partner_id=account.partner_id, text="Spring offer",
                         scheduled_at=utcnow() + timedelta(hours=1), idempotency_key=f"k-{account.id}")
    db.session.add(post)
    db.session.commit()
    return post


def test_x_tokens_are_refreshed_ahead_of_expiry_and_a_revoked_one_holds_posts_until_reconnect(
        client, world, fakes):
    _connect(client, world, "x")
    [row] = _accounts("x")
    post = _hold_a_post(row)
    old_sealed = row.credentials
    early = refresh_due_tokens()
    assert early.refreshed == [] and row.credentials == old_sealed  # two hours left: nothing to do
    report = refresh_due_tokens(now=utcnow() + timedelta(minutes=100))
    assert report.refreshed == [row.id]
    db.session.refresh(row)
    assert row.credentials != old_sealed
    published = publish_to_account(row, Outgoing(text="Spring offer from Acme", ref="p1"))
    assert published.external_id
    # The partner revokes tcma on X: the next refresh is refused, the account waits for them.
    fakes["x"].oauth.revoke_all()
    report = refresh_due_tokens(now=utcnow() + timedelta(minutes=119))
    assert report.needs_reconnect == [row.id]
    db.session.refresh(row)
    db.session.refresh(post)
    assert row.state == "needs_reconnect" and post.status == "held"
    assert row.reconnect_reason.startswith("x would not renew the connection: ")
    shown = client.get(f"{URL}/{row.id}", headers=world["acme_headers"]).get_json()
    assert shown["state"] == "needs_reconnect" and shown["reconnect_reason"] == row.reconnect_reason
    expiring = client.get(f"{URL}/expiring", headers=world["marketer"]).get_json()
    assert [a["id"] for a in expiring] == [row.id]
    # Connecting again brings it back and releases the held post.
    _connect(client, world, "x")
    db.session.refresh(row)
    db.session.refresh(post)
    assert row.state == "active" and post.status == "scheduled" and row.reconnect_reason is None
    assert [a.id for a in _accounts("x")] == [row.id]


def test_a_publish_refused_for_bad_credentials_turns_the_account_needs_reconnect(client, world, fakes):
    _connect(client, world, "facebook")
    row = _accounts("facebook")[0]
    fakes["facebook"].expire_tokens()
    with pytest.raises(ConflictError) as refused:
        publish_to_account(row, Outgoing(text="Spring offer", ref="p2"))
    assert str(refused.value).startswith("the facebook account acmeoutdoor must be connected again: ")
    db.session.refresh(row)
    assert row.state == "needs_reconnect"
    with pytest.raises(ConflictError) as waiting:
        publish_to_account(row, Outgoing(text="Spring offer", ref="p3"))
    assert str(waiting.value) == "the facebook account acmeoutdoor is waiting to be connected again"


def test_check_asks_the_network_and_flags_dead_credentials(client, world, fakes):
    _connect(client, world, "linkedin")
    row = _accounts("linkedin")[0]
    ok = client.post(f"{URL}/{row.id}/check", headers=world["acme_headers"])
    assert ok.status_code == 200 and ok.get_json()["state"] == "active"
    fakes["linkedin"].oauth.revoke_all()
    dead = client.post(f"{URL}/{row.id}/check", headers=world["acme_headers"])
    assert dead.get_json()["state"] == "needs_reconnect"
    assert dead.get_json()["reconnect_reason"].startswith("linkedin refused the credentials: ")
    foreign = client.post(f"{URL}/{row.id}/check", headers=world["globex_headers"])
    assert foreign.status_code == 404


def test_the_expiry_report_lists_consents_ending_within_the_window(client, world, fakes):
    fakes["linkedin"].refresh_tokens = False
    try:
        _connect(client, world, "linkedin")
    finally:
        fakes["linkedin"].refresh_tokens = True
    rows = _accounts("linkedin")
    assert all(r.reconnect_by is not None for r in rows)  # 60 days, no refresh: reconnect by then
    assert client.get(f"{URL}/expiring", headers=world["marketer"]).get_json() == []
    later = client.get(f"{URL}/expiring", headers=world["marketer"], query_string={"days": 61}).get_json()
    assert sorted(a["id"] for a in later) == [r.id for r in rows]
    assert client.get(f"{URL}/expiring", headers=world["globex_headers"],
                      query_string={"days": 61}).get_json() == []
    bad = client.get(f"{URL}/expiring", headers=world["marketer"], query_string={"days": 0})
    assert bad.status_code == 422


def test_disconnecting_revokes_the_token_at_the_network(client, world, fakes):
    _connect(client, world, "mastodon", instance_url=fakes["mastodon"].base_url)
    [row] = _accounts("mastodon")
    token = row.credentials
    assert client.delete(f"{URL}/{row.id}", headers=world["acme_headers"]).status_code == 204
    assert _accounts("mastodon") == []
    assert any(path == "/oauth/revoke" for _, path in fakes["mastodon"].calls)
    assert token  # the sealed credentials went with the row


def test_the_maintenance_pass_renews_tokens(client, world, fakes):
    _connect(client, world, "x")
    [row] = _accounts("x")
    db.session.execute(SocialAccount.__table__.update().values(
        token_expires_at=utcnow() + timedelta(minutes=5)))
    db.session.commit()
    report = run_maintenance()
    assert report.tokens == 1 and "renewed 1 social tokens" in report.summary()
    db.session.refresh(row)
    assert row.token_expires_at > utcnow() + timedelta(minutes=100)


def test_the_network_unreachable_at_the_callback_keeps_the_consent_for_a_retry(client, world, fakes):
    back = follow_consent(_start(client, world, "facebook"))
    fakes["facebook"].slow_next("/v24.0/oauth/access_token", 3.0)
    slow = client.get(f"{URL}/callback/facebook", query_string=back)
    assert slow.status_code == 503
    assert slow.get_json()["message"].startswith("facebook could not be reached to finish connecting: ")
    assert db.session.scalar(select(OAuthConnection.id)) is not None
    assert httpx  # the fakes answer over real HTTP


def test_disconnecting_one_page_of_a_consent_keeps_the_others_working(client, world, fakes):
    _connect(client, world, "facebook")
    first, second = _accounts("facebook")
    assert client.delete(f"{URL}/{first.id}", headers=world["acme_headers"]).status_code == 204
    assert ("DELETE", f"/v24.0/{FakeFacebook.USER_ID}/permissions") not in fakes["facebook"].calls
    still = publish_to_account(second, Outgoing(text="Spring offer from the outlet", ref="p4"))
    assert still.external_id
    assert client.delete(f"{URL}/{second.id}", headers=world["acme_headers"]).status_code == 204
    assert ("DELETE", f"/v24.0/{FakeFacebook.USER_ID}/permissions") in fakes["facebook"].calls


def test_operators_read_the_expiry_report_and_renew_tokens_from_the_command_line(app, client, world, fakes):
    runner = app.test_cli_runner()
    empty = runner.invoke(args=["social", "expiring"])
    assert empty.output == "No account needs its partner within 14 days.\n"
    fakes["linkedin"].refresh_tokens = False
    try:
        _connect(client, world, "linkedin")
    finally:
        fakes["linkedin"].refresh_tokens = True
    report = runner.invoke(args=["social", "expiring", "--days", "61"]).output.splitlines()
    assert len(report) == 2 and all(" linkedin " in line and "reconnect by 20" in line for line in report)
    assert "acme-outdoor" in "\n".join(report)
    renewed = runner.invoke(args=["social", "refresh"])
    assert renewed.output == "refreshed 0 tokens, 0 accounts need reconnecting, 0 to retry\n"
