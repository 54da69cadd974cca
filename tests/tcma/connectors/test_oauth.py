"""The OAuth flows against the fake networks: consent URLs, code exchange, refresh, revoke, refusals."""

from __future__ import annotations

import logging
import socket
from dataclasses import replace
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from tcma.connectors import (
    Account,
    AuthExpired,
    ConnectorSettings,
    Rejected,
    Temporary,
    Unsupported,
)
from tcma.connectors.facebook import FacebookConnector
from tcma.connectors.linkedin import LinkedInConnector
from tcma.connectors.mastodon import MastodonConnector
from tcma.connectors.oauth import (
    OAUTH_NETWORKS,
    Authorization,
    DryRunFlow,
    FacebookFlow,
    Grant,
    LinkedInFlow,
    MastodonFlow,
    XFlow,
    build_oauth_flow,
)
from tcma.connectors.x import XConnector
from tests.support.fake_networks import FakeMastodon, follow_consent, s256
from tests.support.fake_oauth_networks import FakeFacebook, FakeLinkedIn, FakeX
from tests.tcma.connectors.conftest import NOW, SLOW, make_post

REDIRECT = "https://tcma.test/api/v1/social-accounts/callback/x?via=portal"
STATE = "state-Nq4tq2Yv7Jp0"


def _query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def _account(network: str, grant: Grant) -> Account:
    return Account(network=network, base_url=grant.base_url or "", handle=grant.handle,
                   external_id=grant.external_id, credentials=grant.credentials)


@pytest.fixture
def linkedin_flow(linkedin_settings):
    flow = LinkedInFlow(linkedin_settings, clock=lambda: NOW)
    yield flow
    flow.close()


@pytest.fixture
def x_flow(x_settings):
    flow = XFlow(x_settings, clock=lambda: NOW)
    yield flow
    flow.close()


@pytest.fixture
def facebook_flow(facebook_settings):
    flow = FacebookFlow(facebook_settings, clock=lambda: NOW)
    yield flow
    flow.close()


@pytest.fixture
def mastodon_flow(settings):
    flow = MastodonFlow(settings, clock=lambda: NOW)
    yield flow
    flow.close()


def _connect(flow, redirect_uri: str = REDIRECT, **extra) -> list[Grant]:
    authorization = flow.authorization_url(redirect_uri, STATE, **extra)
    back = follow_consent(authorization.url)
    assert back["state"] == STATE
    return flow.complete(back["code"], redirect_uri, authorization.keep)


# --- building flows, settings ---------------------------------------------------------------------------

@pytest.mark.parametrize(("network", "kind"), [
    ("linkedin", LinkedInFlow), ("x", XFlow), ("facebook", FacebookFlow), ("mastodon", MastodonFlow)])
def test_each_oauth_network_has_its_flow(network, kind):
    flow = build_oauth_flow(network, ConnectorSettings())
    try:
        assert isinstance(flow, kind) and flow.network == network
    finally:
        flow.close()
    assert OAUTH_NETWORKS == ("linkedin", "x", "facebook", "mastodon")


@pytest.mark.parametrize("network", ["bluesky", "webhook", "myspace"])
def test_networks_without_oauth_are_unsupported(network):
    with pytest.raises(Unsupported) as raised:
        build_oauth_flow(network, ConnectorSettings())
    assert raised.value.reason == (f"'{network}' does not connect by OAuth; the OAuth networks are "
                                   "linkedin, x, facebook, mastodon")


@pytest.mark.parametrize(("network", "settings_named"), [
    ("linkedin", "TCMA_CONNECTORS_LINKEDIN_CLIENT_ID and TCMA_CONNECTORS_LINKEDIN_CLIENT_SECRET"),
    ("x", "TCMA_CONNECTORS_X_CLIENT_ID and TCMA_CONNECTORS_X_CLIENT_SECRET"),
    ("facebook", "TCMA_CONNECTORS_FACEBOOK_APP_ID and TCMA_CONNECTORS_FACEBOOK_APP_SECRET"),
])
def test_a_flow_without_the_vendors_app_says_which_settings_to_set(network, settings_named):
    half = {"linkedin": {"linkedin_client_id": "id"}, "x": {"x_client_secret": "secret"},
            "facebook": {"facebook_app_id": "1"}}[network]
    for settings in (ConnectorSettings(), ConnectorSettings(**half)):
        flow = build_oauth_flow(network, settings)
        try:
            assert flow.configured() is False
            with pytest.raises(Unsupported) as raised:
                flow.authorization_url(REDIRECT, STATE)
            assert raised.value.reason == f"{network} is not set up: set {settings_named} (the vendor's app)"
            with pytest.raises(Unsupported):
                flow.complete("code", REDIRECT, {})
        finally:
            flow.close()


