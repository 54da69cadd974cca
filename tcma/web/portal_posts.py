"""The posts pages (issue 12): partners approve, edit, reschedule or reject the posts tcma will
publish for them, see what is coming by day and what went out; marketers see each campaign's post
plans by state and network, the failures with their reasons, retry and cancel.

Times are shown as the partner sees them: the post's wall-clock time in its zone
("Tue 9 Mar 2027, 10:00 (Europe/Berlin)"); a reschedule is typed in that zone too. Every change is a
POST (CSRF-checked) answered with a redirect and a message; refused input shows the page again with
the message beside its field and changes nothing. Another partner's post answers 404.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import flash, redirect, request, url_for

from campaigns.vocabulary import NETWORKS
from renderers import POST_LIMITS, post_length
from tcma.errors import ConflictError, DomainError, InvalidInput
from tcma.schemas.common import MAX_PAGE
from tcma.services.accounts.auth import Principal
from tcma.services.launch.launches import get_campaign
from tcma.services.partners.partners import get_partner, get_partners
from tcma.services.syndication import accounts as social
from tcma.services.syndication import posts as service
from tcma.services.syndication.plans import cancel_plan, get_plan, list_plans
from tcma.services.tracking.stats import campaign_stats
from tcma.services.transaction import rollback
from tcma.web.portal import PARTNER, VENDOR, page, page_count, page_required, portal_blueprint
from tcma.web.portal_social import NETWORK_NAMES, network_name, say

bp = portal_blueprint("portal_posts", __name__, url_prefix="/portal")
EVERYONE = (*PARTNER, *VENDOR)
QUEUE = ("awaiting_approval",)
UPCOMING = ("approved", "scheduled", "claimed", "publishing")
HISTORY = ("published", "failed", "held", "expired", "cancelled")
QUEUE_SHOWN = 50  # posts shown at most in the queue, and in the agenda ("and N more" says the rest)
UPCOMING_SHOWN = 100
HISTORY_PER_PAGE = 25
HISTORY_DEPTH = 1000  # the history pages go this far back
FAILURES_SHOWN = 50
CHOOSE_TIME = "choose a date and a time"
STATE_NAMES = {"awaiting_approval": "Awaiting approval", "scheduled": "Scheduled", "approved": "Approved",
               "claimed": "Publishing", "publishing": "Publishing", "held": "Held", "published": "Published",
               "failed": "Failed", "expired": "Expired", "cancelled": "Cancelled"}
# The marketer's columns: a post's states as a reader groups them.
COLUMNS = (("awaiting", "Awaiting approval", ("awaiting_approval",)),
           ("upcoming", "Upcoming", ("scheduled", "approved", "claimed", "publishing")),
           ("published", "Published", ("published",)),
           ("failed", "Failed", ("failed",)),
           ("held", "Held", ("held",)),
           ("expired", "Expired", ("expired",)),
           ("cancelled", "Cancelled", ("cancelled",)))
LIMIT_RULES = {"x": "each link counts as 23, an emoji as 2", "mastodon": "each link counts as 23"}
# A post's end, as its partner reads it in the history (the service's wording is the operator's).
ENDINGS = {"cancelled by the partner": "You cancelled it.", "rejected": "You rejected it.",
           "cancelled by the vendor": "The vendor cancelled it.",
           "the plan was cancelled": "The vendor cancelled this campaign post."}


# --- how things are written ---------------------------------------------------------------------

def _zone(post: Any) -> ZoneInfo:
    try:
        return ZoneInfo(post.time_zone or "UTC")
    except (ValueError, KeyError):
        return ZoneInfo("UTC")


def _moment(value: datetime) -> str:
    return f"{value:%a} {value.day} {value:%b %Y, %H:%M}"


def local_due(post: Any) -> datetime | None:
    """When the post is due, on the partner's wall clock (None: as soon as it is approved)."""
    if post.local_at:
        return datetime.fromisoformat(post.local_at)
    if post.status == "awaiting_approval":
        return None
    return post.scheduled_at.astimezone(_zone(post)).replace(tzinfo=None)


def when(post: Any) -> str:
    """"Tue 9 Mar 2027, 10:00 (Europe/Berlin)", or how an on-approval post is timed."""
    due = local_due(post)
    if due is None:
        return "As soon as it is approved"
    return f"{_moment(due)} ({post.time_zone or 'UTC'})"


