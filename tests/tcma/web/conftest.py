"""Portal fixtures: a catalogue, partners with signed-in browsers, a helper to post forms."""

from __future__ import annotations

import re

import pytest

from tcma.services.catalogue.templates import import_catalogue
from tests.support.factories import make_partner, make_taxonomy, make_user

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    """The CSRF token in a rendered page."""
    match = CSRF.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def sign_in(client, user, password: str = PASSWORD):
    """Sign in through the login form, as a browser would."""
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"email": user.email, "password": password, "csrf_token": token})


def post_form(client, page_url: str, url: str, data: dict):
    """POST a form with the CSRF token taken from the page it lives on."""
    token = csrf_from(client.get(page_url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


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
