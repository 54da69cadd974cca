"""Schemas shared by every resource: pagination and the error body."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from campaigns.vocabulary import MAX_DATABASE_ID

SLUG = validate.Regexp(r"^[a-z0-9][a-z0-9-]{0,79}$", error="lowercase letters, digits and dashes")
DB_ID = validate.Range(min=1, max=MAX_DATABASE_ID, error="not an id")
COLOR = validate.Regexp(r"^#[0-9A-Fa-f]{6}$", error="a colour like #1F4E79")


MAX_PAGE = 100_000
MAX_PER_PAGE = 500
UNKNOWN_FIELD = "Unknown field."
NOTHING_TO_CHANGE = "nothing to change: send at least one field"


class QueryArgs(Schema):
    """Query arguments: a parameter the endpoint does not know is refused, not silently ignored.

    webargs drops unknown query parameters before the schema sees them, so they are found in the
    original mapping; a misspelt filter would otherwise answer everything, unfiltered.
    """

    @validates_schema(pass_original=True)
    def refuse_unknown(self, data: dict[str, Any], original: Any, **kwargs: Any) -> None:
        known = {field.data_key or name for name, field in self.load_fields.items()}
        unknown = sorted(set(original) - known)
        if unknown:
            raise ValidationError({name: [UNKNOWN_FIELD] for name in unknown})


class PageArgs(QueryArgs):
    """?page=&per_page= on list endpoints (bounded: the offset must fit the database's integers)."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PER_PAGE))


BAD_CURSOR = "not a cursor of this list: pass the `next` of its previous page"
# Long lists answer page= only this deep: an OFFSET reads every row before it (19 s at row 2.5 M),
# and `after` reads any depth from an index (as search engines cap their result windows).
MAX_OFFSET_ROWS = 10_000
PAGE_OR_AFTER = "give page or after, not both"


class Cursor(fields.String):
    """An opaque cursor: the sort key of a page's last row, as url-safe base64 of a JSON list.

    Loading checks the key's shape against `kinds` (int or datetime, in sort order) and answers a
    tuple; dumping encodes a tuple (datetimes in ISO 8601).
    """

    def __init__(self, kinds: tuple[type, ...] = (int,), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kinds = kinds

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else encode_cursor(value)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> tuple[Any, ...]:
        try:
            padded = str(value) + "=" * (-len(str(value)) % 4)
            parts = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
            if not isinstance(parts, list) or len(parts) != len(self.kinds):
                raise ValueError(parts)
            return tuple(_key_part(part, kind) for part, kind in zip(parts, self.kinds, strict=True))
        except (ValueError, TypeError, OverflowError, UnicodeError, binascii.Error) as exc:
            raise ValidationError(BAD_CURSOR) from exc


def encode_cursor(key: tuple[Any, ...]) -> str:
    """The cursor of a sort key (what `next` carries and after= takes)."""
    plain = [part.isoformat() if isinstance(part, datetime) else part for part in key]
    packed = json.dumps(plain, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(packed).decode().rstrip("=")


def _key_part(part: Any, kind: type) -> Any:
    if kind is int and isinstance(part, int) and not isinstance(part, bool) and 0 <= part <= MAX_DATABASE_ID:
        return part
    if kind is datetime and isinstance(part, str):
        moment = datetime.fromisoformat(part)
        if moment.tzinfo is None:
            raise ValueError(part)
        return moment.astimezone(UTC)  # out of range in UTC (year 1 or 9999 elsewhere): OverflowError
    raise ValueError(part)


class KeysetPageArgs(PageArgs):
    """?page= or ?after= (the `next` cursor of the previous page), and ?per_page=."""

    after = Cursor(metadata={"description": "the `next` of the previous page: the page after it, "
                                            "read from an index however deep (page= is an offset)"})

    @validates_schema(pass_original=True)
    def page_or_after(self, data: dict[str, Any], original: Any, **kwargs: Any) -> None:
        if "after" in data and "page" in original:
            raise ValidationError({"after": [PAGE_OR_AFTER]})
        page, per_page = data.get("page", 1), data.get("per_page", 50)
        if (page - 1) * per_page >= MAX_OFFSET_ROWS:
            raise ValidationError({"page": [
                f"page {page} of {per_page} starts past row {MAX_OFFSET_ROWS:,} of this list: walk further "
                "with after= (each page's `next`), which reads any depth at the speed of the first page"]})


class UpdateSchema(Schema):
    """A partial update (PATCH): an empty body is refused rather than answered as a change."""

    @validates_schema
    def refuse_nothing(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data:
            raise ValidationError(NOTHING_TO_CHANGE)


class PageSchema(Schema):
    """The envelope of a list: its items and where this page sits."""

    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class KeysetPageSchema(PageSchema):
    """The envelope of a long list, which can also be walked with `after=` (its `next`)."""

    page = fields.Integer(required=True, allow_none=True, metadata={
        "description": "the page number asked for; null when the page was asked with after="})
    next = Cursor(required=True, allow_none=True, metadata={
        "description": "pass as after= for the following page; null on the last page"})
    total_is_estimate = fields.Boolean(required=True, metadata={
        "description": "true when `total` is the database's estimate (an unfiltered list of a very "
                       "large table), not a count"})


def page_of(item_schema: type[Schema], name: str, keyset: bool = False) -> type[Schema]:
    """A page envelope schema whose `items` are `item_schema` (with `next` when `keyset`)."""
    base = KeysetPageSchema if keyset else PageSchema
    return type(name, (base,), {"items": fields.List(fields.Nested(item_schema), required=True)})


class ErrorSchema(Schema):
    """The one error body: {code, status, message, errors}."""

    code = fields.Integer()
    status = fields.String()
    message = fields.String()
    errors = fields.Dict()
