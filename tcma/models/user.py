"""Access aggregate: users and their API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tcma.models.base import Base, TimestampMixin, enum_check, utcnow
from tcma.models.partner import Partner

ROLES = ("admin", "marketer", "partner")


class User(TimestampMixin, Base):
    """Someone who signs in: a vendor admin or marketer, or a partner's user."""

    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint(enum_check("role", ROLES), name="role"),
        CheckConstraint(
            "(role = 'partner') = (partner_id IS NOT NULL)", name="partner_role_has_partner"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("partner.id", ondelete="CASCADE"), index=True
    )
    is_active: Mapped[bool] = mapped_column(default=True)

    partner: Mapped[Partner | None] = relationship()


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
