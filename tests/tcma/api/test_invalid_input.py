"""Bad values answer 422 naming the field, whichever layer refuses them; 400 is for malformed requests."""

from __future__ import annotations

from tcma.services.catalogue.templates import import_catalogue
from tests.support.factories import make_taxonomy, make_user


def test_a_spec_for_another_template_is_refused_with_422_naming_the_slug(client):
    import_catalogue()
    _, marketer = make_user("marketer")
    spec = client.get("/api/v1/templates/newsletter/versions/1", headers=marketer).json["spec"]
    response = client.post("/api/v1/templates/solution-brief/versions", headers=marketer,
                           json={"spec": spec})
    assert response.status_code == 422
    assert response.json["message"] == "the spec's slug must match the template"
    assert response.json["errors"] == {"spec.slug": ["must be 'solution-brief'"]}


def test_a_rank_on_a_vertical_is_refused_with_422(client):
    make_taxonomy()
    _, admin = make_user("admin")
    verticals = client.get("/api/v1/vendor/verticals", headers=admin).json
    response = client.patch(f"/api/v1/vendor/verticals/{verticals[0]['id']}", headers=admin,
                            json={"rank": 3})
    assert response.status_code == 422
    assert response.json["errors"] == {"rank": ["not a field of verticals"]}


def test_an_unknown_stats_channel_is_refused_naming_the_channels(client):
    _, marketer = make_user("marketer")
    response = client.get("/api/v1/stats?channel=pdf", headers=marketer)
    assert response.status_code == 422
    assert "channel" in response.json["errors"]["query"]


def test_a_body_that_is_not_json_is_a_malformed_request(client):
    _, admin = make_user("admin")
    response = client.post("/api/v1/vendor/tiers", headers={**admin, "Content-Type": "application/json"},
                           data="{not json")
    assert response.status_code == 400