def test_mastodon_needs_no_vendor_app():
    flow = build_oauth_flow("mastodon", ConnectorSettings())
    try:
        assert flow.configured() is True
    finally:
        flow.close()


def test_settings_read_the_oauth_networks_and_hide_their_secrets():
    settings = ConnectorSettings.from_config({
        "CONNECTORS_LINKEDIN_CLIENT_ID": "li-id", "CONNECTORS_LINKEDIN_CLIENT_SECRET": "li-s3cret",
        "CONNECTORS_LINKEDIN_VERSION": "202604", "CONNECTORS_X_CLIENT_ID": "x-id",
        "CONNECTORS_X_CLIENT_SECRET": "x-s3cret", "CONNECTORS_FACEBOOK_APP_ID": "fb-id",
        "CONNECTORS_FACEBOOK_APP_SECRET": "fb-s3cret", "CONNECTORS_X_API_URL": "http://127.0.0.1:9"})
    assert (settings.linkedin_client_id, settings.linkedin_version, settings.x_api_url) == (
        "li-id", "202604", "http://127.0.0.1:9")
    assert settings.facebook_graph_url == "https://graph.facebook.com/v24.0"
    assert settings.x_auth_url == "https://x.com/i/oauth2/authorize"
    assert settings.linkedin_auth_url == "https://www.linkedin.com/oauth/v2"
    assert "s3cret" not in repr(settings)
    for flow in (build_oauth_flow(n, settings) for n in ("linkedin", "x", "facebook")):
        assert flow.configured() and "s3cret" not in repr(flow.__dict__)
        flow.close()


@pytest.mark.parametrize("version", ["2026-10", "latest", "20261", ""])
def test_a_linkedin_version_that_is_not_yyyymm_is_refused(version):
    with pytest.raises(ValueError) as raised:
        ConnectorSettings(linkedin_version=version)
    assert str(raised.value) == ("TCMA_CONNECTORS_LINKEDIN_VERSION must be a LinkedIn API version, YYYYMM "
                                 f"(or YYYYMM.RR), not {version!r}")
    assert ConnectorSettings(linkedin_version="202601.03").linkedin_version == "202601.03"


# --- LinkedIn ---------------------------------------------------------------------------------------------

def test_linkedin_consent_url_asks_for_member_and_organization_posting(linkedin_flow, linkedin_fake):
    authorization = linkedin_flow.authorization_url(REDIRECT, STATE)

    assert authorization.url.startswith(f"{linkedin_fake.base_url}/oauth/v2/authorization?")
    assert _query(authorization.url) == {
        "response_type": "code", "client_id": "li-client-78kq2n", "redirect_uri": REDIRECT, "state": STATE,
        "scope": "openid profile w_member_social w_organization_social r_organization_social "
                 "r_organization_admin"}
    assert authorization.keep == {}


def test_linkedin_connects_the_member_and_their_organization_page(linkedin_flow, linkedin_fake,
                                                                  linkedin_settings):
    member, page = _connect(linkedin_flow)

    assert (member.handle, member.external_id, member.display_name) == (
        "Ada Partner", "urn:li:person:8rJt2KqWxY", "Ada Partner")
    assert (page.handle, page.external_id, page.display_name) == (
        "acme-outdoor", "urn:li:organization:2414183", "Acme Outdoor")
    assert member.expires_at == page.expires_at == NOW + timedelta(days=60)
    assert member.base_url is None
    assert member.credentials["author"] == "urn:li:person:8rJt2KqWxY"
    assert page.credentials["author"] == "urn:li:organization:2414183"
    assert member.credentials["access_token"] == page.credentials["access_token"]
    assert member.credentials["refresh_token"].startswith("linkedin-refresh-")
    assert member.credentials["access_token"] not in repr(member)

    connector = LinkedInConnector(linkedin_settings)
    try:
        connector.publish(_account("linkedin", page), make_post("Connected"))
    finally:
        connector.close()
    assert linkedin_fake.posts[0]["author"] == "urn:li:organization:2414183"


def test_linkedin_without_organization_scopes_connects_the_member_only(linkedin_flow):
    linkedin_flow.scopes = ("openid", "profile", "w_member_social")
    [member] = _connect(linkedin_flow)
    assert member.external_id == "urn:li:person:8rJt2KqWxY"


