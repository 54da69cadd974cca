"""A partner's own contacts and lists: add, edit, delete, tag, consent, GDPR export and erasure.

Contacts belong to their partner. Only the partner's own users read or change them; the vendor's
users get counts (`contact_summary`), never an address (PermissionDenied names why).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update

from tcma.errors import ConflictError, InvalidInput, PermissionDenied
from tcma.extensions import db
from tcma.models import (
    Contact,
    ContactList,
    ContactListMember,
    EmailRecipient,
    EmailSend,
    Event,
    Partner,
    Suppression,
)
from tcma.models.base import utcnow
from tcma.services.accounts.auth import Principal
from tcma.services.scoping import get_scoped
from tcma.services.sending.suppressions import address_hash, normalise_address, suppress, suppression_counts
from tcma.services.transaction import commit

PARTNERS_ONLY = (
    "contacts belong to the partner: only the partner's own users see or change them "
    "(the vendor sees counts on /contact-lists and /contacts/summary)"
)
MAX_TAGS, MAX_TAG = 20, 40
CONTACT_FIELDS = ("first_name", "last_name", "tags", "consent_source", "consent_at", "consent_text")


def owner_partner(principal: Principal) -> int:
    """The partner whose contacts the caller works on; a vendor user is refused."""
    if not principal.is_partner or principal.partner_id is None:
        raise PermissionDenied(PARTNERS_ONLY)
    return principal.partner_id


def clean_tags(tags: Any) -> list[str]:
    """Tags as stored: trimmed, lower case, unique, sorted; InvalidInput names a bad one."""
    if tags is None:
        return []
    cleaned = sorted({str(tag).strip().lower() for tag in tags if str(tag).strip()})
    for tag in cleaned:
        if len(tag) > MAX_TAG:
            raise InvalidInput(
                f"tag {tag[:50]!r} is longer than {MAX_TAG} characters",
                {"tags": [f"each tag at most {MAX_TAG} characters"]},
            )
    if len(cleaned) > MAX_TAGS:
        raise InvalidInput(f"a contact has at most {MAX_TAGS} tags", {"tags": [f"at most {MAX_TAGS}"]})
    return cleaned


# Lists ----------------------------------------------------------------------------------------


def create_list(principal: Principal, name: str) -> ContactList:
    """A new, empty list of the caller's partner (names are unique per partner)."""
    partner_id = owner_partner(principal)
    _check_list_name(partner_id, name)
    contact_list = ContactList(partner_id=partner_id, name=name.strip())
    db.session.add(contact_list)
    commit()
    return contact_list


def rename_list(principal: Principal, list_id: int, name: str) -> ContactList:
    """Rename one of the caller's lists."""
    contact_list = get_list(principal, list_id, write=True)
    _check_list_name(contact_list.partner_id, name, list_id)
    contact_list.name = name.strip()
    commit()
    return contact_list


def delete_list(principal: Principal, list_id: int) -> None:
    """Delete a list; its contacts stay (they may be on other lists)."""
    db.session.delete(get_list(principal, list_id, write=True))
    commit()


def get_list(principal: Principal, list_id: int, write: bool = False) -> ContactList:
    """A list the caller may see (another partner's answers 404); writing needs the partner's user."""
    if write:
        owner_partner(principal)
    return get_scoped(ContactList, list_id, principal, what="contact list")


def list_lists(principal: Principal, partner_id: int | None = None) -> list[dict[str, Any]]:
    """The lists the caller may see, each with its number of contacts (no addresses)."""
    stmt = (
        select(ContactList, func.count(ContactListMember.contact_id))
        .outerjoin(ContactListMember, ContactListMember.list_id == ContactList.id)
        .group_by(ContactList.id)
        .order_by(ContactList.partner_id, ContactList.name)
    )
    if principal.is_partner:
        stmt = stmt.where(ContactList.partner_id == principal.partner_id)
    elif partner_id is not None:
        stmt = stmt.where(ContactList.partner_id == partner_id)
    return [
        {
            "id": row.id,
            "partner_id": row.partner_id,
            "name": row.name,
            "contacts": count,
            "created_at": row.created_at,
        }
        for row, count in db.session.execute(stmt)
    ]


