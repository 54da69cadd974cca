"""Writing buffered events to the database: idempotent inserts, bot and unique flags, daily rollups.

`flush_events()` drains the Redis buffer at least once and counts exactly once:
1. under a Redis lock (one flusher at a time), first re-write whatever a dead flusher left in
   the in-flight list, then move a batch from the buffer to the in-flight list (one Lua call);
2. `write_events(batch)`: INSERT ... ON CONFLICT (uid) DO NOTHING RETURNING uid, and add only
   the rows really inserted to the rollups, in the same transaction (rows are never deleted;
   the one revision is a scanner burst completed by this batch flagging its stored clicks);
3. after the commit, delete the in-flight list.
A crash before 3 re-writes the batch on restart: its rows conflict and add nothing twice.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redis.exceptions import LockError
from sqlalchemy import Connection, and_, func, or_, select, text, update

from tcma.extensions import db
from tcma.models import Event, EventRollup, TrackedLink
from tcma.models.base import insert_for
from tcma.queue import get_queue
from tcma.services.tracking import bots
from tcma.services.tracking.experiment_totals import add_to_experiment_totals
from tcma.services.tracking.summaries import add_to_dashboard_summaries
from tcma.state import app_state

log = logging.getLogger(__name__)
Deltas = dict[tuple[Any, ...], list[int]]  # rollup key -> [total, uniques, bots] to add
BATCH_SIZE = 2000  # Lua's unpack() limit is ~8000 values
# One writer of events at a time, whichever path it comes by: the flusher (under its Redis lock)
# or a web process writing straight to the database while Redis is down. Uniques and scanner
# bursts are judged against the events already stored, so two writers side by side would each
# miss the other's and count one visitor unique twice.
WRITE_LOCK = 0x74636D61_6576  # "tcmaev": the PostgreSQL advisory lock of write_events
ROLLUP_KEY = ("campaign_id", "asset_id", "variant", "partner_id", "channel", "day", "kind")
CLAIM_SCRIPT = """
local items = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #items > 0 then
  redis.call('RPUSH', KEYS[2], unpack(items))
  redis.call('LTRIM', KEYS[1], #items, -1)
end
return items
"""


@dataclass
class FlushReport:
    """What one flush did."""

    batches: int = 0
    received: int = 0
    inserted: int = 0
    busy: bool = False


def buffer_key() -> str:
    """The Redis list that holds shipped events until the flusher writes them."""
    return app_state().tracking.buffer_key


def inflight_key() -> str:
    """The Redis list holding the batch a flusher is writing (re-written if it dies)."""
    return app_state().tracking.inflight_key


def ship_spooled_events() -> int:
    """Ship this process's and this host's spooled events on now (to Redis, or the database)."""
    return app_state().tracking.ship_spools()


def flush_events(max_batches: int | None = None, batch_size: int = BATCH_SIZE,
                 lock_ttl: float = 30.0, wait: float = 0.0) -> FlushReport:
    """Write buffered events to the database until the buffer is empty (or max_batches)."""
    from tcma.clickbuffer import decode_events

    redis = get_queue().redis
    report = FlushReport()
    lock = redis.lock(f"{buffer_key()}:flush-lock", timeout=lock_ttl, blocking_timeout=wait)
    if not lock.acquire(blocking=wait > 0):
        return FlushReport(busy=True)
    try:
        claim = redis.register_script(CLAIM_SCRIPT)
        items = redis.lrange(inflight_key(), 0, -1)  # a dead flusher's batch comes first
        while items or max_batches is None or report.batches < max_batches:
            if not items:
                items = claim(keys=[buffer_key(), inflight_key()], args=[batch_size])
                if not items:
                    break
            report.inserted += write_events(decode_events(items))
            report.received += len(items)
            report.batches += 1
            redis.delete(inflight_key())
            lock.reacquire()
            items = []
    finally:
        try:
            lock.release()
        except LockError:  # it expired while a batch was written; the work is still correct
            log.warning("the flush lock expired during a flush; raise lock_ttl")
    return report


def pending_events() -> int:
    """How many events wait in the Redis buffer (and in flight)."""
    redis = get_queue().redis
    return redis.llen(buffer_key()) + redis.llen(inflight_key())


def write_events(events: list[dict[str, Any]]) -> int:
    """Insert events once each (by uid), flag bots and uniques, add them to the rollups; commits.

    Runs in its own connection and transaction, never the caller's session.
    """
    events = list({e["uid"]: e for e in events if e.get("uid")}.values())
    if not events:
        return 0
    events.sort(key=lambda e: e["at"])
    with db.engine.begin() as conn:
        _lock_writers(conn)
        links_per_asset = _links_per_asset(conn, events)
        stored_clicks = _clicks_near_a_burst(conn, events, links_per_asset)
        revise = bots.flag_scanners(events, stored_clicks, _send_times(conn, events), links_per_asset)
        _flag_uniques(events, _last_seen(conn, events))
        inserted = _insert_new(conn, events)
        deltas = _rollup_deltas([e for e in events if e["uid"] in inserted])
        for row in _revise_as_scanners(conn, revise):
            _add_delta(deltas, row, (-1, -1 if row["unique"] else 0, 1))
        _apply_rollups(conn, deltas)
    return len(inserted)


def _lock_writers(conn: Connection) -> None:
    """Wait for any other event writer's transaction to end (held until this one ends).

    Not on SQLite: the embedded setup is meant for one process, and pysqlite starts its
    transaction only at the first write, after the reads this lock is meant to cover.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK})


