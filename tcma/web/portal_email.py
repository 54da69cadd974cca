"""Campaign email pages: a partner's contacts (lists, add, import, erase) and sends (preview,
test to oneself, send now or at a local time, progress, recipients); the vendor's send numbers
across partners, without an address."""

from __future__ import annotations

import json
from datetime import datetime

from flask import flash, redirect, request, url_for

from tcma.errors import DomainError, InvalidInput
from tcma.services.accounts.auth import Principal
from tcma.services.sending import behalf, contacts, domains, imports, sends
from tcma.services.transaction import rollback
from tcma.web.portal import PARTNER, VENDOR, page, page_count, page_required, portal_blueprint

bp = portal_blueprint("portal_email", __name__, url_prefix="/portal")
PER_PAGE = 50


def _refused(exc: DomainError) -> None:
    """Flash a refusal: its message, then each named problem (an import's rows, line by line)."""
    rollback()
    flash(exc.message)
    for name, problems in exc.errors.items():
        for problem in problems if isinstance(problems, list) else [problems]:
            flash(problem if name == "rows" else f"{name}: {problem}")


@bp.get("/contacts")
@page_required(*PARTNER)
def contacts_page(principal: Principal):
    """The partner's lists and contacts, and the forms to add and import."""
    number = request.args.get("page", 1, type=int) or 1
    filters = {"list_id": request.args.get("list_id", type=int), "q": request.args.get("q") or None}
    items, total = contacts.list_contacts(principal, filters, number, PER_PAGE)
    return page(
        "portal/contacts.html",
        lists=contacts.list_lists(principal),
        contacts=items,
        total=total,
        page_number=number,
        pages=page_count(total, PER_PAGE),
        filters=filters,
        summary=contacts.contact_summary(principal, None),
    )


@bp.post("/contacts/lists")
@page_required(*PARTNER)
def create_list(principal: Principal):
    """Create a list."""
    try:
        created = contacts.create_list(principal, request.form.get("name", ""))
        flash(f"List {created.name!r} created.")
    except DomainError as exc:
        _refused(exc)
    return redirect(url_for(".contacts_page"))


@bp.post("/contacts")
@page_required(*PARTNER)
def add_contact(principal: Principal):
    """Add one contact to a list, with its consent."""
    form = request.form
    values = {
        name: form.get(name, "").strip()
        for name in ("email", "first_name", "last_name", "consent_source", "consent_text")
    }
    values["tags"] = [t for t in form.get("tags", "").split(",") if t.strip()]
    values["list_ids"] = [int(i) for i in form.getlist("list_ids") if i.isdigit()]
    try:
        contact = contacts.add_contact(principal, {k: v for k, v in values.items() if v != ""})
        flash(f"{contact.email} added.")
    except DomainError as exc:
        _refused(exc)
    return redirect(url_for(".contacts_page"))


@bp.post("/contacts/import")
@page_required(*PARTNER)
def import_contacts(principal: Principal):
    """Import a CSV file into a list; every refused row is shown by its line."""
    upload = request.files.get("file")
    mapping_text = request.form.get("mapping", "").strip()
    try:
        mapping = _mapping(mapping_text)
        result = imports.import_contacts(
            principal,
            request.form.get("list_id", 0, type=int),
            upload.read() if upload else b"",
            mapping,
            {
                "consent_source": request.form.get("consent_source") or None,
                "consent_text": request.form.get("consent_text") or None,
                "tags": [t for t in request.form.get("tags", "").split(",") if t.strip()],
            },
        )
        flash(
            f"Imported {result['rows']} rows: {result['created']} new contacts, {result['updated']} updated."
        )
    except DomainError as exc:
        _refused(exc)
    return redirect(url_for(".contacts_page"))


