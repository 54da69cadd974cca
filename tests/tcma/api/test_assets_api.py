"""Assets through the API: ids beyond what the database holds are answered, never a server error."""

from __future__ import annotations

from tests.support.factories import make_user


def test_ids_too_large_for_the_database_are_not_found(client):
    _, headers = make_user("admin")
    assert client.get("/api/v1/assets/99999999999999999999", headers=headers).status_code == 404
    huge = client.get("/api/v1/assets?partner_id=99999999999999999999", headers=headers)
    assert huge.status_code == 422 and "partner_id" in huge.json["errors"]["query"]


def test_the_asset_list_counts_what_its_filters_keep(client):
    from tcma.services.accounts.auth import OPERATOR
    from tcma.services.catalogue.templates import import_catalogue
    from tcma.services.launch.assets import list_assets
    from tests.support.factories import make_partner, make_taxonomy
    from tests.support.launch import launch

    import_catalogue()
    taxonomy = make_taxonomy()
    first, _ = make_partner(taxonomy), make_partner(taxonomy)
    _, headers = make_user("admin")
    campaign = launch(client, headers)
    assert client.post(f"/api/v1/campaigns/{campaign}/launch", headers=headers).status_code == 202
    page = client.get(f"/api/v1/assets?campaign_id={campaign}&per_page=4", headers=headers).json
    assert (page["total"], len(page["items"])) == (6, 4)  # three outputs for each of two partners
    mine = client.get(f"/api/v1/assets?partner_id={first.id}&output=png", headers=headers).json
    assert mine["total"] == 1 and mine["items"][0]["partner_id"] == first.id
    cards, total = list_assets(OPERATOR, {"template": "social-card"}, 1, 50)
    assert total == 2 and {card.template_slug for card in cards} == {"social-card"}