def _insert(conn: Connection, model: type) -> Any:
    return insert_for(conn.dialect.name, model)


UNIQUE_KEY = (Event.visitor, Event.kind, Event.link_id, Event.partner_id, Event.campaign_id,
              Event.asset_id, Event.channel, Event.variant)
MESSAGE_KEY = (Event.visitor, Event.partner_id, Event.campaign_id, Event.asset_id)


def _last_seen(conn: Connection, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """When each of the batch's visitors last did each thing (people only, within the window)."""
    visitors = {e["visitor"] for e in events if e.get("visitor")}
    if not visitors:
        return []
    since = _when(events[0]["at"]) - bots.unique_window()
    stmt = (select(*UNIQUE_KEY, func.max(Event.occurred_at).label("last"))
            .where(Event.visitor.in_(visitors), Event.occurred_at >= since, Event.is_bot.is_(False))
            .group_by(*UNIQUE_KEY))
    return [{**row._asdict(), "at": _epoch(row.last), "bot": False} for row in conn.execute(stmt)]


def _links_per_asset(conn: Connection, events: list[dict[str, Any]]) -> dict[Any, int]:
    """How many tracked links each clicked message (asset) has."""
    assets = {e["asset_id"] for e in events if e["kind"] == "click" and e.get("asset_id")}
    if not assets:
        return {}
    rows = conn.execute(select(TrackedLink.asset_id, func.count()).where(TrackedLink.asset_id.in_(assets))
                        .group_by(TrackedLink.asset_id))
    return dict(rows.all())


def _clicks_near_a_burst(conn: Connection, events: list[dict[str, Any]],
                         links_per_asset: dict[Any, int]) -> list[dict[str, Any]]:
    """Stored people's clicks that, with this batch, may complete a scanner's burst on a message.

    Only those messages are read in detail, so one busy visitor on one link costs one small query.
    """
    batch_links: dict[tuple[Any, ...], set[Any]] = defaultdict(set)
    for e in events:
        if e["kind"] == "click" and e.get("visitor"):
            batch_links[e["visitor"], e["partner_id"], e["campaign_id"], e["asset_id"]].add(e.get("link_id"))
    if not batch_links:
        return []
    recent = (Event.kind == "click", Event.is_bot.is_(False),
              Event.occurred_at >= _when(events[0]["at"] - bots.SCANNER_SECONDS))
    stored_links = defaultdict(set)
    for row in conn.execute(select(*MESSAGE_KEY, Event.link_id).distinct().where(
            *recent, Event.visitor.in_({key[0] for key in batch_links}))):
        stored_links[tuple(row[:4])].add(row.link_id)
    suspects = [key for key, links in batch_links.items()
                if len(links | stored_links[key]) >= bots.scanner_threshold(links_per_asset.get(key[3]))]
    if not suspects:
        return []
    columns = (Event.uid, Event.occurred_at, Event.link_id, *MESSAGE_KEY)
    rows = conn.execute(select(*columns).where(*recent, or_(*(_matches(MESSAGE_KEY, k) for k in suspects))))
    return [{**row._asdict(), "kind": "click", "at": _epoch(row.occurred_at)} for row in rows]


def _matches(columns: tuple[Any, ...], values: tuple[Any, ...]) -> Any:
    return and_(*(c.is_(None) if v is None else c == v for c, v in zip(columns, values, strict=True)))


def _send_times(conn: Connection, events: list[dict[str, Any]]) -> dict[str, float]:
    """Delivery time of each send the events refer to (from 'send' events)."""
    send_ids = {e["send_id"] for e in events if e.get("send_id")}
    sends = {e["send_id"]: e["at"] for e in events if e["kind"] == "send" and e.get("send_id")}
    if send_ids - sends.keys():
        rows = conn.execute(select(Event.send_id, Event.occurred_at)
                            .where(Event.kind == "send", Event.send_id.in_(send_ids - sends.keys())))
        sends.update({row.send_id: _epoch(row.occurred_at) for row in rows})
    return sends


def _unique_key(event: dict[str, Any]) -> tuple[Any, ...]:
    return (event["visitor"], event["kind"], event.get("link_id"), event["partner_id"],
            event["campaign_id"], event["asset_id"], event.get("channel"), event.get("variant"))


def _flag_uniques(events: list[dict[str, Any]], earlier: list[dict[str, Any]]) -> None:
    """A person's event is unique unless they did the same within the unique window before."""
    window = bots.unique_window().total_seconds()
    last_seen: dict[tuple[Any, ...], float] = {}
    for row in sorted(earlier, key=lambda r: r["at"]):
        if not row["bot"]:
            last_seen[_unique_key(row)] = row["at"]
    for event in events:
        if event.get("bot"):
            event["unique"] = False
            continue
        if not event.get("visitor"):
            event["unique"] = True
            continue
        key = _unique_key(event)
        previous = last_seen.get(key)
        event["unique"] = previous is None or event["at"] - previous > window
        last_seen[key] = event["at"]


def _insert_new(conn: Connection, events: list[dict[str, Any]]) -> set[str]:
    """Insert the events; return the uids really inserted (the rest were already there)."""
    rows = [{
        "uid": e["uid"], "kind": e["kind"], "occurred_at": _when(e["at"]),
        "partner_id": e.get("partner_id"), "campaign_id": e.get("campaign_id"),
        "asset_id": e.get("asset_id"), "link_id": e.get("link_id"), "channel": e.get("channel"),
        "variant": e.get("variant"), "visitor": e.get("visitor"), "send_id": e.get("send_id"),
        "is_bot": bool(e.get("bot")), "bot_reason": e.get("bot") or None,
        "is_unique": bool(e.get("unique")), "data": e.get("data") or {},
    } for e in events]
    stmt = _insert(conn, Event).on_conflict_do_nothing(index_elements=["uid"]).returning(Event.uid)
    return {row.uid for row in conn.execute(stmt, rows)}


def _revise_as_scanners(conn: Connection, uids: set[str]) -> list[dict[str, Any]]:
    """Flag stored clicks as a scanner's, once (rows already flagged are left alone)."""
    if not uids:
        return []
    pending = (Event.uid.in_(uids), Event.is_bot.is_(False))
    was_unique = set(conn.scalars(select(Event.uid).where(*pending, Event.is_unique.is_(True))))
    stmt = (update(Event).where(*pending).values(is_bot=True, bot_reason="scanner", is_unique=False)
            .returning(Event.uid, Event.occurred_at, Event.partner_id, Event.campaign_id,
                       Event.asset_id, Event.channel, Event.variant, Event.kind))
    return [{**row._asdict(), "at": _epoch(row.occurred_at), "unique": row.uid in was_unique}
            for row in conn.execute(stmt)]


def _rollup_deltas(events: list[dict[str, Any]]) -> Deltas:
    """(total, uniques, bots) to add per rollup key for newly inserted events."""
    deltas: Deltas = defaultdict(lambda: [0, 0, 0])
    for e in events:
        bot = bool(e.get("bot"))
        _add_delta(deltas, e, (0 if bot else 1, 1 if e.get("unique") and not bot else 0, 1 if bot else 0))
    return deltas



def _add_delta(deltas: Deltas, e: dict[str, Any], delta: tuple[int, int, int]) -> None:
    key = (e.get("campaign_id") or 0, e.get("asset_id") or 0, e.get("variant") or "",
           e.get("partner_id") or 0, e.get("channel") or "", _when(e["at"]).date(), e["kind"])
    bucket = deltas[key]
    for i, value in enumerate(delta):
        bucket[i] += value


def _apply_rollups(conn: Connection, deltas: Deltas) -> None:
    """Add the deltas to their (campaign, asset, variant, partner, channel, day, kind) rows."""
    if not deltas:
        return
    rows = [{**dict(zip(ROLLUP_KEY, key, strict=True)), "total": t, "uniques": u, "bots": b}
            for key, (t, u, b) in sorted(deltas.items())]
    stmt = _insert(conn, EventRollup)
    stmt = stmt.on_conflict_do_update(index_elements=list(ROLLUP_KEY), set_={
        "total": EventRollup.total + stmt.excluded.total,
        "uniques": EventRollup.uniques + stmt.excluded.uniques,
        "bots": EventRollup.bots + stmt.excluded.bots,
    })
    conn.execute(stmt, rows)
    add_to_dashboard_summaries(conn, rows)  # the programme dashboard's pre-summed tables
    add_to_experiment_totals(conn, rows)  # each experiment's running totals per partner


def _when(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _epoch(value: datetime) -> float:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
