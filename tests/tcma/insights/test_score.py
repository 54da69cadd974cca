"""The engagement score and churn flags as arithmetic: constructed activity, numbers worked by hand."""

from __future__ import annotations

from datetime import date, timedelta

from tcma.services.insights.score import Activity, ChurnRules, churn_flags, score_activity

AS_OF = date(2026, 6, 30)


def points(score) -> dict[str, float]:
    return {c.name: c.points for c in score.components}


def test_a_mixed_history_scores_as_docs_insights_md_computes_it():
    activity = Activity(downloads=5, customizations=1, posts_approved=3, posts_published=2, sends=0,
                        clicks=20)
    scored = score_activity(activity, AS_OF - timedelta(days=9), AS_OF)
    # 20x5/10, 15x1/3, 10x3/3, 15x2/6, 10x0/4, 15x20/50, 15x(1-9/90)
    assert points(scored) == {"downloads": 10.0, "customizations": 5.0, "posts_approved": 10.0,
                              "posts_published": 5.0, "sends": 0.0, "clicks": 6.0, "recency": 13.5}
    assert scored.score == 49.5


def test_counts_past_their_target_earn_no_more_and_today_earns_full_recency():
    busy = Activity(downloads=40, customizations=9, posts_approved=7, posts_published=30, sends=12,
                    clicks=900)
    assert score_activity(busy, AS_OF, AS_OF).score == 100.0


def test_nothing_done_scores_zero_and_every_hint_is_offered_biggest_first():
    scored = score_activity(Activity(), None, AS_OF)
    assert scored.score == 0.0
    assert [(h["component"], h["points_available"]) for h in scored.hints] == [
        ("downloads", 20.0), ("clicks", 15.0), ("customizations", 15.0), ("posts_published", 15.0),
        ("recency", 15.0), ("posts_approved", 10.0), ("sends", 10.0)]
    assert scored.hints[0]["hint"] == "Download 10 more co-branded assets (0 of 10 in the last 90 days)."


def test_fractions_round_to_one_decimal_and_recency_fades_over_the_window():
    scored = score_activity(Activity(customizations=2, clicks=7), AS_OF - timedelta(days=1), AS_OF)
    # 15x2/3 = 10.0; 15x7/50 = 2.1; 15x(1-1/90) = 14.833.. -> 14.8
    assert points(scored)["customizations"] == 10.0
    assert points(scored)["clicks"] == 2.1
    assert points(scored)["recency"] == 14.8
    assert scored.score == 26.9
    assert points(score_activity(Activity(), AS_OF - timedelta(days=90), AS_OF))["recency"] == 0.0
    half_way = score_activity(Activity(), AS_OF - timedelta(days=30), AS_OF, window_days=60)
    assert points(half_way)["recency"] == 7.5
    # 15x(1-3/60) = 14.25: a half rounds up, as a person rounds (not to the even 14.2)
    on_a_half = score_activity(Activity(), AS_OF - timedelta(days=3), AS_OF, window_days=60)
    assert points(on_a_half)["recency"] == 14.3


def test_a_component_at_its_target_offers_no_hint():
    scored = score_activity(Activity(downloads=10), AS_OF, AS_OF)
    assert "downloads" not in {h["component"] for h in scored.hints}
    assert "recency" not in {h["component"] for h in scored.hints}


def test_the_same_activity_on_the_same_day_scores_the_same():
    activity = Activity(downloads=3, clicks=11)
    first = score_activity(activity, AS_OF - timedelta(days=4), AS_OF)
    again = score_activity(activity, AS_OF - timedelta(days=4), AS_OF)
    assert (first.score, first.components) == (again.score, again.components)


JOINED = date(2026, 1, 5)


def test_a_sharp_drop_is_flagged_with_its_numbers():
    flags = churn_flags(Activity(downloads=1), Activity(downloads=9), AS_OF - timedelta(days=3), JOINED,
                        AS_OF)
    assert flags == [{"flag": "dropping", "reason": "activity fell 67%: 1 action in the last 30 days "
                                                     "against 3.0 per 30 days in the 90 days before"}]


def test_a_drop_of_exactly_the_threshold_is_flagged_and_a_smaller_one_is_not():
    last = AS_OF - timedelta(days=2)
    half = churn_flags(Activity(sends=2), Activity(sends=12), last, JOINED, AS_OF)
    assert half == [{"flag": "dropping", "reason": "activity fell 50%: 2 actions in the last 30 days "
                                                    "against 4.0 per 30 days in the 90 days before"}]
    assert churn_flags(Activity(sends=3), Activity(sends=12), last, JOINED, AS_OF) == []


def test_too_little_before_to_call_it_a_drop():
    assert churn_flags(Activity(), Activity(downloads=2), AS_OF - timedelta(days=40), JOINED, AS_OF) == []
    rules = ChurnRules(min_baseline_actions=2)
    assert [f["flag"] for f in churn_flags(Activity(), Activity(downloads=2), AS_OF - timedelta(days=40),
                                           JOINED, AS_OF, rules)] == ["dropping"]


def test_idle_for_the_threshold_is_flagged_inactive_one_day_less_is_not():
    flags = churn_flags(Activity(), Activity(), AS_OF - timedelta(days=45), JOINED, AS_OF)
    assert flags == [{"flag": "inactive", "reason": "no activity for 45 days (last on 2026-05-16)"}]
    assert churn_flags(Activity(), Activity(), AS_OF - timedelta(days=44), JOINED, AS_OF) == []
    assert churn_flags(Activity(), Activity(), AS_OF - timedelta(days=44), JOINED, AS_OF,
                       ChurnRules(inactive_days=30))[0]["flag"] == "inactive"


def test_a_partner_that_never_did_anything_is_inactive_only_once_it_had_the_time():
    assert churn_flags(Activity(), Activity(), None, date(2026, 5, 1), AS_OF) == [
        {"flag": "inactive", "reason": "no activity in the 60 days since joining on 2026-05-01"}]
    assert churn_flags(Activity(), Activity(), None, date(2026, 6, 1), AS_OF) == []


def test_a_partner_gone_quiet_after_a_busy_spell_carries_both_flags():
    flags = churn_flags(Activity(), Activity(downloads=6), AS_OF - timedelta(days=50), JOINED, AS_OF)
    assert [f["flag"] for f in flags] == ["inactive", "dropping"]
    assert flags[1]["reason"] == ("activity fell 100%: 0 actions in the last 30 days against 2.0 per 30 days "
                                  "in the 90 days before")
