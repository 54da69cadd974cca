"""Evergreen posts: a partner picks a post text of the library and schedules it on their accounts."""

from __future__ import annotations

from flask_smorest import Blueprint

from tcma.api.security import PARTNER, auth_required
from tcma.schemas.evergreen import (
    EvergreenPostSchema,
    EvergreenPreviewArgs,
    EvergreenPreviewSchema,
    EvergreenScheduleSchema,
)
from tcma.schemas.posts import PostSchema
from tcma.services.syndication import evergreen, posts

blp = Blueprint("evergreen", __name__, url_prefix="evergreen-posts",
                description="Evergreen posts: library post texts partners schedule themselves")


@blp.get("")
@auth_required(*PARTNER)
@blp.response(200, EvergreenPostSchema(many=True))
def list_evergreen(principal):
    """The library's post texts the partner's tier may use, with their editable fields."""
    return evergreen.list_evergreen(principal)


@blp.get("/<slug>")
@auth_required(*PARTNER)
@blp.response(200, EvergreenPreviewSchema)
def preview(principal, slug):
    """Each network's text exactly as it goes out for the partner (their saved values, a tracked link
    of theirs per network), and the accounts it may go out from."""
    return evergreen.preview_evergreen(principal, slug)


@blp.post("/<slug>/preview")
@auth_required(*PARTNER)
@blp.arguments(EvergreenPreviewArgs)
@blp.response(200, EvergreenPreviewSchema)
def preview_with(principal, args, slug):
    """The texts rendered with other values for the editable fields (their limits checked)."""
    return evergreen.preview_evergreen(principal, slug, args["fields_"])


@blp.post("/<slug>/schedule")
@auth_required(*PARTNER)
@blp.arguments(EvergreenScheduleSchema)
@blp.response(201, PostSchema(many=True))
def schedule(principal, args, slug):
    """Schedule the post on the chosen accounts at a time on the partner's wall clock (or as soon as
    possible): one approved post per account, published by the scheduler; the frequency caps apply."""
    made = evergreen.schedule_evergreen(principal, slug, args["account_ids"], args.get("local_at"),
                                        args["fields_"], with_image=args["with_image"])
    return [posts.view(post) for post in made]