def _check_list_name(partner_id: int, name: str, list_id: int | None = None) -> None:
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise InvalidInput("a list needs a name of 1-120 characters", {"name": ["1-120 characters"]})
    clash = db.session.scalar(
        select(ContactList.id).where(ContactList.partner_id == partner_id, ContactList.name == name)
    )
    if clash is not None and clash != list_id:
        raise ConflictError(f"there is already a list called {name!r}", {"name": ["already used"]})


def lists_of_partner(partner_id: int, list_ids: list[int]) -> list[ContactList]:
    """These lists, all the partner's; InvalidInput names the ids that are not."""
    ids = sorted(set(list_ids))
    found = list(
        db.session.scalars(
            select(ContactList).where(ContactList.id.in_(ids), ContactList.partner_id == partner_id)
        )
    )
    missing = sorted(set(ids) - {c.id for c in found})
    if missing:
        raise InvalidInput(
            f"no contact list {', '.join(map(str, missing))}",
            {"list_ids": [f"unknown list {i}" for i in missing]},
        )
    return found


# Contacts -------------------------------------------------------------------------------------


def add_contact(principal: Principal, values: dict[str, Any]) -> Contact:
    """Add one contact with its consent (source, time, wording), tags and lists."""
    partner_id = owner_partner(principal)
    email = normalise_address(values["email"])
    if db.session.scalar(select(Contact.id).where(Contact.partner_id == partner_id, Contact.email == email)):
        raise ConflictError(f"{email} is already a contact", {"email": ["already a contact"]})
    if _was_erased(partner_id, address_hash(email)):
        raise InvalidInput(f"{email} asked to be erased; it cannot be added again", {"email": ["erased"]})
    contact = Contact(partner_id=partner_id, email=email, address_hash=address_hash(email))
    _apply(contact, {"consent_at": utcnow(), **values})
    contact.lists = lists_of_partner(partner_id, values.get("list_ids") or [])
    db.session.add(contact)
    commit()
    return contact


def update_contact(principal: Principal, contact_id: int, values: dict[str, Any]) -> Contact:
    """Change a contact's address, names, tags, consent or lists."""
    contact = get_contact(principal, contact_id)
    if "email" in values:
        email = normalise_address(values["email"])
        clash = db.session.scalar(
            select(Contact.id).where(Contact.partner_id == contact.partner_id, Contact.email == email)
        )
        if clash not in (None, contact.id):
            raise ConflictError(f"{email} is already a contact", {"email": ["already a contact"]})
        contact.email, contact.address_hash = email, address_hash(email)
    _apply(contact, values)
    if "list_ids" in values:
        contact.lists = lists_of_partner(contact.partner_id, values["list_ids"] or [])
    commit()
    return contact


def _was_erased(partner_id: int, hashed: str) -> bool:
    return (
        db.session.scalar(
            select(Suppression.id).where(
                Suppression.partner_id == partner_id,
                Suppression.address_hash == hashed,
                Suppression.reason == "erased",
            )
        )
        is not None
    )


def _apply(contact: Contact, values: dict[str, Any]) -> None:
    for name in CONTACT_FIELDS:
        if name in values:
            value = clean_tags(values[name]) if name == "tags" else values[name]
            setattr(contact, name, value.strip() if isinstance(value, str) else value)
    for name in ("consent_source", "consent_text"):
        if not getattr(contact, name):
            raise InvalidInput(
                f"{name} is required: say how and with which words consent was given", {name: ["required"]}
            )


def get_contact(principal: Principal, contact_id: int) -> Contact:
    """One of the caller's partner's contacts (another partner's answers 404)."""
    owner_partner(principal)
    return get_scoped(Contact, contact_id, principal, what="contact")


def list_contacts(
    principal: Principal, filters: dict[str, Any], page: int, per_page: int
) -> tuple[list[Contact], int]:
    """The partner's contacts, by list, tag or a search in address and names; one page."""
    stmt = select(Contact).where(Contact.partner_id == owner_partner(principal))
    if filters.get("list_id"):
        get_list(principal, filters["list_id"])
        stmt = stmt.where(
            Contact.id.in_(
                select(ContactListMember.contact_id).where(ContactListMember.list_id == filters["list_id"])
            )
        )
    if filters.get("q"):
        pattern = f"%{filters['q'].lower()}%"
        stmt = stmt.where(
            func.lower(Contact.email).like(pattern)
            | func.lower(Contact.first_name).like(pattern)
            | func.lower(Contact.last_name).like(pattern)
        )
    rows = list(db.session.scalars(stmt.order_by(Contact.email)))
    if filters.get("tag"):
        rows = [c for c in rows if filters["tag"].lower() in (c.tags or [])]
    return rows[(page - 1) * per_page : page * per_page], len(rows)


