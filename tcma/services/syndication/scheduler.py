"""The scheduler: due posts claimed under a lease and published exactly once, whatever dies when.

A pass (`run_pass`, from `tcma scheduler`):
1. makes the posts of active plans for partners and accounts that arrived since (`fill_active_plans`);
2. expires posts still awaiting approval past their time (unless their plan allows late posts);
3. recovers leases that ran out: a `claimed` post whose job never ran goes back to waiting; a
   `publishing` post (a worker died after sending, or before) is reconciled, never sent blindly;
4. claims due waiting posts in batches (`FOR UPDATE SKIP LOCKED`: two schedulers never claim the
   same post) and enqueues one publish job per chunk of them, after the commit (the job outbox).

A publish job (`publish_posts`) takes the posts only if they are still `claimed`, marks them
`publishing` (committed before the network is called), publishes through the account's connector behind the
shared rate limiter, and records the attempt. Rate limited: wait for the network's reset. Temporary:
back off with jitter (failed after MAX_ATTEMPTS). Rejected: failed with the network's reason.
Credentials refused: the account needs reconnecting and its posts are held. No answer after
sending: reconciled by reading the account's recent posts; when that cannot tell, held for a person.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, insert, or_, select, update

from tcma.config import get_settings
from tcma.connectors import (
    AuthExpired,
    ConnectorError,
    Post,
    Published,
    RateLimited,
    RateLimitState,
    Rejected,
    UnknownOutcome,
    Unsupported,
)
from tcma.extensions import db
from tcma.models import Asset, Partner, PostAttempt, PostPlan, Render, ScheduledPost, SocialAccount
from tcma.models.base import utcnow
from tcma.queue import JobCall
from tcma.services.syndication.accounts import HELD_AUTH, HELD_PAUSED, mark_needs_reconnect, opened
from tcma.services.syndication.metrics import fetch_due_metrics
from tcma.services.syndication.plans import fill_active_plans
from tcma.services.tracking.summaries import note_published_posts
from tcma.services.transaction import (
    commit,
    commit_without_waiting_for_disk,
    enqueue_after_commit,
    rollback,
)
from tcma.state import app_state

PUBLISH_JOB = "tcma.jobs.social.publish_posts"
PUBLISH_CHUNK = 200  # posts per publish job: at 0.3 s a post, well inside half the lease
PREFETCH_SLICE = 25  # posts whose rate limits one Redis read fetches (a slice takes well under 1 s)
RECONCILE_JOB = "tcma.jobs.social.reconcile_post"
BATCH = 200
MAX_ATTEMPTS = 8
RENDER_WAIT = timedelta(minutes=2)  # a post whose text is still rendering is looked at again then
BACKOFF_BASE = 30  # seconds; doubled per attempt, capped at BACKOFF_CAP, with +-25 % jitter
BACKOFF_CAP = 3600
WAITING = ("scheduled", "approved")
log = logging.getLogger(__name__)


def lease() -> timedelta:
    """How long a claim, or a publish in flight, holds a post (TCMA_SOCIAL_LEASE_SECONDS, 5 minutes)."""
    return timedelta(seconds=get_settings().social_lease_seconds)


def worker_name() -> str:
    """Who claims or publishes: host and process."""
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


@dataclass
class PassReport:
    """What one scheduler pass did."""

    filled: int = 0
    expired: int = 0
    released: int = 0
    reconciling: int = 0
    claimed: int = 0
    metrics: int = 0  # published posts whose numbers were read

    def summary(self) -> str:
        return (f"claimed {self.claimed} due posts, made {self.filled} new posts, expired {self.expired}, "
                f"released {self.released} lapsed claims, reconciling {self.reconciling}, "
                f"read the numbers of {self.metrics} published posts")


def run_pass(now: datetime | None = None, *, batch: int = BATCH, max_batches: int = 50) -> PassReport:
    """One scheduler pass (see the module docstring), then the published posts' numbers that are due
    (`metrics.fetch_due_metrics`); safe to run in several processes at once."""
    now = now or utcnow()
    report = PassReport()
    report.filled = fill_active_plans()
    commit()
    report.expired = _expire_unapproved(now)
    report.released, report.reconciling = _recover_leases(now)
    for _ in range(max_batches):
        claimed = claim_due(now, batch)
        report.claimed += claimed
        if claimed < batch:
            break
    try:  # last, and never in the way of claiming: a failure here is logged and the pass goes on
        report.metrics = fetch_due_metrics(now)
    except Exception:
        rollback()
        log.exception("reading published posts' numbers failed; the next pass tries again")
    return report


def _expire_unapproved(now: datetime) -> int:
    """Posts still awaiting approval at their time are expired, unless the plan allows late posts."""
    late_ok = select(PostPlan.id).where(PostPlan.allow_late.is_(True))
    result = db.session.execute(update(ScheduledPost).where(
        ScheduledPost.status == "awaiting_approval", ScheduledPost.local_at.is_not(None),
        ScheduledPost.scheduled_at <= now,
        or_(ScheduledPost.plan_id.is_(None), ScheduledPost.plan_id.not_in(late_ok)),
    ).values(status="expired", error="not approved by its time", updated_at=now))
    commit()
    return result.rowcount or 0


def _recover_leases(now: datetime) -> tuple[int, int]:
    """Claims whose lease ran out: never started -> waiting again; started -> reconcile."""
    released = db.session.execute(update(ScheduledPost).where(
        ScheduledPost.status == "claimed", ScheduledPost.claimed_until < now,
    ).values(status="scheduled", claimed_by=None, claimed_until=None, updated_at=now)).rowcount or 0
    # An approved post goes back to approved, not to scheduled.
    db.session.execute(update(ScheduledPost).where(
        ScheduledPost.status == "scheduled", ScheduledPost.approved_at.is_not(None),
    ).values(status="approved"))
    lost = list(db.session.scalars(select(ScheduledPost).where(
        ScheduledPost.status == "publishing", ScheduledPost.claimed_until < now,
    ).with_for_update(skip_locked=True).limit(BATCH)))
    held_until = now + lease()
    for post in lost:
        post.claimed_until = held_until
        job_id = f"reconcile-{post.id}-{post.attempts}"
        enqueue_after_commit(JobCall(RECONCILE_JOB, (post.id,), job_id=job_id))
    commit()
    return released, len(lost)


def claim_due(now: datetime, batch: int = BATCH) -> int:
    """Claim up to `batch` due waiting posts (skipping rows another scheduler holds) and enqueue them."""
    due = select(ScheduledPost.id).where(
        ScheduledPost.status.in_(WAITING), ScheduledPost.scheduled_at <= now,
        or_(ScheduledPost.next_attempt_at.is_(None), ScheduledPost.next_attempt_at <= now),
    ).order_by(ScheduledPost.scheduled_at, ScheduledPost.id).limit(batch).with_for_update(skip_locked=True)
    rows = sorted(db.session.execute(
        update(ScheduledPost).where(ScheduledPost.id.in_(due.scalar_subquery()))
        .values(status="claimed", claimed_by=worker_name(), claimed_until=now + lease())
        .returning(ScheduledPost.id, ScheduledPost.attempts),
        execution_options={"synchronize_session": False}).all())
    # One job per chunk: the worker keeps one connection (and an instance's rules) per network for
    # the chunk, and a chunk costs a few statements, not a few per post.
    for start in range(0, len(rows), PUBLISH_CHUNK):
        chunk = rows[start:start + PUBLISH_CHUNK]
        tries = ",".join(f"{post_id}:{attempts + 1}" for post_id, attempts in chunk)
        job_id = f"publish-{chunk[0][0]}-{hashlib.sha256(tries.encode()).hexdigest()[:16]}"
        enqueue_after_commit(JobCall(PUBLISH_JOB, ([post_id for post_id, _ in chunk],), job_id=job_id))
    commit()
    return len(rows)


# --- publishing ------------------------------------------------------------------------------------

def _lock(post_id: int) -> ScheduledPost | None:
    stmt = select(ScheduledPost).where(ScheduledPost.id == post_id).with_for_update()
    return db.session.scalars(stmt).first()


def _asset_bytes(asset_id: int | None) -> tuple[bytes, str] | None:
    """The rendered bytes and media type of a done asset, or None while it is not rendered."""
    if asset_id is None:
        return None
    asset = db.session.get(Asset, asset_id)
    if asset is None or asset.status != "done" or asset.render is None:
        return None
    return app_state().storage.get(asset.render.storage_key), asset.render.media_type


def post_text(post: ScheduledPost) -> str | None:
    """The text that goes out: the partner's edit, else the render of the campaign's post output."""
    if post.text:
        return post.text
    found = _asset_bytes(post.asset_id)
    return found[0].decode("utf-8").strip() if found else None


def _outgoing(post: ScheduledPost, text: str) -> Post:
    image = _asset_bytes(post.image_asset_id)
    alt = f"{post.account.partner.name}: {post.plan.name}" if post.plan else ""
    return Post(text=text, idempotency_key=post.idempotency_key,
                image=image[0] if image else None, image_type=image[1] if image else None,
                alt_text=alt[:1000])


def _waiting_state(post: ScheduledPost) -> str:
    return "approved" if post.approved_at is not None else "scheduled"


def _limits(state: RateLimitState | None) -> dict[str, Any] | None:
    if state is None:
        return None
    return {"limit": state.limit, "remaining": state.remaining,
            "reset": state.reset.isoformat() if state.reset else None}


def _attempt_values(post_id: int, started: datetime, outcome: str, detail: str | None,
                    rate_limit: RateLimitState | None = None) -> dict[str, Any]:
    return {"post_id": post_id, "started_at": started, "finished_at": utcnow(), "worker": worker_name(),
            "outcome": outcome, "detail": (detail or "")[:2000] or None, "rate_limit": _limits(rate_limit)}


def _attempt(post: ScheduledPost, started: datetime, outcome: str, detail: str | None,
             rate_limit: RateLimitState | None = None) -> None:
    db.session.add(PostAttempt(**_attempt_values(post.id, started, outcome, detail, rate_limit)))


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """How long to wait after the `attempts`-th temporary failure: doubling, capped, +-25 % jitter."""
    base = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, attempts - 1))
    return timedelta(seconds=base * (rng or random).uniform(0.75, 1.25))


def publish_posts(post_ids: list[int]) -> dict[str, int]:
    """Publish a chunk of claimed posts (a job); how many ended how.

    Three steps, so a chunk costs two commits, not two per post: the chunk's still-claimed posts
    are taken and marked `publishing` together (committed before anything is sent: from then on a
    crash means "maybe sent", and a lapsed lease is reconciled, never resent); each is sent through
    one connector per network, one request at a time; every outcome is recorded in one transaction
    (if that is lost, the posts are still `publishing` and are reconciled: found on the account,
    recorded once).
    """
    taken_at = utcnow()
    taken = _take(post_ids)
    if not taken:
        return {"skipped": len(post_ids)}
    state = app_state()
    connectors = {network: state.publisher(network) for network in sorted({t[1] for t in taken})}
    try:
        # No send starts after half the lease: a send ends within the connectors' timeouts, so every
        # post sent is recorded before a pass could find its lease lapsed and reconcile it meanwhile.
        sent, unsent = _send_chunk(taken, connectors, taken_at + lease() / 2)
    finally:
        for connector, close in connectors.values():
            if close:
                connector.close()
    outcomes: dict[str, int] = {}
    unknown = _record_results(sent, unsent, outcomes)
    for post_id in unknown:  # rare: look for each on its account before anything is sent again
        reconcile_post(post_id)
    return outcomes


Sent = list[tuple[int, datetime, Published | ConnectorError]]


def _send_chunk(taken: list[tuple[int, str, Any, Post]], connectors: dict[str, tuple[Any, bool]],
                send_until: datetime) -> tuple[Sent, list[int]]:
    """Send the taken posts one after another; answers (post id, when its send started, what the
    network said) and the posts not sent for lack of time."""
    sent: Sent = []
    unsent: list[int] = []
    for start in range(0, len(taken), PREFETCH_SLICE):
        part = taken[start:start + PREFETCH_SLICE]
        if utcnow() >= send_until:
            unsent += [t[0] for t in part]
            continue
        # The slice's limits in one read per network, not one per post: a read answers for quiet
        # scopes for about a second, less than a whole chunk takes.
        for network in {t[1] for t in part}:
            connectors[network][0].prepare([t[2] for t in part if t[1] == network])
        for post_id, network, account, outgoing in part:
            if utcnow() >= send_until:
                unsent.append(post_id)
                continue
            started = utcnow()
            try:
                sent.append((post_id, started, connectors[network][0].publish(account, outgoing)))
            except ConnectorError as exc:
                sent.append((post_id, started, exc))
    return sent, unsent


def _record_results(sent: list[tuple[int, datetime, Published | ConnectorError]], unsent: list[int],
                    outcomes: dict[str, int]) -> list[int]:
    """Record a chunk's outcomes in one transaction (bulk statements for the common cases, the
    failures one by one), then its published posts' events; answers the posts whose outcome is unknown."""
    table = ScheduledPost.__table__
    rows = {row.id: row for row in db.session.execute(
        select(ScheduledPost.id, ScheduledPost.status, ScheduledPost.partner_id, ScheduledPost.campaign_id,
               ScheduledPost.asset_id, ScheduledPost.variant, SocialAccount.network)
        .join(SocialAccount, SocialAccount.id == ScheduledPost.social_account_id)
        .where(ScheduledPost.id.in_([post_id for post_id, _, _ in sent] + unsent))
        .with_for_update(of=ScheduledPost))}
    # Never sent: back to waiting for the next claim, no try spent.
    back = [post_id for post_id in unsent if rows[post_id].status == "publishing"]
    if back:
        db.session.execute(update(ScheduledPost).where(ScheduledPost.id.in_(back)).values(
            status=case((ScheduledPost.approved_at.is_not(None), "approved"), else_="scheduled"),
            claimed_by=None, claimed_until=None, attempts=ScheduledPost.attempts - 1,
        ), execution_options={"synchronize_session": False})
        outcomes["deferred"] = outcomes.get("deferred", 0) + len(back)
    published, attempts, events, unknown = [], [], [], []
    for post_id, started, result in sent:
        row = rows[post_id]
        if row.status != "publishing":  # taken back by a pass meanwhile (a lease far too short)
            outcome = "skipped"
        elif isinstance(result, Published):
            published.append({"b_id": post_id, **{f"b_{k}": v for k, v in _published_values(result).items()}})
            attempts.append(_attempt_values(post_id, started, "published", result.url, result.rate_limit))
            events.append((post_id, row.partner_id, row.campaign_id, row.asset_id, row.network, row.variant))
            outcome = "published"
        else:  # failures are rare: each through the post itself
            post = db.session.get(ScheduledPost, post_id)
            outcome = _apply_failure(post, started, result)
            if outcome == "unknown_outcome":
                unknown.append(post_id)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    if published:
        db.session.execute(update(table).where(table.c.id == bindparam("b_id")).values(
            status="published", external_id=bindparam("b_external_id"),
            external_url=bindparam("b_external_url"), published_at=bindparam("b_published_at"),
            error=None, claimed_by=None, claimed_until=None,
        ), published)
        db.session.execute(insert(PostAttempt.__table__), attempts)
        note_published_posts(db.session.connection(), [row["b_id"] for row in published])
    if len(published) + len(back) == len(sent) + len(unsent):
        # Only publications and deferrals: a crash that loses this commit leaves the posts
        # `publishing`, and the lease's end reconciles them on the network (found: published).
        commit_without_waiting_for_disk()
    else:
        commit()
    _record_post_events(events)
    return unknown


