"""Pages of long lists: by page number (an OFFSET) or after the last row's sort key (keyset).

A keyset page reads `WHERE (k1, k2) > (last k1, last k2) ORDER BY k1, k2 LIMIT n` from an index,
so page 50,000 costs what page 1 does; an OFFSET walks every row before it (19 s at 2.5 M assets).
Each page reads one row more than it shows, to know whether another follows (`next_key`).

Totals: an unfiltered list of a table bigger than TCMA_ESTIMATED_TOTAL_FROM rows (on PostgreSQL)
gives the planner's estimate (`pg_class.reltuples`, kept by ANALYZE and autovacuum) instead of
counting every row; the page says so (`total_is_estimate`). Filtered, scoped to a partner, smaller,
or on SQLite: an exact count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, bindparam, func, select, text, tuple_

from tcma.config import get_settings
from tcma.extensions import db

T = TypeVar("T")


@dataclass(frozen=True)
class Window:
    """Which rows of a list to read: page `page`, or the `per_page` rows after sort key `after`."""

    page: int = 1
    per_page: int = 50
    after: tuple[Any, ...] | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page: its items, the total, and the sort key to ask the next page after (None: last)."""

    items: list[T]
    total: int
    next_key: tuple[Any, ...] | None = None
    total_is_estimate: bool = False


def read_window(stmt: Select[Any], order: Sequence[Any], window: Window, descending: bool = False
                ) -> tuple[list[Any], bool]:
    """The window's rows of `stmt` in `order` (columns, ascending unless `descending`), and whether
    more follow."""
    if window.after is not None:
        keys = tuple_(*order)
        last = tuple_(*(bindparam(None, value, type_=column.type)
                        for column, value in zip(order, window.after, strict=True)))
        stmt = stmt.where(keys < last if descending else keys > last)
    else:
        stmt = stmt.offset((window.page - 1) * window.per_page)
    ordered = [column.desc() if descending else column for column in order]
    rows = list(db.session.execute(stmt.order_by(*ordered).limit(window.per_page + 1)))
    return rows[:window.per_page], len(rows) > window.per_page


def count_rows(counted: Select[Any], table: str, filtered: bool) -> tuple[int, bool]:
    """(total, is_estimate): `counted` run exactly, unless unfiltered on a big PostgreSQL table."""
    if not filtered and db.session.get_bind().dialect.name == "postgresql":
        estimate = _estimated_rows(table)
        if estimate is not None and estimate >= get_settings().estimated_total_from:
            return estimate, True
    return int(db.session.scalar(counted) or 0), False


def _estimated_rows(table: str) -> int | None:
    """The planner's row count of `table`; None before its first ANALYZE (reltuples is -1 then)."""
    found = db.session.scalar(text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:table)"),
                              {"table": table})
    return None if found is None or found < 0 else int(found)


def count_of(model: Any) -> Select[Any]:
    """SELECT count(*) FROM the model's table (to be filtered like the list)."""
    return select(func.count()).select_from(model)
