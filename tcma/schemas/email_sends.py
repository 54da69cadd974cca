"""Sends of a campaign email to a partner's lists, their numbers and recipients."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from campaigns.vocabulary import EMAIL_SEND_STATUSES, RECIPIENT_STATUSES
from tcma.schemas.common import DB_ID, KeysetPageArgs, QueryArgs, page_of
from tcma.schemas.experiments import CampaignRolloutSchema

NUMBERS = (
    "recipients",
    "queued",
    "sending",
    "sent",
    "delivered",
    "skipped",
    "unknown",
    "failed",
    "bounced",
    "complained",
    "held_for_winner",
    "opened",
    "opened_machine",
    "clicked",
    "clicked_machine",
    "unsubscribed",
)


class SendNumbersSchema(Schema):
    """A send's numbers: messages by outcome; people's opens and clicks, machines' beside them."""

    for _name in NUMBERS:
        locals()[_name] = fields.Integer()
    del _name


class EmailSendCreateSchema(Schema):
    """Send a campaign's email (as rendered for the partner) to some of the partner's lists."""

    campaign_id = fields.Integer(required=True, validate=DB_ID)
    list_ids = fields.List(
        fields.Integer(validate=DB_ID), required=True, validate=validate.Length(min=1, max=50)
    )
    greeting = fields.String(
        validate=validate.Length(min=1, max=80),
        metadata={
            "description": "the greeting line; {first_name} is each contact's (default 'Hello {first_name},')"
        },
    )


class EmailSendSchema(Schema):
    """A send as listed: what, to which lists, when, how far it got."""

    id = fields.Integer()
    partner_id = fields.Integer()
    campaign_id = fields.Integer()
    variant = fields.String(allow_none=True)
    list_ids = fields.List(fields.Integer())
    greeting = fields.String()
    subject = fields.String(allow_none=True)
    preheader = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": list(EMAIL_SEND_STATUSES)})
    local_at = fields.String(allow_none=True)
    time_zone = fields.String(allow_none=True)
    scheduled_at = fields.DateTime(allow_none=True)
    resume_at = fields.DateTime(allow_none=True)
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    numbers = fields.Nested(SendNumbersSchema)
    experiment_plan = fields.Nested(CampaignRolloutSchema, allow_none=True, metadata={
        "description": "the campaign's experiment testing on a share of recipients: the others' messages "
                       "are held_for_winner until the decision"})
    behalf_id = fields.Integer(
        allow_none=True, metadata={"description": "set when the vendor sends it in the partner's name"}
    )
    tags = fields.List(fields.String(), allow_none=True, metadata={"description": "only contacts with one"})
    detail = fields.String(allow_none=True, metadata={"description": "why it stopped before the end"})


class ScheduleSchema(Schema):
    """Send now (no local_at), or at local_at on the partner's wall clock."""

    local_at = fields.NaiveDateTime(
        allow_none=True,
        metadata={"description": "wall-clock time in the partner's time zone, e.g. 2026-12-01T09:00:00"},
    )


class SendFilterArgs(QueryArgs):
    """Narrow the list to one campaign."""

    campaign_id = fields.Integer(validate=DB_ID)


class PreviewSchema(Schema):
    """The message as a recipient sees it."""

    subject = fields.String()
    preheader = fields.String()
    html = fields.String()
    text = fields.String()
    from_ = fields.String(data_key="from", attribute="from")
    reply_to = fields.String()


class TestSendSchema(Schema):
    """Where the test went."""

    to = fields.String()
    message_id = fields.String()


class RecipientSchema(Schema):
    """One message of a send (the partner's users only)."""

    id = fields.Integer()
    contact_id = fields.Integer(allow_none=True)
    address = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": list(RECIPIENT_STATUSES)})
    detail = fields.String(allow_none=True)
    message_id = fields.String(allow_none=True)
    sent_at = fields.DateTime(allow_none=True)


class RecipientArgs(KeysetPageArgs):
    """Narrow the recipients to one status; a page by number or after the previous page's `next`."""

    status = fields.String(validate=validate.OneOf(RECIPIENT_STATUSES))


RecipientPageSchema = page_of(RecipientSchema, "RecipientPageSchema", keyset=True)


class PartnerSendNumbersSchema(SendNumbersSchema):
    """One partner's send of the campaign, numbers only."""

    send_id = fields.Integer()
    partner_id = fields.Integer()
    status = fields.String()


class CampaignSendStatsSchema(Schema):
    """A campaign's sends across partners: totals and per partner, no address."""

    campaign_id = fields.Integer()
    totals = fields.Nested(SendNumbersSchema)
    sends = fields.List(fields.Nested(PartnerSendNumbersSchema))


