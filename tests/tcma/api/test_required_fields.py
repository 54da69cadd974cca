"""Fields only a partner knows (an event's date and venue): a launch waits for them."""

from __future__ import annotations

import io

from pypdf import PdfReader
from sqlalchemy import select

from tcma.extensions import db
from tcma.models import Asset
from tcma.services.catalogue.templates import import_catalogue
from tcma.storage import get_storage
from tests.support.factories import make_partner, make_taxonomy, make_user
from tests.support.launch import work


def test_a_launch_leaves_event_assets_waiting_until_the_partner_gives_date_and_venue(rq_app):
    client = rq_app.test_client()
    taxonomy = make_taxonomy()
    waiting_partner, ready_partner = make_partner(taxonomy, tier=1), make_partner(taxonomy, tier=1)
    import_catalogue()
    _, ready_headers = make_user("partner", ready_partner)
    saved = client.put("/api/v1/library/event-flyer/customization", headers=ready_headers,
                       json={"fields": {"event_date": "Thursday, 12 March, 08:30",
                                        "venue": "Harbour Centre\nDock Road 4, Hamburg"}})
    assert saved.status_code == 200, saved.json
    _, marketer = make_user("marketer")
    created = client.post("/api/v1/campaigns", headers=marketer, json={
        "name": "Breakfast briefings", "outputs": [{"template": "event-flyer", "output": "pdf"}],
        "segment": {}})
    progress = client.post(f"/api/v1/campaigns/{created.json['id']}/launch", headers=marketer).json
    assert (progress["queued"], progress["waiting"]) == (1, 1)
    waiting = db.session.scalar(select(Asset).where(Asset.partner_id == waiting_partner.id))
    assert waiting.status == "waiting"
    assert waiting.error == ("waiting for the partner to fill in: Date and time, "
                             "Venue (name and address)")
    work()
    ready = db.session.scalar(select(Asset).where(Asset.partner_id == ready_partner.id))
    assert ready.status == "done" and "Dock Road 4" in _pdf_text(ready)

    _, headers = make_user("partner", waiting_partner)
    refused = client.put("/api/v1/library/event-flyer/customization", headers=headers,
                         json={"fields": {"event_date": "Friday, 13 March, 09:00"}})
    assert refused.status_code == 422 and "fields.venue" in refused.json["errors"]
    db.session.expire_all()
    assert db.session.get(Asset, waiting.id).status == "waiting"  # a refused save releases nothing
    client.put("/api/v1/library/event-flyer/customization", headers=headers,
               json={"fields": {"event_date": "Friday, 13 March, 09:00", "venue": "Old Mill\nRiver Lane 2"}})
    db.session.expire_all()
    assert db.session.get(Asset, waiting.id).status == "queued"
    work()
    db.session.expire_all()
    released = db.session.get(Asset, waiting.id)
    text = _pdf_text(released)
    assert released.status == "done" and "River Lane 2" in text and "Friday, 13 March" in text
    assert "Main Street 1" not in text and "Partner office" not in text


def _pdf_text(asset: Asset) -> str:
    data = get_storage().get(asset.render.storage_key)
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