def at_local(post: Any, value: datetime) -> str:
    """A moment (UTC) written in the post's zone."""
    return f"{_moment(value.astimezone(_zone(post)))} ({post.time_zone or 'UTC'})"


def day_heading(value: datetime) -> str:
    return f"{value:%A} {value.day} {value:%B %Y}"


def state_name(status: str) -> str:
    return STATE_NAMES.get(status, status.replace("_", " ").capitalize())


def _network_of(post: Any) -> str:
    return post.network if hasattr(post, "network") else post.account.network


def account_line(post: Any) -> str:
    """"Mastodon @acme@mastodon.social" (a PostView or a post row)."""
    handle = post.handle if hasattr(post, "handle") else post.account.handle
    return f"{network_name(_network_of(post))} {handle}"


def limit_hint(network: str) -> str:
    """The limit as a partner reads it ("Mastodon allows 500 characters; each link counts as 23.")."""
    rule = LIMIT_RULES.get(network)
    allows = f"{network_name(network)} allows {POST_LIMITS[network]:,} characters"
    return f"{allows}; {rule}." if rule else f"{allows}."


# A network named as the one that did or said something: "mastodon refused", "as x counts them".
SAYING = "refused|answered|may|cannot|takes|counts|account|post"
NETWORK_SAYS = re.compile(rf"\b({'|'.join(NETWORK_NAMES)})\b(?= (?:{SAYING})\b)")
WALL_TIME = re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?\b")


def message(text: str) -> str:
    """A service message as a sentence: networks written as people write them, wall-clock times
    as on the rest of the page ("2027-03-09T10:00" -> "Tue 9 Mar 2027, 10:00")."""
    text = say(re.sub(r"\b(\w+) (refused the \w+): \1 answered \d+: ", r"\1 \2: ", text))
    text = NETWORK_SAYS.sub(lambda m: NETWORK_NAMES[m.group(1)], text)
    return WALL_TIME.sub(lambda m: _moment(datetime.fromisoformat(m.group(0))), text)


def outcome(post: Any) -> str:
    """What happened to a post in the history, as a sentence."""
    error = (post.error or "").strip()
    if post.status == "expired":
        return "It was not approved by its time, so it was not published."
    if post.status == "cancelled":
        if error.startswith("rejected: "):
            return f"You rejected it: {error.removeprefix('rejected: ')}"
        return ENDINGS.get(error) or (message(error) if error else "Cancelled.")
    if post.status == "failed":
        return message(error) if error else "The network refused it and gave no reason."
    if post.status == "held":
        return message(error) if error else "Held for a person to look at."
    return message(error) if error else ""


def numbers(metrics: dict[str, int] | None) -> str:
    """A published post's numbers as the network last gave them: "12 likes · 3 reposts · 1 reply"."""
    metrics = metrics or {}
    said = []
    for name, one in (("likes", "like"), ("reposts", "repost"), ("replies", "reply"),
                      ("impressions", "impression")):
        if metrics.get(name) is not None:
            said.append(f"{metrics[name]:,} {one if metrics[name] == 1 else name}")
    return " · ".join(said)


def _helpers() -> dict[str, Any]:
    return {"when": when, "at_local": at_local, "state_name": state_name, "account_line": account_line,
            "limit_hint": limit_hint, "post_length": post_length, "limits": POST_LIMITS, "outcome": outcome,
            "network_name": network_name, "local_due": local_due, "numbers": numbers,
            "editable": service.EDITABLE}


# --- the partner's page -------------------------------------------------------------------------

def _rows(principal: Principal, statuses: tuple[str, ...], limit: int,
          **filters: Any) -> tuple[list[Any], int]:
    """Posts in any of `statuses`, due soonest first, at most `limit` shown, and how many there are."""
    rows, total = service.list_posts(principal, {**filters, "statuses": statuses}, 1, limit)
    return [service.view(post) for post in rows], total


def _history(principal: Principal, page_number: int) -> tuple[list[Any], int, dict[int, Any]]:
    """One page of the history, the latest first, and the published posts' numbers (likes, ...)."""
    shown, total = service.list_latest_posts(principal, HISTORY, page_number, HISTORY_PER_PAGE)
    metrics = {post.id: post.metrics for post in shown if post.status == "published"}
    return [service.view(post) for post in shown], total, metrics


