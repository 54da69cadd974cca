"""Template catalogue in the database: immutable versions, resources in storage, customizations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select

import campaigns
from campaigns.vocabulary import tier_allows
from tcma.config import get_settings
from tcma.errors import ConflictError, InvalidInput, NotFoundError
from tcma.extensions import db
from tcma.models import Customization, Template, TemplateVersion
from tcma.services.accounts.auth import Principal
from tcma.services.scoping import require_vendor
from tcma.services.transaction import commit
from tcma.state import app_state
from tcma.storage import NotFound, get_storage


def resource_key(sha256: str) -> str:
    """Where a template's binary resource is stored: content-addressed, shared by versions."""
    return f"template-resources/{sha256[:2]}/{sha256}"


def _store_resources(tpl: campaigns.Template) -> None:
    storage = get_storage()
    for resource in tpl.resources.values():
        key = resource_key(resource.sha256)
        if not storage.exists(key):
            storage.put(key, resource.data, "application/octet-stream")


def _resource_reader(spec: dict[str, Any]):
    hashes = spec.get("resources", {})

    def read(name: str) -> bytes:
        if name not in hashes:
            raise campaigns.TemplateError("spec", f"resources.{name}", "is not listed")
        try:
            return get_storage().get(resource_key(hashes[name]))
        except NotFound:
            raise campaigns.TemplateError("spec", f"resources.{name}", "is not stored") from None

    return read


def template_for_version(version: TemplateVersion) -> campaigns.Template:
    """The parsed template of a version; versions never change, so parses are cached."""
    cache = app_state().templates
    spec = version.spec
    return cache.get_or_make(
        version.id, lambda: campaigns.template_from_spec(spec, _resource_reader(spec))
    )


def latest_version(template_id: int) -> TemplateVersion | None:
    """The newest published version of a template."""
    return db.session.scalar(
        select(TemplateVersion).where(TemplateVersion.template_id == template_id)
        .order_by(TemplateVersion.version.desc()).limit(1)
    )


def _publish(tpl: campaigns.Template) -> tuple[TemplateVersion, bool]:
    """Add a version when the spec differs from the latest; returns (version, created)."""
    from tcma.services.tracking.links import register_destination

    template = db.session.scalar(select(Template).where(Template.slug == tpl.slug))
    if template is None:
        template = Template(slug=tpl.slug, name=tpl.name, description=tpl.description)
        db.session.add(template)
        db.session.flush()
    spec = tpl.to_spec()
    latest = latest_version(template.id)
    if latest is not None and latest.spec == spec:
        return latest, False
    _store_resources(tpl)
    template.name, template.description = tpl.name, tpl.description
    version = TemplateVersion(template=template, version=(latest.version + 1) if latest else 1,
                              spec=spec, outputs=list(tpl.outputs), available_tiers=list(tpl.tiers))
    db.session.add(version)
    for name, url in tpl.links:
        register_destination(name, url)
    db.session.flush()
    if latest is not None:
        _carry_customizations(latest, version, tpl)
    return version, True


def import_catalogue(root: str | Path | None = None) -> list[tuple[str, int, bool]]:
    """Publish every template of the shipped library that is new or changed."""
    catalogue = campaigns.load_catalogue(Path(root or get_settings().templates_dir))
    published = []
    for tpl in catalogue.values():
        version, created = _publish(tpl)
        published.append((tpl.slug, version.version, created))
    commit()
    return published


def publish_version(principal: Principal, slug: str, spec: dict[str, Any]) -> TemplateVersion:
    """Publish a new version of a template from a spec; resources must already be stored."""
    require_vendor(principal)
    if spec.get("slug") != slug:
        raise InvalidInput("the spec's slug must match the template", {"spec.slug": [f"must be {slug!r}"]})
    try:
        tpl = campaigns.template_from_spec(spec, _resource_reader(spec))
    except campaigns.TemplateError as exc:
        raise InvalidInput(f"invalid template: {exc}", {f"spec.{exc.field}": [str(exc)]}) from None
    version, created = _publish(tpl)
    if not created:
        raise ConflictError("nothing changed: the spec equals the latest version")
    commit()
    return version


def _carry_customizations(old: TemplateVersion, new: TemplateVersion, tpl: campaigns.Template) -> None:
    """Copy partners' edits to the new version where the fields still exist; note the rest."""
    names = {f.name for f in tpl.fields}
    for custom in db.session.scalars(
        select(Customization).where(Customization.template_version_id == old.id)
    ):
        kept = {k: v for k, v in custom.fields.items() if k in names}
        dropped = sorted(set(custom.fields) - names)
        while True:  # the validator names one bad field at a time
            try:
                kept = tpl.validate_fields(kept)
                break
            except campaigns.FieldError as exc:
                dropped.append(exc.field)
                kept.pop(exc.field, None)
        db.session.add(Customization(partner_id=custom.partner_id, template_version_id=new.id,
                                     fields=kept, dropped_fields=dropped))


def list_templates(tier: str | None = None) -> list[tuple[Template, TemplateVersion]]:
    """Each template with its latest version; with a tier, only those that tier may use."""
    latest = (select(TemplateVersion.template_id, func.max(TemplateVersion.version).label("v"))
              .group_by(TemplateVersion.template_id).subquery())
    rows = db.session.execute(
        select(Template, TemplateVersion).join(TemplateVersion)
        .join(latest, (latest.c.template_id == Template.id) & (latest.c.v == TemplateVersion.version))
        .order_by(Template.slug)
    ).all()
    pairs = [(t, v) for t, v in rows]
    if tier is not None:
        pairs = [(t, v) for t, v in pairs if tier_allows(v.available_tiers, tier)]
    return pairs


def get_template(slug: str) -> Template:
    """A template by slug, or 404."""
    template = db.session.scalar(select(Template).where(Template.slug == slug))
    if template is None:
        raise NotFoundError(f"template {slug!r} not found")
    return template


def get_version(slug: str, version: int | None = None) -> TemplateVersion:
    """A version of a template (the latest when `version` is None), or 404."""
    template = get_template(slug)
    if version is None:
        found = latest_version(template.id)
    else:
        found = db.session.scalar(select(TemplateVersion).where(
            TemplateVersion.template_id == template.id, TemplateVersion.version == version))
    if found is None:
        raise NotFoundError(f"template {slug!r} has no version {version}")
    return found


def warm_templates() -> int:
    """Parse the latest version of every template now, so forked work horses inherit them."""
    pairs = list_templates()
    for _, version in pairs:
        template_for_version(version)
    return len(pairs)
