"""Syndication aggregate: partners' social accounts and the posts scheduled to them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaigns.vocabulary import NETWORKS, POST_STATUSES
from tcma.models.base import Base, TimestampMixin, enum_check, utcnow
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


class ScheduledPost(TimestampMixin, Base):
    """One post for one account at one time; `idempotency_key` keeps it from posting twice."""

    __tablename__ = "scheduled_post"
    __table_args__ = (CheckConstraint(enum_check("status", POST_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    social_account_id: Mapped[int] = mapped_column(
        ForeignKey("social_account.id", ondelete="CASCADE"), index=True
    )
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("asset.id", ondelete="SET NULL"))
    variant: Mapped[str | None] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    media_key: Mapped[str | None] = mapped_column(String(255))
    scheduled_at: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(20), default="scheduled", index=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    external_id: Mapped[str | None] = mapped_column(String(200))
    external_url: Mapped[str | None] = mapped_column(String(500))
    error: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None]

    account: Mapped[SocialAccount] = relationship()
