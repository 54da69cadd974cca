"""Contacts aggregate: a partner's own contacts, their lists, and the addresses never to mail.

Contacts belong to their partner: the vendor's users read counts, never addresses. A suppression
keeps only a salted hash of the address, so an erased person stays unmailed without a copy kept.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaigns.vocabulary import SUPPRESSION_REASONS
from tcma.models.base import Base, JSONType, TimestampMixin, enum_check, utcnow


class ContactList(TimestampMixin, Base):
    """A named list of a partner's contacts that sends go to."""

    __tablename__ = "contact_list"
    __table_args__ = (UniqueConstraint("partner_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))


class Contact(TimestampMixin, Base):
    """One person a partner may email: the normalised address, names, tags and how consent was given."""

    __tablename__ = "contact"
    __table_args__ = (UniqueConstraint("partner_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    address_hash: Mapped[str] = mapped_column(String(64), index=True)
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    consent_source: Mapped[str] = mapped_column(String(120))
    consent_at: Mapped[datetime]
    consent_text: Mapped[str] = mapped_column(Text)

    lists: Mapped[list[ContactList]] = relationship(
        secondary="contact_list_member", order_by=ContactList.name
    )


class ContactListMember(Base):
    """A contact's place on a list."""

    __tablename__ = "contact_list_member"

    list_id: Mapped[int] = mapped_column(ForeignKey("contact_list.id", ondelete="CASCADE"), primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Suppression(Base):
    """An address (as a salted hash) a partner must not mail; partner_id None: no partner may."""

    __tablename__ = "suppression"
    __table_args__ = (
        CheckConstraint(enum_check("reason", SUPPRESSION_REASONS), name="reason"),
        Index("ix_suppression_lookup", "address_hash", "partner_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"))
    address_hash: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(20))
    source: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
