"""People: users, invitations, password resets."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from campaigns.vocabulary import ROLES
from tcma.schemas.common import DB_ID, PageArgs, page_of

PASSWORD = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=200))


class UserSchema(Schema):
    """A user as listed (never a password)."""

    id = fields.Integer()
    email = fields.String()
    role = fields.String()
    partner_id = fields.Integer(allow_none=True)
    is_active = fields.Boolean()
    created_at = fields.DateTime()


UserPageSchema = page_of(UserSchema, "UserPageSchema")


class UserListArgs(PageArgs):
    """?page=&per_page= on the user list."""


class InvitationRequestSchema(Schema):
    """Invite someone: their email, the role they get, and for a partner's user, the partner."""

    email = fields.String(required=True, validate=validate.Length(min=3, max=254))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    partner_id = fields.Integer(load_default=None, allow_none=True, validate=DB_ID)


class InvitationSchema(Schema):
    """A pending invitation (never its link)."""

    id = fields.Integer()
    email = fields.String()
    role = fields.String()
    partner_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    expires_at = fields.DateTime()


class AcceptInvitationSchema(Schema):
    """Accept an invitation: the token from its link and the password chosen."""

    token = fields.String(required=True, validate=validate.Length(min=1, max=500))
    password = PASSWORD


class PasswordResetRequestSchema(Schema):
    """Ask for a password reset link by mail."""

    email = fields.String(required=True, validate=validate.Length(min=1, max=254))


class PasswordResetSchema(Schema):
    """Set a new password with the token from a reset link."""

    token = fields.String(required=True, validate=validate.Length(min=1, max=500))
    password = PASSWORD


class PasswordChangeSchema(Schema):
    """Change one's own password."""

    current_password = PASSWORD
    new_password = PASSWORD


class AcceptedSchema(Schema):
    """A request accepted for processing."""

    message = fields.String()
