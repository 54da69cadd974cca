"""Sends of campaign emails by partners to their own lists: create, preview, test, schedule,
cancel, progress, per-recipient status; a campaign's numbers across partners for marketers."""

from __future__ import annotations

from flask_smorest import Blueprint

from tcma.api.pagination import keyset_envelope, window_of
from tcma.api.security import ANY_ROLE, PARTNER, VENDOR, auth_required
from tcma.schemas.email_sends import (
    BehalfSendCreateSchema,
    BehalfSendSchema,
    CampaignSendStatsSchema,
    ConsentSchema,
    ConsentUpdateSchema,
    EmailSendCreateSchema,
    EmailSendSchema,
    PreviewSchema,
    RecipientArgs,
    RecipientPageSchema,
    ScheduleSchema,
    SendFilterArgs,
    SendingDomainCreateSchema,
    SendingDomainSchema,
    TestSendSchema,
    VendorConsentSchema,
)
from tcma.services.experiments import rollout
from tcma.services.sending import behalf, domains, sends

blp = Blueprint("email_sends", __name__, url_prefix="email-sends", description="Campaign emails to contacts")


def _with_numbers(rows):
    numbers = sends.send_numbers([row.id for row in rows])
    plans = rollout.campaign_rollouts([row.campaign_id for row in rows])
    for row in rows:
        row.numbers = sends.summary(numbers[row.id])
        row.experiment_plan = plans.get(row.campaign_id)
    return rows


@blp.post("")
@auth_required(*PARTNER)
@blp.arguments(EmailSendCreateSchema)
@blp.response(201, EmailSendSchema)
def create_send(principal, args):
    """A draft: the campaign's email rendered for the partner, to these lists (preview and test it next)."""
    return _with_numbers([sends.create_send(principal, args)])[0]


@blp.get("")
@auth_required(*ANY_ROLE)
@blp.arguments(SendFilterArgs, location="query")
@blp.response(200, EmailSendSchema(many=True))
def list_sends(principal, args):
    """The sends the caller may see (a partner's user: their own), with their numbers."""
    return _with_numbers(sends.list_sends(principal, args.get("campaign_id")))


@blp.get("/<int:send_id>")
@auth_required(*ANY_ROLE)
@blp.response(200, EmailSendSchema)
def get_send(principal, send_id):
    """One send and its progress."""
    return _with_numbers([sends.get_send(principal, send_id)])[0]


@blp.get("/<int:send_id>/preview")
@auth_required(*ANY_ROLE)
@blp.response(200, PreviewSchema)
def preview_send(principal, send_id):
    """Subject, preheader, From, Reply-To, HTML and text as a recipient gets them."""
    return sends.preview_send(principal, send_id)


@blp.post("/<int:send_id>/test")
@auth_required(*PARTNER)
@blp.response(202, TestSendSchema)
def test_send(principal, send_id):
    """Mail the send to the caller's own address (subject marked [Test])."""
    return sends.test_send(principal, send_id)


@blp.post("/<int:send_id>/schedule")
@auth_required(*PARTNER)
@blp.arguments(ScheduleSchema)
@blp.response(200, EmailSendSchema)
def schedule_send(principal, args, send_id):
    """Send now (no local_at) or at local_at on the partner's wall clock."""
    return _with_numbers([sends.schedule_send(principal, send_id, args.get("local_at"))])[0]


@blp.post("/<int:send_id>/cancel")
@auth_required(*PARTNER)
@blp.response(200, EmailSendSchema)
def cancel_send(principal, send_id):
    """Stop the send: messages not yet handed over stay unsent."""
    return _with_numbers([sends.cancel_send(principal, send_id)])[0]


@blp.get("/<int:send_id>/recipients")
@auth_required(*PARTNER)
@blp.arguments(RecipientArgs, location="query")
@blp.response(200, RecipientPageSchema)
def list_recipients(principal, args, send_id):
    """Each message of the send, its address and what became of it (the partner's users only), by id:
    a page by number, or the page after the `next` cursor of the previous one (after=)."""
    window = window_of(args)
    return keyset_envelope(sends.recipient_page(principal, send_id, args.get("status"), window), window)


@blp.get("/campaigns/<int:campaign_id>")
@auth_required(*VENDOR)
@blp.response(200, CampaignSendStatsSchema)
def campaign_send_stats(principal, campaign_id):
    """A campaign's sends across partners: delivered, bounced, opened, clicked, unsubscribed,
    complained (people, with machines' opens and clicks apart); no address."""
    return sends.campaign_send_stats(principal, campaign_id)


