"""Syndication aggregate: partners' social accounts and the posts scheduled to them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaigns.vocabulary import NETWORKS, PLAN_STATUSES, POST_OUTCOMES, POST_STATUSES
from tcma.models.base import Base, JSONType, TimestampMixin, enum_check, utcnow
from tcma.models.partner import Partner


class SocialAccount(TimestampMixin, Base):
    """A partner's connected account on a network; credentials are stored encrypted."""

    __tablename__ = "social_account"
    __table_args__ = (CheckConstraint(enum_check("network", NETWORKS), name="network"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"), index=True)
    network: Mapped[str] = mapped_column(String(16))
    handle: Mapped[str] = mapped_column(String(200))
    external_id: Mapped[str | None] = mapped_column(String(200))
    base_url: Mapped[str | None] = mapped_column(String(500))
    credentials: Mapped[bytes | None] = mapped_column(LargeBinary)
    display_name: Mapped[str | None] = mapped_column(String(200))
    token_expires_at: Mapped[datetime | None]
    # The last moment the partner's consent holds: the refresh token's end where the network says,
    # else the access token's end when it cannot be refreshed; None: no known end.
    reconnect_by: Mapped[datetime | None] = mapped_column(index=True)
    auto_publish: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)
    # Set when the credentials stopped working for good; cleared by connecting again.
    needs_reconnect_since: Mapped[datetime | None]
    reconnect_reason: Mapped[str | None] = mapped_column(Text)
    connected_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    partner: Mapped[Partner] = relationship()

    @property
    def state(self) -> str:
        """One of SOCIAL_ACCOUNT_STATES: a needed reconnect shows before a pause."""
        if self.needs_reconnect_since is not None:
            return "needs_reconnect"
        return "active" if self.is_active else "paused"


class OAuthConnection(Base):
    """A consent under way: the partner was sent to the network and has not come back yet.

    Only a hash of the `state` parameter is stored; what the network's callback needs back
    (a PKCE verifier, a Mastodon app's id and secret) is sealed like credentials. Used once.
    """

    __tablename__ = "oauth_connection"
    __table_args__ = (CheckConstraint(enum_check("network", NETWORKS), name="network"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    network: Mapped[str] = mapped_column(String(16))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    # The portal session that started it: the callback must come back in the same browser.
    session_hash: Mapped[str | None] = mapped_column(String(64))
    keep: Mapped[bytes | None] = mapped_column(LargeBinary)
    return_to: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class PostPlan(TimestampMixin, Base):
    """A post a marketer plans once for a campaign: every opted-in partner account publishes it.

    The text of each network's post is the campaign's `post:<network>` output rendered for the
    partner (tracked links included); the image, when `image_output` is set, is the partner's
    render of that campaign output. `timing` says when, in each partner's own time zone.
    """

    __tablename__ = "post_plan"
    __table_args__ = (CheckConstraint(enum_check("status", PLAN_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    networks: Mapped[list[str]] = mapped_column(JSONType, default=list)
    image_output: Mapped[str | None] = mapped_column(String(40))
    # {"kind": "local_time", "local": "2027-03-09T10:00"} | {"kind": "window", "start_local", "end_local"}
    # | {"kind": "on_approval"}; local times are wall-clock times at the partner.
    timing: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    requires_approval: Mapped[bool] = mapped_column(default=False)
    allow_late: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    # Accounts that got no post because it would break their frequency caps, and why:
    # [{"account_id", "partner_id", "network", "handle", "reason"}]; an account leaves the list
    # when a later fill finds it room.
    skipped: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)


WAITING_SQL = "status IN ('scheduled', 'approved')"  # POST_WAITING, for the partial index
PUBLISHED_SQL = "status = 'published'"
APPROVED_SQL = "approved_by_id IS NOT NULL"  # approved by a person (not published without approval)


class ScheduledPost(TimestampMixin, Base):
    """One post for one account at one time; `idempotency_key` keeps it from posting twice."""

    __tablename__ = "scheduled_post"
    __table_args__ = (
        CheckConstraint(enum_check("status", POST_STATUSES), name="status"),
        # A plan makes one post per account: planning again (a partner joined) adds only the new ones.
        UniqueConstraint("plan_id", "social_account_id"),
        # The scheduler's question: which waiting posts are due?
        Index("ix_scheduled_post_due", "status", "scheduled_at"),
        # ... in its claim order: (status, scheduled_at) cannot give two statuses in time order, and
        # the planner walked every published post instead (3 s at 2 M posts; 0.3 ms with this one).
        Index("ix_scheduled_post_waiting", "scheduled_at", "id", postgresql_where=text(WAITING_SQL),
              sqlite_where=text(WAITING_SQL)),
        # The post lists' order, walked after a (scheduled_at, id) key: everyone's, and a partner's
        # (which also serves every lookup by partner).
        Index("ix_scheduled_post_scheduled_at_id", "scheduled_at", "id"),
        Index("ix_scheduled_post_partner_time", "partner_id", "scheduled_at", "id"),
        # The insights' questions: every partner's published (approved) posts in a period, and one
        # partner's first and last (a probe per partner rather than a walk over its posts).
        Index("ix_scheduled_post_published_day", "published_at", "partner_id",
              postgresql_where=text(PUBLISHED_SQL), sqlite_where=text(PUBLISHED_SQL)),
        Index("ix_scheduled_post_partner_published", "partner_id", "published_at",
              postgresql_where=text(PUBLISHED_SQL), sqlite_where=text(PUBLISHED_SQL)),
        Index("ix_scheduled_post_approved_day", "approved_at", "partner_id",
              postgresql_where=text(APPROVED_SQL), sqlite_where=text(APPROVED_SQL)),
        Index("ix_scheduled_post_partner_approved", "partner_id", "approved_at",
              postgresql_where=text(APPROVED_SQL), sqlite_where=text(APPROVED_SQL)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    social_account_id: Mapped[int] = mapped_column(
        ForeignKey("social_account.id", ondelete="CASCADE"), index=True
    )
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("post_plan.id", ondelete="CASCADE"), index=True)
    # Indexed: deleting an asset (a campaign's, by cascade) looks its posts up.
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("asset.id", ondelete="SET NULL"), index=True)
    image_asset_id: Mapped[int | None] = mapped_column(ForeignKey("asset.id", ondelete="SET NULL"),
                                                       index=True)
    variant: Mapped[str | None] = mapped_column(String(40))
    # An evergreen post (no plan, no campaign): the library template version the partner picked it
    # from. Field edits re-render from this version (a campaign post's comes from its text asset).
    template_version_id: Mapped[int | None] = mapped_column(ForeignKey("template_version.id"))
    # The partner's values for the template's editable fields (None: the render's own values).
    fields: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    text: Mapped[str] = mapped_column(Text)
    media_key: Mapped[str | None] = mapped_column(String(255))
    # When, as the partner sees it: a wall-clock time in their zone (None: as soon as approved).
    local_at: Mapped[str | None] = mapped_column(String(19))
    time_zone: Mapped[str | None] = mapped_column(String(64))
    scheduled_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="scheduled", index=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    external_id: Mapped[str | None] = mapped_column(String(200))
    external_url: Mapped[str | None] = mapped_column(String(500))
    error: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None]
    # The published post's numbers as the network last gave them ({"likes", "reposts", "replies",
    # "impressions"}; a network that does not say leaves it out), and when they were read.
    metrics: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    metrics_at: Mapped[datetime | None]

    account: Mapped[SocialAccount] = relationship()
    plan: Mapped[PostPlan | None] = relationship()


class PostAttempt(Base):
    """One try at publishing a post: when, by whom, what the network answered."""

    __tablename__ = "post_attempt"
    __table_args__ = (CheckConstraint(enum_check("outcome", POST_OUTCOMES), name="outcome"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("scheduled_post.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    worker: Mapped[str | None] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str | None] = mapped_column(Text)
    # What the network said about its limits on this answer: {"limit", "remaining", "reset"}.
    rate_limit: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
