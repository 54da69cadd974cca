"""Published posts' numbers: read from their networks on a schedule, kept on the post, and every gain
recorded as an engagement event beside the clicks.

`fetch_due_metrics(now=None, limit=200) -> int` (the scheduler pass calls it last) reads the numbers of
published posts at about 1 hour, 6 hours, 1 day, 3 days and 7 days after they went out, then never again:
a post is due when one of those moments has passed since `published_at` and its numbers were not read
(`metrics_at`) since that moment. A pass that comes late reads once for every moment it missed; a read
still missed a day after the last moment is given up.

Each read goes through the account's connector behind the shared rate limiter; what it gives is stored in
`metrics` ({"likes", "reposts", "replies", "impressions"}, a number the network does not give left out)
and `metrics_at`. Each like, repost and reply gained since the last read becomes one event (kind like,
repost or reply; the post's partner, campaign, asset and variant; channel = the network) whose uid names
the post, the kind and its rank (`post-12-like-3`: the third like of post 12), so reading the same totals
twice records nothing new, and a total that went down records nothing (its events stay).

Impressions are kept in `metrics` only, never as events: the rollups count events (one row per event,
`total + 1`; an event's `data` is not summed), so an impression could only be an event per impression,
thousands of rows per post, or one event per read whose count would be wrong.

A read held by the limiter or rate limited waits for a later pass, as does a temporary failure (the
account is left alone for the rest of the pass). A post the network no longer has (deleted) keeps its
last numbers and gets an `error` saying so: it is not read again. Refused credentials turn the account
`needs_reconnect` (as publishing does); posts of such accounts are skipped. A network that gives no
numbers (a webhook) is never asked.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Interval, and_, func, literal, or_, select

from tcma.connectors import (
    METRIC_FIELDS,
    AuthExpired,
    Connector,
    ConnectorError,
    PostMetrics,
    RateLimited,
    Rejected,
    Unsupported,
)
from tcma.extensions import db
from tcma.models import ScheduledPost, SocialAccount
from tcma.models.base import utcnow
from tcma.services.syndication.accounts import mark_needs_reconnect, opened
from tcma.services.transaction import commit, rollback
from tcma.state import app_state

# When a post's numbers are read, after it was published.
CHECKPOINTS = (timedelta(hours=1), timedelta(hours=6), timedelta(days=1), timedelta(days=3),
               timedelta(days=7))
GRACE = timedelta(days=1)  # a read missed at the last checkpoint is made up to this much later, then never
BATCH = 200
# The numbers recorded as events, one per unit gained: (field in metrics, event kind).
COUNTED = (("likes", "like"), ("reposts", "repost"), ("replies", "reply"))
READABLE = tuple(network for network, fields in METRIC_FIELDS.items() if fields)
log = logging.getLogger(__name__)


def _plus(column: Any, delta: timedelta, dialect: str) -> ColumnElement[Any]:
    """`column + delta` in SQL, comparable with the column's own values (PostgreSQL, and SQLite when
    embedded, where datetimes are text)."""
    if dialect == "sqlite":
        return func.strftime("%Y-%m-%d %H:%M:%f", column, f"+{int(delta.total_seconds())} seconds")
    return column + literal(delta, Interval())


def _due(now: datetime, dialect: str) -> tuple[ColumnElement[bool], ...]:
    """Published posts whose numbers are due at `now`: a checkpoint has passed, unread since."""
    published, read = ScheduledPost.published_at, ScheduledPost.metrics_at
    unread_since = [and_(published <= now - checkpoint,
                         or_(read.is_(None), read < _plus(published, checkpoint, dialect)))
                    for checkpoint in CHECKPOINTS]
    return (ScheduledPost.status == "published", ScheduledPost.error.is_(None),
            ScheduledPost.external_id.is_not(None), published > now - (CHECKPOINTS[-1] + GRACE),
            or_(*unread_since))


def due_posts(now: datetime | None = None, limit: int = BATCH) -> list[int]:
    """The ids of published posts whose numbers are due at `now` (oldest first), on accounts that
    need no reconnecting and on networks that give numbers."""
    now = now or utcnow()
    dialect = db.session.get_bind().dialect.name
    stmt = (select(ScheduledPost.id).join(SocialAccount, SocialAccount.id == ScheduledPost.social_account_id)
            .where(*_due(now, dialect), SocialAccount.needs_reconnect_since.is_(None),
                   SocialAccount.network.in_(READABLE))
            .order_by(ScheduledPost.published_at, ScheduledPost.id).limit(limit))
    return list(db.session.scalars(stmt))


def fetch_due_metrics(now: datetime | None = None, limit: int = BATCH) -> int:
    """Read the numbers of up to `limit` due posts (see the module docstring); answers how many were read.

    Safe beside other schedulers: each post is read under its row lock (another pass skips it).
    """
    now = now or utcnow()
    ids = due_posts(now, limit)
    rollback()
    connectors: dict[str, Connector] = {}
    waiting_accounts: set[int] = set()
    waiting_networks: set[str] = set()
    read = 0
    try:
        for post_id in ids:
            try:
                outcome = _read_one(post_id, now, connectors, waiting_accounts, waiting_networks)
            except Exception:  # one post's failure must not stop the others
                rollback()
                log.exception("reading the numbers of post %s failed", post_id)
                continue
            read += outcome == "read"
    finally:
        for connector in connectors.values():
            connector.close()
    return read


def _read_one(post_id: int, now: datetime, connectors: dict[str, Connector], waiting_accounts: set[int],
              waiting_networks: set[str]) -> str:
    """Read one due post's numbers under its row lock; answers what happened."""
    dialect = db.session.get_bind().dialect.name
    post = db.session.scalars(select(ScheduledPost).where(ScheduledPost.id == post_id, *_due(now, dialect))
                              .with_for_update(skip_locked=True)).first()
    if post is None:  # another pass holds it or has read it
        rollback()
        return "skipped"
    account: SocialAccount = post.account
    network = account.network
    if account.needs_reconnect_since is not None or account.id in waiting_accounts \
            or network in waiting_networks:
        rollback()
        return "skipped"
    if network not in connectors:
        connectors[network] = app_state().connector(network)
    try:
        numbers = connectors[network].metrics(opened(account), str(post.external_id))
    except RateLimited as exc:  # held by the limiter or refused by the network: a later pass
        if exc.app_wide:
            waiting_networks.add(network)
        else:
            waiting_accounts.add(account.id)
        rollback()
        return "waiting"
    except AuthExpired as exc:
        mark_needs_reconnect(account, f"{network} refused the credentials: {exc.reason}")
        commit()
        return "needs_reconnect"
    except Unsupported as exc:  # this account's posts give no numbers (e.g. LinkedIn without the scope)
        log.info("post %s: %s", post.id, exc.reason)
        post.metrics_at = now
        commit()
        return "unsupported"
    except Rejected as exc:  # the network no longer has the post: its numbers are final
        post.metrics_at = now
        post.error = f"{network} no longer gives this post's numbers: {exc.reason}"[:2000]
        commit()
        return "gone"
    except ConnectorError as exc:  # Temporary: the account is left alone until a later pass
        log.info("post %s: reading its numbers failed for now: %s", post.id, exc.reason)
        waiting_accounts.add(account.id)
        rollback()
        return "waiting"
    _record_gains(post, network, post.metrics or {}, numbers)
    post.metrics, post.metrics_at = numbers.numbers(), now
    commit()  # after the events: a crash in between reads again, and the events' uids count them once
    return "read"


def _record_gains(post: ScheduledPost, network: str, before: dict[str, Any], numbers: PostMetrics) -> int:
    """One event per like, repost and reply gained since `before` (uids by rank); answers how many."""
    from tcma.services.tracking.events import record_event

    after = numbers.numbers()
    recorded = 0
    for field, kind in COUNTED:
        old, new = before.get(field), after.get(field)
        old = old if isinstance(old, int) and old > 0 else 0
        if new is None or new <= old:
            continue
        for rank in range(old + 1, new + 1):
            record_event(kind, post.partner_id, post.campaign_id, post.asset_id, channel=network,
                         variant=post.variant, data={"post_id": post.id}, uid=f"post-{post.id}-{kind}-{rank}")
        recorded += new - old
    return recorded


__all__ = ["CHECKPOINTS", "GRACE", "due_posts", "fetch_due_metrics"]
