"""Syndicated posts: a campaign's post plans (marketers), and each scheduled post (the partner
approves, rejects, edits and reschedules their own; anyone may follow its attempts)."""

from __future__ import annotations

import dataclasses

from flask_smorest import Blueprint

from tcma.api.pagination import keyset_envelope, window_of
from tcma.api.security import ANY_ROLE, PARTNER, VENDOR, auth_required
from tcma.schemas.posts import (
    PostAttemptSchema,
    PostFieldSchema,
    PostListArgs,
    PostPageSchema,
    PostPlanCreateSchema,
    PostPlanSchema,
    PostSchema,
    PostUpdateSchema,
    RejectSchema,
    RetriedPostsSchema,
)
from tcma.services.experiments import rollout
from tcma.services.syndication import plans, posts

blp = Blueprint("posts", __name__, url_prefix="posts", description="Scheduled social posts")
plans_blp = Blueprint("post_plans", __name__, url_prefix="", description="Post plans of a campaign")


# --- plans -----------------------------------------------------------------------------------------

def _with_rollout(views):
    """Plans with their campaign's test-share plan (posts held for an experiment's winner)."""
    found = rollout.campaign_rollouts([view.campaign_id for view in views])
    return [{**dataclasses.asdict(view), "experiment_plan": found.get(view.campaign_id)} for view in views]


@plans_blp.post("/campaigns/<int:campaign_id>/post-plans")
@auth_required(*VENDOR)
@plans_blp.arguments(PostPlanCreateSchema)
@plans_blp.response(201, PostPlanSchema)
def create_plan(principal, args, campaign_id):
    """Plan the campaign's post once: one post per opted-in account of every partner in the campaign,
    due at the timing's wall-clock time in each partner's own zone (awaiting approval where the plan
    or the account asks for it)."""
    timing = {key: (value.isoformat() if hasattr(value, "isoformat") else value)
              for key, value in args["timing"].items()}
    plan = plans.create_plan(principal, campaign_id, name=args["name"],
                             networks=list(dict.fromkeys(args["networks"])), timing=timing,
                             image_output=args.get("image_output"),
                             requires_approval=args["requires_approval"], allow_late=args["allow_late"])
    return _with_rollout([posts.plan_view(plan)])[0]


@plans_blp.get("/campaigns/<int:campaign_id>/post-plans")
@auth_required(*VENDOR)
@plans_blp.response(200, PostPlanSchema(many=True))
def list_plans(principal, campaign_id):
    """The campaign's post plans, oldest first, with their posts counted by state."""
    return _with_rollout(posts.plan_views(plans.list_plans(principal, campaign_id)))


@plans_blp.get("/post-plans/<int:plan_id>")
@auth_required(*VENDOR)
@plans_blp.response(200, PostPlanSchema)
def get_plan(principal, plan_id):
    """One post plan with its posts counted by state."""
    return _with_rollout([posts.plan_view(plans.get_plan(principal, plan_id))])[0]


@plans_blp.post("/post-plans/<int:plan_id>/cancel")
@auth_required(*VENDOR)
@plans_blp.response(200, PostPlanSchema)
def cancel_plan(principal, plan_id):
    """Cancel the plan: its posts not sent yet are cancelled; published ones stay published."""
    return _with_rollout([posts.plan_view(plans.cancel_plan(principal, plan_id))])[0]


@plans_blp.post("/post-plans/<int:plan_id>/retry-failed")
@auth_required(*VENDOR)
@plans_blp.response(200, RetriedPostsSchema)
def retry_failed(principal, plan_id):
    """Every failed post of the plan (whose account can publish) waits again for the next pass."""
    return {"retried": posts.retry_failed(principal, plan_id)}


# --- posts -----------------------------------------------------------------------------------------

@blp.get("")
@auth_required(*ANY_ROLE)
@blp.arguments(PostListArgs, location="query")
@blp.response(200, PostPageSchema)
def list_posts(principal, args):
    """Posts the caller may see (a partner's user: their partner's), soonest first, filtered; a page
    by number, or (however deep) the page after the `next` cursor of the previous one (after=)."""
    window = window_of(args)
    found = posts.post_page(principal, args, window)
    return keyset_envelope(found, window, [posts.view(post) for post in found.items])


@blp.get("/<int:post_id>")
@auth_required(*ANY_ROLE)
@blp.response(200, PostSchema)
def get_post(principal, post_id):
    """One post, with the exact text and image that go out."""
    return posts.show_post(principal, post_id)


@blp.patch("/<int:post_id>")
@auth_required(*PARTNER)
@blp.arguments(PostUpdateSchema)
@blp.response(200, PostSchema)
def update_post(principal, args, post_id):
    """The partner edits the text (within the network's limit) or the editable fields (within their
    limits; the text, and an image that uses them, rendered again), and/or reschedules the post to a
    time on their own wall clock; an approved post stays approved."""
    post = posts.update_post(principal, post_id, text=args.get("text"), local_at=args.get("local_at"),
                             fields=args.get("fields_"))
    return posts.view(post)


@blp.get("/<int:post_id>/fields")
@auth_required(*ANY_ROLE)
@blp.response(200, PostFieldSchema(many=True))
def post_fields(principal, post_id):
    """The post's editable fields with their limits and current values (none when its text was not
    made from a template); PATCH the post with `fields` to change them."""
    return posts.fields_of(principal, post_id)


@blp.post("/<int:post_id>/approve")
@auth_required(*PARTNER)
@blp.response(200, PostSchema)
def approve(principal, post_id):
    """The partner approves a post awaiting approval: it goes out at its time (on approval: now)."""
    return posts.view(posts.approve(principal, post_id))


@blp.post("/<int:post_id>/reject")
@auth_required(*PARTNER)
@blp.arguments(RejectSchema)
@blp.response(200, PostSchema)
def reject(principal, args, post_id):
    """The partner rejects a post awaiting approval: it is cancelled with their reason."""
    return posts.view(posts.reject(principal, post_id, args.get("reason")))


@blp.post("/<int:post_id>/cancel")
@auth_required(*ANY_ROLE)
@blp.response(200, PostSchema)
def cancel(principal, post_id):
    """Cancel a post not sent yet."""
    return posts.view(posts.cancel(principal, post_id))


@blp.post("/<int:post_id>/retry")
@auth_required(*ANY_ROLE)
@blp.response(200, PostSchema)
def retry(principal, post_id):
    """A failed or held post waits again and goes out at the next scheduler pass."""
    return posts.view(posts.retry(principal, post_id))


@blp.get("/<int:post_id>/attempts")
@auth_required(*ANY_ROLE)
@blp.response(200, PostAttemptSchema(many=True))
def attempts(principal, post_id):
    """Every try at publishing the post, oldest first: when, which worker, the network's answer."""
    return posts.attempts(principal, post_id)
