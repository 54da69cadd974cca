"""The programme's KPIs on a small constructed programme, numbers worked out by hand."""

from __future__ import annotations

from datetime import date

import pytest

from tcma.errors import PermissionDenied
from tcma.extensions import db
from tcma.services.accounts.auth import Principal
from tcma.services.insights.kpis import KpiQuery, programme_kpis
from tests.support.factories import make_taxonomy, make_user
from tests.tcma.insights.history import asset, customization, partner, post, rollup, template

SILVER, GOLD = 0, 1


@pytest.fixture
def programme(app):
    """On 2026-06-30: four active partners (and a suspended one) and two templates.

    p1 (silver, joined 03-01): downloads its brochure on 03-11 (day 10) and again on 06-25, renders it
        itself on 04-01.
    p2 (gold, joined 03-01): customizes the brochure on 04-20 (day 50); a bot downloads its gold guide.
    p3 (silver, joined 04-01): nothing.
    p4 (gold, joined 06-15): posts its brochure on 06-18 (day 3), sends its gold guide on 06-20.
    """
    taxonomy = make_taxonomy()
    brochure, guide = template("brochure"), template("gold-guide", tiers=["gold"])
    p1 = partner(taxonomy, date(2026, 3, 1), "P1", tier=SILVER)
    p2 = partner(taxonomy, date(2026, 3, 1), "P2", tier=GOLD)
    partner(taxonomy, date(2026, 4, 1), "P3", tier=SILVER)
    p4 = partner(taxonomy, date(2026, 6, 15), "P4", tier=GOLD)
    gone = partner(taxonomy, date(2026, 3, 1), "P5", tier=GOLD)
    gone.status = "suspended"
    db.session.commit()
    p1_brochure = asset(p1, brochure, date(2026, 3, 2))
    rollup(p1, "download", date(2026, 3, 11), 1, asset=p1_brochure)
    rollup(p1, "download", date(2026, 6, 25), 2, asset=p1_brochure)
    asset(p1, brochure, date(2026, 4, 1), self_served=True)  # a later use: the first stays 03-11
    customization(p2, brochure, date(2026, 4, 20))
    rollup(p2, "download", date(2026, 3, 5), 0, bots=5, asset=asset(p2, guide, date(2026, 3, 2)))
    post(p4, published=date(2026, 6, 18), of=asset(p4, brochure, date(2026, 6, 16)))
    rollup(p4, "send", date(2026, 6, 20), 2, asset=asset(p4, guide, date(2026, 6, 16)))
    rollup(gone, "download", date(2026, 3, 3), 5, asset=asset(gone, brochure, date(2026, 3, 2)))
    return {"brochure": brochure, "guide": guide}


def test_kpis_of_a_small_programme(client, programme):
    _, headers = make_user("marketer")
    answer = client.get("/api/v1/insights/kpis?as_of=2026-06-30", headers=headers)
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["as_of"] == "2026-06-30"
    assert body["partners"] == 4
    # Cohort: p1, p2, p3 (joined 30+ days before); only p1 used something within 30 days of joining.
    # First uses: p1 day 10, p2 day 50, p4 day 3 -> median 10.
    assert body["activation"] == {"days": 30, "cohort": 3, "activated": 1, "rate": 0.3333, "used": 3,
                                  "median_days_to_first_use": 10}
    assert body["adoption"] == [
        {"template_id": programme["brochure"].template_id, "slug": "brochure", "name": "Brochure",
         "eligible": 4, "downloaded": 1, "customized": 2, "sent": 0, "posted": 1, "adopted": 3, "rate": 0.75},
        {"template_id": programme["guide"].template_id, "slug": "gold-guide", "name": "Gold Guide",
         "eligible": 2, "downloaded": 0, "customized": 0, "sent": 1, "posted": 0, "adopted": 1, "rate": 0.5}]
    # Active 02-16..05-16: p1 and p2; in the last 45 days only p1 did something again.
    assert body["churn"] == {"inactive_days": 45, "baseline_days": 90, "were_active": 2, "churned": 1,
                             "rate": 0.5}


def test_kpi_periods_are_parameters(client, programme):
    _, headers = make_user("admin")
    body = client.get("/api/v1/insights/kpis?as_of=2026-06-30&activation_days=60&inactive_days=10",
                      headers=headers).get_json()
    # p2's day-50 customization now activates it; p3 and p4 are too new or idle (cohort p1, p2, p3).
    assert (body["activation"]["cohort"], body["activation"]["activated"]) == (3, 2)
    # Active 03-23..06-20: p1 (04-01), p2 (04-20), p4 (06-18, 06-20); since 06-21 only p1 acted.
    assert (body["churn"]["were_active"], body["churn"]["churned"]) == (3, 2)


def test_kpis_before_anyone_joined_have_no_rates(client, programme):
    _, headers = make_user("marketer")
    body = client.get("/api/v1/insights/kpis?as_of=2026-01-01", headers=headers).get_json()
    assert body["partners"] == 0
    assert body["activation"] == {"days": 30, "cohort": 0, "activated": 0, "rate": None, "used": 0,
                                  "median_days_to_first_use": None}
    assert [row["rate"] for row in body["adoption"]] == [None, None]
    assert body["churn"]["rate"] is None


def test_bad_kpi_parameters_are_named(client, programme):
    _, headers = make_user("marketer")
    answer = client.get("/api/v1/insights/kpis?activation_days=0&baseline_days=x", headers=headers)
    assert answer.status_code == 422
    assert answer.get_json()["errors"]["query"] == {"activation_days": ["a number of days from 1 to 3650"],
                                                    "baseline_days": ["Not a valid integer."]}
    unknown = client.get("/api/v1/insights/kpis?partner_id=3", headers=headers)
    assert unknown.get_json()["errors"]["query"] == {"partner_id": ["Unknown field."]}


def test_the_kpis_service_refuses_partner_users(app):
    with pytest.raises(PermissionDenied, match="^this needs a marketer or admin account$"):
        programme_kpis(Principal(user_id=1, role="partner", partner_id=1), KpiQuery())
