"""The page envelope every list endpoint answers with."""

from __future__ import annotations

from typing import Any


def page_envelope(items: list[Any], total: int, page: int, per_page: int) -> dict[str, Any]:
    """{items, total, page, per_page} for PageSchema-based responses."""
    return {"items": items, "total": total, "page": page, "per_page": per_page}
