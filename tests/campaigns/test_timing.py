"""Timing: when a syndicated post is due in each partner's zone, across daylight-saving changes.

New York changes on the second Sunday of March (02:00 EST -> 03:00 EDT) and the first Sunday of
November (02:00 EDT -> 01:00 EST); Berlin on the last Sundays of March and October (at 01:00 UTC);
Sydney, in the southern hemisphere, ends summer time on the first Sunday of April (03:00 AEDT ->
02:00 AEST) and starts it on the first Sunday of October (02:00 AEST -> 03:00 AEDT).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from campaigns.timing import Timing, caps_exceeded, due_at, next_weekly, resolve_local, spread_slot

NEW_YORK, BERLIN, SYDNEY = "America/New_York", "Europe/Berlin", "Australia/Sydney"
TUESDAY = 1
NAIVE_MESSAGE = "must be a wall-clock time without a time zone: the partner's zone is applied"


def hours(value: float) -> timedelta:
    return timedelta(hours=value)


# resolve_local ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("local", "zone", "expected"), [
    # Ordinary times either side of the changes.
    (datetime(2027, 3, 9, 10, 0), NEW_YORK, datetime(2027, 3, 9, 15, 0, tzinfo=UTC)),
    (datetime(2027, 3, 16, 10, 0), NEW_YORK, datetime(2027, 3, 16, 14, 0, tzinfo=UTC)),
    (datetime(2027, 3, 9, 10, 0), BERLIN, datetime(2027, 3, 9, 9, 0, tzinfo=UTC)),
    (datetime(2027, 3, 9, 10, 0), SYDNEY, datetime(2027, 3, 8, 23, 0, tzinfo=UTC)),
    (datetime(2027, 3, 9, 10, 0), "UTC", datetime(2027, 3, 9, 10, 0, tzinfo=UTC)),
    # New York spring forward: 02:00-02:59 does not exist; 03:00 EDT is 07:00 UTC.
    (datetime(2027, 3, 14, 1, 59, 59), NEW_YORK, datetime(2027, 3, 14, 6, 59, 59, tzinfo=UTC)),
    (datetime(2027, 3, 14, 2, 0), NEW_YORK, datetime(2027, 3, 14, 7, 0, tzinfo=UTC)),
    (datetime(2027, 3, 14, 2, 30), NEW_YORK, datetime(2027, 3, 14, 7, 0, tzinfo=UTC)),
    (datetime(2027, 3, 14, 2, 59, 59, 999999), NEW_YORK, datetime(2027, 3, 14, 7, 0, tzinfo=UTC)),
    (datetime(2027, 3, 14, 3, 0), NEW_YORK, datetime(2027, 3, 14, 7, 0, tzinfo=UTC)),
    (datetime(2027, 3, 14, 3, 1), NEW_YORK, datetime(2027, 3, 14, 7, 1, tzinfo=UTC)),
    # New York fall back: 01:00-01:59 happens twice; the first (EDT, -4) is taken.
    (datetime(2026, 11, 1, 0, 59), NEW_YORK, datetime(2026, 11, 1, 4, 59, tzinfo=UTC)),
    (datetime(2026, 11, 1, 1, 0), NEW_YORK, datetime(2026, 11, 1, 5, 0, tzinfo=UTC)),
    (datetime(2026, 11, 1, 1, 30), NEW_YORK, datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),
    (datetime(2026, 11, 1, 1, 30, fold=1), NEW_YORK, datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),
    (datetime(2026, 11, 1, 2, 0), NEW_YORK, datetime(2026, 11, 1, 7, 0, tzinfo=UTC)),
    # Berlin: 02:00-02:59 skipped on 2027-03-28, 02:00-02:59 twice on 2027-10-31.
    (datetime(2027, 3, 28, 2, 30), BERLIN, datetime(2027, 3, 28, 1, 0, tzinfo=UTC)),
    (datetime(2027, 3, 28, 3, 0), BERLIN, datetime(2027, 3, 28, 1, 0, tzinfo=UTC)),
    (datetime(2027, 3, 28, 1, 59), BERLIN, datetime(2027, 3, 28, 0, 59, tzinfo=UTC)),
    (datetime(2027, 10, 31, 2, 30), BERLIN, datetime(2027, 10, 31, 0, 30, tzinfo=UTC)),
    (datetime(2027, 10, 31, 3, 0), BERLIN, datetime(2027, 10, 31, 2, 0, tzinfo=UTC)),
    # Sydney: 02:00-02:59 skipped on 2027-10-03 (spring, October), twice on 2027-04-04 (autumn).
    (datetime(2027, 10, 3, 2, 30), SYDNEY, datetime(2027, 10, 2, 16, 0, tzinfo=UTC)),
    (datetime(2027, 10, 3, 1, 59), SYDNEY, datetime(2027, 10, 2, 15, 59, tzinfo=UTC)),
    (datetime(2027, 4, 4, 2, 30), SYDNEY, datetime(2027, 4, 3, 15, 30, tzinfo=UTC)),
    (datetime(2027, 4, 4, 3, 0), SYDNEY, datetime(2027, 4, 3, 17, 0, tzinfo=UTC)),
    # Half-hour change (Lord Howe Island, +10:30 -> +11): 02:00-02:29 moves to 02:30.
    (datetime(2027, 10, 3, 2, 15), "Australia/Lord_Howe", datetime(2027, 10, 2, 15, 30, tzinfo=UTC)),
    # Samoa skipped the whole of 2011-12-30 (-10 -> +14): any time that day is 2011-12-31 00:00.
    (datetime(2011, 12, 30, 12, 0), "Pacific/Apia", datetime(2011, 12, 30, 10, 0, tzinfo=UTC)),
])
def test_resolve_local_gives_the_utc_instant_moving_gaps_forward_and_taking_the_first_repeat(
        local, zone, expected):
    resolved = resolve_local(local, zone)
    assert resolved == expected
    assert resolved.tzinfo is UTC


def test_a_time_in_the_gap_lands_on_the_first_valid_wall_time_after_it():
    for local, zone, first_valid in [
        (datetime(2027, 3, 14, 2, 30), NEW_YORK, datetime(2027, 3, 14, 3, 0)),
        (datetime(2027, 3, 28, 2, 30), BERLIN, datetime(2027, 3, 28, 3, 0)),
        (datetime(2027, 10, 3, 2, 30), SYDNEY, datetime(2027, 10, 3, 3, 0)),
    ]:
        assert resolve_local(local, zone).astimezone(ZoneInfo(zone)).replace(tzinfo=None) == first_valid


@pytest.mark.parametrize("zone", ["Mars/Base", "", "america/new_york", "America", "../etc/passwd",
                                  "/etc/localtime", "zone.tab"])
def test_an_unknown_zone_is_refused_by_name(zone):
    with pytest.raises(ValueError) as refused:
        resolve_local(datetime(2027, 3, 9, 10, 0), zone)
    assert str(refused.value) == f"unknown time zone {zone!r}"


def test_resolve_local_wants_a_naive_wall_clock_datetime():
    with pytest.raises(ValueError) as refused:
        resolve_local(datetime(2027, 3, 9, 10, 0, tzinfo=UTC), NEW_YORK)
    assert str(refused.value) == f"local {NAIVE_MESSAGE}"
    with pytest.raises(ValueError) as refused:
        resolve_local(date(2027, 3, 9), NEW_YORK)
    assert str(refused.value) == "local must be a datetime, not date"


# Timing ----------------------------------------------------------------------------------------

def test_timings_of_each_kind_are_built_from_wall_clock_times():
    at = Timing("local_time", local=datetime(2027, 3, 9, 10, 0))
    assert (at.kind, at.local, at.allow_late) == ("local_time", datetime(2027, 3, 9, 10, 0), False)
    window = Timing("window", start_local=datetime(2027, 3, 9, 9), end_local=datetime(2027, 3, 9, 17),
                    allow_late=True)
    assert (window.start_local, window.end_local, window.allow_late) == (
        datetime(2027, 3, 9, 9), datetime(2027, 3, 9, 17), True)
    assert Timing("on_approval") == Timing("on_approval", allow_late=False)


LOCAL, START, END = datetime(2027, 3, 9, 10), datetime(2027, 3, 9, 9), datetime(2027, 3, 9, 17)
AWARE = datetime(2027, 3, 9, 10, tzinfo=ZoneInfo(NEW_YORK))


@pytest.mark.parametrize(("arguments", "message"), [
    ({"kind": "at_once"}, "kind must be one of local_time, window, on_approval, not 'at_once'"),
    ({"kind": "Local_Time", "local": LOCAL},
     "kind must be one of local_time, window, on_approval, not 'Local_Time'"),
    ({"kind": "on_approval", "allow_late": "yes"}, "allow_late must be True or False, not 'yes'"),
    ({"kind": "on_approval", "allow_late": 1}, "allow_late must be True or False, not 1"),
    ({"kind": "local_time"}, "a local_time timing needs local"),
    ({"kind": "local_time", "local": AWARE}, f"local {NAIVE_MESSAGE}"),
    ({"kind": "local_time", "local": date(2027, 3, 9)}, "local must be a datetime, not date"),
    ({"kind": "local_time", "local": "2027-03-09T10:00"}, "local must be a datetime, not str"),
    ({"kind": "local_time", "local": LOCAL, "end_local": END},
     "a local_time timing takes no start_local or end_local"),
    ({"kind": "window", "end_local": END}, "a window timing needs start_local"),
    ({"kind": "window", "start_local": START}, "a window timing needs end_local"),
    ({"kind": "window", "start_local": AWARE, "end_local": END}, f"start_local {NAIVE_MESSAGE}"),
    ({"kind": "window", "start_local": START, "end_local": AWARE}, f"end_local {NAIVE_MESSAGE}"),
    ({"kind": "window", "start_local": START, "end_local": START},
     "window end_local must be after start_local"),
    ({"kind": "window", "start_local": END, "end_local": START},
     "window end_local must be after start_local"),
    ({"kind": "window", "local": LOCAL, "start_local": START, "end_local": END},
     "a window timing takes no local"),
    ({"kind": "on_approval", "local": LOCAL},
     "an on_approval timing takes no local, start_local or end_local"),
    ({"kind": "on_approval", "end_local": END},
     "an on_approval timing takes no local, start_local or end_local"),
])
def test_a_timing_names_the_field_it_refuses(arguments, message):
    with pytest.raises(ValueError) as refused:
        Timing(**arguments)
    assert str(refused.value) == message


# due_at ----------------------------------------------------------------------------------------

def test_a_local_time_is_due_at_that_wall_clock_time_in_each_partners_zone():
    tuesday = Timing("local_time", local=datetime(2027, 3, 9, 10, 0))
    assert due_at(tuesday, NEW_YORK) == datetime(2027, 3, 9, 15, 0, tzinfo=UTC)
    assert due_at(tuesday, BERLIN) == datetime(2027, 3, 9, 9, 0, tzinfo=UTC)
    assert due_at(tuesday, SYDNEY) == datetime(2027, 3, 8, 23, 0, tzinfo=UTC)
    in_the_gap = Timing("local_time", local=datetime(2027, 3, 14, 2, 30))
    assert due_at(in_the_gap, NEW_YORK) == datetime(2027, 3, 14, 7, 0, tzinfo=UTC)


def test_on_approval_has_no_time_of_its_own():
    assert due_at(Timing("on_approval"), NEW_YORK) is None
    assert due_at(Timing("on_approval", allow_late=True), BERLIN, slot=2, slots=3,
                  now=datetime(2027, 3, 9, tzinfo=UTC)) is None


WORKDAY = Timing("window", start_local=datetime(2027, 3, 9, 9, 0), end_local=datetime(2027, 3, 9, 17, 0))


@pytest.mark.parametrize(("slot", "slots", "expected"), [
    (0, 1, datetime(2027, 3, 9, 18, 0, tzinfo=UTC)),    # 13:00 EST, the middle
    (0, 4, datetime(2027, 3, 9, 15, 0, tzinfo=UTC)),    # 10:00 EST
    (1, 4, datetime(2027, 3, 9, 17, 0, tzinfo=UTC)),    # 12:00 EST
    (3, 4, datetime(2027, 3, 9, 21, 0, tzinfo=UTC)),    # 16:00 EST
    (0, 480, datetime(2027, 3, 9, 14, 0, 30, tzinfo=UTC)),   # 09:00:30 EST, first of 480 one-minute slots
    (479, 480, datetime(2027, 3, 9, 21, 59, 30, tzinfo=UTC)),  # 16:59:30 EST, the last
    (0, 7, datetime(2027, 3, 9, 14, 34, 17, tzinfo=UTC)),  # 8 h / 14 = 34 min 17.14 s, to the second
])
def test_a_window_spreads_the_partners_posts_over_it(slot, slots, expected):
    due = due_at(WORKDAY, NEW_YORK, slot=slot, slots=slots)
    assert due == expected
    assert datetime(2027, 3, 9, 14, 0, tzinfo=UTC) < due < datetime(2027, 3, 9, 22, 0, tzinfo=UTC)


def test_a_workday_window_keeps_its_local_hours_either_side_of_a_dst_weekend():
    # Friday 2027-03-12 is EST (-5), Monday 2027-03-15 EDT (-4): the same local spread, an hour apart in UTC.
    for day, offset in [(12, -5), (15, -4)]:
        window = Timing("window", start_local=datetime(2027, 3, day, 9), end_local=datetime(2027, 3, day, 17))
        first = due_at(window, NEW_YORK, slot=0, slots=8)
        last = due_at(window, NEW_YORK, slot=7, slots=8)
        assert first == datetime(2027, 3, day, 9, 30, tzinfo=timezone(hours(offset)))
        assert last == datetime(2027, 3, day, 16, 30, tzinfo=timezone(hours(offset)))
    friday = Timing("window", start_local=datetime(2027, 3, 12, 9), end_local=datetime(2027, 3, 12, 17))
    monday = Timing("window", start_local=datetime(2027, 3, 15, 9), end_local=datetime(2027, 3, 15, 17))
    assert due_at(friday, NEW_YORK, slot=0, slots=8) == datetime(2027, 3, 12, 14, 30, tzinfo=UTC)
    assert due_at(monday, NEW_YORK, slot=0, slots=8) == datetime(2027, 3, 15, 13, 30, tzinfo=UTC)


def test_a_window_across_a_change_is_spread_on_the_wall_clock():
    # Saturday 09:00 to Monday 09:00 is 48 wall-clock hours (47 real ones) in New York.
    weekend = Timing("window", start_local=datetime(2027, 3, 13, 9), end_local=datetime(2027, 3, 15, 9))
    # Saturday 21:00 EST, then Sunday 21:00 EDT: 24 wall-clock hours apart, 23 real ones.
    assert due_at(weekend, NEW_YORK, slot=0, slots=2) == datetime(2027, 3, 14, 2, 0, tzinfo=UTC)
    assert due_at(weekend, NEW_YORK, slot=1, slots=2) == datetime(2027, 3, 15, 1, 0, tzinfo=UTC)
    # Berlin's autumn weekend: Saturday 12:00 CEST and Sunday 12:00 CET.
    autumn = Timing("window", start_local=datetime(2027, 10, 30, 0), end_local=datetime(2027, 11, 1, 0))
    assert due_at(autumn, BERLIN, slot=0, slots=2) == datetime(2027, 10, 30, 10, 0, tzinfo=UTC)
    assert due_at(autumn, BERLIN, slot=1, slots=2) == datetime(2027, 10, 31, 11, 0, tzinfo=UTC)


def test_a_window_slot_in_the_gap_moves_to_the_end_of_the_gap():
    night = Timing("window", start_local=datetime(2027, 3, 14, 1, 0), end_local=datetime(2027, 3, 14, 4, 0))
    assert due_at(night, NEW_YORK) == datetime(2027, 3, 14, 7, 0, tzinfo=UTC)  # 02:30 -> 03:00 EDT
    assert due_at(night, NEW_YORK, slot=0, slots=2) == datetime(2027, 3, 14, 6, 45, tzinfo=UTC)  # 01:45 EST
    assert due_at(night, NEW_YORK, slot=1, slots=2) == datetime(2027, 3, 14, 7, 15, tzinfo=UTC)  # 03:15 EDT
    spring = Timing("window", start_local=datetime(2027, 10, 3, 1, 0), end_local=datetime(2027, 10, 3, 4, 0))
    assert due_at(spring, SYDNEY) == datetime(2027, 10, 2, 16, 0, tzinfo=UTC)  # 02:30 -> 03:00 AEDT


def test_a_post_approved_after_its_time_goes_out_now_only_if_late_is_allowed():
    due = datetime(2027, 3, 9, 15, 0, tzinfo=UTC)
    strict = Timing("local_time", local=datetime(2027, 3, 9, 10, 0))
    late = Timing("local_time", local=datetime(2027, 3, 9, 10, 0), allow_late=True)
    before, after = due - timedelta(minutes=1), due + timedelta(minutes=1)
    assert due_at(strict, NEW_YORK, now=before) == due
    assert due_at(strict, NEW_YORK, now=due) == due
    assert due_at(strict, NEW_YORK, now=after) is None
    assert due_at(late, NEW_YORK, now=before) == due
    assert due_at(late, NEW_YORK, now=after) == after
    berlin_now = datetime(2027, 3, 9, 17, 0, tzinfo=ZoneInfo(BERLIN))
    assert due_at(late, NEW_YORK, now=berlin_now) == datetime(2027, 3, 9, 16, 0, tzinfo=UTC)
    assert due_at(late, NEW_YORK, now=berlin_now).tzinfo is UTC


@pytest.mark.parametrize(("options", "message"), [
    ({"slots": 0}, "slots must be at least 1, not 0"),
    ({"slots": 2.0}, "slots must be an integer, not 2.0"),
    ({"slots": True}, "slots must be an integer, not True"),
    ({"slot": 4, "slots": 4}, "slot must be from 0 to 3, not 4"),
    ({"slot": -1, "slots": 4}, "slot must be from 0 to 3, not -1"),
    ({"slot": "1", "slots": 4}, "slot must be an integer, not '1'"),
    ({"now": datetime(2027, 3, 9, 10, 0)}, "now must be an aware datetime (with a time zone)"),
])
def test_due_at_names_the_argument_it_refuses(options, message):
    with pytest.raises(ValueError) as refused:
        due_at(WORKDAY, NEW_YORK, **options)
    assert str(refused.value) == message


def test_due_at_refuses_an_unknown_zone():
    with pytest.raises(ValueError) as refused:
        due_at(WORKDAY, "Mars/Base")
    assert str(refused.value) == "unknown time zone 'Mars/Base'"


# spread_slot -----------------------------------------------------------------------------------

def test_spread_slot_is_a_stable_hash_not_pythons():
    # SHA-256("") begins e3b0c44298fc1c14; 0xe3b0c44298fc1c14 % 1000 == 652.
    assert spread_slot("", 1000) == 652
    assert [spread_slot(key, 7) for key in ("17:4", "18:4", "19:4")] == [4, 4, 6]
    assert spread_slot("partner-0:entry-7", 10) == 8
    assert spread_slot("anything", 1) == 0


def test_spread_slot_spreads_clustered_ids_evenly():
    counts = Counter(spread_slot(f"{partner}:42", 10) for partner in range(1000, 101000, 100))
    assert set(counts) == set(range(10))
    assert all(70 <= count <= 130 for count in counts.values()), counts


@pytest.mark.parametrize(("key", "slots", "message"), [
    (17, 4, "key must be a str, not int"),
    ("17:4", 0, "slots must be at least 1, not 0"),
    ("17:4", None, "slots must be an integer, not None"),
])
def test_spread_slot_names_the_argument_it_refuses(key, slots, message):
    with pytest.raises(ValueError) as refused:
        spread_slot(key, slots)
    assert str(refused.value) == message


# next_weekly -----------------------------------------------------------------------------------

def weekly_run(zone: str, after: datetime, weeks: int = 6) -> list[datetime]:
    """`weeks` consecutive Tuesday 10:00 posts, each found from the one before."""
    posts = []
    for _ in range(weeks):
        after = next_weekly(TUESDAY, time(10, 0), zone, after)
        posts.append(after)
    return posts


@pytest.mark.parametrize(("zone", "after", "expected", "offsets"), [
    (NEW_YORK, datetime(2027, 2, 28, 12, 0, tzinfo=UTC), [  # spring forward on Sunday 2027-03-14
        datetime(2027, 3, 2, 15, 0, tzinfo=UTC), datetime(2027, 3, 9, 15, 0, tzinfo=UTC),
        datetime(2027, 3, 16, 14, 0, tzinfo=UTC), datetime(2027, 3, 23, 14, 0, tzinfo=UTC),
        datetime(2027, 3, 30, 14, 0, tzinfo=UTC), datetime(2027, 4, 6, 14, 0, tzinfo=UTC)],
     [-5, -5, -4, -4, -4, -4]),
    (NEW_YORK, datetime(2027, 10, 18, 12, 0, tzinfo=UTC), [  # fall back on Sunday 2027-11-07
        datetime(2027, 10, 19, 14, 0, tzinfo=UTC), datetime(2027, 10, 26, 14, 0, tzinfo=UTC),
        datetime(2027, 11, 2, 14, 0, tzinfo=UTC), datetime(2027, 11, 9, 15, 0, tzinfo=UTC),
        datetime(2027, 11, 16, 15, 0, tzinfo=UTC), datetime(2027, 11, 23, 15, 0, tzinfo=UTC)],
     [-4, -4, -4, -5, -5, -5]),
    (BERLIN, datetime(2027, 3, 8, 12, 0, tzinfo=UTC), [  # summer time from Sunday 2027-03-28
        datetime(2027, 3, 9, 9, 0, tzinfo=UTC), datetime(2027, 3, 16, 9, 0, tzinfo=UTC),
        datetime(2027, 3, 23, 9, 0, tzinfo=UTC), datetime(2027, 3, 30, 8, 0, tzinfo=UTC),
        datetime(2027, 4, 6, 8, 0, tzinfo=UTC), datetime(2027, 4, 13, 8, 0, tzinfo=UTC)],
     [1, 1, 1, 2, 2, 2]),
    (BERLIN, datetime(2027, 10, 11, 12, 0, tzinfo=UTC), [  # winter time from Sunday 2027-10-31
        datetime(2027, 10, 12, 8, 0, tzinfo=UTC), datetime(2027, 10, 19, 8, 0, tzinfo=UTC),
        datetime(2027, 10, 26, 8, 0, tzinfo=UTC), datetime(2027, 11, 2, 9, 0, tzinfo=UTC),
        datetime(2027, 11, 9, 9, 0, tzinfo=UTC), datetime(2027, 11, 16, 9, 0, tzinfo=UTC)],
     [2, 2, 2, 1, 1, 1]),
    (SYDNEY, datetime(2027, 3, 14, 12, 0, tzinfo=UTC), [  # summer time ends Sunday 2027-04-04
        datetime(2027, 3, 15, 23, 0, tzinfo=UTC), datetime(2027, 3, 22, 23, 0, tzinfo=UTC),
        datetime(2027, 3, 29, 23, 0, tzinfo=UTC), datetime(2027, 4, 6, 0, 0, tzinfo=UTC),
        datetime(2027, 4, 13, 0, 0, tzinfo=UTC), datetime(2027, 4, 20, 0, 0, tzinfo=UTC)],
     [11, 11, 11, 10, 10, 10]),
    (SYDNEY, datetime(2027, 9, 12, 12, 0, tzinfo=UTC), [  # summer time starts Sunday 2027-10-03
        datetime(2027, 9, 14, 0, 0, tzinfo=UTC), datetime(2027, 9, 21, 0, 0, tzinfo=UTC),
        datetime(2027, 9, 28, 0, 0, tzinfo=UTC), datetime(2027, 10, 4, 23, 0, tzinfo=UTC),
        datetime(2027, 10, 11, 23, 0, tzinfo=UTC), datetime(2027, 10, 18, 23, 0, tzinfo=UTC)],
     [10, 10, 10, 11, 11, 11]),
])
def test_tuesday_at_ten_stays_at_ten_local_for_six_weeks_across_each_change(zone, after, expected, offsets):
    posts = weekly_run(zone, after)
    assert posts == expected
    local = [post.astimezone(ZoneInfo(zone)) for post in posts]
    assert [(t.weekday(), t.time()) for t in local] == [(TUESDAY, time(10, 0))] * 6
    assert [t.utcoffset() for t in local] == [hours(offset) for offset in offsets]
    assert all(post.tzinfo is UTC for post in posts)


def test_next_weekly_is_strictly_after_and_may_be_later_the_same_day():
    tuesday_ten = datetime(2027, 3, 9, 15, 0, tzinfo=UTC)  # 10:00 EST
    assert next_weekly(TUESDAY, time(10, 0), NEW_YORK, tuesday_ten - timedelta(seconds=1)) == tuesday_ten
    assert next_weekly(TUESDAY, time(10, 0), NEW_YORK, tuesday_ten) == datetime(
        2027, 3, 16, 14, 0, tzinfo=UTC)
    # Monday 23:30 UTC is already Tuesday 10:30 in Sydney: next is the Tuesday after.
    assert next_weekly(TUESDAY, time(10, 0), SYDNEY, datetime(2027, 3, 8, 23, 30, tzinfo=UTC)) == datetime(
        2027, 3, 15, 23, 0, tzinfo=UTC)
    # Monday 22:30 UTC is Tuesday 09:30 in Sydney: the same local Tuesday.
    assert next_weekly(TUESDAY, time(10, 0), SYDNEY, datetime(2027, 3, 8, 22, 30, tzinfo=UTC)) == datetime(
        2027, 3, 8, 23, 0, tzinfo=UTC)
    # `after` in any zone: Tuesday 09:00 in Berlin (08:00 UTC) is before 10:00 Berlin.
    assert next_weekly(TUESDAY, time(10, 0), BERLIN, datetime(2027, 3, 9, 9, 0, tzinfo=ZoneInfo(BERLIN))) == \
        datetime(2027, 3, 9, 9, 0, tzinfo=UTC)


def test_a_weekly_time_in_the_gap_or_the_repeat_posts_once_a_week():
    sunday = 6
    # Sunday 02:30 in New York: 2027-03-14 has no 02:30, it posts at 03:00 EDT.
    posts = []
    after = datetime(2027, 3, 1, tzinfo=UTC)
    for _ in range(3):
        after = next_weekly(sunday, time(2, 30), NEW_YORK, after)
        posts.append(after)
    assert posts == [datetime(2027, 3, 7, 7, 30, tzinfo=UTC), datetime(2027, 3, 14, 7, 0, tzinfo=UTC),
                     datetime(2027, 3, 21, 6, 30, tzinfo=UTC)]
    # Sunday 01:30 in New York: 2027-11-07 shows 01:30 twice; only the first (05:30 UTC) is a post.
    first = next_weekly(sunday, time(1, 30), NEW_YORK, datetime(2027, 11, 1, tzinfo=UTC))
    assert first == datetime(2027, 11, 7, 5, 30, tzinfo=UTC)
    assert next_weekly(sunday, time(1, 30), NEW_YORK, first) == datetime(2027, 11, 14, 6, 30, tzinfo=UTC)


@pytest.mark.parametrize(("arguments", "message"), [
    ((7, time(10), NEW_YORK, datetime(2027, 3, 9, tzinfo=UTC)),
     "weekday must be from 0 (Monday) to 6 (Sunday), not 7"),
    ((-1, time(10), NEW_YORK, datetime(2027, 3, 9, tzinfo=UTC)),
     "weekday must be from 0 (Monday) to 6 (Sunday), not -1"),
    (("tuesday", time(10), NEW_YORK, datetime(2027, 3, 9, tzinfo=UTC)),
     "weekday must be from 0 (Monday) to 6 (Sunday), not 'tuesday'"),
    ((TUESDAY, "10:00", NEW_YORK, datetime(2027, 3, 9, tzinfo=UTC)), "at must be a time, not str"),
    ((TUESDAY, time(10, tzinfo=UTC), NEW_YORK, datetime(2027, 3, 9, tzinfo=UTC)), f"at {NAIVE_MESSAGE}"),
    ((TUESDAY, time(10), NEW_YORK, datetime(2027, 3, 9)),
     "after must be an aware datetime (with a time zone)"),
    ((TUESDAY, time(10), NEW_YORK, date(2027, 3, 9)), "after must be a datetime, not date"),
    ((TUESDAY, time(10), "Mars/Base", datetime(2027, 3, 9, tzinfo=UTC)), "unknown time zone 'Mars/Base'"),
])
def test_next_weekly_names_the_argument_it_refuses(arguments, message):
    with pytest.raises(ValueError) as refused:
        next_weekly(*arguments)
    assert str(refused.value) == message


# caps_exceeded ---------------------------------------------------------------------------------

def ny(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=ZoneInfo(NEW_YORK))


def test_the_daily_cap_counts_the_partners_day_not_the_utc_day():
    # Three posts on Tuesday 2027-03-09 in New York; the last (23:30 EST) is already Wednesday in UTC.
    tuesday = [ny(2027, 3, 9, 9), ny(2027, 3, 9, 12), datetime(2027, 3, 10, 4, 30, tzinfo=UTC)]
    late_tuesday = datetime(2027, 3, 10, 4, 45, tzinfo=UTC)  # 23:45 EST
    assert caps_exceeded(tuesday, late_tuesday, NEW_YORK, per_day=3, per_week=10) == (
        "3 posts already on 2027-03-09 (the limit is 3 a day)")
    assert caps_exceeded(tuesday, datetime(2027, 3, 10, 5, 0, tzinfo=UTC), NEW_YORK,
                         per_day=3, per_week=10) is None  # midnight, Wednesday
    assert caps_exceeded(tuesday, late_tuesday, NEW_YORK, per_day=4, per_week=10) is None
    # Three posts on the evening of 2027-03-09 in New York, all on 2027-03-10 in UTC.
    evening = [datetime(2027, 3, 10, hour, 0, tzinfo=UTC) for hour in (0, 1, 2)]
    assert caps_exceeded(evening, ny(2027, 3, 10, 9), NEW_YORK, per_day=3, per_week=10) is None
    assert caps_exceeded(evening, ny(2027, 3, 9, 23, 59), NEW_YORK, per_day=3, per_week=10) == (
        "3 posts already on 2027-03-09 (the limit is 3 a day)")


def test_the_daily_cap_follows_midnight_on_a_23_hour_day():
    # Sunday 2027-03-14 in New York runs from 05:00 UTC (EST) to 04:00 UTC next day (EDT).
    sunday = [datetime(2027, 3, 14, hour, 0, tzinfo=UTC) for hour in (5, 12, 18)]
    assert caps_exceeded(sunday, datetime(2027, 3, 15, 3, 59, tzinfo=UTC), NEW_YORK,
                         per_day=3, per_week=10) == "3 posts already on 2027-03-14 (the limit is 3 a day)"
    assert caps_exceeded(sunday, datetime(2027, 3, 15, 4, 0, tzinfo=UTC), NEW_YORK,
                         per_day=3, per_week=10) is None
    assert caps_exceeded(sunday, datetime(2027, 3, 14, 4, 59, tzinfo=UTC), NEW_YORK,
                         per_day=3, per_week=10) is None  # Saturday 23:59 EST


def test_the_weekly_cap_counts_the_partners_iso_week():
    # Sydney (+11): the week of Monday 2027-03-08 runs from 2027-03-07 13:00 UTC to 2027-03-14 13:00 UTC.
    sydney = ZoneInfo(SYDNEY)
    week = [datetime(2027, 3, 8 + day, 9, tzinfo=sydney) for day in range(7)] + [
        datetime(2027, 3, 8, 0, 0, tzinfo=sydney), datetime(2027, 3, 10, 18, tzinfo=sydney),
        datetime(2027, 3, 14, 23, 0, tzinfo=sydney)]
    outside = [datetime(2027, 3, 7, 23, 59, tzinfo=sydney), datetime(2027, 3, 15, 0, 0, tzinfo=sydney)]
    assert len(week) == 10
    sunday_night = datetime(2027, 3, 14, 12, 30, tzinfo=UTC)  # Sunday 23:30 in Sydney
    assert caps_exceeded(week + outside, sunday_night, SYDNEY, per_day=5, per_week=10) == (
        "10 posts already in the week of 2027-03-08 (the limit is 10 a week)")
    next_monday = datetime(2027, 3, 14, 13, 0, tzinfo=UTC)  # Monday 00:00 in Sydney, Sunday in UTC
    assert caps_exceeded(week + outside, next_monday, SYDNEY, per_day=5, per_week=10) is None
    assert caps_exceeded(week + outside, sunday_night, SYDNEY, per_day=5, per_week=11) is None
    assert caps_exceeded(week[:9] + outside, sunday_night, SYDNEY, per_day=5, per_week=10) is None


def test_the_week_of_new_year_is_named_by_its_monday():
    berlin = ZoneInfo(BERLIN)
    posts = [datetime(2026, 12, 28, 10, tzinfo=berlin), datetime(2026, 12, 31, 10, tzinfo=berlin),
             datetime(2027, 1, 1, 10, tzinfo=berlin)]
    assert caps_exceeded(posts, datetime(2027, 1, 3, 10, tzinfo=berlin), BERLIN, per_day=2, per_week=3) == (
        "3 posts already in the week of 2026-12-28 (the limit is 3 a week)")
    monday = datetime(2027, 1, 4, 10, tzinfo=berlin)
    assert caps_exceeded(posts, monday, BERLIN, per_day=2, per_week=3) is None


def test_the_daily_reason_comes_first_and_one_post_is_singular():
    posts = [ny(2027, 3, 9, 9)]
    assert caps_exceeded(posts, ny(2027, 3, 9, 17), NEW_YORK, per_day=1, per_week=1) == (
        "1 post already on 2027-03-09 (the limit is 1 a day)")
    assert caps_exceeded(posts, ny(2027, 3, 10, 9), NEW_YORK, per_day=1, per_week=1) == (
        "1 post already in the week of 2027-03-08 (the limit is 1 a week)")
    assert caps_exceeded([], ny(2027, 3, 9, 9), NEW_YORK, per_day=1, per_week=1) is None


@pytest.mark.parametrize(("times", "new", "zone", "caps", "message"), [
    ([], ny(2027, 3, 9, 9), NEW_YORK, (0, 10), "per_day must be at least 1, not 0"),
    ([], ny(2027, 3, 9, 9), NEW_YORK, (3, 0), "per_week must be at least 1, not 0"),
    ([], ny(2027, 3, 9, 9), NEW_YORK, (3, "10"), "per_week must be an integer, not '10'"),
    ([], datetime(2027, 3, 9, 9), NEW_YORK, (3, 10), "new must be an aware datetime (with a time zone)"),
    ([ny(2027, 3, 9, 9), datetime(2027, 3, 9, 10)], ny(2027, 3, 9, 11), NEW_YORK, (3, 10),
     "times[1] must be an aware datetime (with a time zone)"),
    ([date(2027, 3, 9)], ny(2027, 3, 9, 11), NEW_YORK, (3, 10), "times[0] must be a datetime, not date"),
    ([], ny(2027, 3, 9, 9), "Mars/Base", (3, 10), "unknown time zone 'Mars/Base'"),
])
def test_caps_exceeded_names_the_argument_it_refuses(times, new, zone, caps, message):
    with pytest.raises(ValueError) as refused:
        caps_exceeded(times, new, zone, per_day=caps[0], per_week=caps[1])
    assert str(refused.value) == message
