"""Vendor setup: the tiers, verticals and regions partners are sorted by."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tcma.errors import ConflictError, InvalidInput, NotFoundError
from tcma.extensions import db
from tcma.models import Partner, Region, Tier, Vertical
from tcma.services.accounts.auth import Principal
from tcma.services.scoping import require_vendor
from tcma.services.transaction import commit

# The vendor's taxonomy, defined once: kind -> model, and the partner field each kind fills.
KINDS: dict[str, type] = {"tiers": Tier, "verticals": Vertical, "regions": Region}
PARTNER_FIELDS: dict[str, str] = {"tiers": "tier", "verticals": "vertical", "regions": "region"}


def partner_column(kind: str) -> Any:
    """The partner's foreign key to a tier, vertical or region."""
    return getattr(Partner, f"{PARTNER_FIELDS[kind]}_id")


def list_taxonomy(kind: str) -> list[Any]:
    """Every tier, vertical or region, tiers by rank."""
    model = KINDS[kind]
    order = (model.rank, model.slug) if model is Tier else (model.slug,)
    return list(db.session.scalars(select(model).order_by(*order)))


def create_taxonomy(principal: Principal, kind: str, values: dict[str, Any]) -> Any:
    """Add a tier, vertical or region; a taken slug is a conflict."""
    require_vendor(principal)
    _check_rank(kind, values)
    row = KINDS[kind](**values)
    db.session.add(row)
    flush_new_slug(values["slug"])
    commit()
    return row


def update_taxonomy(principal: Principal, kind: str, row_id: int, values: dict[str, Any]) -> Any:
    """Rename or re-rank a tier, vertical or region (the slug stays)."""
    require_vendor(principal)
    _check_rank(kind, values)
    row = db.session.get(KINDS[kind], row_id)
    if row is None:
        raise NotFoundError(f"{kind[:-1]} {row_id} not found")
    for name, value in values.items():
        setattr(row, name, value)
    commit()
    return row


def with_slugs(model: type, column: Any, slugs: list[str]) -> Any:
    """A condition: `column` points at a tier, vertical or region whose slug is listed."""
    return column.in_(select(model.id).where(model.slug.in_(slugs)))


def _check_rank(kind: str, values: dict[str, Any]) -> None:
    if "rank" in values and KINDS[kind] is not Tier:
        raise InvalidInput("only tiers have a rank", {"rank": [f"not a field of {kind}"]})


def flush_new_slug(slug: str) -> None:
    """Write a row whose slug must be unique; a taken slug is a conflict naming the field."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise ConflictError(f"slug {slug!r} is taken", {"slug": ["already exists"]}) from None


def taxonomy_by_slug(kind: str, slug: str, field: str) -> Any:
    """The row with that slug, or a 422-style error naming `field`."""
    row = db.session.scalar(select(KINDS[kind]).where(KINDS[kind].slug == slug))
    if row is None:
        raise InvalidInput(f"unknown {field} {slug!r}", {field: [f"no {field} with slug {slug!r}"]})
    return row
