"""Vendor-configured taxonomy: tiers, verticals and regions are data, not enums in code."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from tcma.models.base import Base, TimestampMixin


class Tier(TimestampMixin, Base):
    """A partner programme level (e.g. Registered, Silver, Gold); rank orders them."""

    __tablename__ = "tier"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    rank: Mapped[int] = mapped_column(default=0)


class Vertical(TimestampMixin, Base):
    """An industry a partner sells into (healthcare, finance, ...)."""

    __tablename__ = "vertical"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))


class Region(TimestampMixin, Base):
    """A sales region; legal disclaimers are chosen by region."""

    __tablename__ = "region"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
