"""Lists answer in a number of statements that does not grow with the rows on the page."""

from __future__ import annotations

from tcma.services.catalogue.templates import import_catalogue
from tests.support.factories import make_partner, make_taxonomy, make_user
from tests.support.launch import launch
from tests.support.statements import recorded_statements


def _statements(client, path, headers):
    client.get(path, headers=headers)  # the token's first use of the minute writes its last use
    with recorded_statements() as seen:
        answer = client.get(path, headers=headers)
    assert answer.status_code == 200, answer.json
    return answer.json, len(seen)


def test_the_campaign_list_shows_each_campaigns_outputs_in_the_same_statements_for_one_or_three(client):
    import_catalogue()
    _, marketer = make_user("marketer")
    launch(client, marketer)
    one, for_one = _statements(client, "/api/v1/campaigns", marketer)
    launch(client, marketer)
    launch(client, marketer)
    three, for_three = _statements(client, "/api/v1/campaigns", marketer)
    assert (one["total"], three["total"]) == (1, 3)
    outputs = [o["template"] for o in three["items"][0]["outputs"]]
    assert outputs == ["solution-brief", "social-card", "newsletter"]
    assert for_three == for_one


def test_the_partner_list_shows_brand_kits_in_the_same_statements_for_one_or_three(client):
    taxonomy = make_taxonomy()
    _, admin = make_user("admin")
    make_partner(taxonomy)
    one, for_one = _statements(client, "/api/v1/partners", admin)
    make_partner(taxonomy)
    make_partner(taxonomy)
    three, for_three = _statements(client, "/api/v1/partners", admin)
    assert (one["total"], three["total"]) == (1, 3)
    assert all(item["brand_kit"]["primary_color"].startswith("#") for item in three["items"])
    assert for_three == for_one