def _consent_view(consent, cancelled: int | None = None) -> dict:
    if consent is None:
        return {"status": "none", "list_ids": [], "tags": []}
    view = {name: getattr(consent, name) for name in (
        "partner_id", "status", "list_ids", "tags", "max_sends_per_month", "granted_at", "withdrawn_at")}
    return view if cancelled is None else {**view, "cancelled_sends": cancelled}


@blp.get("/consent")
@auth_required(*PARTNER)
@blp.response(200, ConsentSchema)
def get_consent(principal):
    """Whether the vendor may send campaign emails in the partner's name, to which lists and tags."""
    return _consent_view(behalf.get_consent(principal))


@blp.put("/consent")
@auth_required(*PARTNER)
@blp.arguments(ConsentUpdateSchema)
@blp.response(200, ConsentSchema)
def grant_consent(principal, args):
    """Allow sends on the partner's behalf (or change the lists, tags and monthly limit)."""
    return _consent_view(behalf.grant_consent(principal, args))


@blp.delete("/consent")
@auth_required(*PARTNER)
@blp.response(200, ConsentSchema)
def withdraw_consent(principal):
    """Withdraw the consent: the vendor's sends in the partner's name that are not done stop."""
    consent, cancelled = behalf.withdraw_consent(principal)
    return _consent_view(consent, cancelled)


@blp.get("/consents")
@auth_required(*VENDOR)
@blp.response(200, VendorConsentSchema(many=True))
def list_consents(principal):
    """Every partner's consent to sends on its behalf, with how many contacts it reaches."""
    return behalf.consents_for_vendor(principal)


@blp.post("/on-behalf")
@auth_required(*VENDOR)
@blp.arguments(BehalfSendCreateSchema)
@blp.response(201, BehalfSendSchema)
def create_behalf_send(principal, args):
    """Send a campaign's email in the name of every partner that allows it (now, or at local_at on
    each partner's wall clock); partners left out are listed with the reason."""
    return behalf.describe_behalf(behalf.create_behalf_send(principal, args))


@blp.get("/on-behalf")
@auth_required(*VENDOR)
@blp.arguments(SendFilterArgs, location="query")
@blp.response(200, BehalfSendSchema(many=True))
def list_behalf_sends(principal, args):
    """The vendor's sends on partners' behalf, newest first, with their numbers."""
    return [behalf.describe_behalf(b) for b in behalf.list_behalf_sends(principal, args.get("campaign_id"))]


@blp.get("/on-behalf/<int:behalf_id>")
@auth_required(*VENDOR)
@blp.response(200, BehalfSendSchema)
def get_behalf_send(principal, behalf_id):
    """One send on partners' behalf: each partner's status and numbers, who was left out and why."""
    return behalf.describe_behalf(behalf.get_behalf_send(principal, behalf_id))


@blp.post("/on-behalf/<int:behalf_id>/cancel")
@auth_required(*VENDOR)
@blp.response(200, BehalfSendSchema)
def cancel_behalf_send(principal, behalf_id):
    """Stop every partner's send of it that is not done."""
    return behalf.describe_behalf(behalf.cancel_behalf_send(principal, behalf_id))


domains_blp = Blueprint("sending_domains", __name__, url_prefix="sending-domains",
                        description="Partners' own sending domains (DKIM, SPF, DMARC)")


def _with_records(rows):
    for row in rows:
        row.records = domains.dns_records(row)
    return rows


@domains_blp.post("")
@auth_required(*PARTNER)
@domains_blp.arguments(SendingDomainCreateSchema)
@domains_blp.response(201, SendingDomainSchema)
def add_domain(principal, args):
    """Set up the partner's domain: tcma makes a DKIM key and answers the DNS records to publish."""
    return _with_records([domains.add_domain(principal, args["domain"], args["from_local"])])[0]


@domains_blp.get("")
@auth_required(*ANY_ROLE)
@domains_blp.response(200, SendingDomainSchema(many=True))
def list_domains(principal):
    """The domains the caller may see, with their records and last checks."""
    return _with_records(domains.list_domains(principal))


@domains_blp.get("/<int:domain_id>")
@auth_required(*ANY_ROLE)
@domains_blp.response(200, SendingDomainSchema)
def get_domain(principal, domain_id):
    """One domain."""
    return _with_records([domains.get_domain(principal, domain_id)])[0]


@domains_blp.post("/<int:domain_id>/verify")
@auth_required(*PARTNER)
@domains_blp.response(200, SendingDomainSchema)
def verify_domain(principal, domain_id):
    """Look up the DKIM, DMARC and SPF records now; DKIM and DMARC right: tcma signs with the domain."""
    return _with_records([domains.verify_domain(principal, domain_id)])[0]