def test_linkedin_connects_the_member_when_organizations_cannot_be_listed(linkedin_flow, linkedin_fake):
    linkedin_fake.fail_next("/rest/organizationAcls", 403, {"status": 403, "code": "ACCESS_DENIED",
                                                           "message": "Not enough permissions"})
    [member] = _connect(linkedin_flow)
    assert member.external_id == "urn:li:person:8rJt2KqWxY"


def test_linkedin_refuses_a_bad_or_spent_code(linkedin_flow):
    authorization = linkedin_flow.authorization_url(REDIRECT, STATE)
    code = follow_consent(authorization.url)["code"]
    with pytest.raises(Rejected) as wrong_uri:
        linkedin_flow.complete(code, "https://elsewhere.test/callback", authorization.keep)
    expected = ("linkedin refused the authorization code (400 invalid_grant: Unable to retrieve access "
                "token: appid/redirect uri/code verifier does not match authorization code. Or authorization "
                "code expired. Or external member binding exists)")
    assert wrong_uri.value.reason == expected
    with pytest.raises(Rejected) as spent:  # a code is spent by its first use, even a failed one
        linkedin_flow.complete(code, REDIRECT, authorization.keep)
    assert spent.value.reason == expected
    with pytest.raises(Rejected) as empty:
        linkedin_flow.complete("", REDIRECT, {})
    assert empty.value.reason == "linkedin sent no authorization code back"


def test_linkedin_refuses_a_wrong_app_secret_naming_the_settings(linkedin_settings, linkedin_fake):
    flow = LinkedInFlow(replace(linkedin_settings, linkedin_client_secret="wrong-secret-123"))
    try:
        with pytest.raises(Rejected) as raised:
            _connect(flow)
    finally:
        flow.close()
    assert raised.value.reason == (
        "linkedin refused tcma's app (401 invalid_client: Client authentication failed): check "
        "TCMA_CONNECTORS_LINKEDIN_CLIENT_ID and TCMA_CONNECTORS_LINKEDIN_CLIENT_SECRET")


def test_a_denied_consent_comes_back_with_access_denied(linkedin_flow, linkedin_fake):
    linkedin_fake.deny = True
    back = follow_consent(linkedin_flow.authorization_url(REDIRECT, STATE).url)
    assert back == {"via": "portal", "error": "access_denied",
                    "error_description": "The user denied the request", "state": STATE}
    assert linkedin_fake.oauth.codes == {}


def test_linkedin_refreshes_with_its_refresh_token(linkedin_flow, linkedin_fake):
    member, _ = _connect(linkedin_flow)
    account = _account("linkedin", member)

    renewed = linkedin_flow.refresh(account)
    assert renewed.credentials["access_token"] != member.credentials["access_token"]
    # LinkedIn's refresh tokens do not roll
    assert renewed.credentials["refresh_token"] == member.credentials["refresh_token"]
    assert renewed.credentials["author"] == "urn:li:person:8rJt2KqWxY"
    assert (renewed.handle, renewed.external_id) == ("Ada Partner", "urn:li:person:8rJt2KqWxY")
    assert renewed.expires_at == NOW + timedelta(days=60)


def test_linkedin_without_refresh_tokens_needs_a_new_consent(linkedin_flow, linkedin_fake):
    linkedin_fake.refresh_tokens = False
    member, _ = _connect(linkedin_flow)
    assert "refresh_token" not in member.credentials
    with pytest.raises(AuthExpired) as raised:
        linkedin_flow.refresh(_account("linkedin", member))
    assert raised.value.reason == ("linkedin gave no refresh token for this account: the partner must "
                                   "connect it again when its token expires")


def test_linkedin_revoke_kills_the_token_and_its_refresh(linkedin_flow, linkedin_fake, linkedin_settings):
    member, _ = _connect(linkedin_flow)
    account = _account("linkedin", member)
    linkedin_flow.revoke(account)

    connector = LinkedInConnector(linkedin_settings)
    try:
        with pytest.raises(AuthExpired, match="REVOKED_ACCESS_TOKEN"):
            connector.verify(account)
    finally:
        connector.close()
    linkedin_fake.oauth.revoke(member.credentials["refresh_token"])
    with pytest.raises(AuthExpired) as raised:
        linkedin_flow.refresh(account)
    assert raised.value.reason.startswith("linkedin refused the refresh token (400 invalid_grant: ")
    assert raised.value.reason.endswith("): the partner must connect the account again")


