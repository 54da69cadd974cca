"""Connecting partners' social accounts through the API, verified against the loopback fake networks."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tcma.extensions import db
from tcma.models import SocialAccount
from tcma.state import app_state
from tests.support.apps import app_on, base_config
from tests.support.factories import make_partner, make_taxonomy, make_user
from tests.support.fake_networks import FakeBluesky, FakeMastodon, FakeWebhookReceiver, serve

URL = "/api/v1/social-accounts"
SECRETS = (FakeMastodon.TOKEN, FakeBluesky.APP_PASSWORD, FakeWebhookReceiver.SECRET, "wrong-token-123")


@pytest.fixture
def app(migrated_pg, tmp_path):
    """The app with live connectors (short timeouts): they reach only the loopback fakes here."""
    url, tables = migrated_pg
    yield from app_on(base_config(tmp_path, DATABASE_URL=url, CONNECTORS_BACKEND="live",
                                  CONNECTORS_TIMEOUT=2, CONNECTORS_CONNECT_TIMEOUT=2), tables)


@pytest.fixture
def mastodon_fake():
    with serve(FakeMastodon()) as fake:
        yield fake


@pytest.fixture
def bluesky_fake():
    with serve(FakeBluesky()) as fake:
        yield fake


@pytest.fixture
def webhook_fake():
    with serve(FakeWebhookReceiver()) as fake:
        yield fake


@pytest.fixture
def world(app):
    taxonomy = make_taxonomy()
    acme, globex = make_partner(taxonomy), make_partner(taxonomy)
    _, acme_user = make_user("partner", acme)
    _, globex_user = make_user("partner_admin", globex)
    _, marketer = make_user("marketer")
    return {"acme": acme.id, "globex": globex.id, "acme_user": acme_user, "globex_user": globex_user,
            "marketer": marketer}


def _no_secret(response) -> None:
    body = response.get_data(as_text=True)
    for secret in SECRETS:
        assert secret not in body


def _connect_mastodon(client, world, fake, token=FakeMastodon.TOKEN, partner="acme", who="acme_user"):
    return client.post(URL, headers=world[who], json={
        "partner_id": world[partner], "network": "mastodon", "instance_url": fake.base_url,
        "access_token": token})


def test_a_partner_connects_mastodon_and_bluesky_and_a_marketer_sees_them(client, world, mastodon_fake,
                                                                          bluesky_fake):
    mastodon = _connect_mastodon(client, world, mastodon_fake)
    assert mastodon.status_code == 201, mastodon.get_json()
    _no_secret(mastodon)
    shown = mastodon.get_json()
    assert shown["network"] == "mastodon" and shown["external_id"] == FakeMastodon.ACCOUNT_ID
    assert shown["handle"] == "@acme@127.0.0.1" and shown["partner_id"] == world["acme"]
    assert shown["paused"] is False and shown["auto_publish"] is False
    assert mastodon_fake.count("/api/v1/accounts/verify_credentials") == 1

    bluesky = client.post(URL, headers=world["acme_user"], json={
        "partner_id": world["acme"], "network": "bluesky", "handle": FakeBluesky.HANDLE,
        "app_password": FakeBluesky.APP_PASSWORD, "pds_url": bluesky_fake.base_url})
    assert bluesky.status_code == 201, bluesky.get_json()
    _no_secret(bluesky)
    assert (bluesky.get_json()["handle"], bluesky.get_json()["external_id"]) == (FakeBluesky.HANDLE,
                                                                                FakeBluesky.DID)

    listed = client.get(URL, headers=world["marketer"], query_string={"partner_id": world["acme"]})
    assert listed.status_code == 200
    _no_secret(listed)
    assert [(a["network"], a["handle"]) for a in listed.get_json()["items"]] == [
        ("mastodon", "@acme@127.0.0.1"), ("bluesky", FakeBluesky.HANDLE)]
    assert {key: listed.get_json()[key] for key in ("total", "page", "per_page", "next")} == {
        "total": 2, "page": 1, "per_page": 50, "next": None}
    for account in listed.get_json()["items"]:
        assert not {"credentials", "access_token", "app_password", "secret"} & set(account)
    one = client.get(f"{URL}/{shown['id']}", headers=world["marketer"])
    assert one.status_code == 200 and one.get_json()["id"] == shown["id"]
    _no_secret(one)


def test_credentials_are_stored_sealed(client, world, mastodon_fake):
    account = _connect_mastodon(client, world, mastodon_fake).get_json()
    stored = db.session.scalars(select(SocialAccount).where(SocialAccount.id == account["id"])).one()
    assert FakeMastodon.TOKEN.encode() not in stored.credentials
    assert app_state().credentials.open(stored.credentials) == {"access_token": FakeMastodon.TOKEN}


def test_a_bad_token_answers_422_naming_the_networks_answer(client, world, mastodon_fake, bluesky_fake):
    refused = _connect_mastodon(client, world, mastodon_fake, token="wrong-token-123")
    assert refused.status_code == 422
    _no_secret(refused)
    errors = refused.get_json()["errors"]
    assert list(errors) == ["access_token"]
    assert errors["access_token"] == ["mastodon answered 401: The access token is invalid"]

    bad_password = client.post(URL, headers=world["acme_user"], json={
        "partner_id": world["acme"], "network": "bluesky", "handle": FakeBluesky.HANDLE,
        "app_password": "wrong-token-123", "pds_url": bluesky_fake.base_url})
    assert bad_password.status_code == 422
    assert list(bad_password.get_json()["errors"]) == ["app_password"]
    _no_secret(bad_password)
    assert client.get(URL, headers=world["marketer"]).get_json()["items"] == []


def test_missing_and_foreign_fields_and_oauth_networks_are_refused_by_name(client, world):
    missing = client.post(URL, headers=world["acme_user"], json={
        "partner_id": world["acme"], "network": "mastodon", "instance_url": "https://fake.social"})
    assert missing.status_code == 422 and list(missing.get_json()["errors"]) == ["access_token"]
    foreign = client.post(URL, headers=world["acme_user"], json={
        "partner_id": world["acme"], "network": "webhook", "url": "https://crm.example/hook",
        "secret": "s", "app_password": "x"})
    assert foreign.status_code == 422 and list(foreign.get_json()["errors"]) == ["app_password"]
    oauth = client.post(URL, headers=world["acme_user"], json={"partner_id": world["acme"],
                                                               "network": "linkedin"})
    assert oauth.status_code == 422
    assert oauth.get_json()["errors"]["network"] == [
        "linkedin accounts connect through their consent page: GET /api/v1/social-accounts/connect/linkedin"]


def test_another_partners_account_answers_404(client, world, mastodon_fake):
    account = _connect_mastodon(client, world, mastodon_fake).get_json()
    for method in ("GET", "PATCH", "DELETE"):
        response = client.open(f"{URL}/{account['id']}", method=method, headers=world["globex_user"],
                               json={"paused": True} if method == "PATCH" else None)
        assert response.status_code == 404, method
    assert client.get(URL, headers=world["globex_user"]).get_json()["items"] == []
    assert client.get(URL, headers=world["globex_user"],
                      query_string={"partner_id": world["acme"]}).status_code == 404
    # Connecting for another partner answers 404 before the network is asked anything.
    calls = mastodon_fake.count("/api/v1/accounts/verify_credentials")
    foreign = _connect_mastodon(client, world, mastodon_fake, partner="acme", who="globex_user")
    assert foreign.status_code == 404
    assert mastodon_fake.count("/api/v1/accounts/verify_credentials") == calls
    # A marketer connects for any partner.
    marketer = _connect_mastodon(client, world, mastodon_fake, partner="globex", who="marketer")
    assert marketer.status_code == 201


def test_pause_auto_publish_and_disconnect(client, world, webhook_fake):
    connected = client.post(URL, headers=world["acme_user"], json={
        "partner_id": world["acme"], "network": "webhook", "url": webhook_fake.base_url + "/hooks/tcma",
        "secret": FakeWebhookReceiver.SECRET})
    assert connected.status_code == 201, connected.get_json()
    _no_secret(connected)
    account_id = connected.get_json()["id"]
    changed = client.patch(f"{URL}/{account_id}", headers=world["acme_user"],
                           json={"paused": True, "auto_publish": True})
    assert changed.status_code == 200
    assert (changed.get_json()["paused"], changed.get_json()["auto_publish"]) == (True, True)
    assert client.patch(f"{URL}/{account_id}", headers=world["acme_user"], json={}).status_code == 422
    assert client.delete(f"{URL}/{account_id}", headers=world["acme_user"]).status_code == 204
    assert client.get(f"{URL}/{account_id}", headers=world["acme_user"]).status_code == 404


def test_in_production_a_partner_cannot_point_tcma_at_an_internal_address(app):
    import pytest

    from tcma.errors import InvalidInput
    from tcma.services.syndication.accounts import public_address

    for url, problem in [("http://mastodon.example", "an https URL"),
                         ("https://127.0.0.1", "not a loopback, private or link-local address"),
                         ("https://localhost:8443", "not a loopback, private or link-local address"),
                         ("https://169.254.169.254/latest", "not a loopback, private or link-local address"),
                         ("https://10.1.2.3", "not a loopback, private or link-local address"),
                         ("https://[::1]", "not a loopback, private or link-local address")]:
        with pytest.raises(InvalidInput) as refused:
            public_address("instance_url", url, public_only=True)
        assert refused.value.errors == {"instance_url": [problem]}, url
    assert public_address("instance_url", "https://8.8.8.8/", public_only=True) == "https://8.8.8.8"
    assert public_address("instance_url", "http://127.0.0.1:8080/", public_only=False) == "http://127.0.0.1:8080"
