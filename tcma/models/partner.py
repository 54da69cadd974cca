"""Partner aggregate: the partner and its brand kit."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaigns.vocabulary import PARTNER_STATUSES
from tcma.models.base import Base, TimestampMixin, enum_check
from tcma.models.vendor import Region, Tier, Vertical


class Partner(TimestampMixin, Base):
    """A channel partner that receives co-branded assets and posts."""

    __tablename__ = "partner"
    __table_args__ = (CheckConstraint(enum_check("status", PARTNER_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    tier_id: Mapped[int] = mapped_column(ForeignKey("tier.id"), index=True)
    vertical_id: Mapped[int] = mapped_column(ForeignKey("vertical.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    locale: Mapped[str] = mapped_column(String(35), default="en")
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    status: Mapped[str] = mapped_column(String(16), default="active")

    tier: Mapped[Tier] = relationship(lazy="joined")
    vertical: Mapped[Vertical] = relationship(lazy="joined")
    region: Mapped[Region] = relationship(lazy="joined")
    brand_kit: Mapped[BrandKit | None] = relationship(
        back_populates="partner", uselist=False, cascade="all, delete-orphan"
    )


class BrandKit(TimestampMixin, Base):
    """A partner's logo, colours and contact details, used by every render."""

    __tablename__ = "brand_kit"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"), unique=True)
    logo_key: Mapped[str | None] = mapped_column(String(255))
    logo_dark_key: Mapped[str | None] = mapped_column(String(255))
    primary_color: Mapped[str] = mapped_column(String(7), default="#1F4E79")
    secondary_color: Mapped[str] = mapped_column(String(7), default="#F2A900")
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    website: Mapped[str | None] = mapped_column(String(500))
    address: Mapped[str | None] = mapped_column(Text)
    disclaimer: Mapped[str | None] = mapped_column(Text)

    partner: Mapped[Partner] = relationship(back_populates="brand_kit")
