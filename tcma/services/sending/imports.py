"""CSV import of a partner's contacts into a list: columns mapped by the partner, every bad row
reported by its line and reason, and nothing imported unless every row is good."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from tcma.errors import InvalidInput
from tcma.extensions import db
from tcma.models import Contact, ContactListMember, Suppression
from tcma.models.base import utcnow
from tcma.services.accounts.auth import Principal
from tcma.services.sending.contacts import clean_tags, get_list, owner_partner
from tcma.services.sending.suppressions import address_hash, normalise_address
from tcma.services.transaction import commit

FIELDS = ("email", "first_name", "last_name", "tags", "consent_source", "consent_at", "consent_text")
MAX_ROWS = 50_000
NAME_LIMIT = 100


def import_contacts(
    principal: Principal, list_id: int, data: bytes, mapping: dict[str, str] | None, defaults: dict[str, Any]
) -> dict[str, Any]:
    """Import a CSV file into a list; InvalidInput lists every refused row ("line 7: ...")."""
    partner_id = owner_partner(principal)
    contact_list = get_list(principal, list_id, write=True)
    reader = _reader(data)
    columns = _columns(reader.fieldnames or [], mapping)
    rows, errors = _checked_rows(reader, columns, defaults)
    erased = _erased(partner_id, {row["address_hash"] for row in rows.values()})
    errors += [
        f"line {row['line']}: {email} asked to be erased; it cannot be imported again"
        for email, row in rows.items()
        if row["address_hash"] in erased
    ]
    if errors:
        errors.sort(key=lambda e: int(e.split(":")[0].removeprefix("line ")))
        raise InvalidInput(f"{len(errors)} row(s) refused; nothing was imported", {"rows": errors})
    created, updated = _write(partner_id, contact_list.id, rows)
    commit()
    return {"list_id": contact_list.id, "rows": len(rows), "created": created, "updated": updated}


def _reader(data: bytes) -> csv.DictReader:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"the file is not UTF-8 text (byte {exc.start} cannot be read)",
            {"file": ["save it as CSV UTF-8"]},
        ) from None
    if not text.strip():
        raise InvalidInput("the file is empty", {"file": ["a header line and at least one row"]})
    return csv.DictReader(io.StringIO(text, newline=""))


def _columns(header: list[str], mapping: dict[str, str] | None) -> dict[str, str]:
    """field -> the CSV column holding it; the mapping's columns must be in the header."""
    header = [h.strip() for h in header]
    if mapping is None:
        mapping = {field: field for field in FIELDS if field in header}
    unknown_fields = sorted(set(mapping) - set(FIELDS))
    if unknown_fields:
        raise InvalidInput(
            f"unknown field(s) {', '.join(unknown_fields)}", {"mapping": [f"fields are {', '.join(FIELDS)}"]}
        )
    missing = sorted(column for column in mapping.values() if column not in header)
    if missing:
        raise InvalidInput(
            f"the file has no column {', '.join(map(repr, missing))} (its columns: {', '.join(header)})",
            {"mapping": [f"no column {c!r}" for c in missing]},
        )
    if "email" not in mapping:
        raise InvalidInput("say which column holds the email address", {"mapping": ["email is required"]})
    return mapping


def _checked_rows(
    reader: csv.DictReader, columns: dict[str, str], defaults: dict[str, Any]
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    rows: dict[str, dict[str, Any]] = {}
    errors: list[str] = []
    try:
        for record in reader:
            if len(rows) + len(errors) >= MAX_ROWS:
                errors.append(f"line {reader.line_num}: more than {MAX_ROWS} rows; split the file")
                break
            if not any((value or "").strip() for value in record.values() if isinstance(value, str)):
                continue  # a blank line
            try:
                row = _row(record, columns, defaults, reader.line_num)
            except InvalidInput as exc:
                errors.append(f"line {reader.line_num}: {exc.message}")
                continue
            if row["email"] in rows:
                errors.append(
                    f"line {reader.line_num}: {row['email']} is also on line {rows[row['email']]['line']}"
                )
                continue
            rows[row["email"]] = row
    except csv.Error as exc:
        errors.append(f"line {reader.line_num}: not valid CSV ({exc})")
    if not rows and not errors:
        raise InvalidInput("the file has no rows", {"file": ["a header line and at least one row"]})
    return rows, errors


def _row(
    record: dict[str, Any], columns: dict[str, str], defaults: dict[str, Any], line: int
) -> dict[str, Any]:
    if None in record:
        raise InvalidInput("more values than the header has columns")
    value = {field: (record.get(column) or "").strip() for field, column in columns.items()}
    if not value.get("email"):
        raise InvalidInput("no email address")
    email = normalise_address(value["email"])
    for name in ("first_name", "last_name"):
        if len(value.get(name, "")) > NAME_LIMIT:
            raise InvalidInput(f"{name} is longer than {NAME_LIMIT} characters")
    tags = clean_tags(
        [t for t in value.get("tags", "").replace(",", ";").split(";")] + list(defaults.get("tags") or [])
    )
    consent = {name: value.get(name) or defaults.get(name) for name in ("consent_source", "consent_text")}
    for name, given in consent.items():
        if not given:
            raise InvalidInput(f"no {name} (map a column or give one for the whole file)")
        if name == "consent_source" and len(given) > 120:
            raise InvalidInput("consent_source is longer than 120 characters")
    return {
        "line": line,
        "email": email,
        "address_hash": address_hash(email),
        "tags": tags,
        "first_name": value.get("first_name") or None,
        "last_name": value.get("last_name") or None,
        "consent_at": _consent_time(value.get("consent_at")) or defaults.get("consent_at") or utcnow(),
        **consent,
    }


def _consent_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"consent_at {text!r} is not a date like 2026-03-01 or 2026-03-01T09:30:00Z"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _erased(partner_id: int, hashes: set[str]) -> set[str]:
    if not hashes:
        return set()
    return set(
        db.session.scalars(
            select(Suppression.address_hash).where(
                Suppression.partner_id == partner_id,
                Suppression.reason == "erased",
                Suppression.address_hash.in_(hashes),
            )
        )
    )


def _write(partner_id: int, list_id: int, rows: dict[str, dict[str, Any]]) -> tuple[int, int]:
    existing = {
        c.email: c
        for c in db.session.scalars(
            select(Contact).where(Contact.partner_id == partner_id, Contact.email.in_(list(rows)))
        )
    }
    created = 0
    for email, row in rows.items():
        contact = existing.get(email)
        if contact is None:
            contact = Contact(
                partner_id=partner_id,
                email=email,
                address_hash=row["address_hash"],
                consent_source=row["consent_source"],
                consent_text=row["consent_text"],
                consent_at=row["consent_at"],
                tags=row["tags"],
                first_name=row["first_name"],
                last_name=row["last_name"],
            )
            db.session.add(contact)
            existing[email] = contact
            created += 1
        else:
            contact.tags = sorted(set(contact.tags or []) | set(row["tags"]))
            contact.first_name = row["first_name"] or contact.first_name
            contact.last_name = row["last_name"] or contact.last_name
    db.session.flush()
    members = set(
        db.session.scalars(select(ContactListMember.contact_id).where(ContactListMember.list_id == list_id))
    )
    db.session.add_all(
        ContactListMember(list_id=list_id, contact_id=c.id) for c in existing.values() if c.id not in members
    )
    db.session.flush()
    return created, len(rows) - created
