"""Campaign email fixtures: a real SMTP server on loopback, an app that sends to it, a partner with
a launched newsletter campaign and contacts."""

from __future__ import annotations

import pytest

from tcma.services.catalogue.templates import import_catalogue
from tests.support.apps import app_on, base_config
from tests.support.factories import make_partner, make_taxonomy, make_user
from tests.support.launch import work
from tests.support.smtp import RecordingHandler, running_smtp_server

CONSENT = {"consent_source": "https://partner.example/form", "consent_text": "Send me the newsletter."}


@pytest.fixture
def smtp_handler():
    return RecordingHandler()


@pytest.fixture
def smtp_port(smtp_handler):
    with running_smtp_server(smtp_handler) as controller:
        yield controller.port


@pytest.fixture
def email_settings():
    """Extra settings for the sending app (tests override with their own fixture)."""
    return {}


@pytest.fixture
def app(migrated_pg, tmp_path, smtp_port, email_settings):
    """PostgreSQL, jobs in-process, mail over SMTP to the loopback server."""
    url, tables = migrated_pg
    config = base_config(
        tmp_path,
        DATABASE_URL=url,
        MAIL_BACKEND="smtp",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=smtp_port,
        SMTP_SECURITY="none",
        EMAIL_SENDING_DOMAIN="mail.vendor.test",
        **email_settings,
    )
    yield from app_on(config, tables)


@pytest.fixture
def shop(app, client):
    """A partner with a launched newsletter campaign, a list of three contacts, and its users."""
    taxonomy = make_taxonomy()
    partner = make_partner(taxonomy, name="Acme IT GmbH")
    other = make_partner(taxonomy)
    import_catalogue()
    _, marketer = make_user("marketer")
    user, headers = make_user("partner", partner)
    created = client.post(
        "/api/v1/campaigns",
        headers=marketer,
        json={
            "name": "December news",
            "outputs": [{"template": "newsletter", "output": "email"}],
            "segment": {},
        },
    )
    campaign_id = created.json["id"]
    launched = client.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=marketer)
    assert launched.status_code in (200, 202), launched.json
    lst = client.post("/api/v1/contact-lists", headers=headers, json={"name": "Customers"}).json
    for email, first in (("ada@example.com", "Ada"), ("bob@example.com", None), ("cy@example.com", "Cy")):
        body = {
            "email": email,
            **CONSENT,
            "list_ids": [lst["id"]],
            **({"first_name": first} if first else {}),
        }
        assert client.post("/api/v1/contacts", headers=headers, json=body).status_code == 201
    return {
        "partner": partner,
        "other": other,
        "user": user,
        "headers": headers,
        "marketer": marketer,
        "campaign_id": campaign_id,
        "list_id": lst["id"],
    }


def new_send(client, shop, **extra):
    response = client.post(
        "/api/v1/email-sends",
        headers=shop["headers"],
        json={"campaign_id": shop["campaign_id"], "list_ids": [shop["list_id"]], **extra},
    )
    assert response.status_code == 201, response.json
    return response.json


def send_now(client, shop, send_id):
    response = client.post(f"/api/v1/email-sends/{send_id}/schedule", headers=shop["headers"], json={})
    assert response.status_code == 200, response.json
    return response.json


def partner_with_contacts(client, addresses):
    """A partner whose newsletter is rendered by an rq worker, with a list of `addresses`; the
    `shop` of the rq apps (headers, campaign_id, list_id)."""
    partner = make_partner(make_taxonomy(), name="Acme IT GmbH")
    import_catalogue()
    _, marketer = make_user("marketer")
    _, headers = make_user("partner", partner)
    campaign = client.post(
        "/api/v1/campaigns",
        headers=marketer,
        json={"name": "Domains", "outputs": [{"template": "newsletter", "output": "email"}], "segment": {}},
    ).json
    client.post(f"/api/v1/campaigns/{campaign['id']}/launch", headers=marketer)
    work()  # render the partner's email
    lst = client.post("/api/v1/contact-lists", headers=headers, json={"name": "All"}).json
    for address in addresses:
        body = {"email": address, **CONSENT, "list_ids": [lst["id"]]}
        assert client.post("/api/v1/contacts", headers=headers, json=body).status_code == 201
    return {"headers": headers, "campaign_id": campaign["id"], "list_id": lst["id"]}
