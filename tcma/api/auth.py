"""API tokens: issue (shown once), list, revoke; and who am I."""

from __future__ import annotations

from flask import abort, request
from flask_smorest import Blueprint

from tcma.api.security import ANY_ROLE, auth_required
from tcma.schemas.auth import MeSchema, NewTokenSchema, TokenRequestSchema, TokenSchema
from tcma.services.accounts import auth

blp = Blueprint("auth", __name__, url_prefix="auth", description="Sign-in and API tokens")


@blp.post("/tokens")
@blp.arguments(TokenRequestSchema)
@blp.response(201, NewTokenSchema)
def issue_token(args):
    """Exchange email and password for an API token; its value is shown only here."""
    user = auth.sign_in(args["email"], args["password"], request.remote_addr)
    if user is None:
        abort(401, description="wrong email or password")
    raw, token = auth.issue_token(user.id, args["name"], args.get("expires_in_days"))
    fields = ("id", "name", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at")
    return {**{name: getattr(token, name) for name in fields}, "token": raw}


@blp.get("/tokens")
@auth_required(*ANY_ROLE)
@blp.response(200, TokenSchema(many=True))
def list_tokens(principal):
    """The caller's tokens (never their values)."""
    return auth.list_tokens(principal)


@blp.delete("/tokens/<int:token_id>")
@auth_required(*ANY_ROLE)
@blp.response(200, TokenSchema)
def revoke_token(principal, token_id):
    """Revoke a token: it stops working at once."""
    return auth.revoke_token(principal, token_id)


@blp.get("/me")
@auth_required(*ANY_ROLE)
@blp.response(200, MeSchema)
def me(principal):
    """Who the caller is."""
    return principal
