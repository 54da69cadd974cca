"""Counting the SQL statements a request costs (pages and lists must cost a bounded number)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from tcma.extensions import db


@contextmanager
def recorded_statements() -> Iterator[list[str]]:
    """The SQL statements the engine sends inside the block, in order."""
    seen: list[str] = []

    def listener(*args) -> None:
        seen.append(args[2])

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