# --- X ----------------------------------------------------------------------------------------------------

def test_x_consent_url_carries_an_s256_challenge_of_the_kept_verifier(x_flow, x_fake):
    authorization = x_flow.authorization_url(REDIRECT, STATE)

    query = _query(authorization.url)
    assert authorization.url.startswith(f"{x_fake.base_url}/i/oauth2/authorize?")
    assert {k: query[k] for k in ("response_type", "client_id", "redirect_uri", "state", "scope",
                                  "code_challenge_method")} == {
        "response_type": "code", "client_id": "x-client-Rg9n6402A3db", "redirect_uri": REDIRECT,
        "state": STATE, "scope": "tweet.read tweet.write users.read offline.access media.write",
        "code_challenge_method": "S256"}
    verifier = authorization.keep["code_verifier"]
    assert 43 <= len(verifier) <= 128 and query["code_challenge"] == s256(verifier)
    assert list(authorization.keep) == ["code_verifier"]
    assert verifier not in repr(authorization)


def test_x_connects_the_user(x_flow, x_fake, x_settings):
    [grant] = _connect(x_flow)

    assert (grant.handle, grant.external_id, grant.display_name) == ("@acme_outdoor", "1587216400137162752",
                                                                     "Acme Outdoor")
    assert grant.expires_at == NOW + timedelta(hours=2)
    assert sorted(grant.credentials) == ["access_token", "refresh_token"]
    connector = XConnector(x_settings)
    try:
        connector.publish(_account("x", grant), make_post("Connected"))
    finally:
        connector.close()
    assert len(x_fake.tweets) == 1


def test_x_refuses_a_wrong_verifier_and_a_missing_one(x_flow):
    authorization = x_flow.authorization_url(REDIRECT, STATE)
    code = follow_consent(authorization.url)["code"]
    with pytest.raises(Rejected) as raised:
        x_flow.complete(code, REDIRECT, {"code_verifier": "x" * 64})
    assert raised.value.reason == ("x refused the authorization code (400 invalid_request: Value passed for "
                                   "the authorization code was invalid.)")
    with pytest.raises(Rejected) as missing:
        x_flow.complete(code, REDIRECT, {})
    assert missing.value.reason == "x: code_verifier is missing from what the authorization step kept"


def test_x_refuses_a_wrong_app_secret_naming_the_settings(x_settings):
    flow = XFlow(replace(x_settings, x_client_secret="wrong-secret-456"))
    try:
        with pytest.raises(Rejected) as raised:
            _connect(flow)
    finally:
        flow.close()
    assert raised.value.reason == (
        "x refused tcma's app (401 unauthorized_client: Missing valid authorization header): check "
        "TCMA_CONNECTORS_X_CLIENT_ID and TCMA_CONNECTORS_X_CLIENT_SECRET")


def test_x_refresh_rotates_and_the_old_refresh_token_stops_working(x_flow, x_fake, x_settings):
    [grant] = _connect(x_flow)
    first = _account("x", grant)

    renewed = x_flow.refresh(first)
    assert renewed.credentials["refresh_token"] != grant.credentials["refresh_token"]
    assert renewed.credentials["access_token"] != grant.credentials["access_token"]
    assert renewed.expires_at == NOW + timedelta(hours=2)
    assert (renewed.handle, renewed.external_id) == ("@acme_outdoor", "1587216400137162752")

    with pytest.raises(AuthExpired) as raised:
        x_flow.refresh(first)  # the old refresh token was spent
    assert raised.value.reason == ("x refused the refresh token (400 invalid_request: Value passed for the "
                                   "token was invalid.): the partner must connect the account again")
    again = x_flow.refresh(_account("x", renewed))  # the new one works
    x_fake.oauth.expire_access_tokens()
    connector = XConnector(x_settings)
    try:
        with pytest.raises(AuthExpired):
            connector.publish(_account("x", renewed), make_post())
        x_fake.oauth.tokens[again.credentials["access_token"]].state = "ok"
        connector.publish(_account("x", again), make_post())
    finally:
        connector.close()


def test_x_without_a_refresh_token_needs_a_new_consent(x_flow):
    account = Account(network="x", base_url="", handle="@acme_outdoor", credentials={"access_token": "a"})
    with pytest.raises(AuthExpired) as raised:
        x_flow.refresh(account)
    assert raised.value.reason == ("x gave no refresh token for this account (offline.access): the partner "
                                   "must connect it again")