def _take(post_ids: list[int]) -> list[tuple[int, str, Any, Post]]:
    """Lock the chunk's posts still claimed, hold or postpone those that cannot go now, mark the
    rest `publishing` (one commit); answers (post id, network, opened account, what to send).

    Rows, not ORM objects: one joined statement for the posts, their accounts, partners and plans,
    one for the renders they need (texts still to read, images), and a few bulk updates."""
    now = utcnow()
    post, account = ScheduledPost.__table__.c, SocialAccount.__table__.c
    rows = db.session.execute(
        select(post.id, post.text, post.asset_id, post.image_asset_id, post.idempotency_key, post.approved_at,
               account.id.label("account_id"), account.network, account.base_url, account.handle,
               account.external_id, account.credentials, account.needs_reconnect_since, account.is_active,
               Partner.__table__.c.name.label("partner_name"), PostPlan.__table__.c.name.label("plan_name"))
        .join(SocialAccount.__table__, account.id == post.social_account_id)
        .join(Partner.__table__, Partner.__table__.c.id == account.partner_id)
        .outerjoin(PostPlan.__table__, PostPlan.__table__.c.id == post.plan_id)
        .where(post.id.in_(post_ids), post.status == "claimed")
        .order_by(post.id).with_for_update(of=ScheduledPost.__table__)).all()
    held: dict[str, list[int]] = {}
    ready = []
    for row in rows:
        if row.needs_reconnect_since is not None or not row.is_active:
            reason = HELD_AUTH if row.needs_reconnect_since is not None else HELD_PAUSED
            held.setdefault(reason, []).append(row.id)
        else:
            ready.append(row)
    renders = _renders([r.asset_id for r in ready if not r.text] + [r.image_asset_id for r in ready])
    taken, accounts, texts, postponed = [], {}, [], []
    for row in ready:
        text = row.text or _render_text(renders.get(row.asset_id))
        if text is None:  # the campaign's render of this partner's post has not finished yet
            postponed.append(row.id)
            continue
        if row.text != text:
            texts.append({"b_id": row.id, "b_text": text})
        if row.account_id not in accounts:  # an account's credentials are opened once a chunk
            accounts[row.account_id] = opened(row)
        image = renders.get(row.image_asset_id)
        alt = f"{row.partner_name}: {row.plan_name}" if row.plan_name is not None else ""
        outgoing = Post(text=text, idempotency_key=row.idempotency_key, image=image[0] if image else None,
                        image_type=image[1] if image else None, alt_text=alt[:1000])
        taken.append((row.id, row.network, accounts[row.account_id], outgoing))
    _hold_or_postpone(held, postponed, now)
    if taken:  # the chunk in two statements, not one per post
        db.session.execute(update(ScheduledPost).where(ScheduledPost.id.in_([t[0] for t in taken])).values(
            status="publishing", attempts=ScheduledPost.attempts + 1, claimed_until=now + lease(),
        ), execution_options={"synchronize_session": False})
    if texts:  # the text of the campaign's render, kept as what went out
        table = ScheduledPost.__table__
        db.session.execute(update(table).where(table.c.id == bindparam("b_id")).values(
            text=bindparam("b_text")), texts)
    commit()
    return taken