def _agenda(rows: list[Any]) -> list[tuple[str, list[Any]]]:
    """Upcoming posts grouped by their local day, in order."""
    days: dict[str, list[Any]] = {}
    for post in rows:
        due = local_due(post)
        days.setdefault(day_heading(due) if due else "As soon as approved", []).append(post)
    return list(days.items())


def _page_number() -> int:
    return min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)


def _partner_page(principal: Principal, status: int = 200, failed: dict[str, Any] | None = None):
    """The partner's posts: the approval queue, the agenda, the history; `failed`: a refused form."""
    partner = get_partner(principal, principal.partner_id)
    accounts = {account.id: account for account in social.list_accounts(principal)}
    queue, queued = _rows(principal, QUEUE, QUEUE_SHOWN)
    upcoming, coming = _rows(principal, UPCOMING, UPCOMING_SHOWN)
    page_number = min(_page_number(), HISTORY_DEPTH // HISTORY_PER_PAGE)
    history, past, metrics = _history(principal, page_number)
    waiting = (*queue, *upcoming, *(post for post in history if post.status == "held"))
    stuck = {post.account_id for post in waiting
             if post.account_id in accounts and accounts[post.account_id].state != "active"}
    post_fields = {post.id: service.fields_of(principal, post.id) for post in (*queue, *upcoming)
                   if post.status in service.EDITABLE}
    return page("portal/posts.html", status, partner=partner, accounts=accounts, queue=queue, queued=queued,
                agenda=_agenda(upcoming), upcoming=upcoming, coming=coming, history=history, past=past,
                page_number=page_number, failed=failed, post_fields=post_fields,
                pages=page_count(min(past, HISTORY_DEPTH), HISTORY_PER_PAGE),
                metrics=metrics,
                stuck=[accounts[i] for i in sorted(stuck)], **_helpers())


@bp.get("/posts")
@page_required(*PARTNER)
def posts(principal: Principal):
    """What tcma will publish for the partner, what waits for their approval, what went out."""
    return _partner_page(principal)


def _back(post_id: int, anchor: str | None = None) -> str:
    """Where a change returns: the marketer's campaign posts (when sent from there) or the partner's page."""
    campaign = request.form.get("campaign", "")
    if campaign.isdigit():
        return url_for("portal_posts.campaign_posts", campaign_id=int(campaign), _anchor=f"post-{post_id}")
    return url_for("portal_posts.posts", _anchor=anchor or f"post-{post_id}")


def _refused(principal: Principal, key: str, exc: DomainError, kept: dict[str, str]):
    """A refused form: the page again (422), the message beside the form's field, the value kept."""
    if exc.status in (403, 404):
        raise exc
    rollback()
    messages = [message(text) for texts in exc.errors.values()
                for text in (texts if isinstance(texts, list) else [str(texts)])]
    return _partner_page(principal, 422 if exc.status < 500 else exc.status,
                         {"key": key, "messages": list(dict.fromkeys(messages)) or [message(exc.message)],
                          "kept": kept, "parts": [part.removeprefix("fields.") for part in exc.errors]})


def _conflict(exc: ConflictError, post_id: int):
    """A change the post's state no longer allows (say, approved twice): say so, change nothing."""
    rollback()
    flash(f"Nothing was changed: {message(exc.message)}.")
    return redirect(_back(post_id))


@bp.post("/posts/<int:post_id>/approve")
@page_required(*PARTNER)
def approve(principal: Principal, post_id: int):
    """Approve a post: it goes out at its time (or at once, when it waited for the approval)."""
    try:
        post = service.approve(principal, post_id)
    except ConflictError as exc:
        return _conflict(exc, post_id)
    flash(f"Approved: the post to {account_line(post)} goes out "
          + (f"{when(post)}." if post.local_at else "in a moment."))
    return redirect(_back(post_id, "upcoming"))


@bp.post("/posts/<int:post_id>/reject")
@page_required(*PARTNER)
def reject(principal: Principal, post_id: int):
    """Reject a post (with an optional reason for the marketers): it will not be published."""
    reason = " ".join(request.form.get("reason", "").split())[:500]
    try:
        post = service.reject(principal, post_id, reason or None)
    except ConflictError as exc:
        return _conflict(exc, post_id)
    flash(f"Rejected: the post to {account_line(post)} will not be published.")
    return redirect(_back(post_id, "history"))


@bp.post("/posts/<int:post_id>/text")
@page_required(*PARTNER)
def edit(principal: Principal, post_id: int):
    """Change the post's text (the network's limit is checked)."""
    text = request.form.get("text", "").replace("\r\n", "\n").strip()
    try:
        post = service.edit_text(principal, post_id, text)
    except ConflictError as exc:
        return _conflict(exc, post_id)
    except InvalidInput as exc:
        return _refused(principal, f"text-{post_id}", exc, {"text": text})
    flash(f"Saved the new text of the post to {account_line(post)}.")
    return redirect(_back(post_id))


@bp.post("/posts/<int:post_id>/fields")
@page_required(*PARTNER)
def edit_fields(principal: Principal, post_id: int):
    """Change the post's editable fields: its text (and its image, when they change it) is rendered again."""
    values = {name.removeprefix("field-"): value.replace("\r\n", "\n")
              for name, value in request.form.items() if name.startswith("field-")}
    try:
        post = service.edit_fields(principal, post_id, values)
    except ConflictError as exc:
        return _conflict(exc, post_id)
    except InvalidInput as exc:
        return _refused(principal, f"fields-{post_id}", exc, values)
    flash(f"Saved your words: the post to {account_line(post)} was rendered again with them.")
    return redirect(_back(post_id))


@bp.post("/posts/<int:post_id>/reschedule")
@page_required(*PARTNER)
def reschedule(principal: Principal, post_id: int):
    """Move the post to another date and time, on the partner's wall clock."""
    values = {"date": request.form.get("date", "").strip(), "time": request.form.get("time", "").strip()}
    try:
        try:
            local_at = datetime.fromisoformat(f"{values['date']}T{values['time']}")
        except ValueError:
            raise InvalidInput(CHOOSE_TIME, {"local_at": [CHOOSE_TIME]}) from None
        post = service.reschedule(principal, post_id, local_at.replace(second=0, microsecond=0))
    except ConflictError as exc:
        return _conflict(exc, post_id)
    except InvalidInput as exc:
        return _refused(principal, f"reschedule-{post_id}", exc, values)
    flash(f"Rescheduled: the post to {account_line(post)} goes out {when(post)}.")
    return redirect(_back(post_id))


@bp.post("/posts/<int:post_id>/cancel")
@page_required(*EVERYONE)
def cancel(principal: Principal, post_id: int):
    """Cancel a post that has not gone out: it will not be published."""
    try:
        post = service.cancel(principal, post_id)
    except ConflictError as exc:
        return _conflict(exc, post_id)
    flash(f"Cancelled: the post to {account_line(post)} will not be published.")
    return redirect(_back(post_id, "history"))


@bp.post("/posts/<int:post_id>/retry")
@page_required(*EVERYONE)
def retry(principal: Principal, post_id: int):
    """Send a failed or held post again at the next scheduler pass."""
    try:
        post = service.retry(principal, post_id)
    except ConflictError as exc:
        return _conflict(exc, post_id)
    flash(f"Post {post.id} to {account_line(post)} will be sent again in a moment.")
    return redirect(_back(post_id))


# --- the marketer's view of a campaign's posts --------------------------------------------------

def _by_network(principal: Principal, plan: Any) -> dict[str, Counter[str]]:
    """How many of the plan's posts are in each column, per network (the plan's counts are by state)."""
    columns = {status: key for key, _, statuses in COLUMNS for status in statuses}
    counts: dict[str, Counter[str]] = {network: Counter() for network in plan.networks}
    # One grouped count (a plan of 10,000 partners took 160 statements and 10 s one by one).
    found = service.counts_by_network(principal, plan.id) if len(plan.networks) > 1 else {}
    for status, count in plan.counts.items():
        if not count:
            continue
        if len(plan.networks) == 1:
            counts[plan.networks[0]][columns[status]] += count
            continue
        for network in plan.networks:
            counts[network][columns[status]] += found.get((network, status), 0)
    return counts


def timing_text(plan: Any) -> str:
    """When a plan's posts go out, in words."""
    timing = plan.timing or {}
    if timing.get("kind") == "local_time":
        local = datetime.fromisoformat(timing["local"])
        return f"{local:%H:%M} on {_moment(local).rsplit(',', 1)[0]} at each partner's local time"
    if timing.get("kind") == "window":
        start, end = (datetime.fromisoformat(timing[k]) for k in ("start_local", "end_local"))
        return f"Spread from {_moment(start)} to {_moment(end)} at each partner's local time"
    return "As soon as each partner approves"


def _attention(principal: Principal, plan_id: int) -> tuple[list[dict[str, Any]], int]:
    """The plan's failed and held posts (most recent first) with their partner and account."""
    rows, total = _rows(principal, ("failed", "held"), FAILURES_SHOWN, plan_id=plan_id)
    partners = get_partners(principal, {post.partner_id for post in rows})
    accounts = social.get_accounts(principal, {post.account_id for post in rows})
    items = [{"post": post, "partner": partners[post.partner_id], "account": accounts[post.account_id]}
             for post in sorted(rows, key=lambda p: (p.updated_at, p.id), reverse=True)]
    return items, total


@bp.get("/campaigns/<int:campaign_id>/posts")
@page_required(*VENDOR)
def campaign_posts(principal: Principal, campaign_id: int):
    """A campaign's post plans: posts by state and network, failures with reasons, clicks per network."""
    campaign = get_campaign(principal, campaign_id)
    plans = []
    published: Counter[str] = Counter()
    for plan in reversed(service.plan_views(list_plans(principal, campaign_id))):
        counts = _by_network(principal, plan)
        for network, row in counts.items():
            published[network] += row["published"]
        attention, needing = _attention(principal, plan.id)
        pending = sum(plan.counts[s] for s in ("awaiting_approval", "scheduled", "approved", "held"))
        plans.append({"plan": plan, "counts": counts, "attention": attention, "needing": needing,
                      "failed": plan.counts["failed"], "pending": pending})
    stats = campaign_stats(principal, campaign_id, group_by=("channel",), kind="click")
    clicks = Counter({row["channel"]: row["count"] for row in stats.rows if row["channel"] in NETWORKS})
    totals: dict[str, Counter[str]] = {network: Counter() for network in NETWORKS}
    for item in plans:
        for network, row in item["counts"].items():
            totals[network].update(row)
    planned = {network for item in plans for network in item["plan"].networks}
    networks = [n for n in NETWORKS if n in planned or published[n] or clicks[n]]
    return page("portal/posts_campaign.html", campaign=campaign, plans=plans, columns=COLUMNS,
                networks=networks, published=published, clicks=clicks, totals=totals, timing_text=timing_text,
                **_helpers())


def _plan_page(plan: Any) -> str:
    return url_for("portal_posts.campaign_posts", campaign_id=plan.campaign_id, _anchor=f"plan-{plan.id}")


@bp.post("/plans/<int:plan_id>/retry-failed")
@page_required(*VENDOR)
def retry_plan(principal: Principal, plan_id: int):
    """Queue every failed post of the plan again."""
    plan = get_plan(principal, plan_id)
    back = _plan_page(plan)
    try:
        count = service.retry_failed(principal, plan_id)
    except ConflictError as exc:
        rollback()
        flash(f"Nothing was changed: {message(exc.message)}.")
        return redirect(back)
    flash(f"{count} failed post{'s' if count != 1 else ''} of “{plan.name}” will be sent again in a moment."
          if count else f"“{plan.name}” has no failed post that can be sent again.")
    return redirect(back)


@bp.post("/plans/<int:plan_id>/cancel")
@page_required(*VENDOR)
def cancel_a_plan(principal: Principal, plan_id: int):
    """Cancel the plan: its posts not yet published are cancelled."""
    plan = get_plan(principal, plan_id)
    if plan.status == "cancelled":
        flash(f"“{plan.name}” was already cancelled.")
    else:
        cancel_plan(principal, plan_id)
        flash(f"Cancelled “{plan.name}”: its posts not yet published will not go out.")
    return redirect(_plan_page(plan))