def test_x_revoke_kills_both_tokens(x_flow, x_fake, x_settings):
    [grant] = _connect(x_flow)
    account = _account("x", grant)
    x_flow.revoke(account)

    assert [c for c in x_fake.calls if c[1] == "/2/oauth2/revoke"] == [("POST", "/2/oauth2/revoke")] * 2
    connector = XConnector(x_settings)
    try:
        with pytest.raises(AuthExpired, match="x answered 401: Unauthorized"):
            connector.verify(account)
    finally:
        connector.close()
    with pytest.raises(AuthExpired):
        x_flow.refresh(account)


def test_reading_the_new_account_after_the_exchange_is_classified(x_flow, x_fake):
    x_fake.fail_next("/2/users/me", 401, {"title": "Unauthorized", "detail": "Unauthorized", "status": 401})
    with pytest.raises(Rejected) as refused:
        _connect(x_flow)
    assert refused.value.reason == "x refused the new token: x answered 401: Unauthorized"
    x_fake.fail_next("/2/users/me", 429, {"title": "Too Many Requests", "status": 429},
                     {"x-rate-limit-reset": "4102444800", "x-rate-limit-remaining": "0"})
    with pytest.raises(Temporary) as limited:
        _connect(x_flow)
    assert limited.value.reason == "x answered 429: Too Many Requests until 2100-01-01T00:00:00+00:00"


# --- token endpoint failures, secrets --------------------------------------------------------------------

def test_a_failing_token_endpoint_is_temporary(x_flow, x_fake):
    x_fake.fail_next("/2/oauth2/token", 503, {"title": "Service Unavailable"})
    with pytest.raises(Temporary) as raised:
        _connect(x_flow)
    assert raised.value.reason == "x could not answer the token request now (503 Service Unavailable)"
    x_fake.fail_next("/2/oauth2/token", 200, {"token_type": "bearer"})
    with pytest.raises(Temporary) as odd:
        _connect(x_flow)
    assert odd.value.reason == ('x answered the token request without an access token '
                                '(200 {"token_type": "bearer"})')


def test_a_slow_or_unreachable_token_endpoint_is_temporary(x_flow, x_fake, x_settings):
    x_fake.slow_next("/2/oauth2/token", SLOW)
    with pytest.raises(Temporary) as slow:
        _connect(x_flow)
    assert slow.value.reason == "x: no answer from 127.0.0.1 (ReadTimeout)"

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    flow = XFlow(replace(x_settings, x_api_url=f"http://127.0.0.1:{port}"))
    try:
        account = Account(network="x", base_url="", handle="h", credentials={"refresh_token": "r"})
        with pytest.raises(Temporary) as unreachable:
            flow.refresh(account)
    finally:
        flow.close()
    assert unreachable.value.reason == "x: could not reach 127.0.0.1 (ConnectError)"


def test_secrets_never_reach_messages_or_logs(x_flow, x_fake, caplog):
    caplog.set_level(logging.DEBUG)
    authorization = x_flow.authorization_url(REDIRECT, STATE)
    code = follow_consent(authorization.url)["code"]
    verifier = authorization.keep["code_verifier"]
    echoed = f"{code} {verifier} {FakeX.CLIENT_SECRET}"
    x_fake.fail_next("/2/oauth2/token", 400, {"error": "invalid_request", "error_description": echoed})
    with pytest.raises(Rejected) as raised:
        x_flow.complete(code, REDIRECT, authorization.keep)
    assert raised.value.reason == "x refused the authorization code (400 invalid_request: *** *** ***)"

    [grant] = _connect(x_flow)
    renewed = x_flow.refresh(_account("x", grant))
    x_flow.revoke(_account("x", renewed))
    secrets = [FakeX.CLIENT_SECRET, verifier, *grant.credentials.values(), *renewed.credentials.values()]
    assert caplog.records
    assert not [s for s in secrets if s in caplog.text]


def test_a_refused_revocation_is_classified(x_flow, x_fake):
    account = Account(network="x", base_url="", handle="h", credentials={"access_token": "x-access-7Hk2"})
    x_fake.fail_next("/2/oauth2/revoke", 503, {"title": "Service Unavailable"})
    with pytest.raises(Temporary) as later:
        x_flow.revoke(account)
    assert later.value.reason == "x could not revoke the token now (503 Service Unavailable)"
    x_fake.fail_next("/2/oauth2/revoke", 400, {"error": "invalid_request", "error_description": "Bad token"})
    with pytest.raises(Rejected) as refused:
        x_flow.revoke(account)
    assert refused.value.reason == "x refused to revoke the token (400 invalid_request: Bad token)"