def _renders(asset_ids: list[int | None]) -> dict[int, tuple[bytes, str]]:
    """The rendered bytes and media type of each done asset among `asset_ids` (one statement)."""
    wanted = sorted({i for i in asset_ids if i is not None})
    if not wanted:
        return {}
    asset, render = Asset.__table__.c, Render.__table__.c
    found = db.session.execute(select(asset.id, render.storage_key, render.media_type)
                               .join(Render.__table__, render.id == asset.render_id)
                               .where(asset.id.in_(wanted), asset.status == "done")).all()
    storage = app_state().storage
    return {asset_id: (storage.get(key), media_type) for asset_id, key, media_type in found}


def _render_text(found: tuple[bytes, str] | None) -> str | None:
    return found[0].decode("utf-8").strip() if found else None


def _hold_or_postpone(held: dict[str, list[int]], postponed: list[int], now: datetime) -> None:
    """Hold the posts of accounts that need reconnecting or are paused (the reason as their error);
    put posts whose text is still rendering back to waiting, to be looked at after RENDER_WAIT."""
    for reason, ids in held.items():
        db.session.execute(update(ScheduledPost).where(ScheduledPost.id.in_(ids)).values(
            status="held", error=reason, claimed_by=None, claimed_until=None,
        ), execution_options={"synchronize_session": False})
    if postponed:
        db.session.execute(update(ScheduledPost).where(ScheduledPost.id.in_(postponed)).values(
            status=case((ScheduledPost.approved_at.is_not(None), "approved"), else_="scheduled"),
            claimed_by=None, claimed_until=None, next_attempt_at=now + RENDER_WAIT,
            error="waiting for the post's render",
        ), execution_options={"synchronize_session": False})


