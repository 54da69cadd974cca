"""Scores and churn flags read from stored histories, through the service and the API."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from tcma.extensions import db
from tcma.models import EventRollup
from tcma.services.tracking.events import Visit, record_event
from tests.support.factories import make_taxonomy, make_user
from tests.tcma.insights.history import customization, partner, post, rollup, template

CRAWLER = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"


@pytest.fixture
def programme(app):
    """Four partners on 2026-06-30: a busy one, one dropping, one gone quiet, one just joined."""
    taxonomy = make_taxonomy()
    acme = partner(taxonomy, date(2026, 1, 10), "Acme AG")
    rollup(acme, "download", date(2026, 6, 21), 3, bots=7)
    rollup(acme, "download", date(2026, 5, 1), 2)
    rollup(acme, "download", date(2026, 3, 1), 4)  # before the 90-day window
    rollup(acme, "click", date(2026, 6, 25), 30, uniques=20, bots=50)  # earned, not done: no recency
    customization(acme, template("brochure"), date(2026, 5, 20))
    post(acme, approved=date(2026, 6, 1), published=date(2026, 6, 2))
    post(acme, approved=date(2026, 6, 1))
    post(acme, approved=date(2026, 6, 1))
    post(acme, published=date(2026, 6, 15))  # auto-published: no approval
    bolt = partner(taxonomy, date(2026, 1, 10), "Bolt Inc")
    rollup(bolt, "download", date(2026, 4, 15), 9)
    rollup(bolt, "download", date(2026, 6, 27), 1)
    cobalt = partner(taxonomy, date(2026, 1, 10), "Cobalt Ltd")
    rollup(cobalt, "download", date(2026, 5, 1), 4)
    dawn = partner(taxonomy, date(2026, 6, 20), "Dawn SA")
    return {"acme": acme, "bolt": bolt, "cobalt": cobalt, "dawn": dawn}


def listing(client, headers, query=""):
    answer = client.get(f"/api/v1/insights/partners?as_of=2026-06-30{query}", headers=headers)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def test_a_stored_history_scores_component_by_component(client, programme):
    _, headers = make_user("marketer")
    body = client.get(f"/api/v1/insights/partners/{programme['acme'].id}?as_of=2026-06-30",
                      headers=headers).get_json()
    assert {c["name"]: (c["count"], c["points"]) for c in body["components"]} == {
        "downloads": (5, 10.0), "customizations": (1, 5.0), "posts_approved": (3, 10.0),
        "posts_published": (2, 5.0), "sends": (0, 0.0), "clicks": (20, 6.0), "recency": (9, 13.5)}
    assert body["score"] == 49.5
    assert (body["name"], body["joined"], body["last_active"]) == ("Acme AG", "2026-01-10", "2026-06-21")
    assert body["flags"] == []
    assert [(h["component"], h["points_available"], h["hint"]) for h in body["hints"]] == [
        ("customizations", 10.0, "Customize 2 more templates with your own text and render them "
                                 "(1 of 3 in the last 90 days)."),
        ("downloads", 10.0, "Download 5 more co-branded assets (5 of 10 in the last 90 days)."),
        ("posts_published", 10.0, "Publish 4 more posts: connect a social account, then approve or "
                                  "auto-publish (2 of 6 in the last 90 days)."),
        ("sends", 10.0, "Send 4 more campaign emails to your contacts (0 of 4 in the last 90 days)."),
        ("clicks", 9.0, "Earn 30 more clicks: share your tracked links where your customers read "
                        "(20 of 50 in the last 90 days)."),
        ("recency", 1.5, "Use the programme again (download, customize, approve, post or send): "
                         "activity today earns all 15 recency points.")]


def test_marketers_see_every_partner_lowest_score_first_with_names(client, programme):
    _, headers = make_user("marketer")
    body = listing(client, headers)
    assert [(r["name"], r["score"]) for r in body["items"]] == [
        ("Dawn SA", 0.0), ("Cobalt Ltd", 13.0), ("Bolt Inc", 34.5), ("Acme AG", 49.5)]
    assert body["total"] == 4
    assert [r["name"] for r in listing(client, headers, "&sort=-score")["items"]] == [
        "Acme AG", "Bolt Inc", "Cobalt Ltd", "Dawn SA"]
    assert [r["name"] for r in listing(client, headers, "&sort=-last_active")["items"]] == [
        "Bolt Inc", "Acme AG", "Cobalt Ltd", "Dawn SA"]  # never active: last
    by_name = listing(client, headers, "&sort=-name&per_page=2&page=2")
    assert [r["name"] for r in by_name["items"]] == ["Bolt Inc", "Acme AG"]


def test_churn_flags_name_their_reasons_and_filter_the_list(client, programme):
    _, headers = make_user("marketer")
    flagged = {r["name"]: r["flags"] for r in listing(client, headers, "&flag=churning")["items"]}
    assert flagged == {
        "Cobalt Ltd": [{"flag": "inactive", "reason": "no activity for 60 days (last on 2026-05-01)"},
                       {"flag": "dropping", "reason": "activity fell 100%: 0 actions in the last 30 days "
                                                      "against 1.3 per 30 days in the 90 days before"}],
        "Bolt Inc": [{"flag": "dropping", "reason": "activity fell 67%: 1 action in the last 30 days "
                                                    "against 3.0 per 30 days in the 90 days before"}]}
    assert [r["name"] for r in listing(client, headers, "&flag=inactive")["items"]] == ["Cobalt Ltd"]
    looser = listing(client, headers, "&flag=inactive&inactive_days=10")["items"]
    assert [r["name"] for r in looser] == ["Dawn SA", "Cobalt Ltd"]
    stricter = listing(client, headers, "&flag=dropping&drop_percent=80")["items"]
    assert [r["name"] for r in stricter] == ["Cobalt Ltd"]


def test_the_list_exports_as_csv_by_parameter_or_accept_header(client, programme):
    _, headers = make_user("marketer")
    by_format = client.get("/api/v1/insights/partners?as_of=2026-06-30&flag=inactive&format=csv",
                           headers=headers)
    by_accept = client.get("/api/v1/insights/partners?as_of=2026-06-30&flag=inactive",
                           headers={**headers, "Accept": "text/csv"})
    assert by_format.mimetype == by_accept.mimetype == "text/csv"
    assert by_format.data == by_accept.data
    rows = list(csv.reader(io.StringIO(by_format.get_data(as_text=True))))
    assert rows == [
        ["partner_id", "name", "score", "downloads_points", "customizations_points", "posts_approved_points",
         "posts_published_points", "sends_points", "clicks_points", "recency_points", "last_active", "flags",
         "reasons"],
        [str(programme["cobalt"].id), "Cobalt Ltd", "13.0", "8.0", "0.0", "0.0", "0.0", "0.0", "0.0", "5.0",
         "2026-05-01", "inactive dropping",
         "no activity for 60 days (last on 2026-05-01); activity fell 100%: 0 actions in the last 30 days "
         "against 1.3 per 30 days in the 90 days before"]]
    nobody = client.get("/api/v1/insights/partners?as_of=2026-01-01&format=csv", headers=headers)
    assert nobody.get_data(as_text=True) == ",".join(rows[0]) + "\n"  # the header alone
    as_json = client.get("/api/v1/insights/partners?as_of=2026-06-30&format=json",
                         headers={**headers, "Accept": "text/csv"})
    assert as_json.mimetype == "application/json"


def test_a_partner_user_sees_only_its_own_score_and_hints(client, programme):
    _, headers = make_user("partner", programme["bolt"])
    body = listing(client, headers)
    assert [(r["name"], r["score"], r["flags"]) for r in body["items"]] == [("Bolt Inc", 34.5, None)]
    own = client.get(f"/api/v1/insights/partners/{programme['bolt'].id}?as_of=2026-06-30", headers=headers)
    assert own.status_code == 200
    assert own.get_json()["hints"][0] == {
        "component": "clicks", "points_available": 15.0,
        "hint": "Earn 50 more clicks: share your tracked links where your customers read "
                "(0 of 50 in the last 90 days)."}
    assert [(h["component"], h["points_available"]) for h in own.get_json()["hints"]] == [
        ("clicks", 15.0), ("customizations", 15.0), ("posts_published", 15.0), ("posts_approved", 10.0),
        ("sends", 10.0), ("recency", 0.5)]
    other = client.get(f"/api/v1/insights/partners/{programme['acme'].id}", headers=headers)
    assert other.status_code == 404
    assert other.get_json()["message"] == f"partner {programme['acme'].id} not found"
    kpis = client.get("/api/v1/insights/kpis", headers=headers)
    assert kpis.status_code == 403
    assert kpis.get_json()["message"] == "this needs one of the roles: admin, marketer"


def test_signed_out_callers_are_refused(client, programme):
    for path in ("/partners", f"/partners/{programme['acme'].id}", "/kpis"):
        answer = client.get(f"/api/v1/insights{path}")
        assert answer.status_code == 401
        assert answer.get_json()["message"] == "sign in or send an API token (Authorization: Bearer ...)"


def test_a_missing_partner_and_a_day_before_it_joined_are_named(client, programme):
    _, headers = make_user("marketer")
    missing = client.get("/api/v1/insights/partners/999999", headers=headers)
    assert (missing.status_code, missing.get_json()["message"]) == (404, "partner 999999 not found")
    early = client.get(f"/api/v1/insights/partners/{programme['dawn'].id}?as_of=2026-06-01", headers=headers)
    assert early.status_code == 422
    assert early.get_json()["errors"] == {"as_of": ["as_of 2026-06-01 is before partner "
                                                    f"{programme['dawn'].id} joined (2026-06-20)"]}


def test_a_day_out_of_range_is_named(client, programme):
    _, headers = make_user("marketer")
    for path in ("/partners", f"/partners/{programme['acme'].id}", "/kpis"):
        answer = client.get(f"/api/v1/insights{path}?as_of=1999-12-31", headers=headers)
        assert answer.status_code == 422
        assert answer.get_json()["errors"] == {"as_of": ["as_of must be a day from 2000-01-01 to 2999-12-31"]}


@pytest.mark.parametrize(("query", "field", "message"), [
    ("window_days=0", "window_days", "a number of days from 1 to 3650"),
    ("inactive_days=4000", "inactive_days", "a number of days from 1 to 3650"),
    ("drop_percent=0", "drop_percent", "a percentage from 1 to 100"),
    ("min_baseline_actions=0", "min_baseline_actions", "at least 1"),
    ("flag=sleepy", "flag", "Must be one of: dropping, inactive, churning."),
    ("sort=size", "sort", "Must be one of: score, -score, name, -name, last_active, -last_active."),
    ("format=xml", "format", "Must be one of: json, csv."),
    ("as_of=yesterday", "as_of", "Not a valid date."),
    ("flags=inactive", "flags", "Unknown field."),
])
def test_bad_parameters_are_named(client, programme, query, field, message):
    _, headers = make_user("marketer")
    answer = client.get(f"/api/v1/insights/partners?{query}", headers=headers)
    assert answer.status_code == 422
    assert answer.get_json()["errors"]["query"] == {field: [message]}


def test_bots_scanners_and_the_vendor_add_nothing_to_a_score(client, app):
    taxonomy = make_taxonomy()
    who = partner(taxonomy, date(2026, 1, 10), "Echo BV")
    today = datetime.now(UTC).date().isoformat()
    record_event("download", who.id, channel="download", visit=Visit.of("GET", BROWSER, "10.0.0.1"))
    _, headers = make_user("marketer")
    url = f"/api/v1/insights/partners/{who.id}?as_of={today}"
    before = client.get(url, headers=headers).get_json()
    for n in range(20):
        crawler = Visit.of("GET", CRAWLER, f"10.0.1.{n}")
        record_event("download", who.id, channel="download", visit=crawler)
        record_event("click", who.id, channel="download", visit=crawler)
        record_event("send", who.id, channel="email", visit=crawler)
    vendor = Visit.of("GET", BROWSER, "10.0.2.1", vendor=True)
    record_event("download", who.id, channel="download", visit=vendor)
    assert db.session.scalar(select(func.sum(EventRollup.bots))) == 61  # recorded, apart
    after = client.get(url, headers=headers).get_json()
    assert before["components"][0] == {"name": "downloads", "count": 1, "target": 10, "weight": 20,
                                       "points": 2.0}
    assert before["score"] == 17.0  # 20x1/10 + 15 for acting today
    assert (after["score"], after["components"]) == (before["score"], before["components"])
