"""The partners' list read from a snapshot a page at a time (filtered, sorted and paged in SQL): every
sort, flag and page answers what the computed list answers, a page reads only its rows, and the
portal's pages, CSV and "start a campaign" link agree."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import event, select

from tcma.extensions import db
from tcma.models import InsightSnapshot
from tests.support.factories import make_user
from tests.support.portal import sign_in
from tests.tcma.insights.history import partner, rollup
from tests.tcma.insights.test_insight_snapshots import answers, set_max_age, without_times
from tests.tcma.insights.test_partner_insights import programme  # noqa: F401  (the fixture)

LIST = "/api/v1/insights/partners?as_of=2026-06-30"
SORTS = ("score", "-score", "name", "-name", "last_active", "-last_active")
FLAGS = ("", "&flag=inactive", "&flag=dropping", "&flag=churning")


@pytest.fixture
def crowd(programme):  # noqa: F811
    """The programme and four idle partners (score 0, never active, flagged inactive): ties broken by
    id, names in mixed case and with accents, one more partner active once."""
    acme = programme["acme"]
    taxonomy = {"tiers": [acme.tier], "verticals": [acme.vertical], "regions": [acme.region]}
    extra = {name: partner(taxonomy, date(2026, 1, 10), name)
             for name in ("zeta gmbh", "Öko AG", "äpfel KG", "Beta LLC")}
    eve = partner(taxonomy, date(2026, 1, 10), "Eve Ltd")
    rollup(eve, "download", date(2026, 6, 21), 1)  # the same last action as Acme
    return {**programme, **extra, "eve": eve}


def pages(per_page: int, count: int) -> list[str]:
    return [f"&per_page={per_page}&page={n}" for n in range(1, count + 1)]


def test_every_sort_flag_and_page_from_a_snapshot_equals_the_computed_list(app, client, crowd):
    _, marketer = make_user("marketer")
    urls = [f"{LIST}&sort={sort}{flag}{window}" for sort in SORTS for flag in FLAGS
            for window in ("", *pages(3, 4))]
    set_max_age(app, 0)
    live = answers(client, marketer, urls)
    live_csv = [client.get(f"{LIST}&sort={sort}&format=csv", headers=marketer).data for sort in SORTS]
    set_max_age(app, 3600)
    assert without_times(answers(client, marketer, urls)) == without_times(live)
    assert [client.get(f"{LIST}&sort={sort}&format=csv", headers=marketer).data
            for sort in SORTS] == live_csv
    assert db.session.scalar(select(InsightSnapshot.partners)) == 9  # answered from one snapshot

    def names(query):
        return [r["name"] for r in client.get(LIST + query, headers=marketer).get_json()["items"]]

    # Ties by partner id; names lowercased, by code point; no last action first (last, reversed).
    assert names("&sort=score") == ["Dawn SA", "zeta gmbh", "Öko AG", "äpfel KG", "Beta LLC",
                                    "Cobalt Ltd", "Eve Ltd", "Bolt Inc", "Acme AG"]
    assert names("&sort=name") == ["Acme AG", "Beta LLC", "Bolt Inc", "Cobalt Ltd", "Dawn SA",
                                   "Eve Ltd", "zeta gmbh", "äpfel KG", "Öko AG"]
    assert names("&sort=-last_active&per_page=4&page=1") == ["Bolt Inc", "Eve Ltd", "Acme AG", "Cobalt Ltd"]
    assert names("&sort=last_active&per_page=3&page=2") == ["äpfel KG", "Beta LLC", "Cobalt Ltd"]
    page = client.get(LIST + "&flag=inactive&sort=-score&per_page=2&page=2", headers=marketer).get_json()
    assert ([r["name"] for r in page["items"]], page["total"], page["page"], page["per_page"]) == (
        ["äpfel KG", "Öko AG"], 5, 2, 2)
    beyond = client.get(LIST + "&per_page=50&page=3", headers=marketer).get_json()
    assert (beyond["items"], beyond["total"], beyond["computed_at"] is not None) == ([], 9, True)


def test_a_page_reads_only_its_rows_from_the_snapshot(app, client, crowd):
    _, marketer = make_user("marketer")
    client.get(LIST, headers=marketer)  # stores the snapshot
    fetched: list[int] = []

    def count_rows(conn, cursor, statement, parameters, context, executemany):
        if "insight_snapshot_row" in statement and statement.lstrip().upper().startswith("SELECT"):
            fetched.append(cursor.rowcount)

    event.listen(db.engine, "after_cursor_execute", count_rows)
    try:
        for sort in SORTS:
            body = client.get(f"{LIST}&sort={sort}&per_page=2&page=3", headers=marketer).get_json()
            assert (len(body["items"]), body["total"]) == (2, 9)
    finally:
        event.remove(db.engine, "after_cursor_execute", count_rows)
    assert fetched and max(fetched) <= 2  # the page's rows (and a count), never all nine


def test_a_partner_user_sees_only_its_own_row_from_a_snapshot(app, client, crowd):
    _, marketer = make_user("marketer")
    _, bolt = make_user("partner", crowd["bolt"])
    urls = [f"{LIST}&sort={sort}" for sort in SORTS] + [LIST + "&per_page=1&page=2", LIST + "&flag=inactive"]
    set_max_age(app, 0)
    live = answers(client, bolt, urls)
    set_max_age(app, 3600)
    client.get(LIST, headers=marketer)  # the marketer's list stores the snapshot the partner reads
    from_snapshot = answers(client, bolt, urls)
    assert without_times(from_snapshot) == without_times(live)
    assert [(r["name"], r["score"], r["flags"]) for r in from_snapshot[0]["items"]] == [
        ("Bolt Inc", 34.5, None)]
    assert [b["total"] for b in from_snapshot] == [1, 1, 1, 1, 1, 1, 1, 0]
    assert from_snapshot[6]["items"] == []  # page 2 of one row
    assert (from_snapshot[7]["items"], from_snapshot[7]["computed_at"]) == ([], None)  # no flags to filter


def test_the_portal_pages_and_campaign_link_from_a_snapshot_equal_the_computed_ones(app, crowd):
    browser = app.test_client()
    assert sign_in(browser, make_user("marketer")[0]).status_code == 302
    urls = ["/portal/partners?as_of=2026-06-30&flag=inactive&sort=name",
            "/portal/partners?as_of=2026-06-30&sort=-score&page=1",
            "/portal/partners?as_of=2026-06-30&page=2", "/portal/partners?as_of=2026-06-30&page=99999999999"]

    def shown(url):
        text = browser.get(url).get_data(as_text=True)
        link, count = re.search(r'partner_ids=([\d%C,]*)"', text), re.search(r'"count">(\d+) partner', text)
        return re.findall(r'data-partner="(\d+)"', text), count[1], link and link[1]

    set_max_age(app, 0)
    live = [shown(url) for url in urls]
    set_max_age(app, 3600)
    assert [shown(url) for url in urls] == live
    ids = [str(crowd[name].id) for name in ("Beta LLC", "cobalt", "zeta gmbh", "äpfel KG", "Öko AG")]
    assert live[0] == (ids, "5", ",".join(ids))  # the link names every flagged partner, in order
    assert live[2] == live[3] == ([], "9", None)  # past the last page: no rows, the same count