def _apply_published(post: ScheduledPost, started: datetime, published: Published, outcome: str) -> str:
    """Record a post the network accepted (the caller commits, then calls `_record_post_events`)."""
    for name, value in _published_values(published).items():
        setattr(post, name, value)
    post.status, post.error, post.claimed_by, post.claimed_until = "published", None, None, None
    _attempt(post, started, outcome, published.url, published.rate_limit)
    return outcome


def _published_values(published: Published) -> dict[str, Any]:
    return {"external_id": published.external_id[:200],
            "external_url": (published.url or None) and published.url[:500], "published_at": utcnow()}


PostEvent = tuple[int, int, int | None, int | None, str, str | None]


def _post_event(post: ScheduledPost) -> PostEvent:
    return (post.id, post.partner_id, post.campaign_id, post.asset_id, post.account.network, post.variant)


def _record_post_events(events: list[PostEvent]) -> None:
    """Published posts join the engagement data beside the clicks (kind "post", channel = the
    network). Called after the commit: without Redis the events are written to the database at
    once, and inside the open transaction that write would wait for its lock (SQLite)."""
    from tcma.services.tracking.events import record_events, server_event

    made = []
    for post_id, partner_id, campaign_id, asset_id, network, variant in events:
        try:
            made.append(server_event("post", partner_id, campaign_id, asset_id, channel=network,
                                     variant=variant, uid=f"post-{post_id}"))
        except Exception:  # the post is out; losing its event must not make it look unpublished
            log.exception("recording the post event of post %s failed", post_id)
    try:
        record_events(made)
    except Exception:
        log.exception("recording the post events of posts %s failed", [e[0] for e in events])