# --- Facebook ---------------------------------------------------------------------------------------------

def test_facebook_consent_url_asks_for_page_posting(facebook_flow, facebook_fake):
    authorization = facebook_flow.authorization_url(REDIRECT, STATE)

    assert authorization.url.startswith(f"{facebook_fake.base_url}/v24.0/dialog/oauth?")
    assert _query(authorization.url) == {
        "response_type": "code", "client_id": "1234567890123456", "redirect_uri": REDIRECT, "state": STATE,
        "scope": "pages_show_list,pages_manage_posts,pages_read_engagement"}
    assert authorization.keep == {}


def test_facebook_connects_each_page_the_person_may_post_to(facebook_flow, facebook_fake, facebook_settings,
                                                            caplog):
    caplog.set_level(logging.DEBUG)
    facebook_fake.accounts_page_size = 1  # three list pages: every one is read, never by its "next" URL
    outdoor, outlet = _connect(facebook_flow)
    user_tokens = list(facebook_fake.oauth.tokens)
    assert len(user_tokens) == 2 and [c for c in facebook_fake.calls if c[1] == "/v24.0/me/accounts"] == [
        ("GET", "/v24.0/me/accounts")] * 3
    tokens = user_tokens + list(facebook_fake.page_tokens)
    assert caplog.records and not [t for t in tokens if t in caplog.text]

    assert (outdoor.handle, outdoor.external_id, outdoor.display_name) == (
        "acmeoutdoor", "104815924761239", "Acme Outdoor")
    assert (outlet.handle, outlet.external_id, outlet.display_name) == (
        "Acme Outlet", "104815924761240", "Acme Outlet")
    assert outdoor.expires_at is None and outdoor.base_url is None
    assert outdoor.credentials["user_id"] == "10160123456789012"
    assert facebook_fake.page_tokens[outdoor.credentials["access_token"]] == ("104815924761239", "ok")

    connector = FacebookConnector(facebook_settings)
    try:
        connector.publish(_account("facebook", outlet), make_post("Connected"))
    finally:
        connector.close()
    assert facebook_fake.posts["104815924761240"][0]["message"] == "Connected"


def test_facebook_exchanges_for_a_long_lived_user_token(facebook_flow, facebook_fake):
    _connect(facebook_flow)
    exchanges = [c for c in facebook_fake.calls if c[1] == "/v24.0/oauth/access_token"]
    assert len(exchanges) == 2  # the code, then fb_exchange_token


def test_facebook_refuses_when_posting_was_not_allowed(facebook_flow, facebook_fake):
    facebook_fake.declined = {"pages_manage_posts"}
    with pytest.raises(Rejected) as raised:
        _connect(facebook_flow)
    assert raised.value.reason == ("facebook: the person did not allow pages_manage_posts; connect again and "
                                   "let tcma create content on the Page")


def test_facebook_refuses_when_no_page_was_chosen(facebook_flow, facebook_fake):
    facebook_fake.declined = {"pages_show_list"}
    with pytest.raises(Rejected) as raised:
        _connect(facebook_flow)
    assert raised.value.reason == ("facebook: the person gave tcma no Page it can post to; connect again and "
                                   "choose at least one Page")


def test_facebook_refuses_a_spent_code(facebook_flow):
    authorization = facebook_flow.authorization_url(REDIRECT, STATE)
    code = follow_consent(authorization.url)["code"]
    facebook_flow.complete(code, REDIRECT, authorization.keep)
    with pytest.raises(Rejected) as raised:
        facebook_flow.complete(code, REDIRECT, authorization.keep)
    assert raised.value.reason == ("facebook refused the authorization code (400 OAuthException "
                                   "(code 100/36009): This authorization code has been used.)")


def test_facebook_page_tokens_are_not_refreshed(facebook_flow, facebook_account):
    with pytest.raises(Unsupported) as raised:
        facebook_flow.refresh(facebook_account)
    assert raised.value.reason == ("facebook Page tokens do not expire: there is nothing to refresh; connect "
                                   "the Page again if Facebook refuses its token")


