"""API request authentication: a portal session may write through the API only with its CSRF header."""

from __future__ import annotations

from tcma.services.catalogue.templates import import_catalogue
from tests.support.factories import make_taxonomy, make_user
from tests.support.portal import PASSWORD, session_csrf


def test_the_api_refuses_a_session_write_without_the_csrf_header(client):
    make_taxonomy()
    import_catalogue()
    user, _ = make_user("marketer")
    client.get("/login")
    client.post("/login", data={"email": user.email, "password": PASSWORD,
                                "csrf_token": session_csrf(client)})
    token = session_csrf(client)
    body = {"name": "x", "outputs": [{"template": "newsletter", "output": "email"}]}
    assert client.get("/api/v1/auth/me").status_code == 200  # reading with the session is fine
    refused = client.post("/api/v1/campaigns", json=body)  # a cross-site form cannot set the header
    assert refused.status_code == 403
    assert refused.json["message"] == ("a signed-in browser session may write through the API only with "
                                       "its CSRF token in the X-CSRF-Token header")
    assert client.post("/api/v1/campaigns", json=body, headers={"X-CSRF-Token": token}).status_code == 201
