"""When a syndicated post is due, in each partner's own time zone, safe across daylight-saving changes.

A plan entry says when in wall-clock terms ("Tuesday 2027-03-09 10:00 at the partner"); each partner's
IANA zone turns that into one UTC instant. Wall-clock times that do not exist (the spring-forward gap)
move forward to the end of the gap; ambiguous ones (the fall-back hour) take their first occurrence.

Public API:

- ``Timing(kind, local=None, start_local=None, end_local=None, allow_late=False)``: ``kind`` one of
  ``KINDS`` ("local_time", "window", "on_approval"); times are naive wall-clock datetimes.
- ``resolve_local(local, zone) -> datetime``: the aware UTC instant of a wall-clock time in ``zone``.
- ``due_at(timing, zone, *, slot=0, slots=1, now=None) -> datetime | None``: when a partner's post
  is due (UTC); ``spread_slot(key, slots) -> int``: a stable slot of a window for a key.
- ``next_weekly(weekday, at, zone, after) -> datetime``: the next "weekday at wall-clock time" (UTC).
- ``caps_exceeded(times, new, zone, *, per_day, per_week) -> str | None``: why one more post at
  ``new`` breaks an account's daily or weekly cap, counted in the account's zone.

Every function raises ``ValueError`` with a message naming the field at fault.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

KINDS = ("local_time", "window", "on_approval")
_SECOND = timedelta(seconds=1)


@dataclass(frozen=True)
class Timing:
    """How a plan entry says when: at a wall-clock time, spread over a window, or once approved.

    ``local`` (for "local_time") and ``start_local``/``end_local`` (for "window") are naive wall-clock
    datetimes: each partner's zone is applied when the post is scheduled. ``allow_late``: a post
    approved after its time may still go out (straight away) rather than being skipped.
    """

    kind: str
    local: datetime | None = None
    start_local: datetime | None = None
    end_local: datetime | None = None
    allow_late: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if not isinstance(self.allow_late, bool):
            raise ValueError(f"allow_late must be True or False, not {self.allow_late!r}")
        if self.kind == "local_time":
            if self.local is None:
                raise ValueError("a local_time timing needs local")
            _check_wall_clock("local", self.local)
            if self.start_local is not None or self.end_local is not None:
                raise ValueError("a local_time timing takes no start_local or end_local")
        elif self.kind == "window":
            for name in ("start_local", "end_local"):
                value = getattr(self, name)
                if value is None:
                    raise ValueError(f"a window timing needs {name}")
                _check_wall_clock(name, value)
            if self.local is not None:
                raise ValueError("a window timing takes no local")
            assert self.start_local is not None and self.end_local is not None
            if self.end_local <= self.start_local:
                raise ValueError("window end_local must be after start_local")
        elif (self.local, self.start_local, self.end_local) != (None, None, None):
            raise ValueError("an on_approval timing takes no local, start_local or end_local")


def resolve_local(local: datetime, zone: str) -> datetime:
    """The aware UTC instant at which the wall clocks of `zone` show `local`.

    A time in a spring-forward gap (it never shows) moves forward to the end of the gap, the first
    valid time after it (2027-03-14 02:30 America/New_York -> 03:00 EDT, 07:00 UTC). A time the
    clocks show twice (fall-back) takes the first occurrence (2026-11-01 01:30 America/New_York ->
    01:30 EDT, 05:30 UTC). ``local.fold`` is ignored, so equal plans always resolve alike.
    """
    _check_wall_clock("local", local)
    tz = _zone(zone)
    wall = local.replace(fold=0)
    first = wall.replace(tzinfo=tz).astimezone(UTC)
    if _wall(first, tz) == wall:
        return first
    # In a gap: the two readings of the wall time (with the offsets before and after the change)
    # straddle the change; find the first whole second whose wall time is past `wall`. Offsets
    # change on whole seconds, so that second is the change itself.
    other = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    low = math.floor(min(first, other).timestamp())
    high = math.ceil(max(first, other).timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if _wall(datetime.fromtimestamp(middle, UTC), tz) > wall:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def due_at(timing: Timing, zone: str, *, slot: int = 0, slots: int = 1,
           now: datetime | None = None) -> datetime | None:
    """The UTC time the post of the partner in `zone` is due, or None when it has no time of its own.

    - "local_time": `timing.local` resolved in `zone`.
    - "window": the partner's post number `slot` of `slots` (see ``spread_slot``) goes out at
      start + (end - start) * (slot + 0.5) / slots, rounded down to the second, computed on the
      wall clock and then resolved: a 09:00-17:00 window stays 09:00-17:00 local across a change.
    - "on_approval": None, it is due when it is approved.

    Given `now` (aware, e.g. the approval time) and a due time before it: `now` if the timing
    allows late posts, else None (the post missed its time and does not go out).
    """
    _check_count("slots", slots, minimum=1)
    if isinstance(slot, bool) or not isinstance(slot, int):
        raise ValueError(f"slot must be an integer, not {slot!r}")
    if not 0 <= slot < slots:
        raise ValueError(f"slot must be from 0 to {slots - 1}, not {slot}")
    if now is not None:
        _check_aware("now", now)
    if timing.kind == "on_approval":
        return None
    if timing.kind == "window":
        assert timing.start_local is not None and timing.end_local is not None
        span = timing.end_local - timing.start_local
        offset = span * (2 * slot + 1) / (2 * slots)
        local = timing.start_local + offset // _SECOND * _SECOND
    else:
        assert timing.local is not None
        local = timing.local
    due = resolve_local(local, zone)
    if now is None or due >= now:
        return due
    return now.astimezone(UTC) if timing.allow_late else None


def spread_slot(key: str, slots: int) -> int:
    """A slot in 0..slots-1 for `key` (e.g. "partner 17/entry 4"), the same in every process.

    SHA-256 of the key, so that consecutive or clustered ids still spread evenly over the slots
    (Python's ``hash()`` of a str changes from process to process).
    """
    if not isinstance(key, str):
        raise ValueError(f"key must be a str, not {type(key).__name__}")
    _check_count("slots", slots, minimum=1)
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % slots


def next_weekly(weekday: int, at: time, zone: str, after: datetime) -> datetime:
    """The first UTC instant strictly after `after` that is `weekday` (0 Monday) at `at` in `zone`.

    Each week is resolved on its own wall clock (as ``resolve_local``), so "Tuesday 10:00" stays
    10:00 local across daylight-saving changes instead of drifting by an hour.
    """
    if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
        raise ValueError(f"weekday must be from 0 (Monday) to 6 (Sunday), not {weekday!r}")
    if not isinstance(at, time):
        raise ValueError(f"at must be a time, not {type(at).__name__}")
    if at.tzinfo is not None:
        raise ValueError("at must be a wall-clock time without a time zone: the partner's zone is applied")
    _check_aware("after", after)
    tz = _zone(zone)
    day = after.astimezone(tz).date()
    day += timedelta(days=(weekday - day.weekday()) % 7)
    due = resolve_local(datetime.combine(day, at), zone)
    if due <= after:
        due = resolve_local(datetime.combine(day + timedelta(days=7), at), zone)
    return due


def caps_exceeded(times: list[datetime], new: datetime, zone: str, *, per_day: int,
                  per_week: int) -> str | None:
    """Why a post at `new` would break the account's caps, given its posts at `times`; None if fine.

    Days and ISO weeks (Monday to Sunday) are those of the account's `zone`: a post at 23:30 local
    counts for that day whatever the date in UTC. The daily cap is checked first.
    """
    _check_count("per_day", per_day, minimum=1)
    _check_count("per_week", per_week, minimum=1)
    _check_aware("new", new)
    for index, when in enumerate(times):
        _check_aware(f"times[{index}]", when)
    tz = _zone(zone)
    day = new.astimezone(tz).date()
    days = [when.astimezone(tz).date() for when in times]
    on_day = sum(1 for other in days if other == day)
    if on_day >= per_day:
        return f"{_posts(on_day)} already on {day.isoformat()} (the limit is {per_day} a day)"
    week = _monday(day)
    in_week = sum(1 for other in days if _monday(other) == week)
    if in_week >= per_week:
        return (f"{_posts(in_week)} already in the week of {week.isoformat()} "
                f"(the limit is {per_week} a week)")
    return None


def _zone(zone: str) -> ZoneInfo:
    """The IANA zone named `zone`; ValueError if there is none by that name."""
    if isinstance(zone, str):
        try:
            return ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    raise ValueError(f"unknown time zone {zone!r}")


def _wall(instant: datetime, tz: ZoneInfo) -> datetime:
    """The naive wall-clock time `tz` shows at the aware `instant`."""
    return instant.astimezone(tz).replace(tzinfo=None)


def _check_wall_clock(name: str, value: object) -> None:
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is not None:
        raise ValueError(
            f"{name} must be a wall-clock time without a time zone: the partner's zone is applied")


def _check_aware(name: str, value: object) -> None:
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime (with a time zone)")


def _check_count(name: str, value: object, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, not {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, not {value}")


def _posts(count: int) -> str:
    return "1 post" if count == 1 else f"{count} posts"


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())