def _mapping(text: str) -> dict[str, str] | None:
    """field=column lines (or a JSON object) from the import form; empty: columns named like fields."""
    if not text:
        return None
    if text.startswith("{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            raise InvalidInput("the column mapping is not valid JSON", {"mapping": ["not JSON"]}) from None
    pairs = [line.split("=", 1) for line in text.splitlines() if line.strip()]
    if any(len(pair) != 2 for pair in pairs):
        raise InvalidInput(
            "write the column mapping as field=column, one per line", {"mapping": ["field=column"]}
        )
    return {field.strip(): column.strip() for field, column in pairs}


@bp.post("/contacts/<int:contact_id>/<any(delete, erase):action>")
@page_required(*PARTNER)
def remove_contact(principal: Principal, contact_id: int, action: str):
    """Delete a contact, or erase it (GDPR: only a salted hash stays, so they are never mailed)."""
    email = contacts.get_contact(principal, contact_id).email
    (contacts.erase_contact if action == "erase" else contacts.delete_contact)(principal, contact_id)
    flash(f"{email} {'erased' if action == 'erase' else 'deleted'}.")
    return redirect(url_for(".contacts_page"))


@bp.get("/email")
@page_required(*PARTNER, *VENDOR)
def sends_page(principal: Principal):
    """Partners: new send and their sends. Vendor: every partner's sends, numbers only."""
    rows = sends.list_sends(principal, request.args.get("campaign_id", type=int))
    numbers = sends.send_numbers([s.id for s in rows])
    context = {"sends": [(s, sends.summary(numbers[s.id])) for s in rows]}
    if principal.is_partner:
        context.update(
            campaigns=sends.sendable_campaigns(principal),
            lists=contacts.list_lists(principal),
            domains=[(d, domains.dns_records(d)) for d in domains.list_domains(principal)],
            consent=behalf.get_consent(principal),
        )
    else:
        context.update(
            campaigns=behalf.campaigns_with_email(principal),
            consents=behalf.consents_for_vendor(principal),
            behalf_sends=[behalf.describe_behalf(b) for b in behalf.list_behalf_sends(principal)],
        )
    return page("portal/email_sends.html", **context)


@bp.post("/email")
@page_required(*PARTNER)
def create_send(principal: Principal):
    """Create a draft send, then show it (preview, test, send)."""
    try:
        send = sends.create_send(
            principal,
            {
                "campaign_id": request.form.get("campaign_id", 0, type=int),
                "list_ids": [int(i) for i in request.form.getlist("list_ids") if i.isdigit()],
                "greeting": request.form.get("greeting") or None,
            },
        )
    except DomainError as exc:
        _refused(exc)
        return redirect(url_for(".sends_page"))
    return redirect(url_for(".send_page", send_id=send.id))


@bp.get("/email/<int:send_id>")
@page_required(*PARTNER, *VENDOR)
def send_page(principal: Principal, send_id: int):
    """A send: its numbers, preview, actions and (for the partner) each recipient's status."""
    send = sends.get_send(principal, send_id)
    numbers = sends.summary(sends.send_numbers([send.id])[send.id])
    recipients, total = ([], 0)
    if principal.is_partner:
        recipients, total = sends.list_recipients(
            principal, send.id, request.args.get("status") or None, 1, 200
        )
    return page(
        "portal/email_send.html",
        send=send,
        numbers=numbers,
        recipients=recipients,
        total=total,
        preview=sends.preview_send(principal, send.id),
    )


@bp.get("/email/<int:send_id>/preview")
@page_required(*PARTNER, *VENDOR)
def preview(principal: Principal, send_id: int):
    """The HTML of the email as a recipient gets it."""
    return sends.preview_send(principal, send_id)["html"]


@bp.post("/email/<int:send_id>/<any(test, now, schedule, cancel):action>")
@page_required(*PARTNER)
def act(principal: Principal, send_id: int, action: str):
    """Test to oneself, send now, schedule at a local time, or cancel."""
    try:
        if action == "test":
            flash(f"Test sent to {sends.test_send(principal, send_id)['to']}.")
        elif action == "cancel":
            sends.cancel_send(principal, send_id)
            flash("Send cancelled.")
        else:
            local = _local_time(request.form.get("local_at", "")) if action == "schedule" else None
            send = sends.schedule_send(principal, send_id, local)
            flash("Sending." if local is None else f"Scheduled for {send.local_at} ({send.time_zone}).")
    except DomainError as exc:
        _refused(exc)
    return redirect(url_for(".send_page", send_id=send_id))


def _local_time(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput("pick a date and time to send at", {"local_at": ["a date and time"]}) from None


@bp.post("/email/domains")
@page_required(*PARTNER)
def add_domain(principal: Principal):
    """Set up the partner's own sending domain: its DNS records are shown next."""
    try:
        row = domains.add_domain(
            principal, request.form.get("domain", ""), request.form.get("from_local") or "news"
        )
        flash(f"Publish the records below for {row.domain}, then check them.")
    except DomainError as exc:
        _refused(exc)
    return redirect(url_for(".sends_page", _anchor="domains"))


@bp.post("/email/domains/<int:domain_id>/verify")
@page_required(*PARTNER)
def verify_domain(principal: Principal, domain_id: int):
    """Check the domain's DNS records now."""
    try:
        row = domains.verify_domain(principal, domain_id)
        if row.status == "verified":
            address = f"{row.from_local}@{row.domain}"
            flash(f"{row.domain} is verified: your emails now go from {address}, DKIM-signed.")
        else:
            flash(f"{row.domain} is not ready yet.")
            for name, check in (row.checks or {}).items():
                if not check.get("ok"):
                    flash(f"{name.upper()}: {check.get('problem')}")
    except DomainError as exc:
        _refused(exc)
    return redirect(url_for(".sends_page", _anchor="domains"))


@bp.post("/email/consent")
@page_required(*PARTNER)
def grant_consent(principal: Principal):
    """Allow the vendor's sends in the partner's name (or change the lists, tags and limit)."""
    try:
        behalf.grant_consent(
            principal,
            {
                "list_ids": [int(i) for i in request.form.getlist("list_ids") if i.isdigit()],
                "tags": [t for t in request.form.get("tags", "").split(",") if t.strip()],
                "max_sends_per_month": _whole_number(request.form.get("max_sends_per_month", "")),
            },
        )
        flash("The vendor may now send campaign emails in your name to the lists you picked.")
    except DomainError as exc:
        _refused(exc)
    return redirect(url_for(".sends_page", _anchor="behalf"))


def _whole_number(text: str) -> int | None:
    return int(text) if text.strip().isdigit() else None


@bp.post("/email/consent/withdraw")
@page_required(*PARTNER)
def withdraw_consent(principal: Principal):
    """Withdraw the consent: what the vendor has not sent in the partner's name yet is cancelled."""
    try:
        _, cancelled = behalf.withdraw_consent(principal)
        flash(f"Consent withdrawn. {cancelled} send(s) on your behalf cancelled.")
    except DomainError as exc:
        _refused(exc)
    return redirect(url_for(".sends_page", _anchor="behalf"))


@bp.post("/email/on-behalf")
@page_required(*VENDOR)
def create_behalf_send(principal: Principal):
    """Send a campaign's email in the name of every partner that allows it."""
    local_text = request.form.get("local_at", "").strip()
    try:
        created = behalf.create_behalf_send(
            principal,
            {
                "campaign_id": request.form.get("campaign_id", 0, type=int),
                "greeting": request.form.get("greeting") or None,
                "local_at": _local_time(local_text) if local_text else None,
            },
        )
    except DomainError as exc:
        _refused(exc)
        return redirect(url_for(".sends_page", _anchor="behalf"))
    return redirect(url_for(".behalf_page", behalf_id=created.id))


@bp.get("/email/on-behalf/<int:behalf_id>")
@page_required(*VENDOR)
def behalf_page(principal: Principal, behalf_id: int):
    """A send on partners' behalf: each partner's status and numbers, who was left out and why."""
    item = behalf.describe_behalf(behalf.get_behalf_send(principal, behalf_id))
    return page("portal/email_behalf.html", item=item)


@bp.post("/email/on-behalf/<int:behalf_id>/cancel")
@page_required(*VENDOR)
def cancel_behalf_send(principal: Principal, behalf_id: int):
    """Stop every partner's send of it that is not done."""
    try:
        behalf.cancel_behalf_send(principal, behalf_id)
        flash("Cancelled: nothing more goes out in the partners' names for this send.")
    except DomainError as exc:
        _refused(exc)
    return redirect(url_for(".behalf_page", behalf_id=behalf_id))