def _apply_failure(post: ScheduledPost, started: datetime, exc: ConnectorError) -> str:
    """Record a classified failure (the caller commits); "unknown_outcome": the caller reconciles."""
    now = utcnow()
    if isinstance(exc, RateLimited):
        _attempt(post, started, "rate_limited", exc.reason, exc.rate_limit)
        post.status, post.next_attempt_at = _waiting_state(post), exc.until
        post.attempts -= 1  # waiting for a reset is not a failed try
    elif isinstance(exc, AuthExpired):
        _attempt(post, started, "auth_expired", exc.reason, exc.rate_limit)
        mark_needs_reconnect(post.account, f"{post.account.network} refused the credentials: {exc.reason}")
        post.status, post.error = "held", f"{HELD_AUTH}: {exc.reason}"[:2000]
    elif isinstance(exc, Rejected | Unsupported):
        _attempt(post, started, "rejected", exc.reason, exc.rate_limit)
        post.status, post.error = "failed", f"{post.account.network} refused the post: {exc.reason}"[:2000]
    elif isinstance(exc, UnknownOutcome):
        _attempt(post, started, "unknown_outcome", exc.reason, exc.rate_limit)
        return "unknown_outcome"  # still `publishing` under its lease
    else:  # Temporary and anything unforeseen: nothing was published
        _attempt(post, started, "temporary", exc.reason, exc.rate_limit)
        if post.attempts >= MAX_ATTEMPTS:
            post.status, post.error = "failed", f"gave up after {post.attempts} tries: {exc.reason}"[:2000]
        else:
            post.status, post.next_attempt_at = _waiting_state(post), now + backoff(post.attempts)
            post.error = exc.reason[:2000]
    post.claimed_by, post.claimed_until = None, None
    return post.status


