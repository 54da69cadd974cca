"""Partner self-service through the API: render from saved edits, once per distinct input."""

from __future__ import annotations

from sqlalchemy import func, select

from tcma.extensions import db
from tcma.models import Asset, Render
from tcma.services.catalogue.templates import import_catalogue
from tests.support.factories import make_partner, make_taxonomy, make_user


def test_a_partner_renders_with_their_edits_and_the_same_inputs_render_once(client):
    taxonomy = make_taxonomy()
    partner = make_partner(taxonomy)
    import_catalogue()
    _, headers = make_user("partner", partner)
    client.put("/api/v1/library/solution-brief/customization", headers=headers,
               json={"fields": {"contact_cta": "Call Eve now"}})
    first = client.post("/api/v1/library/solution-brief/render", headers=headers, json={"output": "pdf"})
    assert first.status_code == 202 and first.json["status"] == "done", first.json
    assert first.json["fields"]["contact_cta"] == "Call Eve now"
    again = client.post("/api/v1/library/solution-brief/render", headers=headers, json={"output": "pdf"})
    assert again.json["id"] == first.json["id"]
    other = client.post("/api/v1/library/solution-brief/render", headers=headers,
                        json={"output": "pdf", "fields": {"contact_cta": "Write to us"}})
    assert other.json["id"] != first.json["id"]
    assert db.session.scalar(select(func.count()).select_from(Asset)) == 2
    assert db.session.scalar(select(func.count()).select_from(Render)) == 2


def test_a_bad_output_or_variant_is_refused_naming_it(client):
    taxonomy = make_taxonomy()
    partner = make_partner(taxonomy)
    import_catalogue()
    _, headers = make_user("partner", partner)
    bad = client.post("/api/v1/library/solution-brief/render", headers=headers, json={"output": "gif"})
    assert bad.status_code == 422 and "output" in bad.json["errors"]
    variant = client.post("/api/v1/library/solution-brief/render", headers=headers,
                          json={"output": "pdf", "variant": "nope"})
    assert variant.status_code == 422 and "variant" in variant.json["errors"]
    assert db.session.scalar(select(func.count()).select_from(Asset)) == 0
