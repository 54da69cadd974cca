"""The page envelope every list endpoint answers with."""

from __future__ import annotations

from typing import Any

from tcma.services.paging import Page, Window


def page_envelope(items: list[Any], total: int, page: int, per_page: int) -> dict[str, Any]:
    """{items, total, page, per_page} for PageSchema-based responses."""
    return {"items": items, "total": total, "page": page, "per_page": per_page}


def window_of(args: dict[str, Any]) -> Window:
    """The page or keyset window asked by KeysetPageArgs (taken out of `args`, leaving the filters)."""
    page, per_page, after = args.pop("page"), args.pop("per_page"), args.pop("after", None)
    return Window(page=page, per_page=per_page, after=after)


def keyset_envelope(page: Page[Any], window: Window, items: list[Any] | None = None) -> dict[str, Any]:
    """The envelope of KeysetPageSchema: also `next` (a cursor, or None) and `total_is_estimate`;
    `page` is None when the window was asked with after=."""
    return {"items": page.items if items is None else items, "total": page.total,
            "page": None if window.after is not None else window.page, "per_page": window.per_page,
            "next": page.next_key, "total_is_estimate": page.total_is_estimate}
