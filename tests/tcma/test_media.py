"""What email readers reach without signing in: partner logos and the unsubscribe page."""

from __future__ import annotations

from sqlalchemy import select

from tcma.extensions import db
from tcma.models import Event
from tcma.storage import get_storage
from tests.support.factories import make_partner, make_taxonomy


def test_a_partner_logo_is_served_for_email_clients(client):
    partner = make_partner(make_taxonomy())
    response = client.get(f"/media/{partner.brand_kit.logo_key}")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.data == get_storage().get(partner.brand_kit.logo_key)
    assert "immutable" in response.headers["Cache-Control"]


def test_only_logos_are_public(client):
    get_storage().put("renders/ab/secret.pdf", b"%PDF private", "application/pdf")
    assert client.get("/media/renders/ab/secret.pdf").status_code == 404
    assert client.get("/media/logos/../renders/ab/secret.pdf").status_code == 404


def test_unsubscribe_asks_first_then_records(client):
    from tcma.services.tracking.unsubscribes import unsubscribe_url

    partner = make_partner(make_taxonomy(), name="Acme <b>Networks</b>")
    path = unsubscribe_url(partner.id, None).removeprefix("http://tcma.test")
    page = client.get(path)
    assert page.status_code == 200 and b"Acme &lt;b&gt;Networks&lt;/b&gt;" in page.data
    assert db.session.scalars(select(Event)).all() == []  # a link scanner's GET changes nothing
    done = client.post(path)
    assert b"Request recorded" in done.data
    events = db.session.scalars(select(Event)).all()
    assert [(e.kind, e.partner_id) for e in events] == [("unsubscribe", partner.id)]


def test_a_forged_unsubscribe_link_records_nothing(client):
    partner = make_partner(make_taxonomy())
    assert client.post(f"/unsubscribe/{partner.slug}").status_code == 404
    assert client.post("/unsubscribe/WzEsIDk5OTk5OTk5OTk5OTk5OV0.forged").status_code == 404
    assert db.session.scalars(select(Event)).all() == []
