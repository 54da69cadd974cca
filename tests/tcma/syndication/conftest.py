"""A launched campaign with partners in New York and Berlin, each with a Mastodon account on the fake."""

from __future__ import annotations

import pytest

from tcma.extensions import db
from tcma.services.accounts.auth import OPERATOR
from tcma.services.catalogue.templates import import_catalogue
from tcma.services.syndication.accounts import connect_account
from tests.support.apps import app_on, base_config
from tests.support.factories import make_partner, make_taxonomy, make_user
from tests.support.fake_networks import FakeMastodon, serve

OUTPUTS = [{"template": "launch-posts", "output": "post:mastodon"},
           {"template": "social-card", "output": "png"}]


@pytest.fixture
def app(migrated_pg, tmp_path):
    url, tables = migrated_pg
    yield from app_on(base_config(tmp_path, DATABASE_URL=url, CONNECTORS_BACKEND="live",
                                  CONNECTORS_TIMEOUT=0.5, CONNECTORS_CONNECT_TIMEOUT=0.5,
                                  CONNECTORS_MEDIA_POLL_INTERVAL=0.01), tables)


@pytest.fixture
def fake():
    with serve(FakeMastodon()) as fake:
        yield fake


@pytest.fixture
def world(app, client, fake):
    """Two partners (New York, Berlin) with a Mastodon account each, in a launched campaign."""
    import_catalogue()
    taxonomy = make_taxonomy()
    ny, berlin = make_partner(taxonomy), make_partner(taxonomy)
    ny.time_zone, berlin.time_zone = "America/New_York", "Europe/Berlin"
    db.session.commit()
    accounts = []
    for partner in (ny, berlin):
        row = connect_account(OPERATOR, partner.id, "mastodon",
                              {"instance_url": fake.base_url, "access_token": FakeMastodon.TOKEN})
        row.auto_publish = True
        accounts.append(row)
    db.session.commit()
    _, marketer = make_user("marketer")
    created = client.post("/api/v1/campaigns", headers=marketer,
                          json={"name": "Spring launch", "outputs": OUTPUTS, "segment": {}})
    assert created.status_code == 201, created.json
    campaign_id = created.json["id"]
    launched = client.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=marketer)
    assert launched.status_code == 202 and launched.json["done"] == 4, launched.json
    return {"campaign": campaign_id, "ny": ny, "berlin": berlin, "accounts": accounts, "marketer": marketer}
