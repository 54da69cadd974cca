"""The partner engagement score (0-100) and churn flags: pure functions of counted activity.

docs/insights.md explains every component, weight and threshold so that a marketer can redo the
arithmetic by hand; the numbers here and there must agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from campaigns.vocabulary import CHURN_FLAGS

# (component, weight in points, count that earns the full weight, what the count is, how to raise it)
COMPONENTS: tuple[tuple[str, int, int, str, str], ...] = (
    ("downloads", 20, 10, "assets downloaded", "Download {more} more co-branded assets"),
    ("customizations", 15, 3, "templates customized or self-served renders",
     "Customize {more} more templates with your own text and render them"),
    ("posts_approved", 10, 3, "scheduled posts approved", "Approve {more} more scheduled posts"),
    ("posts_published", 15, 6, "posts published to your social accounts",
     "Publish {more} more posts: connect a social account, then approve or auto-publish"),
    ("sends", 10, 4, "campaign emails sent", "Send {more} more campaign emails to your contacts"),
    ("clicks", 15, 50, "unique human clicks on your links",
     "Earn {more} more clicks: share your tracked links where your customers read"),
)
RECENCY_WEIGHT = 15
DEFAULT_WINDOW_DAYS = 90

# Churn flags (a partner may carry both).
DROPPING, INACTIVE = CHURN_FLAGS


@dataclass(frozen=True)
class Activity:
    """What one partner did (and earned) in one period; clicks are people's only, never bots'."""

    downloads: int = 0
    customizations: int = 0
    posts_approved: int = 0
    posts_published: int = 0
    sends: int = 0
    clicks: int = 0

    @property
    def actions(self) -> int:
        """The partner's own actions (clicks are earned, not done): what churn flags count."""
        return self.downloads + self.customizations + self.posts_approved + self.posts_published + self.sends


@dataclass(frozen=True)
class Component:
    """One part of the score: the count, the count that earns all its points, and the points."""

    name: str
    count: int | None  # recency: days since the last action (None: never)
    target: int  # recency: the days of idleness at which its points reach 0
    weight: int
    points: float


@dataclass
class Score:
    """A partner's score on `as_of`, its parts, and what would raise it most."""

    score: float
    components: list[Component]
    hints: list[dict[str, object]] = field(default_factory=list)


def _points(weight: int, part: int, whole: int) -> float:
    """weight x part / whole, rounded half up to one decimal (as a person rounds), in whole numbers
    so that no float error can tip a half."""
    tenths = (2 * 10 * weight * part + whole) // (2 * whole)
    return tenths / 10


def _idle_days(last_active: date | None, as_of: date) -> int | None:
    return None if last_active is None else max(0, (as_of - last_active).days)


def score_activity(activity: Activity, last_active: date | None, as_of: date,
                   window_days: int = DEFAULT_WINDOW_DAYS) -> Score:
    """The score of one partner's activity over the `window_days` days ending on `as_of`."""
    components, hints = [], []
    for name, weight, target, _, hint in COMPONENTS:
        count = getattr(activity, name)
        points = _points(weight, min(count, target), target)
        components.append(Component(name, count, target, weight, points))
        if count < target:
            hints.append({"component": name, "points_available": round(weight - points, 1),
                          "hint": f"{hint.format(more=target - count)} ({count} of {target} "
                                  f"in the last {window_days} days)."})
    idle = _idle_days(last_active, as_of)
    recency = 0.0 if idle is None else _points(RECENCY_WEIGHT, max(0, window_days - idle), window_days)
    components.append(Component("recency", idle, window_days, RECENCY_WEIGHT, recency))
    if recency < RECENCY_WEIGHT:
        hints.append({"component": "recency", "points_available": round(RECENCY_WEIGHT - recency, 1),
                      "hint": "Use the programme again (download, customize, approve, post or send): "
                              "activity today earns all 15 recency points."})
    hints.sort(key=lambda h: (-h["points_available"], h["component"]))
    total = sum(round(c.points * 10) for c in components) / 10
    return Score(total, components, hints)


@dataclass(frozen=True)
class ChurnRules:
    """When a partner is flagged: thresholds with their defaults (docs/insights.md)."""

    inactive_days: int = 45
    recent_days: int = 30
    baseline_days: int = 90
    drop_percent: int = 50
    min_baseline_actions: int = 3


def churn_flags(recent: Activity, baseline: Activity, last_active: date | None, joined: date,
                as_of: date, rules: ChurnRules = ChurnRules()) -> list[dict[str, str]]:
    """The flags a partner earns on `as_of`, each with the reason a marketer reads."""
    flags = []
    idle_since = last_active or joined
    idle = (as_of - idle_since).days
    if idle >= rules.inactive_days:
        reason = (f"no activity for {idle} days (last on {last_active.isoformat()})" if last_active
                  else f"no activity in the {idle} days since joining on {joined.isoformat()}")
        flags.append({"flag": INACTIVE, "reason": reason})
    if baseline.actions >= rules.min_baseline_actions:
        usual = Decimal(baseline.actions) * rules.recent_days / rules.baseline_days
        fall = (1 - Decimal(recent.actions) / usual) * 100
        if fall >= rules.drop_percent:
            fell = fall.quantize(Decimal(1), rounding=ROUND_HALF_UP)
            flags.append({"flag": DROPPING, "reason": (
                f"activity fell {fell}%: {_actions(recent.actions)} in the last {rules.recent_days} days "
                f"against {usual.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)} per {rules.recent_days} "
                f"days in the {rules.baseline_days} days before")})
    return flags


def _actions(n: int) -> str:
    return f"{n} action" if n == 1 else f"{n} actions"
