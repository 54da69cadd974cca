"""The one place that keeps partner users to their own partner's rows."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select

from tcma.errors import NotFoundError, PermissionDenied
from tcma.extensions import db
from tcma.services.accounts.auth import Principal

M = TypeVar("M")


def get_scoped(model: type[M], row_id: int, principal: Principal, partner_attr: str = "partner_id",
               what: str | None = None) -> M:
    """Fetch a row by id; another partner's row answers 404, exactly like a missing one."""
    row = db.session.get(model, row_id)
    if row is None or (principal.is_partner and getattr(row, partner_attr) != principal.partner_id):
        raise NotFoundError(f"{what or model.__name__.lower()} {row_id} not found")
    return row


def scope_select(stmt: Select[Any], column: Any, principal: Principal) -> Select[Any]:
    """Restrict a query to the caller's partner when the caller is a partner user."""
    if principal.is_partner:
        return stmt.where(column == principal.partner_id)
    return stmt


def require_vendor(principal: Principal) -> None:
    """Only admins and marketers may go on."""
    if not principal.is_vendor:
        raise PermissionDenied("this needs a marketer or admin account")
