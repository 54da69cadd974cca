"""Job outbox: the jobs a use case wants, written in its own transaction, enqueued after it commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from tcma.models.base import Base, JSONType, utcnow


class JobOutbox(Base):
    """One job a committed use case asked for; `enqueued_at` stays empty until Redis took it.

    Rows left empty (Redis was out of reach when the use case committed) are enqueued by the
    maintenance pass; enqueued rows are purged after a day.
    """

    __tablename__ = "job_outbox"
    __table_args__ = (
        # The drain reads only the rows still to enqueue: a partial index stays tiny.
        Index("ix_job_outbox_pending", "id", postgresql_where=text("enqueued_at IS NULL"),
              sqlite_where=text("enqueued_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_name: Mapped[str] = mapped_column(String(200))
    args: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    kwargs: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    job_id: Mapped[str] = mapped_column(String(200))
    # A delayed job (a mail retry's backoff) is not enqueued to run before this.
    run_after: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    enqueued_at: Mapped[datetime | None]
