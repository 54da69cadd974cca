"""The embedded default (SQLite) gives the same scores, flags and KPIs: its aggregates of times come
back as text, and are read as days all the same."""

from __future__ import annotations

from datetime import date

from tcma import create_app
from tcma.extensions import db
from tests.support.apps import base_config
from tests.support.factories import make_taxonomy, make_user
from tests.tcma.insights.history import customization, partner, post, rollup, template


def test_scores_and_kpis_on_the_embedded_database(tmp_path):
    app = create_app(base_config(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/embedded.db"))
    assert app.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        taxonomy = make_taxonomy()
        acme = partner(taxonomy, date(2026, 1, 10), "Acme AG")
        rollup(acme, "download", date(2026, 5, 1), 2)
        customization(acme, template("brochure"), date(2026, 5, 20))
        post(acme, approved=date(2026, 6, 1), published=date(2026, 6, 2))
        _, headers = make_user("marketer")
        client = app.test_client()
        body = client.get(f"/api/v1/insights/partners/{acme.id}?as_of=2026-06-30", headers=headers).get_json()
        # 20x2/10 + 15x1/3 + 10x1/3 + 15x1/6 + 15x(1-28/90): 4.0 + 5.0 + 3.3 + 2.5 + 10.3
        assert (body["last_active"], body["score"]) == ("2026-06-02", 25.1)
        kpis = client.get("/api/v1/insights/kpis?as_of=2026-06-30", headers=headers).get_json()
        assert kpis["activation"]["median_days_to_first_use"] == 111  # 01-10 to 05-01
        assert kpis["churn"] == {"inactive_days": 45, "baseline_days": 90, "were_active": 1, "churned": 0,
                                 "rate": 0.0}
        db.session.remove()
        db.engine.dispose()


def test_the_dashboard_on_the_embedded_database(tmp_path):
    from tests.tcma.insights.test_dashboards import add

    app = create_app(base_config(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/embedded.db"))
    assert app.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        taxonomy = make_taxonomy()
        acme = partner(taxonomy, date(2026, 1, 10), "Acme AG", tier=1)
        add(acme, "click", date(2026, 6, 4), 40, uniques=30, bots=9, channel="linkedin", variant="b")
        add(acme, "download", date(2026, 6, 5), 3, channel="print")
        _, headers = make_user("marketer")
        board = app.test_client().get("/api/v1/insights/dashboard?start=2026-06-01&end=2026-06-30",
                                      headers=headers).get_json()
        assert {s["key"]: s["people"] for s in board["funnel"]}["clicked"] == 40
        june_4 = next(r for r in board["over_time"] if r["key"] == "2026-06-04")
        assert (june_4["clicked"], june_4["unique_clicks"], june_4["machines"]) == (40, 30, 9)
        assert [(r["label"], r["downloaded"]) for r in board["by_tier"]] == [("Gold", 3)]
        assert [r["label"] for r in board["by_variant"]] == ["b", "(no variant)"]
        db.session.remove()
        db.engine.dispose()
