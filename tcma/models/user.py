"""Access aggregate: users and their API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaigns.vocabulary import PARTNER_ROLES, ROLES
from tcma.models.base import Base, JSONType, TimestampMixin, enum_check, utcnow
from tcma.models.partner import Partner


def role_constraints() -> tuple[CheckConstraint, CheckConstraint]:
    """A known role, and a partner exactly for the partner-side roles (users and invitations)."""
    partner_side = ", ".join(f"'{role}'" for role in PARTNER_ROLES)
    return (CheckConstraint(enum_check("role", ROLES), name="role"),
            CheckConstraint(f"(role IN ({partner_side})) = (partner_id IS NOT NULL)",
                            name="partner_role_has_partner"))


class User(TimestampMixin, Base):
    """Someone who signs in: a vendor admin or marketer, or a partner's user."""

    __tablename__ = "user_account"
    __table_args__ = role_constraints()

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("partner.id", ondelete="CASCADE"), index=True
    )
    is_active: Mapped[bool] = mapped_column(default=True)
    password_changed_at: Mapped[datetime | None]

    partner: Mapped[Partner | None] = relationship()

    @property
    def is_partner_side(self) -> bool:
        return self.role in PARTNER_ROLES


class ApiToken(Base):
    """A bearer token for the API; only its hash is stored, it is shown once."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class WebSession(Base):
    """A portal session kept on the server: the browser holds only an opaque random id.

    Only the id's hash is stored; ending a row (logout, password change, deactivation,
    suspension) ends the session at once, whatever cookie a browser still replays.
    """

    __tablename__ = "web_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                                index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime | None]


class Invitation(Base):
    """An invitation by mail to join tcma in a role; single use, expiring, replaced on re-invite."""

    __tablename__ = "invitation"
    __table_args__ = role_constraints()

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    role: Mapped[str] = mapped_column(String(16))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"),
                                                   index=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    nonce: Mapped[str] = mapped_column(String(43))  # replaced on re-invite: older links stop working
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    partner: Mapped[Partner | None] = relationship()
