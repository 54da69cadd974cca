"""A post's editable fields: the template's fields with the values the post renders with, and edits
to them rendered again.

A post's text comes from a template: a campaign post's from its text asset (the campaign's
`post:<network>` output rendered for the partner), an evergreen post's from the library version the
partner picked (`ScheduledPost.template_version_id`). An edit is checked against the fields' limits,
then the text is rendered again from the template with the new values (the same tracked links: the
same partner, campaign and network) and checked against the network's limit. When the post carries
an image of the same template and the new values change it, the image is rendered again at once
(one image, in the request) as an asset of its own that the post then carries. Any refusal changes
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import campaigns
import renderers
from campaigns.vocabulary import post_output
from tcma.connectors import ConnectorError, check_text
from tcma.errors import ConflictError, InvalidInput
from tcma.extensions import db
from tcma.models import Asset, Partner, ScheduledPost, TemplateVersion
from tcma.services.catalogue.templates import template_for_version
from tcma.services.launch.renders import insert_renders, partner_profile, resolve_for, store_render
from tcma.state import app_state

NOT_FROM_TEMPLATE = "this post's text was not made from a template: edit its text instead"


@dataclass(frozen=True)
class FieldView:
    """One editable field of a post: what it is, its limits, and the value the post renders with."""

    name: str
    label: str
    type: str
    max_length: int
    choices: tuple[str, ...]
    required: bool
    value: str


@dataclass(frozen=True)
class PostSource:
    """What a post's text is rendered from: a template version's output for the partner, the
    values under the post's own, and the dimensions its tracked links carry."""

    version: TemplateVersion
    output: str
    variant: str | None
    base: dict[str, Any]
    campaign_id: int | None
    asset_id: int | None


def source_of(post: ScheduledPost) -> PostSource | None:
    """Where the post's text comes from; None when it came from no template."""
    network = post.account.network
    if post.template_version_id is not None:
        version = db.session.get(TemplateVersion, post.template_version_id)
        assert version is not None
        return PostSource(version, post_output(network), post.variant, {}, None, None)
    asset = db.session.get(Asset, post.asset_id) if post.asset_id is not None else None
    if asset is None:
        return None
    version = db.session.get(TemplateVersion, asset.template_version_id)
    assert version is not None
    return PostSource(version, asset.output, asset.variant, dict(asset.fields or {}), asset.campaign_id,
                      asset.id)


def field_views(tpl: campaigns.Template, partner: Partner, variant: str | None,
                values: dict[str, Any]) -> list[FieldView]:
    """The template's editable fields with the values a render for the partner uses."""
    resolved = campaigns.field_values(tpl, partner_profile(partner), variant, values)
    return [FieldView(f.name, f.label or f.name, f.type, f.max_length, f.choices, f.required,
                      resolved[f.name]) for f in tpl.fields]


def post_fields(post: ScheduledPost) -> list[FieldView]:
    """The post's editable fields with their current values (none for a post not made from a template)."""
    source = source_of(post)
    if source is None:
        return []
    tpl = template_for_version(source.version)
    return field_views(tpl, post.account.partner, source.variant, {**source.base, **(post.fields or {})})


def validated(tpl: campaigns.Template, values: dict[str, Any]) -> dict[str, str]:
    """The cleaned values, or InvalidInput on `fields.<name>` naming the field and its limit."""
    try:
        return tpl.validate_fields(values)
    except campaigns.FieldError as exc:
        raise InvalidInput(str(exc), {f"fields.{exc.field}": [str(exc)]}) from None


def rendered_text(partner: Partner, source: PostSource, values: dict[str, str]) -> str:
    """The post's text rendered with `values` (tracked links saved; the caller commits), or
    InvalidInput when the network would refuse it (its limit named)."""
    network = source.output.removeprefix("post:")
    try:
        request = resolve_for(partner, source.version, source.output, source.variant, values,
                              source.campaign_id, source.asset_id)
        text = app_state().renderer.render(request.spec).text or ""
        check_text(network, text)
    except (campaigns.RequestError, campaigns.FieldError) as exc:
        raise InvalidInput(str(exc), {"fields": [str(exc)]}) from None
    except renderers.RenderError as exc:
        message = f"with these values the {exc}"
        raise InvalidInput(message, {"fields": [message]}) from None
    except ConnectorError as exc:
        message = f"with these values the {exc.reason}"
        raise InvalidInput(message, {"fields": [message]}) from None
    return text.strip()


def apply_fields(post: ScheduledPost, values: dict[str, Any]) -> None:
    """Set the post's field values and render its text (and, if they change it, its image) again;
    the caller has locked the post, checked its state, and commits."""
    source = source_of(post)
    if source is None:
        raise ConflictError(NOT_FROM_TEMPLATE, {"fields": [NOT_FROM_TEMPLATE]})
    tpl = template_for_version(source.version)
    if not tpl.fields:
        message = f"the template {tpl.slug!r} has no editable fields"
        raise InvalidInput(message, {"fields": [message]})
    own = {**(post.fields or {}), **values}
    cleaned = validated(tpl, {**source.base, **own})
    partner = post.account.partner
    text = rendered_text(partner, source, cleaned)
    image_id = _rerendered_image(post, source, partner, cleaned)
    post.fields, post.text = {name: cleaned[name] for name in own}, text
    if image_id is not None:
        post.image_asset_id = image_id


def _rerendered_image(post: ScheduledPost, source: PostSource, partner: Partner,
                      values: dict[str, str]) -> int | None:
    """A new image asset when the post's image is of the same template and `values` change it;
    None when the image stays as it is."""
    image = db.session.get(Asset, post.image_asset_id) if post.image_asset_id is not None else None
    if image is None or image.template_version_id != source.version.id:
        return None
    tpl, profile = template_for_version(source.version), partner_profile(partner)
    try:  # the same tracked links on both sides: only the values decide
        before = campaigns.resolve_request(tpl, profile, image.output, image.variant, image.fields or {})
        after = campaigns.resolve_request(tpl, profile, image.output, image.variant, values)
    except (campaigns.RequestError, campaigns.FieldError) as exc:
        raise InvalidInput(str(exc), {"fields": [str(exc)]}) from None
    if before.key == after.key:
        return None
    asset = Asset(partner_id=partner.id, campaign_id=None, template_version_id=source.version.id,
                  output=image.output, variant=image.variant, fields=values, status="running")
    db.session.add(asset)
    db.session.flush()
    # The values were resolved above: what is left to go wrong is the machine's, not the partner's.
    request = resolve_for(partner, source.version, image.output, image.variant, values, post.campaign_id,
                          asset.id)
    row = store_render(request)
    asset.render_id = insert_renders([row])[request.key]
    asset.status, asset.inputs_hash, asset.attempts = "done", request.key, 1
    return asset.id
