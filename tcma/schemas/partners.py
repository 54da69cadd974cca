"""Partners and brand kits."""

from __future__ import annotations

from zoneinfo import available_timezones

from marshmallow import Schema, ValidationError, fields, validate, validates

from campaigns.vocabulary import PARTNER_STATUSES as STATUSES
from tcma.schemas.common import COLOR, SLUG, PageArgs, UpdateSchema, page_of

LOCALE = validate.Regexp(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", error="a locale like en, de-DE or pt-BR")


class BrandKitSchema(Schema):
    """A partner's colours, contact details and logo."""

    primary_color = fields.String(validate=COLOR)
    secondary_color = fields.String(validate=COLOR)
    contact_name = fields.String(allow_none=True, validate=validate.Length(max=200))
    contact_email = fields.Email(allow_none=True)
    contact_phone = fields.String(allow_none=True, validate=validate.Length(max=40))
    website = fields.Url(allow_none=True, schemes={"http", "https"})
    address = fields.String(allow_none=True, validate=validate.Length(max=500))
    disclaimer = fields.String(allow_none=True, validate=validate.Length(max=2000))
    logo_key = fields.String(dump_only=True, allow_none=True)
    logo_dark_key = fields.String(dump_only=True, allow_none=True)


class BrandKitUpdateSchema(BrandKitSchema, UpdateSchema):
    """Partial brand kit update: at least one field."""


class PartnerSchema(Schema):
    """A channel partner; tier, vertical and region by slug."""

    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    slug = fields.String(required=True, validate=SLUG)
    tier = fields.Function(lambda p: p.tier.slug, deserialize=str, required=True)
    vertical = fields.Function(lambda p: p.vertical.slug, deserialize=str, required=True)
    region = fields.Function(lambda p: p.region.slug, deserialize=str, required=True)
    locale = fields.String(load_default="en", validate=LOCALE)
    time_zone = fields.String(load_default="UTC")
    status = fields.String(load_default="active", validate=validate.OneOf(STATUSES))
    brand_kit = fields.Nested(BrandKitSchema)

    @validates("time_zone")
    def check_time_zone(self, value: str, **_: object) -> None:
        if value not in available_timezones():
            raise ValidationError("an IANA time zone like Europe/Berlin")


class PartnerUpdateSchema(PartnerSchema, UpdateSchema):
    """Partial partner update (the slug stays)."""

    class Meta:
        exclude = ("slug", "brand_kit")

    name = fields.String(validate=validate.Length(min=1, max=200))
    tier = fields.String()
    vertical = fields.String()
    region = fields.String()
    locale = fields.String(validate=LOCALE)
    time_zone = fields.String()
    status = fields.String(validate=validate.OneOf(STATUSES))


class PartnerFilterArgs(PageArgs):
    """Filters for listing partners."""

    tier = fields.List(fields.String(validate=SLUG))
    vertical = fields.List(fields.String(validate=SLUG))
    region = fields.List(fields.String(validate=SLUG))
    status = fields.String(validate=validate.OneOf(STATUSES))
    q = fields.String(validate=validate.Length(max=100))


PartnerPageSchema = page_of(PartnerSchema, "PartnerPageSchema")


class LogoSlotSchema(Schema):
    """Which logo an upload is: for light backgrounds, dark ones, or auto (derive the other)."""

    variant = fields.String(load_default="auto", validate=validate.OneOf(["auto", "light", "dark"]))


class LogoUploadSchema(Schema):
    """multipart/form-data with the logo file."""

    logo = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})