def test_facebook_revoke_removes_the_apps_permissions(facebook_flow, facebook_fake, facebook_settings):
    outdoor, outlet = _connect(facebook_flow)
    facebook_flow.revoke(_account("facebook", outdoor))

    connector = FacebookConnector(facebook_settings)
    try:
        with pytest.raises(AuthExpired) as raised:
            connector.publish(_account("facebook", outlet), make_post())  # every Page of that person goes
    finally:
        connector.close()
    assert raised.value.reason == ("facebook answered 400 (code 190/458): Error validating access token: The "
                                   "user has not authorized application 1234567890123456.")


def test_facebook_revoke_needs_the_person_and_a_success(facebook_flow, facebook_fake):
    no_user = Account(network="facebook", base_url="", handle="h", external_id="1",
                      credentials={"access_token": "t"})
    with pytest.raises(Unsupported) as raised:
        facebook_flow.revoke(no_user)
    assert raised.value.reason == "facebook account has no user_id to revoke the app's permissions for"
    facebook_fake.fail_next(f"/v24.0/{FakeFacebook.USER_ID}/permissions", 200, {"success": False})
    account = Account(network="facebook", base_url="", handle="h", external_id="1",
                      credentials={"access_token": "t", "user_id": FakeFacebook.USER_ID})
    with pytest.raises(Temporary) as failed:
        facebook_flow.revoke(account)
    assert failed.value.reason == "facebook answered the revocation without success"


# --- Mastodon ---------------------------------------------------------------------------------------------

def test_mastodon_registers_tcma_on_the_instance_then_asks_for_consent(mastodon_flow, mastodon_fake):
    instance = mastodon_fake.base_url + "/"
    authorization = mastodon_flow.authorization_url(REDIRECT, STATE, instance_url=instance)

    [app] = mastodon_fake.apps.values()
    assert (app["name"], app["redirect_uris"], app["scopes"]) == (
        "tcma", [REDIRECT], ["read:accounts", "read:statuses", "write:statuses", "write:media"])
    assert authorization.url.startswith(f"{mastodon_fake.base_url}/oauth/authorize?")
    query = _query(authorization.url)
    assert (query["client_id"], query["redirect_uri"], query["state"], query["code_challenge_method"]) == (
        app["client_id"], REDIRECT, STATE, "S256")
    assert query["scope"] == "read:accounts read:statuses write:statuses write:media"
    assert authorization.keep == {"instance_url": mastodon_fake.base_url, "client_id": app["client_id"],
                                  "client_secret": app["client_secret"],
                                  "code_verifier": authorization.keep["code_verifier"]}
    assert app["client_secret"] not in repr(authorization)


def test_mastodon_connects_the_instance_account(mastodon_flow, mastodon_fake, settings):
    [grant] = _connect(mastodon_flow, instance_url=mastodon_fake.base_url)

    [app] = mastodon_fake.apps.values()
    assert (grant.handle, grant.external_id, grant.display_name, grant.base_url, grant.expires_at) == (
        "@acme@127.0.0.1", "109348", "Acme Outdoor", mastodon_fake.base_url, None)
    assert (grant.credentials["client_id"], grant.credentials["client_secret"]) == (app["client_id"],
                                                                                    app["client_secret"])
    account = _account("mastodon", grant)
    connector = MastodonConnector(settings)
    try:
        connector.publish(account, make_post("Connected"))
        mastodon_flow.revoke(account)
        with pytest.raises(AuthExpired):
            connector.verify(account)
    finally:
        connector.close()


@pytest.mark.parametrize("instance", [None, "", "mastodon.social", "ftp://mastodon.social"])
def test_mastodon_needs_an_instance_address(mastodon_flow, instance):
    with pytest.raises(Rejected) as raised:
        mastodon_flow.authorization_url(REDIRECT, STATE, instance_url=instance)
    assert raised.value.reason == ("mastodon needs the address of the partner's instance, such as "
                                   "https://mastodon.social")


def test_an_instance_refusing_or_failing_registration_is_classified(mastodon_flow, mastodon_fake):
    invalid = "Validation failed: Redirect URI must be an absolute URI."
    mastodon_fake.fail_next("/api/v1/apps", 422, {"error": invalid})
    with pytest.raises(Rejected) as refused:
        mastodon_flow.authorization_url(REDIRECT, STATE, instance_url=mastodon_fake.base_url)
    assert refused.value.reason == ("mastodon instance 127.0.0.1 refused to register tcma (422 Validation "
                                    "failed: Redirect URI must be an absolute URI.)")
    mastodon_fake.fail_next("/api/v1/apps", 503, {"error": "Service Unavailable"})
    with pytest.raises(Temporary) as later:
        mastodon_flow.authorization_url(REDIRECT, STATE, instance_url=mastodon_fake.base_url)
    assert later.value.reason == ("mastodon instance 127.0.0.1 could not register tcma now (503 Service "
                                  "Unavailable)")