class DnsRecordSchema(Schema):
    """A DNS record the partner publishes."""

    type = fields.String()
    name = fields.String()
    value = fields.String()
    purpose = fields.String(metadata={"enum": ["dkim", "spf", "dmarc"]})


class SendingDomainCreateSchema(Schema):
    """Send from the partner's own domain (news@partner.example)."""

    domain = fields.String(required=True, validate=validate.Length(min=4, max=253))
    from_local = fields.String(load_default="news", validate=validate.Length(min=1, max=64))


class SendingDomainSchema(Schema):
    """A partner's domain: records to publish, what the last DNS check found (never the private key)."""

    id = fields.Integer()
    partner_id = fields.Integer()
    domain = fields.String()
    from_local = fields.String()
    selector = fields.String()
    status = fields.String(metadata={"enum": ["pending", "verified", "failed"]})
    records = fields.List(fields.Nested(DnsRecordSchema))
    checks = fields.Dict(allow_none=True)
    checked_at = fields.DateTime(allow_none=True)
    verified_at = fields.DateTime(allow_none=True)


MAX_TAGS = 20


class ConsentUpdateSchema(Schema):
    """Allow the vendor to send campaign emails in the partner's name: to which lists, which tags."""

    list_ids = fields.List(
        fields.Integer(validate=DB_ID), required=True, validate=validate.Length(min=1, max=50)
    )
    tags = fields.List(
        fields.String(validate=validate.Length(min=1, max=40)),
        load_default=list,
        validate=validate.Length(max=MAX_TAGS),
        metadata={"description": "only contacts with at least one of these tags (none: every contact)"},
    )
    max_sends_per_month = fields.Integer(
        load_default=4,
        validate=validate.Range(min=1, max=100),
        metadata={"description": "at most this many sends on the partner's behalf in 30 days"},
    )


class ConsentSchema(Schema):
    """The partner's consent to sends on its behalf (status none: never given)."""

    partner_id = fields.Integer()
    status = fields.String(metadata={"enum": ["none", "active", "withdrawn"]})
    list_ids = fields.List(fields.Integer())
    tags = fields.List(fields.String())
    max_sends_per_month = fields.Integer(allow_none=True)
    granted_at = fields.DateTime(allow_none=True)
    withdrawn_at = fields.DateTime(allow_none=True)
    cancelled_sends = fields.Integer(metadata={"description": "sends on its behalf the withdrawal stopped"})


class VendorConsentSchema(Schema):
    """A partner's consent as the vendor sees it: numbers, never an address."""

    partner_id = fields.Integer()
    partner_name = fields.String()
    status = fields.String(metadata={"enum": ["active", "withdrawn"]})
    lists = fields.Integer()
    tags = fields.List(fields.String())
    max_sends_per_month = fields.Integer()
    contacts = fields.Integer(metadata={"description": "contacts the consent reaches now"})
    granted_at = fields.DateTime()
    withdrawn_at = fields.DateTime(allow_none=True)


class BehalfSendCreateSchema(Schema):
    """Send a campaign's email in the name of every partner that allows it."""

    campaign_id = fields.Integer(required=True, validate=DB_ID)
    greeting = fields.String(validate=validate.Length(min=1, max=80))
    local_at = fields.NaiveDateTime(
        allow_none=True,
        metadata={"description": "each partner's wall-clock time, e.g. 2026-12-01T09:00:00 (none: now)"},
    )


class BehalfPartnerSendSchema(SendNumbersSchema):
    """One partner's send of it: status and numbers."""

    send_id = fields.Integer()
    partner_id = fields.Integer()
    partner_name = fields.String()
    status = fields.String(metadata={"enum": list(EMAIL_SEND_STATUSES)})
    detail = fields.String(allow_none=True)
    scheduled_at = fields.DateTime(allow_none=True)


class SkippedPartnerSchema(Schema):
    """A partner the send leaves out, and why."""

    partner_id = fields.Integer()
    partner_name = fields.String()
    reason = fields.String()


class BehalfSendSchema(Schema):
    """The vendor's send on partners' behalf: each partner's send, totals, who was left out."""

    id = fields.Integer()
    campaign_id = fields.Integer()
    greeting = fields.String()
    local_at = fields.String(allow_none=True)
    created_at = fields.DateTime()
    cancelled_at = fields.DateTime(allow_none=True)
    totals = fields.Nested(SendNumbersSchema)
    sends = fields.List(fields.Nested(BehalfPartnerSendSchema))
    skipped = fields.List(fields.Nested(SkippedPartnerSchema))
