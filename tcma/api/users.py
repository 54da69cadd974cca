"""People: list, deactivate and reactivate users; invite them; reset and change passwords."""

from __future__ import annotations

from flask_smorest import Blueprint

from tcma.api.pagination import page_envelope
from tcma.api.security import ANY_ROLE, auth_required
from tcma.schemas.users import (
    AcceptedSchema,
    AcceptInvitationSchema,
    InvitationRequestSchema,
    InvitationSchema,
    PasswordChangeSchema,
    PasswordResetRequestSchema,
    PasswordResetSchema,
    UserListArgs,
    UserPageSchema,
    UserSchema,
)
from tcma.services.accounts import invitations, passwords, team

MANAGERS = ("admin", "marketer", "partner_admin")
blp = Blueprint("users", __name__, url_prefix="users", description="Users of the programme")
invitations_blp = Blueprint("invitations", __name__, url_prefix="invitations",
                            description="Invitations by mail")
passwords_blp = Blueprint("passwords", __name__, url_prefix="auth", description="Password reset and change")


@blp.get("")
@auth_required(*MANAGERS)
@blp.arguments(UserListArgs, location="query")
@blp.response(200, UserPageSchema)
def list_users(principal, args):
    """The users the caller manages (a partner admin: their own partner's)."""
    rows, total = team.list_users(principal, args["page"], args["per_page"])
    return page_envelope(rows, total, args["page"], args["per_page"])


@blp.get("/<int:user_id>")
@auth_required(*MANAGERS)
@blp.response(200, UserSchema)
def get_user(principal, user_id):
    """One user the caller manages."""
    return team.get_user(principal, user_id)


@blp.post("/<int:user_id>/deactivate")
@auth_required(*MANAGERS)
@blp.response(200, UserSchema)
def deactivate_user(principal, user_id):
    """Deactivate a user: their sessions end and their tokens stop working at once."""
    return team.set_user_active(principal, user_id, False)


@blp.post("/<int:user_id>/reactivate")
@auth_required(*MANAGERS)
@blp.response(200, UserSchema)
def reactivate_user(principal, user_id):
    """Let a deactivated user sign in again."""
    return team.set_user_active(principal, user_id, True)


@invitations_blp.get("")
@auth_required(*MANAGERS)
@invitations_blp.response(200, InvitationSchema(many=True))
def list_invitations(principal):
    """Pending invitations the caller may see."""
    return invitations.list_invitations(principal)


@invitations_blp.post("")
@auth_required(*MANAGERS)
@invitations_blp.arguments(InvitationRequestSchema)
@invitations_blp.response(201, InvitationSchema)
def invite(principal, args):
    """Invite someone by mail; inviting the same address again replaces the earlier link."""
    return invitations.invite_user(principal, args["email"], args["role"], args["partner_id"])


@invitations_blp.delete("/<int:invitation_id>")
@auth_required(*MANAGERS)
@invitations_blp.response(200, InvitationSchema)
def withdraw(principal, invitation_id):
    """Withdraw a pending invitation: its link stops working."""
    return invitations.withdraw_invitation(principal, invitation_id)


@invitations_blp.post("/accept")
@invitations_blp.arguments(AcceptInvitationSchema)
@invitations_blp.response(201, UserSchema)
def accept(args):
    """Accept an invitation with the token from its link, choosing a password."""
    return invitations.accept_invitation(args["token"], args["password"])


@passwords_blp.post("/password-reset")
@passwords_blp.arguments(PasswordResetRequestSchema)
@passwords_blp.response(202, AcceptedSchema)
def request_reset(args):
    """Mail a reset link if the address belongs to an active user; the answer is the same either way."""
    passwords.request_password_reset(args["email"])
    return {"message": "if this address belongs to an account, a reset link is on its way"}


@passwords_blp.post("/password-reset/confirm")
@passwords_blp.arguments(PasswordResetSchema)
@passwords_blp.response(200, UserSchema)
def confirm_reset(args):
    """Set a new password with a reset link's token; every session of the user ends."""
    return passwords.reset_password(args["token"], args["password"])


@passwords_blp.post("/password")
@auth_required(*ANY_ROLE)
@passwords_blp.arguments(PasswordChangeSchema)
@passwords_blp.response(200, AcceptedSchema)
def change_password(principal, args):
    """Change your own password; your other sessions end."""
    passwords.change_password(principal, args["current_password"], args["new_password"])
    return {"message": "password changed"}