def delete_contact(principal: Principal, contact_id: int) -> None:
    """Delete a contact; the messages sent to them keep no copy of the address."""
    contact = get_contact(principal, contact_id)
    _scrub(contact)
    commit()


def erase_contact(principal: Principal, contact_id: int) -> dict[str, Any]:
    """GDPR erasure: the contact and every copy of the address go; a salted hash stays, so the
    person is never mailed (nor imported back) again by this partner."""
    contact = get_contact(principal, contact_id)
    hashed = contact.address_hash
    scrubbed = _scrub(contact)
    suppress(contact.partner_id, hashed, "erased", "erasure request")
    commit()
    return {"erased": True, "messages_scrubbed": scrubbed}


def _scrub(contact: Contact) -> int:
    """Delete the contact and blank the address on every message sent to it; how many messages."""
    result = db.session.execute(
        update(EmailRecipient)
        .where(EmailRecipient.contact_id == contact.id)
        .values(address=None, contact_id=None)
    )
    db.session.execute(delete(ContactListMember).where(ContactListMember.contact_id == contact.id))
    db.session.delete(contact)
    return result.rowcount


def export_contact(principal: Principal, contact_id: int) -> dict[str, Any]:
    """GDPR access: what tcma holds about a contact, the messages sent to them and what they did."""
    contact = get_contact(principal, contact_id)
    messages = db.session.execute(
        select(EmailRecipient, EmailSend.campaign_id)
        .join(EmailSend, EmailSend.id == EmailRecipient.send_id)
        .where(EmailRecipient.contact_id == contact.id)
        .order_by(EmailRecipient.id)
    ).all()
    uids = [m.uid for m, _ in messages]
    events = (
        db.session.execute(
            select(Event.send_id, Event.kind, Event.occurred_at, Event.is_bot)
            .where(Event.send_id.in_(uids))
            .order_by(Event.occurred_at)
        ).all()
        if uids
        else []
    )
    activity: dict[str, list[dict[str, Any]]] = {}
    for send_id, kind, at, is_bot in events:
        activity.setdefault(send_id, []).append({"kind": kind, "at": _iso(at), "machine": is_bot})
    return {
        "contact": {
            "email": contact.email,
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "tags": contact.tags,
            "lists": [c.name for c in contact.lists],
            "consent": {
                "source": contact.consent_source,
                "at": _iso(contact.consent_at),
                "text": contact.consent_text,
            },
            "created_at": _iso(contact.created_at),
            "updated_at": _iso(contact.updated_at),
        },
        "messages": [
            {
                "campaign_id": campaign_id,
                "status": m.status,
                "sent_at": _iso(m.sent_at),
                "message_id": m.message_id,
                "activity": activity.get(m.uid, []),
            }
            for m, campaign_id in messages
        ],
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def contact_summary(principal: Principal, partner_id: int | None) -> dict[str, Any]:
    """Counts a vendor may see about a partner's contacts: totals, per list, per tag, suppressed."""
    if principal.is_partner:
        partner_id = principal.partner_id
    if partner_id is None:
        raise InvalidInput("partner_id is required", {"partner_id": ["the partner to count"]})
    partner = get_scoped(Partner, partner_id, principal, partner_attr="id", what="partner")
    tags: dict[str, int] = {}
    for row in db.session.scalars(select(Contact.tags).where(Contact.partner_id == partner.id)):
        for tag in row or []:
            tags[tag] = tags.get(tag, 0) + 1
    total = db.session.scalar(
        select(func.count()).select_from(Contact).where(Contact.partner_id == partner.id)
    )
    return {
        "partner_id": partner.id,
        "contacts": total,
        "tags": dict(sorted(tags.items())),
        "lists": [
            {"id": row["id"], "name": row["name"], "contacts": row["contacts"]}
            for row in list_lists(principal, partner.id)
        ],
        "suppressed": suppression_counts(partner.id),
    }
