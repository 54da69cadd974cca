"""The vendor's own downloads and test clicks are recorded apart: never a partner's engagement."""

from __future__ import annotations

from sqlalchemy import func, select

from tcma.extensions import db
from tcma.models import Event, EventRollup
from tcma.services.catalogue.templates import import_catalogue
from tests.support.factories import make_partner, make_taxonomy, make_user
from tests.support.launch import launch
from tests.support.portal import sign_in
from tests.support.tracking import path_of


def _counted(kind: str) -> tuple[int, int]:
    """(counted as engagement, flagged) for one event kind, from the rollups (totals exclude flagged)."""
    total, bots = db.session.execute(select(func.coalesce(func.sum(EventRollup.total), 0),
                                            func.coalesce(func.sum(EventRollup.bots), 0))
                                     .where(EventRollup.kind == kind)).one()
    return total, bots


def test_a_marketers_download_is_not_the_partners_engagement(app, client):
    partner = make_partner(make_taxonomy())
    import_catalogue()
    _, marketer = make_user("marketer")
    _, alice = make_user("partner", partner)
    campaign_id = launch(client, marketer)
    client.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=marketer)
    asset = client.get("/api/v1/assets?output=pdf", headers=alice).json["items"][0]
    assert client.get(f"/api/v1/assets/{asset['id']}/download", headers=marketer).status_code == 302
    assert client.get(f"/api/v1/assets/{asset['id']}/download", headers=alice).status_code == 302
    assert _counted("download") == (1, 1)
    flagged = db.session.scalar(select(Event.bot_reason).where(Event.kind == "download", Event.is_bot))
    assert flagged == "vendor"


def test_a_signed_in_marketer_testing_a_link_is_not_a_click(app, client):
    partner = make_partner(make_taxonomy())
    import_catalogue()
    user, marketer = make_user("marketer")
    campaign_id = launch(client, marketer)
    client.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=marketer)
    from tcma.models import TrackedLink

    link = db.session.scalars(select(TrackedLink).where(TrackedLink.partner_id == partner.id)).first()
    people = app.test_client()
    people.get(f"/l/{link.code}", headers={"User-Agent": "Mozilla/5.0 (Windows NT 10.0) Firefox/120.0"})
    sign_in(client, user)
    client.get(f"/l/{link.code}", headers={"User-Agent": "Mozilla/5.0 (Windows NT 10.0) Firefox/120.0"})
    assert _counted("click") == (1, 1)
    assert path_of(f"http://tcma.test/l/{link.code}") == f"/l/{link.code}"
