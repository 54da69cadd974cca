"""One mail to each partner user listing the posts that wait for their approval, never one per post.

The maintenance pass calls `queue_approval_digests`: a partner's users get a digest when posts
started waiting for approval since their last digest (or ever, for a first one), at most one per
DIGEST_EVERY. The message is composed when it is sent, from the posts still waiting then: a post
approved in the meantime is not listed, and a digest with nothing left to approve is not sent.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from markupsafe import escape
from sqlalchemy import func, select

from campaigns.vocabulary import NETWORK_LABELS
from tcma.config import get_settings
from tcma.extensions import db
from tcma.mail import OutgoingMail
from tcma.models import OutboundMail, Partner, ScheduledPost, SocialAccount, User
from tcma.models.base import utcnow
from tcma.services.sending.mail import composer, queue_mail
from tcma.services.transaction import commit

KIND = "approval_digest"
DIGEST_EVERY = timedelta(hours=4)
LISTED = 20  # posts listed in one digest; the rest are counted


def queue_approval_digests(now: datetime | None = None) -> int:
    """Queue a digest for every partner user with posts newly awaiting approval; how many queued."""
    now = now or utcnow()
    newest = dict(db.session.execute(
        select(ScheduledPost.partner_id, func.max(ScheduledPost.created_at))
        .where(ScheduledPost.status == "awaiting_approval").group_by(ScheduledPost.partner_id)).all())
    if not newest:
        return 0
    users = db.session.execute(select(User.id, User.email, User.partner_id).where(
        User.partner_id.in_(newest), User.is_active.is_(True))).all()
    last = dict(db.session.execute(
        select(OutboundMail.ref_id, func.max(OutboundMail.created_at))
        .where(OutboundMail.kind == KIND, OutboundMail.ref_id.in_([u.id for u in users]))
        .group_by(OutboundMail.ref_id)).all())
    queued = 0
    for user_id, email, partner_id in users:
        previous = last.get(user_id)
        if previous is not None and (previous > now - DIGEST_EVERY or newest[partner_id] <= previous):
            continue
        queue_mail(KIND, user_id, email)
        queued += 1
    commit()
    return queued


def _when(post: ScheduledPost) -> str:
    if post.local_at is None:
        return "as soon as you approve it"
    zone = post.time_zone or "UTC"
    local = post.scheduled_at.astimezone(ZoneInfo(zone))
    return f"{local:%a %d %b %Y, %H:%M} ({zone})"


@composer(KIND)
def compose_digest(user_id: int, message_id: str) -> OutgoingMail | None:
    """The posts the user's partner has waiting for approval now (None: nothing left to approve)."""
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or user.partner_id is None:
        return None
    partner = db.session.get(Partner, user.partner_id)
    rows = db.session.execute(
        select(ScheduledPost, SocialAccount.network, SocialAccount.handle)
        .join(SocialAccount, SocialAccount.id == ScheduledPost.social_account_id)
        .where(ScheduledPost.partner_id == user.partner_id, ScheduledPost.status == "awaiting_approval")
        .order_by(ScheduledPost.scheduled_at, ScheduledPost.id)).all()
    if not rows or partner is None:
        return None
    page = f"{get_settings().public_url}/portal/posts"
    by_plan: dict[str, list[str]] = defaultdict(list)
    for post, network, handle in rows[:LISTED]:
        title = post.plan.name if post.plan else "Post"
        by_plan[title].append(f"{NETWORK_LABELS.get(network, network)} {handle}: {_when(post)}")
    more = len(rows) - LISTED
    count = f"{len(rows)} post{'s' if len(rows) != 1 else ''}"
    text = [f"Hello,\n\n{count} for {partner.name} wait for your approval before they go out:\n"]
    html = [f"<p>Hello,</p><p>{count} for <strong>{escape(partner.name)}</strong> wait for your approval "
            f"before they go out:</p>"]
    for title, lines in by_plan.items():
        text.append(f"\n{title}\n" + "".join(f"  - {line}\n" for line in lines))
        html.append(f"<p><strong>{escape(title)}</strong></p><ul>"
                    + "".join(f"<li>{escape(line)}</li>" for line in lines) + "</ul>")
    if more > 0:
        text.append(f"\n...and {more} more.\n")
        html.append(f"<p>...and {more} more.</p>")
    text.append(f"\nSee each post exactly as it will go out, then approve, edit or reject it:\n{page}\n\n"
                "A post not approved by its time does not go out.\n")
    html.append(f'<p><a href="{page}">Review the posts</a>: see each exactly as it will go out, then '
                "approve, edit or reject it.</p><p>A post not approved by its time does not go out.</p>")
    return OutgoingMail(to=[user.email], subject=f"{count} to approve for {partner.name}",
                        text="".join(text), html="".join(html), message_id=message_id)
