"""Typed SQLAlchemy models, one module per aggregate."""

from tcma.models.asset import Asset, Render
from tcma.models.base import Base
from tcma.models.campaign import Campaign, CampaignOutput, LaunchReview
from tcma.models.contacts import Contact, ContactList, ContactListMember, Suppression
from tcma.models.email_sends import BehalfSend, EmailRecipient, EmailSend, SendConsent, SendingDomain
from tcma.models.experiment import Experiment, ExperimentAssignment, SendArmEmail, Variant
from tcma.models.insight_snapshot import InsightSnapshot, InsightSnapshotRow
from tcma.models.mail import OutboundMail
from tcma.models.outbox import JobOutbox as JobOutbox
from tcma.models.partner import BrandKit, Partner
from tcma.models.scheduled_launch import ScheduledLaunch
from tcma.models.social import OAuthConnection, PostAttempt, PostPlan, ScheduledPost, SocialAccount
from tcma.models.summaries import (
    ExperimentPartnerTotal,
    PartnerDailyEngagement,
    PartnerTemplateUse,
    ProgrammeDailyRollup,
)
from tcma.models.template import Customization, Template, TemplateVersion
from tcma.models.tracking import Destination, Event, EventRollup, TrackedLink
from tcma.models.user import ROLES, ApiToken, Invitation, User, WebSession
from tcma.models.vendor import Region, Tier, Vertical

__all__ = [
    "ROLES",
    "ApiToken", "Asset", "Base", "BrandKit", "Campaign", "CampaignOutput", "Customization",
    "Destination", "Event", "EventRollup", "Experiment", "Invitation", "LaunchReview",
    "InsightSnapshot", "InsightSnapshotRow",
    "OAuthConnection", "OutboundMail", "ScheduledLaunch",
    "ExperimentAssignment", "ExperimentPartnerTotal",
    "Partner", "PartnerDailyEngagement", "PartnerTemplateUse", "PostAttempt", "ProgrammeDailyRollup",
    "PostPlan", "Region", "Render", "ScheduledPost", "SocialAccount", "Template",
    "TemplateVersion", "Tier", "TrackedLink",
    "SendArmEmail", "User", "Variant", "Vertical", "WebSession",
    "BehalfSend", "Contact", "ContactList", "ContactListMember", "EmailRecipient", "EmailSend", "SendConsent",
    "SendingDomain",
    "Suppression",
]
