"""Partners, brand kits and logo uploads through the REST API."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from tcma.extensions import db
from tcma.models import Partner
from tests.support.factories import logo_png, make_partner, make_taxonomy, make_user

NEW_PARTNER = {"name": "Acme Networks", "slug": "acme-networks", "tier": "gold",
               "vertical": "finance", "region": "emea", "locale": "de-DE",
               "time_zone": "Europe/Berlin",
               "brand_kit": {"primary_color": "#112233", "contact_email": "hi@acme.example"}}


def test_a_marketer_creates_and_lists_partners_with_filters(client):
    taxonomy = make_taxonomy()
    make_partner(taxonomy, tier=0, region=0)
    _, headers = make_user("marketer")
    created = client.post("/api/v1/partners", json=NEW_PARTNER, headers=headers)
    assert created.status_code == 201, created.json
    assert created.json["tier"] == "gold" and created.json["brand_kit"]["primary_color"] == "#112233"
    gold = client.get("/api/v1/partners?tier=gold", headers=headers).json
    assert [p["slug"] for p in gold["items"]] == ["acme-networks"]
    everyone = client.get("/api/v1/partners?per_page=1&page=2", headers=headers).json
    assert everyone["total"] == 2 and len(everyone["items"]) == 1


def test_schema_errors_name_the_field_and_change_nothing(client):
    make_taxonomy()
    _, headers = make_user("marketer")
    bad = dict(NEW_PARTNER, brand_kit={"primary_color": "blue"}, time_zone="Mars/Olympus")
    response = client.post("/api/v1/partners", json=bad, headers=headers)
    assert response.status_code == 422
    body = response.json
    assert set(body) == {"code", "status", "message", "errors"}
    assert "primary_color" in body["errors"]["json"]["brand_kit"]
    assert "time_zone" in body["errors"]["json"]
    unknown_tier = client.post("/api/v1/partners", json=dict(NEW_PARTNER, tier="diamond"), headers=headers)
    assert unknown_tier.status_code == 422 and "tier" in unknown_tier.json["errors"]
    assert db.session.scalar(select(func.count()).select_from(Partner)) == 0


def test_a_duplicate_slug_is_a_conflict(client):
    make_taxonomy()
    _, headers = make_user("admin")
    assert client.post("/api/v1/partners", json=NEW_PARTNER, headers=headers).status_code == 201
    again = client.post("/api/v1/partners", json=NEW_PARTNER, headers=headers)
    assert again.status_code == 409 and "slug" in again.json["errors"]


def test_a_partner_user_sees_and_edits_only_their_own_partner(client):
    taxonomy = make_taxonomy()
    mine, theirs = make_partner(taxonomy), make_partner(taxonomy)
    _, headers = make_user("partner", mine)
    assert client.get(f"/api/v1/partners/{mine.id}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/partners/{theirs.id}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/partners/{theirs.id}/brand-kit", headers=headers).status_code == 404
    edit = client.patch(f"/api/v1/partners/{theirs.id}/brand-kit", json={"contact_name": "x"},
                        headers=headers)
    assert edit.status_code == 404
    listed = client.get("/api/v1/partners", headers=headers).json
    assert [p["id"] for p in listed["items"]] == [mine.id]
    own = client.patch(f"/api/v1/partners/{mine.id}/brand-kit", json={"contact_name": "Eve"},
                       headers=headers)
    assert own.status_code == 200 and own.json["contact_name"] == "Eve"


def _upload(client, partner_id, data, headers, name="logo.png"):
    return client.put(f"/api/v1/partners/{partner_id}/logo", headers=headers,
                      data={"logo": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def test_a_logo_upload_is_stored_and_used(client, app):
    taxonomy = make_taxonomy()
    partner = make_partner(taxonomy, with_logo=False)
    _, headers = make_user("partner", partner)
    response = _upload(client, partner.id, logo_png("#AA2200"), headers)
    assert response.status_code == 200, response.json
    key = response.json["logo_key"]
    from PIL import Image

    from tcma.storage import get_storage

    stored = Image.open(io.BytesIO(get_storage().get(key)))
    assert key.endswith(".png") and stored.format == "PNG"
    # The logo_png factory draws a 300x100 block in the middle of a transparent 600x200 canvas:
    # what is stored is that block, trimmed, in the same colour.
    assert stored.size == (300, 100) and stored.convert("RGB").getpixel((150, 50)) == (0xAA, 0x22, 0x00)


def test_a_malformed_upload_leaves_no_row_and_no_file(client, app, tmp_path):
    taxonomy = make_taxonomy()
    partner = make_partner(taxonomy, with_logo=False)
    _, headers = make_user("marketer")
    files_before = sorted(p for p in (tmp_path / "files").rglob("*") if p.is_file())
    for data in (b"%PDF-1.4 not an image", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, b""):
        response = _upload(client, partner.id, data, headers)
        assert response.status_code == 422, response.json
        assert "logo" in response.json["errors"]
    db.session.expire_all()
    assert db.session.get(Partner, partner.id).brand_kit.logo_key is None
    assert sorted(p for p in (tmp_path / "files").rglob("*") if p.is_file()) == files_before


def test_an_unknown_taxonomy_filter_is_refused_naming_it(client):
    make_taxonomy()
    _, marketer = make_user("marketer")
    refused = client.get("/api/v1/partners?tier=no-such", headers=marketer)
    assert refused.status_code == 422
    assert refused.json["message"] == "unknown tier no-such"
    assert refused.json["errors"] == {"tier": ["no tier with slug no-such"]}
    assert client.get("/api/v1/partners?tier=gold", headers=marketer).status_code == 200


def test_a_huge_page_number_on_a_portal_page_is_the_last_page_not_an_error(client):
    from tests.support.portal import sign_in

    user, _ = make_user("marketer")
    sign_in(client, user)
    assert client.get("/portal/campaigns?page=99999999999999999999").status_code == 200
