"""The marketer's contact sheet: every partner's outputs drawn before launch, warnings flagged."""

from __future__ import annotations

import re

from tests.support.factories import make_partner, make_user
from tests.support.portal import sign_in


def test_the_contact_sheet_draws_each_partners_outputs_and_flags_what_waits(app, taxonomy, catalogue):
    gold = make_partner(taxonomy, tier=1, name="Gold Partner AG")
    silver = make_partner(taxonomy, tier=0, name="Silver Partner Ltd")
    _, marketer = make_user("marketer")
    client = app.test_client()
    created = client.post("/api/v1/campaigns", headers=marketer, json={
        "name": "Spring events", "segment": {},
        "outputs": [{"template": "solution-brief", "output": "pdf"},
                    {"template": "event-flyer", "output": "pdf"}]})
    assert created.status_code == 201, created.json
    sign_in(client, make_user("marketer")[0])
    html = client.get(f"/portal/campaigns/{created.json['id']}/contact-sheet").get_data(as_text=True)
    items = re.findall(r'<li class="sheet-item card( warned)?">(.*?)</li>\s*\n', html, re.S)
    names = [re.search(r"<strong>(.*?)</strong>", body).group(1) for _, body in items]
    # The flyer is for gold and platinum only: the silver partner gets the brief alone.
    assert sorted(names) == sorted([gold.name, gold.name, silver.name])
    assert html.count('src="data:image/png;base64,') == 3
    flyer = next(body for _, body in items if "Partner event flyer" in body)
    assert "waits for the partner: event_date, venue" in flyer
    assert 'id="only-warnings"' in html and "Only the 1 with warnings" in html


def test_another_roles_and_unknown_campaigns_are_refused(app, taxonomy, catalogue, partner_client):
    _, marketer = make_user("marketer")
    created = app.test_client().post("/api/v1/campaigns", headers=marketer, json={
        "name": "Spring", "segment": {}, "outputs": [{"template": "solution-brief", "output": "pdf"}]})
    assert partner_client.get(f"/portal/campaigns/{created.json['id']}/contact-sheet").status_code == 403
    client = app.test_client()
    sign_in(client, make_user("marketer")[0])
    assert client.get("/portal/campaigns/999999/contact-sheet").status_code == 404
