"""Templates through the API: catalogue, versions, previews; customizations survive new versions."""

from __future__ import annotations

import io
import json

from pypdf import PdfReader

from tcma.services.catalogue.templates import import_catalogue
from tests.support.factories import make_partner, make_taxonomy, make_user


def test_the_catalogue_is_listed_and_partners_see_only_their_tier(client):
    taxonomy = make_taxonomy()
    silver = make_partner(taxonomy, tier=0)
    import_catalogue()
    _, marketer = make_user("marketer")
    _, partner = make_user("partner", silver)
    everything = {t["slug"] for t in client.get("/api/v1/templates", headers=marketer).json}
    assert {"solution-brief", "event-flyer", "newsletter", "launch-posts"} <= everything
    mine = {t["slug"] for t in client.get("/api/v1/library", headers=partner).json}
    assert "event-flyer" not in mine  # gold and platinum only
    assert "solution-brief" in mine
    assert client.get("/api/v1/library/event-flyer/customization", headers=partner).status_code == 404


def test_importing_twice_publishes_nothing_new(app):
    first = import_catalogue()
    again = import_catalogue()
    assert all(created for _, _, created in first)
    assert not any(created for _, _, created in again)


def test_a_preview_renders_the_partners_pdf(client):
    taxonomy = make_taxonomy()
    partner = make_partner(taxonomy, name="Preview Partner AG")
    import_catalogue()
    _, marketer = make_user("marketer")
    response = client.post("/api/v1/templates/solution-brief/preview", headers=marketer,
                           json={"partner_id": partner.id, "output": "pdf"})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert "Preview Partner AG" in text
    bad = client.post("/api/v1/templates/solution-brief/preview", headers=marketer,
                      json={"partner_id": partner.id, "output": "png"})
    assert bad.status_code == 422


def test_a_new_version_keeps_partner_edits_where_the_fields_still_exist(client):
    taxonomy = make_taxonomy()
    partner = make_partner(taxonomy)
    import_catalogue()
    _, marketer = make_user("marketer")
    _, partner_headers = make_user("partner", partner)
    saved = client.put("/api/v1/library/solution-brief/customization", headers=partner_headers,
                       json={"fields": {"intro": "We know your network.", "contact_cta": "Call Eve"}})
    assert saved.status_code == 200, saved.json

    v1 = client.get("/api/v1/templates/solution-brief/versions/1", headers=marketer).json["spec"]
    v2 = json.loads(json.dumps(v1).replace("contact_cta", "cta_text"))
    published = client.post("/api/v1/templates/solution-brief/versions", headers=marketer,
                            json={"spec": v2})
    assert published.status_code == 201 and published.json["version"] == 2

    now = client.get("/api/v1/library/solution-brief/customization", headers=partner_headers).json
    assert now["fields"] == {"intro": "We know your network."}
    assert now["dropped_fields"] == ["contact_cta"]
    old = client.get("/api/v1/templates/solution-brief/versions/1", headers=marketer).json
    assert old["spec"] == v1  # the old version is never overwritten
    unchanged = client.post("/api/v1/templates/solution-brief/versions", headers=marketer,
                            json={"spec": v2})
    assert unchanged.status_code == 409


def test_a_carried_customization_drops_every_value_the_new_version_refuses(client):
    taxonomy = make_taxonomy()
    partner = make_partner(taxonomy)
    import_catalogue()
    _, marketer = make_user("marketer")
    _, mine = make_user("partner", partner)
    client.put("/api/v1/library/solution-brief/customization", headers=mine,
               json={"fields": {"intro": "x" * 400, "contact_cta": "y" * 50}})
    spec = client.get("/api/v1/templates/solution-brief/versions/1", headers=marketer).json["spec"]
    spec["manifest"]["fields"]["intro"]["max_length"] = 200  # still above the defaults
    spec["manifest"]["fields"]["contact_cta"]["max_length"] = 30
    assert client.post("/api/v1/templates/solution-brief/versions", headers=marketer,
                       json={"spec": json.loads(json.dumps(spec))}).status_code == 201
    now = client.get("/api/v1/library/solution-brief/customization", headers=mine).json
    assert now["fields"] == {} and sorted(now["dropped_fields"]) == ["contact_cta", "intro"]


def test_an_invalid_spec_is_refused_naming_the_field(client):
    import_catalogue()
    _, marketer = make_user("marketer")
    spec = client.get("/api/v1/templates/newsletter/versions/1", headers=marketer).json["spec"]
    spec["manifest"]["outputs"] = ["hologram"]
    response = client.post("/api/v1/templates/newsletter/versions", headers=marketer, json={"spec": spec})
    assert response.status_code == 422
    assert any("outputs" in key for key in response.json["errors"])


def test_partner_field_limits_are_enforced_naming_the_field(client):
    taxonomy = make_taxonomy()
    partner = make_partner(taxonomy)
    import_catalogue()
    _, headers = make_user("partner", partner)
    response = client.put("/api/v1/library/solution-brief/customization", headers=headers,
                          json={"fields": {"contact_cta": "x" * 61}})
    assert response.status_code == 422
    assert "fields.contact_cta" in response.json["errors"]


def test_a_spec_with_several_problems_is_refused_naming_every_one(client):
    import_catalogue()
    _, marketer = make_user("marketer")
    spec = client.get("/api/v1/templates/social-card/versions/1", headers=marketer).json["spec"]
    spec["manifest"]["tiers"] = "gold"
    spec["image"]["layers"][1]["colour"] = "red"
    del spec["locales"]["de"]["variants"]["b"]
    response = client.post("/api/v1/templates/social-card/versions", headers=marketer, json={"spec": spec})
    assert response.status_code == 422
    errors = response.json["errors"]
    assert errors["spec.tiers"] == ["spec:manifest: tiers: must be a list of names"]
    assert errors["spec.canvas.layers[1]"][0].startswith(
        "spec:image: canvas.layers[1]: unknown keys ['colour'] (did you mean 'color'?); known: ['align', ")
    assert errors["spec.variants.b.tagline"] == [
        "spec:locales/de.toml: variants.b.tagline: not translated; a language file must translate "
        "every text so no output mixes languages"]
    assert len(errors) == 3
    assert response.json["message"].startswith("invalid template: 3 problems:\n- spec:manifest: tiers:")
    versions = client.get("/api/v1/templates/social-card/versions", headers=marketer).json
    assert [v["version"] for v in versions] == [1]