def test_mastodon_refuses_a_bad_code_and_needs_what_was_kept(mastodon_flow, mastodon_fake):
    authorization = mastodon_flow.authorization_url(REDIRECT, STATE, instance_url=mastodon_fake.base_url)
    with pytest.raises(Rejected) as raised:
        mastodon_flow.complete("not-a-code", REDIRECT, authorization.keep)
    assert raised.value.reason.startswith("mastodon refused the authorization code (400 invalid_grant: The "
                                          "provided authorization grant is invalid")
    with pytest.raises(Rejected) as missing:
        mastodon_flow.complete("code", REDIRECT, {"instance_url": mastodon_fake.base_url})
    assert missing.value.reason == "mastodon: client_id is missing from what the authorization step kept"


def test_mastodon_tokens_are_not_refreshed_and_pasted_ones_not_revoked(mastodon_flow, mastodon_account):
    with pytest.raises(Unsupported) as refresh:
        mastodon_flow.refresh(mastodon_account)
    assert refresh.value.reason == "mastodon tokens do not expire: there is nothing to refresh"
    with pytest.raises(Unsupported) as revoke:
        mastodon_flow.revoke(mastodon_account)
    assert revoke.value.reason == ("mastodon account was connected with a pasted access token: revoke it in "
                                   "the instance's authorized apps")


def test_mastodon_refusing_a_revocation_is_rejected(mastodon_flow, mastodon_fake):
    [grant] = _connect(mastodon_flow, instance_url=mastodon_fake.base_url)
    wrong = _account("mastodon", replace(grant, credentials={**grant.credentials, "client_secret": "nope"}))
    with pytest.raises(Rejected) as raised:
        mastodon_flow.revoke(wrong)
    assert raised.value.reason == ("mastodon refused to revoke the token (403 unauthorized_client: You are "
                                   "not authorized to revoke this token)")


# --- dry run ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("network", ["linkedin", "x", "facebook", "mastodon"])
def test_the_dryrun_flow_connects_without_any_network(network):
    flow = build_oauth_flow(network, ConnectorSettings(backend="dryrun"))
    assert isinstance(flow, DryRunFlow) and flow.configured()
    instance = "https://mastodon.example" if network == "mastodon" else None
    authorization = flow.authorization_url(REDIRECT, STATE, instance_url=instance)
    assert isinstance(authorization, Authorization)
    back = _query(authorization.url)
    assert authorization.url.startswith("https://tcma.test/api/v1/social-accounts/callback/x?via=portal&code=")
    assert back["state"] == STATE

    [grant] = flow.complete(back["code"], REDIRECT, authorization.keep)
    if network == "mastodon":
        assert (grant.handle, grant.external_id, grant.base_url) == (
            "@partner@mastodon.example", "dryrun:mastodon:mastodon.example", "https://mastodon.example")
    else:
        assert (grant.handle, grant.external_id, grant.base_url) == (
            f"dryrun-{network}-partner", f"dryrun:{network}:partner", None)
    account = _account(network, grant)
    renewed = flow.refresh(account)
    assert renewed.credentials["access_token"] != grant.credentials["access_token"]
    assert flow.revoke(account) is None
    with pytest.raises(Rejected) as raised:
        flow.complete("real-code", REDIRECT, {})
    assert raised.value.reason == f"{network} (dry run) refused the authorization code: not a dry-run code"
    flow.close()


def test_the_fakes_expose_their_settings_for_the_api_tests(linkedin_fake, x_fake, facebook_fake):
    assert FakeLinkedIn.CLIENT_ID == linkedin_fake.config()["CONNECTORS_LINKEDIN_CLIENT_ID"]
    assert x_fake.config()["CONNECTORS_X_AUTH_URL"] == f"{x_fake.base_url}/i/oauth2/authorize"
    assert facebook_fake.config()["CONNECTORS_FACEBOOK_GRAPH_URL"] == f"{facebook_fake.base_url}/v24.0"
    settings = ConnectorSettings.from_config(facebook_fake.config())
    assert settings.facebook_app_secret == FakeFacebook.APP_SECRET
    assert isinstance(FakeMastodon.ACCOUNT_ID, str)
