"""A partner's contacts, lists and imports; the vendor's view of them is counts only."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from tcma.schemas.common import DB_ID, PageArgs, QueryArgs, UpdateSchema, page_of

NAME = validate.Length(max=100)
TAG = fields.String(validate=validate.Length(min=1, max=40))


class ContactSchema(Schema):
    """A contact as its partner sees it (the vendor never gets this shape)."""

    id = fields.Integer(dump_only=True)
    partner_id = fields.Integer(dump_only=True)
    email = fields.String(required=True, validate=validate.Length(min=3, max=254))
    first_name = fields.String(allow_none=True, validate=NAME)
    last_name = fields.String(allow_none=True, validate=NAME)
    tags = fields.List(TAG, validate=validate.Length(max=20))
    consent_source = fields.String(
        required=True,
        validate=validate.Length(min=1, max=120),
        metadata={"description": "where consent was given (a web form's address, an event, a contract)"},
    )
    consent_at = fields.DateTime(metadata={"description": "when consent was given (default: now)"})
    consent_text = fields.String(
        required=True,
        validate=validate.Length(min=1, max=2000),
        metadata={"description": "the wording the person agreed to"},
    )
    list_ids = fields.List(fields.Integer(validate=DB_ID), load_only=True, validate=validate.Length(max=100))
    lists = fields.Function(lambda c: [{"id": x.id, "name": x.name} for x in c.lists], dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class ContactUpdateSchema(UpdateSchema):
    """Change any of a contact's fields."""

    email = fields.String(validate=validate.Length(min=3, max=254))
    first_name = fields.String(allow_none=True, validate=NAME)
    last_name = fields.String(allow_none=True, validate=NAME)
    tags = fields.List(TAG, validate=validate.Length(max=20))
    consent_source = fields.String(validate=validate.Length(min=1, max=120))
    consent_at = fields.DateTime()
    consent_text = fields.String(validate=validate.Length(min=1, max=2000))
    list_ids = fields.List(fields.Integer(validate=DB_ID), validate=validate.Length(max=100))


class ContactFilterArgs(PageArgs):
    """Narrow the partner's contacts to a list, a tag, or a search."""

    list_id = fields.Integer(validate=DB_ID)
    tag = fields.String(validate=validate.Length(max=40))
    q = fields.String(validate=validate.Length(max=100))


ContactPageSchema = page_of(ContactSchema, "ContactPageSchema")


class ContactListSchema(Schema):
    """A list and how many contacts it has (what the vendor may see too)."""

    id = fields.Integer(dump_only=True)
    partner_id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    contacts = fields.Integer(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class ContactListUpdateSchema(UpdateSchema):
    """Rename a list."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=120))


class PartnerArgs(QueryArgs):
    """Which partner (vendor users; a partner's user is always their own)."""

    partner_id = fields.Integer(validate=DB_ID)


class ImportFormSchema(Schema):
    """multipart/form-data: the CSV file, the column of each field, consent for the whole file."""

    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class ImportOptionsSchema(Schema):
    """The form fields beside the file (mapping as field=column pairs)."""

    mapping = fields.Dict(
        keys=fields.String(validate=validate.Length(max=40)),
        values=fields.String(validate=validate.Length(min=1, max=200)),
        metadata={
            "description": 'JSON object: tcma field -> CSV column, e.g. {"email": "E-Mail"}; '
            "default: columns named like the fields"
        },
    )
    consent_source = fields.String(validate=validate.Length(min=1, max=120))
    consent_text = fields.String(validate=validate.Length(min=1, max=2000))
    consent_at = fields.DateTime()
    tags = fields.List(TAG, validate=validate.Length(max=20))


class ImportResultSchema(Schema):
    """What an import did."""

    list_id = fields.Integer()
    rows = fields.Integer()
    created = fields.Integer()
    updated = fields.Integer()


class ListCountSchema(Schema):
    """A list's name and size."""

    id = fields.Integer()
    name = fields.String()
    contacts = fields.Integer()


class ContactSummarySchema(Schema):
    """Counts about a partner's contacts: no address, no name."""

    partner_id = fields.Integer()
    contacts = fields.Integer()
    tags = fields.Dict(keys=fields.String(), values=fields.Integer())
    lists = fields.List(fields.Nested(ListCountSchema))
    suppressed = fields.Dict(keys=fields.String(), values=fields.Integer())


class ErasureSchema(Schema):
    """What an erasure removed."""

    erased = fields.Boolean()
    messages_scrubbed = fields.Integer()
