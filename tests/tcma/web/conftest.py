"""Portal fixtures: a catalogue, and partners and marketers with signed-in browsers."""

from __future__ import annotations

import pytest

from tcma.services.catalogue.templates import import_catalogue
from tests.support.factories import make_partner, make_taxonomy, make_user
from tests.support.portal import sign_in


@pytest.fixture
def taxonomy(app):
    return make_taxonomy()


@pytest.fixture
def catalogue(app):
    """The shipped template library, imported into the database."""
    return import_catalogue()


@pytest.fixture
def partner(taxonomy):
    return make_partner(taxonomy, name="Acme <b>Networks</b>")


@pytest.fixture
def partner_user(partner):
    return make_user("partner", partner)[0]


@pytest.fixture
def partner_client(app, partner_user):
    """A test client signed in as the partner user."""
    client = app.test_client()
    assert sign_in(client, partner_user).status_code == 302
    return client


@pytest.fixture
def marketer_client(app, taxonomy):
    """A test client signed in as a marketer."""
    client = app.test_client()
    assert sign_in(client, make_user("marketer")[0]).status_code == 302
    return client
