"""Template aggregate: a catalogue entry, its immutable versions and partner customizations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tcma.models.base import Base, JSONType, TimestampMixin, utcnow


class Template(TimestampMixin, Base):
    """A campaign template in the vendor's catalogue; its content lives in versions."""

    __tablename__ = "template"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")

    versions: Mapped[list[TemplateVersion]] = relationship(
        back_populates="template", order_by="TemplateVersion.version"
    )


class TemplateVersion(Base):
    """One published, never-edited version of a template (the manifest as JSON)."""

    __tablename__ = "template_version"
    __table_args__ = (UniqueConstraint("template_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("template.id", ondelete="CASCADE"))
    version: Mapped[int]
    spec: Mapped[dict[str, Any]] = mapped_column(JSONType)
    outputs: Mapped[list[str]] = mapped_column(JSONType)
    available_tiers: Mapped[list[str]] = mapped_column(JSONType, default=list)
    published_at: Mapped[datetime] = mapped_column(default=utcnow)

    template: Mapped[Template] = relationship(back_populates="versions")


class Customization(TimestampMixin, Base):
    """A partner's values for a template's editable fields, per template version."""

    __tablename__ = "customization"
    __table_args__ = (UniqueConstraint("partner_id", "template_version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"))
    template_version_id: Mapped[int] = mapped_column(ForeignKey("template_version.id"))
    fields: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    dropped_fields: Mapped[list[str]] = mapped_column(JSONType, default=list)
