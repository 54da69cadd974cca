"""The words every part of tcma shares: outputs, channels, social networks, statuses, ids.

Defined once here (the pure domain), imported by the models, the schemas, the services, the
API, the portal and the CLI, so that an output, a channel or a status is spelt one way.
"""

from __future__ import annotations

import renderers

# Where partners publish posts; each network is also a channel of its own.
NETWORKS: tuple[str, ...] = renderers.NETWORKS

# Outputs of a template: files, the email, and one post text per network.
FILE_OUTPUTS = ("pdf", "png", "jpg", "email")
POST_PREFIX = "post:"


def post_output(network: str) -> str:
    """The output name of a network's post text (post:linkedin)."""
    return f"{POST_PREFIX}{network}"


OUTPUTS = (*FILE_OUTPUTS, *(post_output(n) for n in NETWORKS))

# Channels: where an engagement happened. A link in a PDF is "print", in a PNG/JPEG "image";
# a QR code is scanned ("qr"), a portal download is "download"; emails and each network apart.
PRINT, IMAGE, EMAIL, DOWNLOAD, QR = "print", "image", "email", "download", "qr"
CHANNELS = (PRINT, IMAGE, EMAIL, DOWNLOAD, QR, *NETWORKS)
_FILE_CHANNELS = {"pdf": PRINT, "png": IMAGE, "jpg": IMAGE, "email": EMAIL}


def channel_for(output: str) -> str:
    """The channel an output reaches people through: print, image, email, or the post's network."""
    if output in _FILE_CHANNELS:
        return _FILE_CHANNELS[output]
    network = output.removeprefix(POST_PREFIX)
    if output.startswith(POST_PREFIX) and network in NETWORKS:
        return network
    raise ValueError(f"unknown output {output!r}; expected one of {', '.join(OUTPUTS)}")


def tier_allows(tiers: tuple[str, ...] | list[str] | None, tier: str) -> bool:
    """Whether a template limited to `tiers` may be used by a partner of `tier` (none listed: all)."""
    return not tiers or tier.strip().lower() in {t.lower() for t in tiers}


# Who signs in: the vendor's admins and marketers, and partners' users (a partner admin also
# manages the colleagues of their own partner).
VENDOR_ROLES = ("admin", "marketer")
PARTNER_ROLES = ("partner", "partner_admin")
ROLES = (*VENDOR_ROLES, *PARTNER_ROLES)

# "waiting": the template needs fields only the partner can give (an event's date and venue).
ASSET_STATUSES = ("queued", "running", "done", "failed", "waiting")
PARTNER_STATUSES = ("active", "suspended", "archived")
CAMPAIGN_STATUSES = ("draft", "launching", "running", "paused", "completed", "archived")
# Each network's name as people write it.
NETWORK_LABELS = {"linkedin": "LinkedIn", "x": "X", "facebook": "Facebook", "mastodon": "Mastodon",
                  "bluesky": "Bluesky", "webhook": "Webhook"}
# A scheduled post's life: waiting (scheduled: goes out on its own; awaiting_approval -> approved),
# claimed by a scheduler, publishing (a worker sent it), then published, failed (with the
# network's reason), held (for a person: the account needs reconnecting, or an unknown outcome
# could not be reconciled), expired (not approved in time) or cancelled; held_for_winner: outside an
# experiment's test share, it waits for the winner (or the control at the plan's deadline).
POST_STATUSES = ("awaiting_approval", "scheduled", "approved", "claimed", "publishing", "held", "published",
                 "failed", "expired", "cancelled", "held_for_winner")
POST_WAITING = ("scheduled", "approved")  # due posts in these states are claimed
POST_OUTCOMES = ("published", "reconciled", "rate_limited", "temporary", "rejected", "auth_expired",
                 "unknown_outcome", "held")
PLAN_TIMINGS = ("local_time", "window", "on_approval")
PLAN_STATUSES = ("active", "cancelled")
# A social account as its partner sees it: publishing, paused by them, or waiting for a reconnect
# (its token was revoked or expired beyond refresh, or its login no longer works).
SOCIAL_ACCOUNT_STATES = ("active", "paused", "needs_reconnect")
MAIL_STATUSES = ("queued", "sending", "sent", "failed")
# Campaign email to a partner's contacts (issue 13). A send: draft (preview, test), scheduled (for the
# partner's local time), sending (its jobs run), done, cancelled. A recipient: queued, sending (claimed
# and committed before the SMTP transaction), sent, skipped (suppressed, over the weekly cap),
# unknown (a worker died mid-send: never sent again), failed (refused), bounced, complained;
# held_for_winner: outside an experiment's test share, queued with the winner once it is decided.
EMAIL_SEND_STATUSES = ("draft", "scheduled", "sending", "done", "cancelled")
RECIPIENT_STATUSES = ("queued", "sending", "sent", "skipped", "unknown", "failed", "bounced", "complained",
                      "held_for_winner")
SUPPRESSION_REASONS = ("unsubscribed", "hard_bounce", "complaint", "erased")
# A partner's own sending domain: pending (DNS not checked or not yet right), verified (DKIM key and
# DMARC policy published: tcma signs with it), failed (checked and wrong; says which record).
DOMAIN_STATUSES = ("pending", "verified", "failed")
# like, repost, reply: one event per like (repost, reply) a published post gained, read from its network
# (tcma.services.syndication.metrics). Impressions are no event: rollups count events, and a post's
# impressions run to thousands; they stay in the post's metrics.
EVENT_KINDS = ("click", "open", "download", "post", "send", "render", "unsubscribe",
               "like", "repost", "reply")

# Why a partner is flagged as drifting away (tcma.services.insights, docs/insights.md).
CHURN_FLAGS = ("dropping", "inactive")
ANY_CHURN_FLAG = "churning"  # a filter: either flag

# Row ids are 32-bit integers in every table: larger numbers can name no row.
MAX_DATABASE_ID = 2**31 - 1

# What engagement numbers may be grouped by (the rollup key).
STATS_DIMENSIONS = ("kind", "campaign_id", "partner_id", "asset_id", "variant", "channel", "day")