def reconcile_post(post_id: int) -> str:
    """A post that may have gone out: look for it on the account before anything is sent again.

    Found: published. Not there (or the network drops a resend of the same key): waiting again.
    The network cannot tell (no way to read the account's posts, or no answer): held for a person.
    """
    post = _lock(post_id)
    if post is None or post.status != "publishing":
        rollback()
        return "skipped"
    account = post.account
    outgoing = _outgoing(post, post.text)
    since = post.updated_at - lease() if post.updated_at else None
    started = utcnow()
    commit()
    connector = app_state().connector(account.network)
    try:
        found = connector.reconcile(opened(account), outgoing, since)
    except ConnectorError as exc:
        post = _lock(post_id)
        assert post is not None
        _attempt(post, started, "held", f"could not check whether it went out: {exc.reason}")
        post.status, post.claimed_by, post.claimed_until = "held", None, None
        post.error = (f"{account.network} may or may not have published it, and cannot tell "
                      f"({exc.reason}): check the account, then retry or cancel")[:2000]
        commit()
        return "held"
    finally:
        connector.close()
    if found is not None:
        post = _lock(post_id)
        assert post is not None
        outcome = _apply_published(post, started, found, "reconciled")
        db.session.flush()
        note_published_posts(db.session.connection(), [post.id])
        event = _post_event(post)
        commit()
        _record_post_events([event])
        return outcome
    post = _lock(post_id)
    assert post is not None
    post.status, post.claimed_by, post.claimed_until = _waiting_state(post), None, None
    post.next_attempt_at = utcnow()
    commit()
    return post.status
