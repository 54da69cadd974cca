"""Invitations: a signed, single-use, expiring link by mail; accepting it sets the password.

Who may invite whom: a vendor admin invites anyone; a marketer invites a partner's users
(partner, partner_admin); a partner admin invites colleagues of their own partner only (another
partner answers 404, as if it did not exist). Inviting the same address again replaces the
earlier link.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select

from campaigns.vocabulary import PARTNER_ROLES, ROLES
from tcma.config import get_settings
from tcma.errors import ConflictError, InvalidInput, NotFoundError, PermissionDenied
from tcma.extensions import db
from tcma.mail import OutgoingMail
from tcma.models import Invitation, Partner, User
from tcma.models.base import utcnow
from tcma.services.accounts.auth import Principal
from tcma.services.accounts.users import PARTNER_ID_RULE, add_user, check_password
from tcma.services.sending.mail import composer, queue_mail
from tcma.services.transaction import commit

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
INVALID_LINK = "this invitation link is not valid: it was replaced, withdrawn or already used"


def roles_invitable_by(principal: Principal) -> tuple[str, ...]:
    """The roles this caller may invite (none for a partner user)."""
    if principal.role == "admin":
        return ROLES
    if principal.role in ("marketer", "partner_admin"):
        return PARTNER_ROLES
    return ()


def invite_user(principal: Principal, email: str, role: str, partner_id: int | None = None) -> Invitation:
    """Invite someone by mail (or send a pending invitation again, with a new link)."""
    email = email.strip().lower()
    allowed = roles_invitable_by(principal)
    if not allowed:
        raise PermissionDenied("your account cannot invite people")
    if principal.role == "partner_admin":
        partner_id = principal.partner_id if partner_id is None else partner_id
        if partner_id != principal.partner_id:
            raise NotFoundError(f"partner {partner_id} not found")
    _check_invitation(email, role, partner_id, allowed)
    invitation = db.session.scalar(select(Invitation).where(
        Invitation.email == email, Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None)))
    if invitation is None:
        invitation = Invitation(email=email)
        db.session.add(invitation)
    invitation.role, invitation.partner_id, invitation.invited_by_id = role, partner_id, principal.user_id
    invitation.nonce = secrets.token_urlsafe(32)  # the earlier link stops working
    invitation.created_at = utcnow()
    invitation.expires_at = invitation.created_at + timedelta(hours=get_settings().invitation_valid_hours)
    db.session.flush()
    queue_mail("invitation", invitation.id, email)
    commit()
    return invitation


def _check_invitation(email: str, role: str, partner_id: int | None, allowed: tuple[str, ...]) -> None:
    if not EMAIL.match(email) or len(email) > 254:
        raise InvalidInput("not an email address", {"email": ["not an email address"]})
    if role not in allowed:
        raise InvalidInput(f"you cannot invite a {role}", {"role": [f"one of {', '.join(allowed)}"]})
    if (role in PARTNER_ROLES) != (partner_id is not None):
        raise InvalidInput("a partner's user is invited for a partner, and only they are",
                           {"partner_id": [PARTNER_ID_RULE]})
    partner = db.session.get(Partner, partner_id) if partner_id is not None else None
    if partner_id is not None and partner is None:
        raise NotFoundError(f"partner {partner_id} not found")
    if partner is not None and partner.status != "active":
        raise ConflictError(f"{partner.name} is {partner.status}: its users cannot be invited",
                            {"partner_id": [f"partner is {partner.status}"]})
    if db.session.scalar(select(func.count()).select_from(User).where(User.email == email)):
        raise ConflictError("someone already has an account with this email",
                            {"email": ["already registered"]})


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(get_settings().secret_key, salt="tcma-invitation")


def invitation_token(invitation: Invitation) -> str:
    """The token in the invitation's link (valid until replaced, used, withdrawn or expired)."""
    return _signer().dumps([invitation.id, invitation.nonce])


def open_invitation(token: str) -> Invitation:
    """The pending invitation a link stands for; InvalidInput names what is wrong with it."""
    try:
        invitation_id, nonce = _signer().loads(token)
    except (BadSignature, ValueError, TypeError):
        raise InvalidInput(INVALID_LINK, {"token": ["not valid"]}) from None
    invitation = db.session.get(Invitation, invitation_id) if isinstance(invitation_id, int) else None
    if (invitation is None or invitation.accepted_at is not None or invitation.revoked_at is not None
            or not secrets.compare_digest(str(nonce), invitation.nonce)):
        raise InvalidInput(INVALID_LINK, {"token": ["not valid"]})
    if invitation.expires_at <= utcnow():
        raise InvalidInput("this invitation has expired; ask for a new one", {"token": ["expired"]})
    return invitation


def accept_invitation(token: str, password: str) -> User:
    """Create the invited user with the password they chose; the link cannot be used again."""
    invitation = open_invitation(token)
    check_password(password)
    user = add_user(invitation.email, password, invitation.role, invitation.partner_id)
    invitation.accepted_at = utcnow()
    commit()
    return user


def list_invitations(principal: Principal) -> list[Invitation]:
    """Pending invitations the caller may see (a partner admin: their own partner's)."""
    if not roles_invitable_by(principal):
        raise PermissionDenied("your account cannot invite people")
    stmt = select(Invitation).where(Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))
    if principal.is_partner:
        stmt = stmt.where(Invitation.partner_id == principal.partner_id)
    elif principal.role == "marketer":
        stmt = stmt.where(Invitation.role.in_(PARTNER_ROLES))
    return list(db.session.scalars(stmt.order_by(Invitation.id.desc())))


def withdraw_invitation(principal: Principal, invitation_id: int) -> Invitation:
    """Withdraw a pending invitation: its link stops working."""
    visible = {i.id: i for i in list_invitations(principal)}
    if invitation_id not in visible:
        raise NotFoundError(f"invitation {invitation_id} not found")
    invitation = visible[invitation_id]
    invitation.revoked_at = utcnow()
    commit()
    return invitation


@composer("invitation")
def compose_invitation(invitation_id: int, message_id: str) -> OutgoingMail | None:
    """The invitation mail, with the link as it stands now (None once used or withdrawn)."""
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.accepted_at or invitation.revoked_at:
        return None
    if invitation.expires_at <= utcnow():
        return None
    link = f"{get_settings().public_url}/invitations/{invitation_token(invitation)}"
    team = invitation.partner.name if invitation.partner else "the vendor's team"
    hours = get_settings().invitation_valid_hours
    text = (f"Hello,\n\nyou are invited to join {team} on tcma as {invitation.role.replace('_', ' ')}.\n\n"
            f"Choose your password here (the link works once, for {hours} hours):\n{link}\n\n"
            "If you did not expect this invitation, ignore this message.\n")
    html = (f"<p>Hello,</p><p>you are invited to join <strong>{_escape(team)}</strong> on tcma as "
            f"{invitation.role.replace('_', ' ')}.</p><p><a href=\"{link}\">Choose your password</a> "
            f"(the link works once, for {hours} hours).</p>"
            "<p>If you did not expect this invitation, ignore this message.</p>")
    return OutgoingMail(to=[invitation.email], subject=f"You are invited to {team} on tcma",
                        text=text, html=html, message_id=message_id)


def _escape(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))
