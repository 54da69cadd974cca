"""A partner's contacts and lists: CRUD, CSV import, GDPR export and erasure; counts for the vendor."""

from __future__ import annotations

import json

from flask import request
from flask_smorest import Blueprint
from marshmallow import ValidationError

from tcma.api.pagination import page_envelope
from tcma.api.security import ANY_ROLE, PARTNER, auth_required
from tcma.errors import InvalidInput
from tcma.http_errors import uploads
from tcma.schemas.contacts import (
    ContactFilterArgs,
    ContactListSchema,
    ContactListUpdateSchema,
    ContactPageSchema,
    ContactSchema,
    ContactSummarySchema,
    ContactUpdateSchema,
    ErasureSchema,
    ImportFormSchema,
    ImportOptionsSchema,
    ImportResultSchema,
    PartnerArgs,
)
from tcma.services.sending import contacts, imports

blp = Blueprint("contacts", __name__, url_prefix="contacts", description="A partner's own contacts")
lists_blp = Blueprint("contact_lists", __name__, url_prefix="contact-lists", description="Contact lists")


@blp.get("")
@auth_required(*PARTNER)
@blp.arguments(ContactFilterArgs, location="query")
@blp.response(200, ContactPageSchema)
def list_contacts(principal, args):
    """The partner's contacts, by list, tag or search; paginated. Partner users only."""
    page, per_page = args.pop("page"), args.pop("per_page")
    items, total = contacts.list_contacts(principal, args, page, per_page)
    return page_envelope(items, total, page, per_page)


@blp.post("")
@auth_required(*PARTNER)
@blp.arguments(ContactSchema)
@blp.response(201, ContactSchema)
def add_contact(principal, args):
    """Add a contact with its consent (source, time, wording), tags and lists."""
    return contacts.add_contact(principal, args)


@blp.get("/summary")
@auth_required(*ANY_ROLE)
@blp.arguments(PartnerArgs, location="query")
@blp.response(200, ContactSummarySchema)
def contact_summary(principal, args):
    """Counts about a partner's contacts (total, per list, per tag, suppressed): what the vendor sees."""
    return contacts.contact_summary(principal, args.get("partner_id"))


@blp.get("/<int:contact_id>")
@auth_required(*PARTNER)
@blp.response(200, ContactSchema)
def get_contact(principal, contact_id):
    """One contact."""
    return contacts.get_contact(principal, contact_id)


@blp.patch("/<int:contact_id>")
@auth_required(*PARTNER)
@blp.arguments(ContactUpdateSchema)
@blp.response(200, ContactSchema)
def update_contact(principal, args, contact_id):
    """Change a contact's address, names, tags, consent or lists."""
    return contacts.update_contact(principal, contact_id, args)


@blp.delete("/<int:contact_id>")
@auth_required(*PARTNER)
@blp.response(204)
def delete_contact(principal, contact_id):
    """Delete a contact (sent messages keep no copy of the address)."""
    contacts.delete_contact(principal, contact_id)


@blp.get("/<int:contact_id>/export")
@auth_required(*PARTNER)
def export_contact(principal, contact_id):
    """GDPR access: everything held about the contact, with the messages sent and what they did."""
    return contacts.export_contact(principal, contact_id)


@blp.post("/<int:contact_id>/erase")
@auth_required(*PARTNER)
@blp.response(200, ErasureSchema)
def erase_contact(principal, contact_id):
    """GDPR erasure: the contact and every copy of the address go; a salted hash stays so the
    person is never mailed or imported again."""
    return contacts.erase_contact(principal, contact_id)


@lists_blp.get("")
@auth_required(*ANY_ROLE)
@lists_blp.arguments(PartnerArgs, location="query")
@lists_blp.response(200, ContactListSchema(many=True))
def list_lists(principal, args):
    """Lists with their number of contacts (the vendor sees these counts, never the contacts)."""
    return contacts.list_lists(principal, args.get("partner_id"))


@lists_blp.post("")
@auth_required(*PARTNER)
@lists_blp.arguments(ContactListSchema)
@lists_blp.response(201, ContactListSchema)
def create_list(principal, args):
    """Create an empty list."""
    created = contacts.create_list(principal, args["name"])
    return {
        "id": created.id,
        "partner_id": created.partner_id,
        "name": created.name,
        "contacts": 0,
        "created_at": created.created_at,
    }


@lists_blp.patch("/<int:list_id>")
@auth_required(*PARTNER)
@lists_blp.arguments(ContactListUpdateSchema)
@lists_blp.response(200, ContactListSchema)
def rename_list(principal, args, list_id):
    """Rename a list."""
    return contacts.rename_list(principal, list_id, args["name"])


@lists_blp.delete("/<int:list_id>")
@auth_required(*PARTNER)
@lists_blp.response(204)
def delete_list(principal, list_id):
    """Delete a list (its contacts stay)."""
    contacts.delete_list(principal, list_id)


@lists_blp.post("/<int:list_id>/import")
@uploads("file")
@auth_required(*PARTNER)
@lists_blp.arguments(ImportFormSchema, location="files")
@lists_blp.response(200, ImportResultSchema)
def import_contacts(principal, args, list_id):
    """Import a CSV file (UTF-8, header line) into the list. Form fields: `mapping` (JSON object
    field -> column), `consent_source`, `consent_text`, `consent_at`, `tags` (comma-separated) for
    rows without their own. Every bad row is reported as "line N: reason" and then nothing is imported."""
    options = _import_options()
    return imports.import_contacts(
        principal, list_id, request.files["file"].read(), options.get("mapping"), options
    )


def _import_options() -> dict:
    form = dict(request.form)
    try:
        if "mapping" in form:
            form["mapping"] = json.loads(form["mapping"])
        if "tags" in form:
            form["tags"] = [t for t in form["tags"].split(",") if t.strip()]
        return ImportOptionsSchema().load(form)
    except json.JSONDecodeError:
        raise InvalidInput(
            'mapping must be a JSON object like {"email": "E-Mail"}', {"mapping": ["not JSON"]}
        ) from None
    except ValidationError as exc:
        raise InvalidInput("the import options are not valid", exc.messages) from None
